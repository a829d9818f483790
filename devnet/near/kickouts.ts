/**
 * What the end of an epoch decides about its validators, as nearcore's epoch manager does (finalize_epoch and
 * compute_validators_to_reward_and_kickout in chain/epoch-manager):
 *
 * - Protocol version voting: every block carries its producer's latest protocol version; the version with the
 *   most stake among the epoch's producers becomes the version of the epoch after next when that stake is above
 *   `protocol_upgrade_stake_threshold` (4/5) of the epoch's stake. Since nearcore 2.7, a producer whose last
 *   vote is below that version is kicked out: `ProtocolVersionTooOld { version, network_version }`.
 * - Missed blocks and chunks: a validator that produced fewer than `block_producer_kickout_threshold` percent
 *   of its expected blocks is kicked out with `NotEnoughBlocks { produced, expected }`; otherwise, fewer than
 *   `chunk_producer_kickout_threshold` percent of its expected chunks gives `NotEnoughChunks`. Those reasons
 *   replace an old-version one, as nearcore extends the version kickouts with the performance ones.
 *
 * nearcore exempts the largest validators when kickouts would remove more than `max_kickout_stake_perc` of the
 * stake; the devnet reports 100 there (no exemption), so it has no exemption to make.
 */
import type { Kickout, ValidatorStake } from './epochs.js';
import type { ProductionStats } from './signing-ledger.js';

export interface KickoutConfig {
  /** Percent of its expected blocks a validator must produce (nearcore's genesis default 90; mainnet 80). */
  blockProducerKickoutThreshold: number;
  /** Percent of its expected chunks a chunk producer must produce (nearcore's default 90; mainnet 80). */
  chunkProducerKickoutThreshold: number;
  /** The share of stake a protocol version needs to be adopted, as [numerator, denominator] (default 4/5). */
  protocolUpgradeStakeThreshold: [number, number];
}

/** nearcore's GenesisConfig defaults (core/chain-configs: BLOCK_PRODUCER_KICKOUT_THRESHOLD and friends). */
export const NEARCORE_KICKOUT_DEFAULTS: KickoutConfig = {
  blockProducerKickoutThreshold: 90,
  chunkProducerKickoutThreshold: 90,
  protocolUpgradeStakeThreshold: [4, 5],
};

export interface EndedEpoch {
  validators: ValidatorStake[];
  protocolVersion: number;
  /** The production counts of the ended epoch, by account. */
  stats(accountId: string): ProductionStats;
  /** The latest protocol version in the blocks each producer produced in the epoch (nearcore's version tracker). */
  votes: Map<string, number>;
}

export interface EpochDecision {
  kickouts: Kickout[];
  /** The protocol version of the epoch after next. */
  protocolVersion: number;
}

export function decideEpochEnd(epoch: EndedEpoch, config: KickoutConfig): EpochDecision {
  const stakeOf = new Map(epoch.validators.map((v) => [v.accountId, v.stake]));
  const total = epoch.validators.reduce((sum, v) => sum + v.stake, 0n);
  const byVersion = new Map<number, bigint>();
  for (const [accountId, version] of epoch.votes) {
    byVersion.set(version, (byVersion.get(version) ?? 0n) + (stakeOf.get(accountId) ?? 0n));
  }
  let protocolVersion = epoch.protocolVersion;
  const [top] = [...byVersion].sort(([va, a], [vb, b]) => (a === b ? vb - va : a > b ? -1 : 1));
  const [numerator, denominator] = config.protocolUpgradeStakeThreshold;
  if (top && top[0] > protocolVersion && top[1] * BigInt(denominator) > total * BigInt(numerator)) {
    protocolVersion = top[0];
  }

  const kickouts = new Map<string, Kickout['reason']>();
  for (const [accountId, version] of epoch.votes) {
    if (version < protocolVersion && stakeOf.has(accountId)) {
      kickouts.set(accountId, { ProtocolVersionTooOld: { version, network_version: protocolVersion } });
    }
  }
  for (const v of epoch.validators) {
    const s = epoch.stats(v.accountId);
    if (s.producedBlocks * 100 < config.blockProducerKickoutThreshold * s.expectedBlocks) {
      kickouts.set(v.accountId, { NotEnoughBlocks: { produced: s.producedBlocks, expected: s.expectedBlocks } });
    } else if (s.producedChunks * 100 < config.chunkProducerKickoutThreshold * s.expectedChunks) {
      kickouts.set(v.accountId, { NotEnoughChunks: { produced: s.producedChunks, expected: s.expectedChunks } });
    }
  }
  return {
    kickouts: [...kickouts].map(([account_id, reason]) => ({ account_id, reason })),
    protocolVersion,
  };
}

/**
 * Thresholds of 0 never kick out (nearcore's rule is produced × 100 < threshold × expected): for tests whose
 * validators run no node on purpose, which nearcore would kick out after their first epoch.
 */
export const NO_PERFORMANCE_KICKOUTS = { blockProducerKickoutThreshold: 0, chunkProducerKickoutThreshold: 0 };
