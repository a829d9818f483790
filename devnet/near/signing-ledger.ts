/**
 * Who signed what: the accounting behind missed blocks (downtime) and double signing (equivocation).
 *
 * Nodes sign every height they see (nearcore's approvals), but only the validator assigned to a height
 * (producer-schedule.ts) is expected to produce its block and its chunk (the devnet has a single shard). A
 * height is settled once its grace period is over; then the assigned validator has missed its block (and its
 * chunk) unless a node signed them with its current key. Two different node processes signing one height with
 * the same key is double signing, at any height, assigned to that key or not, whenever it is seen (also after
 * settlement).
 */
import type { ValidatorStake } from './epochs.js';

export interface ProductionStats {
  expectedBlocks: number;
  producedBlocks: number;
  expectedChunks: number;
  producedChunks: number;
}

export interface DoubleSign {
  height: number;
  publicKey: string;
  /** The node keys (node_key.json) of the processes that signed; equal when one home was copied. */
  nodes: string[];
}

export interface ValidatorCounters extends ProductionStats {
  accountId: string;
  /** The counts cover heights up to here; later heights are still within their signature grace period. */
  settledHeight: number;
  missedBlocks: number;
  missedChunks: number;
  /** Settled heights assigned to the account whose block it did not produce (oldest first, capped). */
  missedBlockHeights: number[];
  /** Heights at which two node processes signed with the same key of this account. */
  doubleSignHeights: number[];
  doubleSigns: DoubleSign[];
  /** Heights with a block approval from each key of this account (current or not): who actually signed. */
  blocksSignedByKey: Record<string, number>;
}

export interface Signature {
  height: number;
  accountId: string;
  publicKey: string;
  /** A random id per node process: two processes are two signers even with a copied home. */
  instanceId: string;
  nodePublicKey: string;
  block: boolean;
  chunk: boolean;
  /** The signing binary's latest protocol version: a produced block carries it as its producer's vote. */
  protocolVersion: number;
}

interface KeySigners {
  accountId: string;
  block: Set<string>;
  chunk: Set<string>;
  nodes: Map<string, string>;
  reported: boolean;
  /** The protocol version of the latest block signature. */
  protocolVersion: number;
}

type StatsTrail = { height: number; stats: ProductionStats }[];

const MAX_LISTED_HEIGHTS = 10_000;
/** How long signatures are kept for double-sign detection after a height is settled, in heights. */
const DOUBLE_SIGN_WINDOW = 10_000;

export function emptyStats(): ProductionStats {
  return { expectedBlocks: 0, producedBlocks: 0, expectedChunks: 0, producedChunks: 0 };
}

export class SigningLedger {
  private readonly byHeight = new Map<number, Map<string, KeySigners>>();
  private readonly totals = new Map<string, ValidatorCounters>();
  /** Per epoch index, per account: what the `validators` RPC reports. */
  private readonly perEpoch = new Map<number, Map<string, ProductionStats>>();
  /** Per epoch index, per account: its stats after each settled height assigned to it (for `validators` at a block). */
  private readonly history = new Map<number, Map<string, StatsTrail>>();
  /** Per epoch index, per account: the protocol version in the last block it produced (its vote). */
  private readonly votesPerEpoch = new Map<number, Map<string, number>>();
  private settledUpTo = -1;

  /** Records a verified signature; returns a double sign when this one makes the height equivocated. */
  record(sig: Signature): DoubleSign | undefined {
    let keys = this.byHeight.get(sig.height);
    if (!keys) this.byHeight.set(sig.height, (keys = new Map<string, KeySigners>()));
    let signers = keys.get(sig.publicKey);
    if (!signers) {
      signers = {
        accountId: sig.accountId,
        block: new Set(),
        chunk: new Set(),
        nodes: new Map(),
        reported: false,
        protocolVersion: sig.protocolVersion,
      };
      keys.set(sig.publicKey, signers);
    }
    if (sig.block) {
      if (signers.block.size === 0) {
        const byKey = this.countersFor(signers.accountId).blocksSignedByKey;
        byKey[sig.publicKey] = (byKey[sig.publicKey] ?? 0) + 1;
      }
      signers.block.add(sig.instanceId);
      signers.protocolVersion = sig.protocolVersion;
    }
    if (sig.chunk) signers.chunk.add(sig.instanceId);
    signers.nodes.set(sig.instanceId, sig.nodePublicKey);
    if (signers.nodes.size < 2 || signers.reported) return undefined;
    signers.reported = true;
    const doubleSign = { height: sig.height, publicKey: sig.publicKey, nodes: [...signers.nodes.values()] };
    const counters = this.countersFor(signers.accountId);
    counters.doubleSigns.push(doubleSign);
    counters.doubleSignHeights.push(sig.height);
    return doubleSign;
  }

