/** The hashes of the simulated chain: sha256 and NEAR's base58 text form. */
import { createHash } from 'node:crypto';
import { baseEncode } from 'near-api-js';

export function sha256(...parts: (Uint8Array | string)[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

export function base58Sha256(...parts: (Uint8Array | string)[]): string {
  return baseEncode(sha256(...parts));
}

/** The all-zero hash, which NEAR prints as 32 ones: the id of the first epoch and the code hash of plain accounts. */
export const ZERO_HASH = baseEncode(new Uint8Array(32));
