import type { ValidatorCounters } from './validator-counters.js';

/** A node at most this many blocks behind the network's head counts as synced: blocks in flight, not lag. */
export const SYNCED_LAG_BLOCKS = 5;

/** What one look at the chain found: returned by the activities that confirm a chain wait. */
export interface ChainObservation<T = undefined> {
  reached: boolean;
  /** What the chain says now, in words for the operator ("new key in next_validators, epoch 812"). */
  detail: string;
  /** Estimated milliseconds until the answer can change (the next boundary), from observed block times. */
  etaMs?: number;
  value?: T;
  /** What the chain counts for the validator at this look (missed blocks or slots, double signs), if it was read. */
  counters?: ValidatorCounters;
  /** The network's newest block as this look read it (its time in ISO 8601): how a wait sees a halted chain. */
  head?: { height: number; time: string };
}

/** A syncing node's best block when it was read. */
export interface SyncSample {
  bestBlock: number;
  atMs: number;
}

/**
 * How long until a syncing node reaches the network's head (and one block more), from two samples of its
 * best block: the gap closes at the node's import rate less the network's own rate of a block per block time.
 * Undefined while it is not closing (not importing yet, or slower than the chain). A sync wait sleeps to it
 * rather than polling on a short interval.
 */
export function projectedSyncMs(
  first: SyncSample,
  second: SyncSample,
  networkBest: number,
  blockTimeMs: number,
): number | undefined {
  const elapsed = second.atMs - first.atMs;
  if (elapsed <= 0) return undefined;
  const closingPerMs = (second.bestBlock - first.bestBlock) / elapsed - 1 / blockTimeMs;
  if (closingPerMs <= 0) return undefined;
  return Math.ceil(Math.max(0, networkBest - second.bestBlock) / closingPerMs) + blockTimeMs;
}