  /** Settles one height against the validator assigned to produce it. Heights settle once, in order. */
  settle(height: number, epochIndex: number, producer: ValidatorStake | undefined): void {
    if (height <= this.settledUpTo) return;
    this.settledUpTo = height;
    const keys = this.byHeight.get(height);
    let epochStats = this.perEpoch.get(epochIndex);
    if (!epochStats) this.perEpoch.set(epochIndex, (epochStats = new Map<string, ProductionStats>()));
    for (const v of producer ? [producer] : []) {
      const signers = keys?.get(v.publicKey);
      const block = (signers?.block.size ?? 0) > 0;
      const chunk = (signers?.chunk.size ?? 0) > 0;
      let stats = epochStats.get(v.accountId);
      if (!stats) epochStats.set(v.accountId, (stats = emptyStats()));
      const total = this.countersFor(v.accountId);
      for (const s of [stats, total]) {
        s.expectedBlocks++;
        s.expectedChunks++;
        if (block) s.producedBlocks++;
        if (chunk) s.producedChunks++;
      }
      if (block) {
        let votes = this.votesPerEpoch.get(epochIndex);
        if (!votes) this.votesPerEpoch.set(epochIndex, (votes = new Map<string, number>()));
        votes.set(v.accountId, signers!.protocolVersion);
      } else {
        total.missedBlocks++;
        if (total.missedBlockHeights.length < MAX_LISTED_HEIGHTS) total.missedBlockHeights.push(height);
      }
      if (!chunk) total.missedChunks++;
      let epochHistory = this.history.get(epochIndex);
      if (!epochHistory) this.history.set(epochIndex, (epochHistory = new Map<string, StatsTrail>()));
      let trail = epochHistory.get(v.accountId);
      if (!trail) epochHistory.set(v.accountId, (trail = []));
      trail.push({ height, stats: { ...stats } });
    }
    this.byHeight.delete(height - DOUBLE_SIGN_WINDOW);
  }

  /** The protocol version each validator voted for with the blocks it produced in an epoch (settled heights). */
  votes(epochIndex: number): Map<string, number> {
    return new Map(this.votesPerEpoch.get(epochIndex));
  }

  settledHeight(): number {
    return this.settledUpTo;
  }

  /** An account's stats in an epoch, counting the settled heights up to `upToHeight` (default: all). */
  epochStats(epochIndex: number, accountId: string, upToHeight?: number): ProductionStats {
    if (upToHeight === undefined) return { ...(this.perEpoch.get(epochIndex)?.get(accountId) ?? emptyStats()) };
    const trail = this.history.get(epochIndex)?.get(accountId) ?? [];
    let found: ProductionStats | undefined;
    for (let lo = 0, hi = trail.length - 1; lo <= hi;) {
      const mid = (lo + hi) >> 1;
      if (trail[mid]!.height <= upToHeight) {
        found = trail[mid]!.stats;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return { ...(found ?? emptyStats()) };
  }

  counters(accountId: string): ValidatorCounters {
    const c = this.countersFor(accountId);
    return {
      ...c,
      settledHeight: this.settledUpTo,
      missedBlockHeights: [...c.missedBlockHeights],
      doubleSignHeights: [...c.doubleSignHeights],
      doubleSigns: c.doubleSigns.map((d) => ({ ...d, nodes: [...d.nodes] })),
      blocksSignedByKey: { ...c.blocksSignedByKey },
    };
  }

  private countersFor(accountId: string): ValidatorCounters {
    let c = this.totals.get(accountId);
    if (!c) {
      c = {
        accountId,
        settledHeight: this.settledUpTo,
        ...emptyStats(),
        missedBlocks: 0,
        missedChunks: 0,
        missedBlockHeights: [],
        doubleSignHeights: [],
        doubleSigns: [],
        blocksSignedByKey: {},
      };
      this.totals.set(accountId, c);
    }
    return c;
  }
}
