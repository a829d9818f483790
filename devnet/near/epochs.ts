/**
 * Epochs and validator sets with NEAR's T+2 rule (near/NEPs EpochManager.md): at the last block of epoch T the
 * validator set of T+2 is computed from the validators of T+1 (implicit re-proposals with their current key and
 * stake) overridden by the proposals made during T (the last proposal of an account wins). So a proposal made
 * in T shows in `current_proposals` during T, in `next_validators` during T+1 and in `current_validators` from
 * the first block of T+2. A zero stake leaves the set.
 *
 * Kickouts (nearcore's finalize_epoch) need the ending epoch's production counts, which the devnet knows only
 * once its last heights are settled (signing-ledger.ts): `finalize` applies them a little later, still during
 * T+1 (kickouts.ts computes them). Until then `next_validators` still lists a validator about to be kicked out.
 */
import { ZERO_HASH } from './hashing.js';

export interface ValidatorStake {
  accountId: string;
  publicKey: string;
  stake: bigint;
}

/** nearcore's ValidatorKickoutReason as the `validators` RPC serialises it (serde's externally tagged enum). */
export type KickoutReason =
  | 'Unstaked'
  | 'DidNotGetASeat'
  | { NotEnoughBlocks: { produced: number; expected: number } }
  | { NotEnoughChunks: { produced: number; expected: number } }
  | { ProtocolVersionTooOld: { version: number; network_version: number } };

export interface Kickout {
  account_id: string;
  reason: KickoutReason;
}

export interface Epoch {
  /** 0 for the genesis epoch; reported as `epoch_height` = index + 1. */
  index: number;
  id: string;
  startHeight: number;
  validators: ValidatorStake[];
  /** The protocol version the network runs in this epoch (voted two epochs before). */
  protocolVersion: number;
  /** Stake proposals made during this epoch, by account; the last one wins. */
  proposals: Map<string, ValidatorStake>;
  /** Validators removed by the computation at the end of the previous epoch (NEAR's prev_epoch_kickout). */
  kickouts: Kickout[];
}

export class EpochManager {
  private readonly epochs: Epoch[] = [];
  /** Validator sets decided ahead of time: index -> set (T+1 and T+2 while in T). */
  private readonly decided = new Map<number, ValidatorStake[]>();
  /** Epoch ids decided ahead of time: the id of T+1 is known during T. */
  private readonly decidedIds = new Map<number, string>();
  /** Protocol versions decided ahead of time by the votes: index -> version. */
  private readonly decidedVersions = new Map<number, number>();

  constructor(
    readonly epochLength: number,
    readonly genesisHeight: number,
    genesisHash: string,
    genesisValidators: ValidatorStake[],
    genesisProtocolVersion: number,
  ) {
    if (!Number.isInteger(epochLength) || epochLength < 1) throw new Error('epochLength must be a positive integer');
    this.decided.set(1, genesisValidators);
    this.decidedIds.set(1, genesisHash);
    this.epochs.push({
      index: 0,
      id: ZERO_HASH,
      startHeight: genesisHeight,
      validators: genesisValidators,
      protocolVersion: genesisProtocolVersion,
      proposals: new Map(),
      kickouts: [],
    });
  }

  current(): Epoch {
    return this.epochs[this.epochs.length - 1]!;
  }

  /** The epoch a produced height belongs to; undefined for heights not produced yet. */
  epochOfHeight(height: number): Epoch | undefined {
    const index = Math.floor((height - this.genesisHeight) / this.epochLength);
    return index >= 0 ? this.epochs[index] : undefined;
  }

  byIndex(index: number): Epoch | undefined {
    return this.epochs[index];
  }

  byId(id: string): Epoch | undefined {
    return this.epochs.find((e) => e.id === id);
  }

  /** The validator set of the epoch after the current one (fixed since the end of the previous epoch). */
  nextValidators(): ValidatorStake[] {
    return this.decided.get(this.current().index + 1) ?? [];
  }

  /** The validators of the epoch after `epoch`, for current and past epochs. */
  validatorsAfter(epoch: Epoch): ValidatorStake[] {
    return this.epochs[epoch.index + 1]?.validators ?? this.decided.get(epoch.index + 1) ?? [];
  }

