/**
 * Who is expected to produce the block and the chunk at each height. nearcore assigns a block producer per
 * height from the epoch's validator set, stake-weighted and deterministic per epoch (older releases took
 * `block_producers_settlement[height % seats]`, newer ones sample with a seeded alias table); a validator's
 * num_expected_blocks counts only the heights assigned to it. The devnet does what the older releases did:
 * each validator gets seats in proportion to its stake (at least one), and the seats are spread evenly over
 * the cycle (smooth weighted round robin), so a validator with a twentieth of the stake produces every
 * twentieth height. With a single shard, the chunk of a height is produced by that height's block producer.
 */
import type { ValidatorStake } from './epochs.js';

/** Seats handed out per epoch (nearcore's num_block_producer_seats is 100 on mainnet). */
export const BLOCK_PRODUCER_SEATS = 100;

export class ProducerSchedule {
  private readonly settlement: ValidatorStake[];

  constructor(validators: ValidatorStake[], seats = BLOCK_PRODUCER_SEATS) {
    this.settlement = settle(validators, seats);
  }

  /** The validator expected to produce the block (and the chunk) at `height`; undefined without validators. */
  producerAt(height: number): ValidatorStake | undefined {
    const n = this.settlement.length;
    return n === 0 ? undefined : this.settlement[((height % n) + n) % n];
  }

  /** How many heights of a full cycle are assigned to the account: its seats. */
  seatsOf(accountId: string): number {
    return this.settlement.filter((v) => v.accountId === accountId).length;
  }

  get cycleLength(): number {
    return this.settlement.length;
  }
}

function settle(validators: ValidatorStake[], seats: number): ValidatorStake[] {
  const staked = [...validators]
    .filter((v) => v.stake > 0n)
    .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
  const total = staked.reduce((sum, v) => sum + v.stake, 0n);
  if (total === 0n) return [];
  const weights = staked.map((v) => {
    const share = Number((v.stake * BigInt(seats)) / total);
    return Math.max(1, share);
  });
  const cycle = weights.reduce((a, b) => a + b, 0);
  // Smooth weighted round robin: each turn every validator gains its weight, the richest takes the seat and
  // pays the cycle back, which spreads each validator's seats evenly.
  const credit = weights.map(() => 0);
  const settlement: ValidatorStake[] = [];
  for (let turn = 0; turn < cycle; turn++) {
    let best = 0;
    for (let i = 0; i < staked.length; i++) {
      credit[i]! += weights[i]!;
      if (credit[i]! > credit[best]!) best = i;
    }
    credit[best]! -= cycle;
    settlement.push(staked[best]!);
  }
  return settlement;
}
