/**
 * The payload codec: a round trip through AES-256-GCM, key rotation (payloads encrypted under an old key
 * decode after a new current key is added), tampering and unknown key ids fail with errors that name the
 * key id and never a key, and the key file's errors name the field without repeating the key.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  CodecKeysError,
  PayloadDecryptionError,
  decodePayloadsIn,
  loadCodecKeys,
  payloadCodecFromEnv,
} from '../../../src/codec/index.js';

const newKey = () => randomBytes(32).toString('base64');
const oldKey = newKey();
const currentKey = newKey();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vup-codec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(name: string, content: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
  return file;
}

const input = { validator: { accountId: 'secret-pool.poolv1.near' }, note: 'ünïcode ✓' };
const plain = (): Payload => defaultPayloadConverter.toPayload(input);
const bytesOf = (p: Payload) => Buffer.from(p.data ?? []).toString('latin1');

describe('AesGcmPayloadCodec', () => {
  it('encrypts under the current key id and decrypts back to the same payload', async () => {
    const codec = new AesGcmPayloadCodec(
      await loadCodecKeys(await keyFile('one.json', { current: 'k1', keys: { k1: oldKey } })),
    );
    const [sealed] = await codec.encode([plain()]);
    expect(Buffer.from(sealed!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString()).toBe('k1');
    expect(bytesOf(sealed!)).not.toContain('secret-pool');
    // A fresh IV each time: the same payload never encrypts to the same bytes.
    const [again] = await codec.encode([plain()]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(sealed!.data!))).toBe(false);

    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(input);
    expect(opened!.metadata).toEqual(plain().metadata);
  });

  it('decodes payloads of an old key after a new current key is added (rotation), and encodes under the new one', async () => {
    const before = new AesGcmPayloadCodec(
      await loadCodecKeys(await keyFile('before.yaml', `current: k1\nkeys:\n  k1: ${oldKey}\n`)),
    );
    const [oldCiphertext] = await before.encode([plain()]);
    const after = new AesGcmPayloadCodec(
      await loadCodecKeys(await keyFile('after.yaml', `current: k2\nkeys:\n  k1: ${oldKey}\n  k2: ${currentKey}\n`)),
    );
    const [newCiphertext] = await after.encode([plain()]);
    expect(Buffer.from(newCiphertext!.metadata!['encryption-key-id']!).toString()).toBe('k2');
    const decoded = await after.decode([oldCiphertext!, newCiphertext!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([input, input]);
    // Unencrypted payloads (written before the codec was on) pass through.
    expect(await after.decode([plain()])).toEqual([plain()]);
  });

  it('refuses a tampered ciphertext, and a payload relabelled with another key id', async () => {
    const codec = new AesGcmPayloadCodec(
      await loadCodecKeys(await keyFile('two.json', { current: 'k2', keys: { k1: oldKey, k2: currentKey } })),
    );
    const [sealed] = await codec.encode([plain()]);
    const tampered = Buffer.from(sealed!.data!);
    tampered[20] = tampered[20]! ^ 1;
    const err = await codec.decode([{ ...sealed!, data: tampered }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect((err as Error).message).toBe(
      'an encrypted payload (key id "k2") does not decrypt: it was altered, or key "k2" is not the key it was encrypted with',
    );
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('k1') } };
    await expect(codec.decode([relabelled])).rejects.toThrow('(key id "k1") does not decrypt');
  });

  it('names an unknown key id, and never a key', async () => {
    const writer = new AesGcmPayloadCodec(
      await loadCodecKeys(await keyFile('w.json', { current: 'k9', keys: { k9: oldKey } })),
    );
    const reader = new AesGcmPayloadCodec(
      await loadCodecKeys(await keyFile('r.json', { current: 'k2', keys: { k2: currentKey } })),
    );
    const [sealed] = await writer.encode([plain()]);
    const err = (await reader.decode([sealed!]).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect(err.message).toBe(
      'a payload is encrypted with key id "k9", which the payload keys file does not hold (it holds k2); add that key back to read it',
    );
    for (const key of [oldKey, currentKey]) expect(err.message).not.toContain(key);
  });

  it('decodes every payload of a history-like object, wherever it sits', async () => {
    const codec = new AesGcmPayloadCodec(
      await loadCodecKeys(await keyFile('h.json', { current: 'k1', keys: { k1: oldKey } })),
    );
    const [a, b] = await codec.encode([plain(), defaultPayloadConverter.toPayload('result')]);
    const history = { events: [{ input: { payloads: [a] } }, { result: { payloads: [b] }, eventId: 2 }] };
    const decoded = await decodePayloadsIn(history, [codec]);
    expect(defaultPayloadConverter.fromPayload(decoded.events[0]!.input!.payloads[0]!)).toEqual(input);
    expect(defaultPayloadConverter.fromPayload(decoded.events[1]!.result!.payloads[0]!)).toBe('result');
    expect(decoded.events[1]!.eventId).toBe(2);
  });
});

describe('the key file', () => {
  it('names the field that is wrong, without repeating a key', async () => {
    const short = randomBytes(16).toString('base64');
    const file = await keyFile('bad.json', { current: 'k3', keys: { k1: short, 'bad id!': currentKey } });
    const err = (await loadCodecKeys(file).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(CodecKeysError);
    expect(err.message).toContain(`the payload keys file ${file}: `);
    expect(err.message).toContain('keys.k1: must be 32 random bytes in base64 (openssl rand -base64 32)');
    expect(err.message).toContain('keys["bad id!"]: key ids are 1 to 64 letters, digits, dots, dashes or underscores');
    for (const key of [short, currentKey]) expect(err.message).not.toContain(key);
  });

  it('refuses a current key id the file does not hold', async () => {
    const file = await keyFile('nocurrent.json', { current: 'k3', keys: { k1: oldKey } });
    await expect(loadCodecKeys(file)).rejects.toThrow(`the payload keys file ${file}: current: names no key of "keys"`);
  });

  it('does not quote the file when it does not parse', async () => {
    const file = await keyFile('broken.yaml', `current: k1\nkeys: { k1: ${oldKey}\n`);
    const err = (await loadCodecKeys(file).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`the payload keys file ${file} is not YAML or JSON`);
  });

  it('is off without VUP_CODEC_KEYS, and read from the file it names', async () => {
    expect(await payloadCodecFromEnv({})).toBeUndefined();
    const file = await keyFile('env.json', { current: 'k1', keys: { k1: oldKey } });
    expect(await payloadCodecFromEnv({ VUP_CODEC_KEYS: file })).toBeInstanceOf(AesGcmPayloadCodec);
    await expect(payloadCodecFromEnv({ VUP_CODEC_KEYS: path.join(dir, 'missing.json') })).rejects.toThrow(
      `cannot read the payload keys file ${path.join(dir, 'missing.json')}: ENOENT`,
    );
  });
});
