/**
 * Where the chain is in its epoch and when the next boundary comes: the boundary is a height
 * (epoch_start_height + epoch_length), and the time to it is the blocks left times the block time observed
 * over recent blocks, never a constant.
 */
import type { JsonRpcProvider } from 'near-api-js';
import { NearError } from './errors.js';
import type { EpochInfo } from '../api/contracts/near.js';
import { nearRpc, reading } from './rpc.js';

/** How many blocks back the block time is measured over. */
const BLOCK_TIME_WINDOW = 20;

export async function epochInfo(url: string, provider: JsonRpcProvider = nearRpc(url)): Promise<EpochInfo> {
  const [validators, config, head] = await Promise.all([
    reading(url, 'validators', () => provider.viewValidators()),
    reading(url, 'EXPERIMENTAL_protocol_config', () => provider.experimental_protocolConfig({ finality: 'final' })),
    reading(url, 'block', () => provider.viewBlock({ finality: 'optimistic' })),
  ]);
  const epochLength = Number(config.epoch_length);
  const headHeight = head.header.height;
  const observedBlockTimeMs = await observedBlockTime(url, provider, head.header);
  const blocksLeft = Math.max(0, validators.epoch_start_height + epochLength - headHeight);
  return {
    epochHeight: validators.epoch_height,
    epochStartHeight: validators.epoch_start_height,
    epochLength,
    headHeight,
    headTime: new Date(Number(BigInt(head.header.timestamp_nanosec) / 1_000_000n)).toISOString(),
    observedBlockTimeMs,
    nextBoundaryEtaMs: Math.round(blocksLeft * observedBlockTimeMs),
  };
}

interface HeaderTime {
  height: number;
  timestamp_nanosec: string;
  prev_hash: string;
}

/** Mean time per height between the head and a block up to BLOCK_TIME_WINDOW heights back. */
export async function observedBlockTime(url: string, provider: JsonRpcProvider, head: HeaderTime): Promise<number> {
  // A height may have no block (skipped, or before genesis); try the next one up.
  for (let height = Math.max(0, head.height - BLOCK_TIME_WINDOW); height < head.height; height++) {
    const earlier = await provider.viewBlock({ blockId: height }).catch(() => undefined);
    if (!earlier) continue;
    const elapsedNs = BigInt(head.timestamp_nanosec) - BigInt(earlier.header.timestamp_nanosec);
    return Number(elapsedNs / 1_000n) / 1_000 / (head.height - height);
  }
  throw new NearError('RpcError', `cannot observe the block time at ${url}: no block below the head is available`);
}
