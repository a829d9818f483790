/**
 * When a Polkadot look's answer can next change: a syncing node's end from its import rate (the network moving
 * on meanwhile), and keys' activation at the boundary after next, just past it.
 */
import { projectedSyncMs } from '../../../src/api/chain-observation.js';
import { BOUNDARY_SETTLE_SLOTS, keysActiveEtaMs } from '../../../src/polkadot/projections.js';

const SLOT = 6_000;
const session = { sessionLengthSlots: 2400, slotDurationMs: SLOT, slotInSession: 1200, nextSessionEtaMs: 1200 * SLOT };

it('projects a sync to the head at the node’s rate less the chain’s, a block past it', () => {
  // 11 blocks a slot against the chain's 1: the 10,000-block gap closes in 1,000 slots.
  const eta = projectedSyncMs({ bestBlock: 0, atMs: 0 }, { bestBlock: 11, atMs: SLOT }, 10_011, SLOT);
  expect(eta).toBe(1_000 * SLOT + SLOT);
  // Twice the rate: about half the time.
  expect(projectedSyncMs({ bestBlock: 0, atMs: 0 }, { bestBlock: 21, atMs: SLOT }, 10_021, SLOT)).toBe(
    500 * SLOT + SLOT,
  );
});

it('projects nothing while the node does not close the gap', () => {
  expect(projectedSyncMs({ bestBlock: 5, atMs: 0 }, { bestBlock: 5, atMs: SLOT }, 100, SLOT)).toBeUndefined();
  expect(projectedSyncMs({ bestBlock: 5, atMs: 0 }, { bestBlock: 6, atMs: SLOT }, 100, SLOT)).toBeUndefined();
  expect(projectedSyncMs({ bestBlock: 5, atMs: SLOT }, { bestBlock: 50, atMs: SLOT }, 100, SLOT)).toBeUndefined();
});

it('sleeps keys just set to the boundary after next, queued keys to the next, each past the settle slots', () => {
  const settle = BOUNDARY_SETTLE_SLOTS * SLOT;
  expect(keysActiveEtaMs('next', session)).toBe(1200 * SLOT + 2400 * SLOT + settle);
  expect(keysActiveEtaMs('queued', session)).toBe(1200 * SLOT + settle);
  expect(keysActiveEtaMs('unset', session)).toBe(1200 * SLOT + settle);
});

it('looks again within the settle slots when keys active at the best block wait for finality after a boundary', () => {
  const justPast = { ...session, slotInSession: 2, nextSessionEtaMs: 2398 * SLOT };
  expect(keysActiveEtaMs('queued', justPast)).toBe((BOUNDARY_SETTLE_SLOTS - 2) * SLOT);
});
