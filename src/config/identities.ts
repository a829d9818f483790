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

/** A relay chain's genesis block hash (chain_getBlockHash(0)): which chain an RPC answers for. */
export const genesisHash = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/, 'must be a block hash: "0x" and 64 lowercase hex characters');

/**
 * The public relay chains' genesis hashes, as @polkadot/networks lists them (defaults/genesis.js for polkadot,
 * kusama and westend; knownGenesis.paseo in its testnets list). A local chain has its own, given in the inventory.
 */
export const KNOWN_GENESIS_HASHES: Partial<Record<PolkadotNetwork, string>> = {
  polkadot: '0x91b171bb158e2d3848fa23a9f1c25182fb8e20313b2c1eb49219da7a70ce90c3',
  kusama: '0xb0a8d493285c2df73290dfb7e61f870f17b41801197a149ca93654499ea3dafe',
  westend: '0xe143f23803ac50e8f6f8e62695d1ce9e4e1d68aa36c1cd2cfd15340213f3423e',
  paseo: '0x77afd6190f1554ad45fd0d31aee62aacc33c6db0ea801129acb813f913e0764f',
};

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
