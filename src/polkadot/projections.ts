/**
 * When keys can next be active, projected from the session's timing, so a wait sleeps once to the moment that
 * matters rather than polling: keys just set become active at the session boundary after the next one, once
 * that boundary's blocks are final. (A sync's end: src/api/chain-observation.ts projectedSyncMs.)
 */
import type { KeysStage, SessionInfo } from '../api/contracts/polkadot.js';

/** Slots after a session boundary by which its first blocks are final (GRANDPA trails the head by a few). */
export const BOUNDARY_SETTLE_SLOTS = 5;

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
