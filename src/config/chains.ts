/** What an on-chain identity looks like on each chain: SS58 addresses here, the rest in identities.ts. */
import { base58Decode, checkAddressChecksum, decodeAddress } from '@polkadot/util-crypto';
import { z } from 'zod';
import type { PolkadotNetwork } from './identities.js';

export * from './identities.js';

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

/**
 * The SS58 prefix of an address of a 32-byte account (AccountId32), or undefined if the text is not one
 * (bad base58, bad checksum, a hex public key, a short account index).
 */
export function ss58PrefixOf(address: string): number | undefined {
  if (!/^[1-9A-HJ-NP-Za-km-z]+$/.test(address)) return undefined;
  try {
    if (decodeAddress(address).length !== 32) return undefined;
    const [valid, , , prefix] = checkAddressChecksum(base58Decode(address));
    return valid ? prefix : undefined;
  } catch {
    // decodeAddress throws on a bad checksum or length; its message repeats the input, so it is not passed on.
    return undefined;
  }
}

export const ss58Address = z.string().refine((v) => ss58PrefixOf(v) !== undefined, {
  message: 'must be an SS58 address of an account, with a valid checksum (e.g. "1…" on Polkadot)',
});
