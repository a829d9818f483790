/** A node's own view: version, sync state, head and the validator key it signs with (RPC `status`). */
import type { JsonRpcProvider } from 'near-api-js';
import type { NodeStatus } from '../api/contracts/near.js';
import { NearError } from './errors.js';
import { nearRpc, reading } from './rpc.js';

export async function nodeStatus(url: string, provider: JsonRpcProvider = nearRpc(url)): Promise<NodeStatus> {
  const status = await reading(url, 'status', () => provider.viewNodeStatus());
  return {
    chainId: status.chain_id,
    version: status.version.version,
    protocolVersion: status.protocol_version,
    syncing: status.sync_info.syncing,
    latestBlockHeight: status.sync_info.latest_block_height,
    ...(status.validator_account_id ? { validatorAccountId: status.validator_account_id } : {}),
    ...(status.validator_public_key ? { validatorPublicKey: status.validator_public_key } : {}),
  };
}

/**
 * Refuses an answer from another chain than `expected`, a NearNetwork (neard's chain_id is the network's name: mainnet,
 * testnet, localnet): nothing read from it may decide a step. No retry fixes it; an operator must point the
 * inventory at the right RPC.
 */
export function requireChain(status: NodeStatus, expected: string, url: string, whose: string): void {
  if (status.chainId === expected) return;
  throw new NearError(
    'WrongChain',
    `${whose} ${url} answers for chain "${status.chainId}", not "${expected}"; nothing was done on its word`,
  );
}
