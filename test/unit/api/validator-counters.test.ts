/**
 * How a run turns successive readings of the chain's counters into what it observed (advanceObserved): a
 * baseline, growth within an epoch, the rest of an epoch closed by the next one's `previous`, RPCs that lag,
 * epochs no reading covered, and double signs as a running count.
 */
import {
  advanceObserved,
  describeObserved,
  type ObservedOnChain,
  type ValidatorCounters,
} from '../../../src/api/validator-counters.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

function readAll(readings: ValidatorCounters[]) {
  let state: ObservedOnChain | undefined;
  const deltas = readings.map((r, i) => {
    const next = advanceObserved(state, r, at(i));
    state = next.state;
    return next.delta;
  });
  return { state: state!, deltas };
}

const near = (period: number, blocks: number, chunks: number, extra: Partial<ValidatorCounters> = {}) => ({
  period,
  missed: { blocks, chunks },
  source: 'test',
  ...extra,
});

it('takes the first reading as the baseline and counts what grows after it within an epoch', () => {
  const { state, deltas } = readAll([near(5, 3, 4), near(5, 3, 4), near(5, 6, 5)]);
  expect(deltas[0]).toEqual({ missed: { blocks: 0, chunks: 0 } });
  expect(deltas[2]).toEqual({ missed: { blocks: 3, chunks: 1 } });
  expect(state).toMatchObject({ missed: { blocks: 3, chunks: 1 }, since: at(0), lastAt: at(2) });
  expect(state.doubleSigns).toBeUndefined();
});

it('closes the epoch read last with the next reading’s previous epoch, then counts the new one from its start', () => {
  const { state, deltas } = readAll([
    near(5, 1, 1),
    near(5, 2, 1),
    near(6, 4, 3, { previous: { period: 5, missed: { blocks: 7, chunks: 1 } } }),
  ]);
  // Epoch 5: 2 → 7 after the last look (5 more), epoch 6 from its start: 4.
  expect(deltas[2]!.missed).toEqual({ blocks: 9, chunks: 3 });
  expect(state.missed).toEqual({ blocks: 10, chunks: 3 });
  expect(state.unseenPeriods).toBeUndefined();
});

it('counts nothing twice from an RPC a block behind, nor from one still in the epoch before', () => {
  const { state } = readAll([
    near(5, 1, 0),
    near(5, 4, 0),
    near(5, 3, 0), // another RPC, behind
    near(5, 5, 0),
    near(6, 0, 0, { previous: { period: 5, missed: { blocks: 5, chunks: 0 } } }),
    near(5, 5, 0), // behind, still in epoch 5
    near(6, 2, 0, { previous: { period: 5, missed: { blocks: 5, chunks: 0 } } }),
  ]);
  expect(state.missed.blocks).toBe(4 + 2);
});

it('says how many epochs no reading covered, and counts a skipped previous epoch in full', () => {
  const noPrevious = readAll([near(5, 1, 0), near(8, 2, 0)]).state;
  expect(noPrevious.missed.blocks).toBe(2);
  expect(noPrevious.unseenPeriods).toBe(3); // the rest of 5, and 6 and 7
  const withPrevious = readAll([
    near(5, 1, 0),
    near(8, 2, 0, { previous: { period: 7, missed: { blocks: 4 } } }),
  ]).state;
  expect(withPrevious.missed.blocks).toBe(6);
  expect(withPrevious.unseenPeriods).toBe(2); // the rest of 5, and 6
  expect(describeObserved(withPrevious)).toBe(
    '6 missed blocks, 0 missed chunks, double signs not reported by the chain, 2 epoch(s) between looks not counted',
  );
});

it('counts double signs as the growth of the chain’s running count, from the first reading that has one', () => {
  const slots = (missed: number, doubleSigns?: number): ValidatorCounters => ({
    missed: { slots: missed },
    ...(doubleSigns === undefined ? {} : { doubleSigns }),
    source: 'test',
  });
  const { state, deltas } = readAll([slots(10), slots(12, 3), slots(12, 3), slots(15, 5), slots(16)]);
  expect(deltas.map((d) => d.doubleSigns)).toEqual([undefined, 0, 0, 2, undefined]);
  expect(state).toMatchObject({ missed: { slots: 6 }, doubleSigns: 2 });
  expect(describeObserved(state)).toBe('6 missed slots, 2 double signs');
});

it('keeps each kickout the chain reported once, across readings and behind ones, and names it in the status', () => {
  const kicked = { period: 5, reason: 'NotEnoughBlocks' };
  const { state } = readAll([
    near(5, 0, 0),
    near(6, 3, 0, { kickedOut: kicked }),
    near(6, 4, 0, { kickedOut: kicked }),
    near(5, 9, 0, { kickedOut: kicked }),
  ]);
  expect(state.kickouts).toEqual([kicked]);
  expect(state.missed.blocks).toBe(4);
  expect(describeObserved(state)).toContain('KICKED OUT at the end of epoch 5 (NotEnoughBlocks)');
  expect(readAll([near(5, 0, 0), near(6, 1, 0)]).state.kickouts).toBeUndefined();
});