  nextEpochId(): string {
    return this.decidedIds.get(this.current().index + 1) ?? ZERO_HASH;
  }

  /** True when `height` is the first height of a new epoch. */
  startsEpoch(height: number): boolean {
    return height > this.genesisHeight && (height - this.genesisHeight) % this.epochLength === 0;
  }

  propose(proposal: ValidatorStake): void {
    this.current().proposals.set(proposal.accountId, proposal);
  }

  /**
   * Ends the current epoch at its last block (`lastBlockHash`) and starts the next one at `startHeight`. The
   * hash of the last block of T becomes the id of T+2, as in nearcore.
   */
  advance(startHeight: number, lastBlockHash: string): Epoch {
    const ending = this.current();
    const next = ending.index + 1;
    const inNext = this.decided.get(next) ?? [];
    const afterNext = new Map(inNext.map((v) => [v.accountId, v]));
    for (const proposal of ending.proposals.values()) {
      // nearcore lets a validator kicked out for an old protocol version back only an epoch later.
      if (ending.kickouts.some((k) => k.account_id === proposal.accountId && tooOld(k.reason))) continue;
      afterNext.set(proposal.accountId, proposal);
    }
    const kickouts: Kickout[] = [];
    for (const [accountId, v] of afterNext) {
      if (v.stake === 0n) {
        afterNext.delete(accountId);
        if (inNext.some((x) => x.accountId === accountId)) kickouts.push({ account_id: accountId, reason: 'Unstaked' });
      }
    }
    this.decided.set(
      next + 1,
      [...afterNext.values()].sort((a, b) => (a.stake === b.stake ? 0 : a.stake > b.stake ? -1 : 1)),
    );
    this.decidedIds.set(next + 1, lastBlockHash);
    const protocolVersion = this.decidedVersions.get(next) ?? ending.protocolVersion;
    // Until the votes of the ending epoch are counted (finalize), T+2 keeps the version of T+1.
    this.decidedVersions.set(next + 1, protocolVersion);
    const epoch: Epoch = {
      index: next,
      id: this.decidedIds.get(next) ?? ZERO_HASH,
      startHeight,
      validators: inNext,
      protocolVersion,
      proposals: new Map(),
      kickouts,
    };
    this.epochs.push(epoch);
    this.decided.delete(next);
    this.decidedIds.delete(next);
    this.decidedVersions.delete(next);
    return epoch;
  }

  /**
   * Applies what the end of epoch `endedIndex` decided once its production counts are known: the kicked-out
   * validators leave the set of the epoch after next and are listed in the next epoch's `prev_epoch_kickout`,
   * and the epoch after next runs the voted protocol version. Must come before that epoch starts.
   */
  finalize(endedIndex: number, kickouts: Kickout[], protocolVersion: number): void {
    const following = this.epochs[endedIndex + 1];
    const decided = this.decided.get(endedIndex + 2);
    if (!following || !decided) throw new Error(`epoch ${endedIndex} cannot be finalized now`);
    const out = new Set(kickouts.map((k) => k.account_id));
    const remaining = decided.filter((v) => !out.has(v.accountId));
    // nearcore cannot make an epoch without validators (its chain would stop); the devnet keeps the set.
    if (remaining.length === 0) {
      this.decidedVersions.set(endedIndex + 2, protocolVersion);
      return;
    }
    this.decided.set(endedIndex + 2, remaining);
    following.kickouts = [...following.kickouts.filter((k) => !out.has(k.account_id)), ...kickouts];
    this.decidedVersions.set(endedIndex + 2, protocolVersion);
  }

  /** The largest stake an account has in the sets still in force or decided, which NEAR keeps locked. */
  requiredLock(accountId: string): bigint {
    const current = this.current();
    const sets = [current.validators, this.nextValidators(), this.decided.get(current.index + 2) ?? []];
    let max = 0n;
    for (const set of sets) for (const v of set) if (v.accountId === accountId && v.stake > max) max = v.stake;
    const proposal = current.proposals.get(accountId);
    if (proposal && proposal.stake > max) max = proposal.stake;
    return max;
  }
}

function tooOld(reason: KickoutReason): boolean {
  return typeof reason === 'object' && 'ProtocolVersionTooOld' in reason;
}
