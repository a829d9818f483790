/**
 * Chains, their networks and NEAR account ids. Zod only, so workflow inputs (validated inside the
 * workflow sandbox) use the very schemas the inventory uses. SS58 addresses are in chains.ts.
 */
import { z } from 'zod';

export const chainName = z.enum(['near', 'polkadot']);
export type ChainName = z.infer<typeof chainName>;

/** `localnet` is neard's name for a local chain (the devnet). */
export const nearNetwork = z.enum(['mainnet', 'testnet', 'localnet']);
export type NearNetwork = z.infer<typeof nearNetwork>;

/** Relay chains; `local` is a local test chain (the devnet). */
export const polkadotNetwork = z.enum(['polkadot', 'kusama', 'westend', 'paseo', 'local']);
export type PolkadotNetwork = z.infer<typeof polkadotNetwork>;

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

/** Where session keys are set; written once for the inventory and the activity contract. */
export const setKeysChain = z
  .enum(['relay', 'asset-hub'])
  .describe(
    'Where session keys are set: "asset-hub" (stakingRcClient.setKeys, forwarded to the relay chain; current Polkadot and Kusama) or "relay" (session.setKeys).',
  );
