/** Chains, their networks, and what an on-chain identity looks like on each (NEAR account ids, SS58 addresses). */
import { base58Decode, checkAddressChecksum, decodeAddress } from '@polkadot/util-crypto';
import { z } from 'zod';

export const chainName = z.enum(['near', 'polkadot']);
export type ChainName = z.infer<typeof chainName>;

/** `localnet` is neard's name for a local chain (the devnet). */
export const nearNetwork = z.enum(['mainnet', 'testnet', 'localnet']);
export type NearNetwork = z.infer<typeof nearNetwork>;

/** Relay chains; `local` is a local test chain (the devnet). */
export const polkadotNetwork = z.enum(['polkadot', 'kusama', 'westend', 'paseo', 'local']);
export type PolkadotNetwork = z.infer<typeof polkadotNetwork>;

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

// nearcore's near-account-id rules: 2-64 characters; parts of lowercase alphanumerics joined by single
// "-" or "_", parts separated by single "."; this also admits implicit (64 hex) and 0x-implicit accounts.
const NEAR_ACCOUNT_ID = /^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;

export function isNearAccountId(value: string): boolean {
  return value.length >= 2 && value.length <= 64 && NEAR_ACCOUNT_ID.test(value);
}

export const nearAccountId = z.string().refine(isNearAccountId, {
  message:
    'must be a NEAR account id: 2-64 characters, lowercase letters and digits joined by single ".", "-" or "_" (e.g. "mypool.poolv1.near")',
});

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
