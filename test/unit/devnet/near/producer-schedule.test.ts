/**
 * Who the devnet expects to produce each height, and what the ledger counts from it: a validator's expected
 * blocks and chunks are its share of the heights, spread evenly; a miss is an assigned height without its
 * signature; double signing is counted at any height, assigned to the key or not.
 */
import { ProducerSchedule } from '../../../../devnet/near/producer-schedule.js';
import { SigningLedger } from '../../../../devnet/near/signing-ledger.js';
import type { ValidatorStake } from '../../../../devnet/near/epochs.js';

const v = (accountId: string, stake: bigint): ValidatorStake => ({ accountId, publicKey: `key-${accountId}`, stake });
const set = [v('small.near', 100n), v('big-1.near', 900n), v('big-2.near', 1000n)];

describe('ProducerSchedule', () => {
  it('gives each validator heights in proportion to its stake, evenly spaced', () => {
    const schedule = new ProducerSchedule(set);
    const cycle = schedule.cycleLength;
    expect(cycle).toBe(100);
    const heights = [...Array(3 * cycle).keys()].filter((h) => schedule.producerAt(h)?.accountId === 'small.near');
    expect(heights).toHaveLength(15);
    const gaps = heights.slice(1).map((h, i) => h - heights[i]!);
    expect(new Set(gaps)).toEqual(new Set([20]));
    expect(schedule.seatsOf('big-1.near')).toBe(45);
  });

  it('is the same for the same validator set, whatever order it comes in, and gives the smallest a seat', () => {
    const a = new ProducerSchedule(set);
    const b = new ProducerSchedule([...set].reverse());
    for (let h = 1000; h < 1100; h++) expect(a.producerAt(h)).toEqual(b.producerAt(h));
    const tiny = new ProducerSchedule([v('dust.near', 1n), v('whale.near', 1_000_000n)]);
    expect(tiny.seatsOf('dust.near')).toBe(1);
    expect(new ProducerSchedule([]).producerAt(5)).toBeUndefined();
  });
});

describe('SigningLedger with assigned producers', () => {
  const small = set[0]!;
  const big = set[1]!;
  const sign = (ledger: SigningLedger, height: number, who: ValidatorStake, instanceId: string) =>
    ledger.record({
      height,
      accountId: who.accountId,
      publicKey: who.publicKey,
      instanceId,
      nodePublicKey: `node-${instanceId}`,
      block: true,
      chunk: true,
      protocolVersion: 73,
    });

  it('counts only the heights assigned to a validator as expected, and a missing signature there as missed', () => {
    const ledger = new SigningLedger();
    sign(ledger, 1, small, 'a');
    sign(ledger, 2, small, 'a');
    ledger.settle(1, 0, small);
    ledger.settle(2, 0, big);
    ledger.settle(3, 0, small);
    const c = ledger.counters(small.accountId);
    expect(c).toMatchObject({ expectedBlocks: 2, producedBlocks: 1, expectedChunks: 2, producedChunks: 1 });
    expect(c).toMatchObject({ missedBlocks: 1, missedChunks: 1, missedBlockHeights: [3] });
    expect(ledger.counters(big.accountId)).toMatchObject({ expectedBlocks: 1, producedBlocks: 0, missedBlocks: 1 });
    expect(ledger.epochStats(0, small.accountId)).toEqual({
      expectedBlocks: 2,
      producedBlocks: 1,
      expectedChunks: 2,
      producedChunks: 1,
    });
    // `validators` at a block counts up to that block, as nearcore's aggregator does.
    expect(ledger.epochStats(0, small.accountId, 2)).toEqual({
      expectedBlocks: 1,
      producedBlocks: 1,
      expectedChunks: 1,
      producedChunks: 1,
    });
    expect(ledger.epochStats(0, small.accountId, 0).expectedBlocks).toBe(0);
  });

  it('counts a double sign at a height assigned to another validator', () => {
    const ledger = new SigningLedger();
    expect(sign(ledger, 7, small, 'a')).toBeUndefined();
    expect(sign(ledger, 7, small, 'b')).toMatchObject({ height: 7, publicKey: small.publicKey });
    ledger.settle(7, 0, big);
    const c = ledger.counters(small.accountId);
    expect(c.doubleSignHeights).toEqual([7]);
    expect(c.expectedBlocks).toBe(0);
    expect(c.doubleSigns[0]!.nodes.sort()).toEqual(['node-a', 'node-b']);
  });
});
