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
