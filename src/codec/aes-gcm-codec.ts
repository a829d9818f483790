/**
 * The payload codec: every payload the worker, the CLI and the SDK send to Temporal is encrypted with
 * AES-256-GCM under the current key, and decrypted with whichever key its metadata names, so a key can
 * rotate while old histories stay readable. The key id is bound to the ciphertext (GCM's additional data):
 * relabelling a payload with another id fails like tampering does. Errors name the key id, never a key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import type { CodecKeys } from './keys.js';

/** The metadata the Temporal samples' encryption codec uses, so tools that know it recognise ours. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);

export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

/** The payload itself (metadata and data), as bytes to encrypt: JSON with base64 fields. */
function serialize(payload: Payload): Buffer {
  const metadata = Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  return Buffer.from(JSON.stringify({ metadata, data: Buffer.from(payload.data ?? []).toString('base64') }));
}

function deserialize(bytes: Buffer): Payload {
  const { metadata, data } = JSON.parse(bytes.toString('utf8')) as { metadata: Record<string, string>; data: string };
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(data, 'base64'),
  };
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keys: CodecKeys) {}

  /** The id new payloads are encrypted under. */
  get currentKeyId(): string {
    return this.keys.current;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.current;
    const key = this.keys.keys[keyId]!;
    return await Promise.resolve(
      payloads.map((payload) => {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(keyId));
        const sealed = Buffer.concat([cipher.update(serialize(payload)), cipher.final()]);
        return {
          metadata: {
            [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
            [KEY_ID_METADATA]: utf8(keyId),
            [CIPHER_METADATA]: utf8(CIPHER),
          },
          data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
        };
      }),
    );
  }

  /** Payloads that are not encrypted (written before the codec was turned on) pass through unchanged. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return await Promise.resolve(payloads.map((payload) => this.decodeOne(payload)));
  }

  private decodeOne(payload: Payload): Payload {
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (keyId === undefined) throw new PayloadDecryptionError(`an encrypted payload names no key id`);
    const key = Object.hasOwn(this.keys.keys, keyId) ? this.keys.keys[keyId] : undefined;
    if (!key) {
      throw new PayloadDecryptionError(
        `a payload is encrypted with key id "${keyId}", which the payload keys file does not hold ` +
          `(it holds ${Object.keys(this.keys.keys).join(', ')}); add that key back to read it`,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(`an encrypted payload (key id "${keyId}") is too short to hold a ciphertext`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES))
        .setAAD(Buffer.from(keyId))
        .setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return deserialize(plain);
    } catch {
      throw new PayloadDecryptionError(
        `an encrypted payload (key id "${keyId}") does not decrypt: it was altered, or key "${keyId}" is not the key it was encrypted with`,
      );
    }
  }
}
