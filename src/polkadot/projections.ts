/**
 * When a look's answer can next change, projected from what the chain and the node report, so a wait sleeps
 * once to the moment that matters rather than polling on a short interval: a syncing node reaches the head at
 * its observed import rate; keys become active at the session boundary after the next one, once that
 * boundary's blocks are final.
 */
import type { KeysStage, SessionInfo } from '../api/contracts/polkadot.js';

/** Slots after a session boundary by which its first blocks are final (GRANDPA trails the head by a few). */
export const BOUNDARY_SETTLE_SLOTS = 5;

export interface SyncSample {
  bestBlock: number;
  atMs: number;
}

/**
 * How long until a syncing node reaches the network's head (and one block more), from two samples of its
 * best block: the gap closes at the node's import rate less the network's own rate of a block a slot.
 * Undefined while it is not closing (not importing yet, or slower than the chain).
 */
export function projectedSyncMs(
  first: SyncSample,
  second: SyncSample,
  networkBest: number,
  slotMs: number,
): number | undefined {
  const elapsed = second.atMs - first.atMs;
  if (elapsed <= 0) return undefined;
  const closingPerMs = (second.bestBlock - first.bestBlock) / elapsed - 1 / slotMs;
  if (closingPerMs <= 0) return undefined;
  return Math.ceil(Math.max(0, networkBest - second.bestBlock) / closingPerMs) + slotMs;
}

type SessionTiming = Pick<SessionInfo, 'nextSessionEtaMs' | 'sessionLengthSlots' | 'slotDurationMs' | 'slotInSession'>;

/**
 * When keys at `stage` can next be active and final: keys in NextKeys are queued at the next boundary and
 * active at the one after; queued keys at the next; keys active at the best block but not yet at the
 * finalized one (reported as queued) within the settle slots after the boundary just passed. Each a few
 * slots past the boundary, so the look finds its blocks final.
 */
export function keysActiveEtaMs(stage: KeysStage, session: SessionTiming): number {
  const settleMs = BOUNDARY_SETTLE_SLOTS * session.slotDurationMs;
  if (stage === 'queued' && session.slotInSession < BOUNDARY_SETTLE_SLOTS)
    return (BOUNDARY_SETTLE_SLOTS - session.slotInSession) * session.slotDurationMs;
  const sessionsAhead = stage === 'next' ? 1 : 0;
  return session.nextSessionEtaMs + sessionsAhead * session.sessionLengthSlots * session.slotDurationMs + settleMs;
}
