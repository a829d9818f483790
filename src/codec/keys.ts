/**
 * The payload encryption keys (VUP_CODEC_KEYS names the file): every key by its id, and which one encrypts
 * new payloads. Rotation adds a key and makes it current; old keys stay in the file as long as histories
 * encrypted with them may be read. Errors name the file and the field, never a key.
 *
 *   current: 2026-12
 *   keys:
 *     2026-06: <32 random bytes, base64: openssl rand -base64 32>
 *     2026-12: ...
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const CODEC_KEYS_ENV = 'VUP_CODEC_KEYS';

const KEY_ID_RULE = 'key ids are 1 to 64 letters, digits, dots, dashes or underscores';
const keyId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, KEY_ID_RULE);

/** An AES-256 key: exactly 32 bytes, base64. The message never repeats the value. */
const aes256Key = z
  .string()
  .refine((text) => /^[A-Za-z0-9+/]+={0,2}$/.test(text.trim()) && Buffer.from(text, 'base64').length === 32, {
    message: 'must be 32 random bytes in base64 (openssl rand -base64 32)',
  })
  .transform((text) => Buffer.from(text, 'base64'));

export const codecKeysFile = z
  .strictObject({
    current: keyId.describe('the id of the key that encrypts new payloads'),
    keys: z
      .record(keyId, aes256Key, { error: (issue) => (issue.code === 'invalid_key' ? KEY_ID_RULE : undefined) })
      .describe('every key by its id, old ones included while histories need them'),
  })
  .refine((file) => Object.hasOwn(file.keys, file.current), {
    path: ['current'],
    message: 'names no key of "keys"',
  });

export type CodecKeys = z.output<typeof codecKeysFile>;

export class CodecKeysError extends Error {
  override readonly name = 'CodecKeysError';
}

/** Reads and checks the key file (YAML or JSON). */
export async function loadCodecKeys(file: string): Promise<CodecKeys> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CodecKeysError(`cannot read the payload keys file ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    // The parser's message quotes the offending line, which may hold a key.
    throw new CodecKeysError(`the payload keys file ${file} is not YAML or JSON`);
  }
  const parsed = codecKeysFile.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${z.core.toDotPath(i.path) || '(file)'}: ${i.message}`);
    throw new CodecKeysError(`the payload keys file ${file}: ${problems.join('; ')}`);
  }
  return parsed.data;
}
