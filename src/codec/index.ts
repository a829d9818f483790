/**
 * Payload encryption, turned on by one setting: VUP_CODEC_KEYS names the key file (keys.ts). The worker,
 * the vup CLI and SDK clients pass `codecDataConverter(...)` to Temporal, and `vup codec-server` serves the
 * same codec to the Temporal UI and the `temporal` CLI (server.ts).
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec } from './aes-gcm-codec.js';
import { CODEC_KEYS_ENV, loadCodecKeys } from './keys.js';

export { AesGcmPayloadCodec, PayloadDecryptionError, ENCRYPTED_ENCODING, KEY_ID_METADATA } from './aes-gcm-codec.js';
export { CODEC_KEYS_ENV, CodecKeysError, codecKeysFile, loadCodecKeys, type CodecKeys } from './keys.js';

/** The codec of the key file VUP_CODEC_KEYS names; undefined when it names none (payloads stay plain). */
export async function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<PayloadCodec | undefined> {
  const file = env[CODEC_KEYS_ENV];
  return file ? new AesGcmPayloadCodec(await loadCodecKeys(file)) : undefined;
}

/** What Client, Worker.create and the worker factory take as `dataConverter`. */
export function codecDataConverter(codec: PayloadCodec | undefined): DataConverter | undefined {
  return codec ? { payloadCodecs: [codec] } : undefined;
}

/** For SDK clients: `new Client({ connection, dataConverter: await dataConverterFromEnv() })`. */
export async function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<DataConverter | undefined> {
  return codecDataConverter(await payloadCodecFromEnv(env));
}

const isPayload = (value: object): value is Payload =>
  'metadata' in value && 'data' in value && typeof value.metadata === 'object' && value.data instanceof Uint8Array;

/**
 * A copy of `value` (a history, an event) with every payload in it decoded by the codecs, wherever it sits;
 * what the SDK does for workflow results, for readers of raw histories (`vup history`).
 */
export async function decodePayloadsIn<T>(value: T, codecs: readonly PayloadCodec[]): Promise<T> {
  if (codecs.length === 0) return value;
  const walk = async (node: unknown): Promise<unknown> => {
    if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return node;
    if (Array.isArray(node)) return Promise.all(node.map(walk));
    if (isPayload(node)) {
      let payloads = [node];
      for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
      return payloads[0];
    }
    const entries = await Promise.all(Object.entries(node).map(async ([k, v]) => [k, await walk(v)] as const));
    return Object.assign(Object.create(Object.getPrototypeOf(node) as object) as object, Object.fromEntries(entries));
  };
  return (await walk(value)) as T;
}
