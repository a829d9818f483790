/**
 * SS58 addresses, checked in full (base58, prefix, blake2b checksum) with pure-JS libraries, so the same check
 * runs in the workflow sandbox, the client and the worker. A validator is one identity: its stash is written
 * in one form only, the SS58 form for its network's prefix, so the same stash cannot become two workflow ids.
 */
import { blake2b } from '@noble/hashes/blake2b';
import { base58 } from '@scure/base';
import { z } from 'zod';
import type { PolkadotNetwork } from './identities.js';

/** The SS58 prefix each network prints addresses with (ss58-registry; Westend and local chains use the generic 42). */
export const ss58PrefixOfNetwork: Readonly<Record<PolkadotNetwork, number>> = {
  polkadot: 0,
  kusama: 2,
  westend: 42,
  paseo: 0,
  local: 42,
};

/** The generic Substrate prefix: the same account, printed without naming a network. */
export const GENERIC_SS58_PREFIX = 42;

const SS58_CONTEXT = new TextEncoder().encode('SS58PRE');

/**
 * The prefix and public key of an address of a 32-byte account (AccountId32), or undefined if the text is not
 * one (bad base58, bad checksum, a hex public key, a short account index).
 */
export function decodeSs58(address: string): { prefix: number; publicKey: Uint8Array } | undefined {
  if (!/^[1-9A-HJ-NP-Za-km-z]+$/.test(address)) return undefined;
  let data: Uint8Array;
  try {
    data = base58.decode(address);
  } catch {
    return undefined;
  }
  const first = data[0] ?? 255;
  const prefixLength = first < 64 ? 1 : first < 128 ? 2 : 0;
  if (prefixLength === 0 || data.length !== prefixLength + 32 + 2) return undefined;
  const prefix = prefixLength === 1 ? first : ((first & 0x3f) << 2) | (data[1]! >> 6) | ((data[1]! & 0x3f) << 8);
  const body = data.subarray(0, data.length - 2);
  const hash = blake2b(new Uint8Array([...SS58_CONTEXT, ...body]), { dkLen: 64 });
  if (hash[0] !== data[data.length - 2] || hash[1] !== data[data.length - 1]) return undefined;
  return { prefix, publicKey: data.subarray(prefixLength, prefixLength + 32) };
}

export function ss58PrefixOf(address: string): number | undefined {
  return decodeSs58(address)?.prefix;
}

const SS58_MESSAGE =
  'must be an SS58 address of an account, with a valid checksum (e.g. "1…" on Polkadot, a capital letter on Kusama, "5…" on Westend)';

/** The pattern is the shape (and all a JSON Schema can say); the refinement checks prefix, length and checksum. */
export const ss58Address = z
  .string()
  .regex(/^[1-9A-HJ-NP-Za-km-z]{46,49}$/, { message: SS58_MESSAGE, abort: true })
  .refine((v) => decodeSs58(v) !== undefined, { message: SS58_MESSAGE });

/** A stash for `network`: refused unless written with that network's prefix (one identity, one form). */
export function stashPrefixIssue(network: PolkadotNetwork, stash: string): string | undefined {
  const prefix = ss58PrefixOf(stash);
  const expected = ss58PrefixOfNetwork[network];
  if (prefix === undefined || prefix === expected) return undefined;
  return `must be written for ${network} (SS58 prefix ${expected}), not prefix ${prefix}: the same account in another form would be another upgrade of the same validator`;
}
