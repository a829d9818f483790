/**
 * The simulated NEAR chain: a block clock, accounts with access keys, staking pools, epochs (epochs.ts), who
 * is expected to produce each height (producer-schedule.ts) and the signing ledger (signing-ledger.ts). The
 * network itself always produces blocks (as the rest of the validator set would); what the devnet measures is
 * whether the validator assigned to a height had a node that signed it. Validators the devnet runs itself
 * (`devnetSigners`) sign every height, like the rest of a real validator set.
 */
import { EventEmitter } from 'node:events';
import { PublicKey, baseDecode, baseEncode } from 'near-api-js';
import { EpochManager, type ValidatorStake } from './epochs.js';
import { sha256 } from './hashing.js';
import { decideEpochEnd, type KickoutConfig } from './kickouts.js';
import { blockApprovalPayload, chunkPayload, type SignMessage } from './node-wire.js';
import { ProducerSchedule } from './producer-schedule.js';
import { SigningLedger, type DoubleSign } from './signing-ledger.js';
import type { StakingPool } from './staking-pool.js';

export type AccessKeyPermission =
  'FullAccess' | { FunctionCall: { allowance: string | null; receiver_id: string; method_names: string[] } };

export interface AccessKey {
  nonce: bigint;
  permission: AccessKeyPermission;
}

export interface AccountState {
  amount: bigint;
  locked: bigint;
  /** By public key string ("ed25519:..."). */
  keys: Map<string, AccessKey>;
  pool?: StakingPool;
}

export interface Block {
  height: number;
  hash: string;
  prevHash: string;
  epochIndex: number;
  epochId: string;
  nextEpochId: string;
  timestampNs: bigint;
  /** Wall-clock time of production, for the signature grace period. */
  producedAtMs: number;
  author: string;
}

export interface NearChainOptions extends KickoutConfig {
  chainId: string;
  epochLength: number;
  blockTimeMs: number;
  /** The genesis protocol version; later epochs run what the validators vote for. */
  protocolVersion: number;
  /** The protocol version the devnet's own validators vote for (the rest of the network's binaries). */
  devnetProtocolVersion: number;
  genesisHeight: number;
  /** Blocks after which a transaction's block hash is too old (nearcore's transaction_validity_period). */
  transactionValidityPeriod: number;
  /** How long after a block the devnet waits for signatures before counting them missed. */
  signatureGraceMs: number;
}

/** nearcore's ACCESS_KEY_NONCE_RANGE_MULTIPLIER: nonces are bounded by height x 1e6. */
export const NONCE_RANGE_MULTIPLIER = 1_000_000n;

export type SignatureVerdict = { accepted: true; doubleSign?: DoubleSign } | { accepted: false; reason: string };

export class NearChain extends EventEmitter<{ block: [Block] }> {
  readonly accounts = new Map<string, AccountState>();
  readonly epochs: EpochManager;
  readonly ledger = new SigningLedger();
  private readonly blocks: Block[] = [];
  private readonly blocksByHash = new Map<string, Block>();
  private readonly schedules = new Map<number, ProducerSchedule>();
  /** Validator keys the devnet signs with itself (always-producing validators), by public key. */
  readonly devnetSigners = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** The ended epoch whose kickouts and votes wait for its last heights to settle. */
  private unfinalized: number | undefined;

  constructor(
    readonly options: NearChainOptions,
    genesisValidators: ValidatorStake[],
  ) {
    super();
    const genesis = this.makeBlock(options.genesisHeight, baseEncode(new Uint8Array(32)), 0, '', '');
    this.epochs = new EpochManager(
      options.epochLength,
      options.genesisHeight,
      genesis.hash,
      genesisValidators,
      options.protocolVersion,
    );
    genesis.epochId = this.epochs.current().id;
    genesis.nextEpochId = this.epochs.nextEpochId();
    genesis.author = this.producerAt(genesis.height)?.accountId ?? 'devnet';
    this.append(genesis);
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.produceBlock();
      this.timer = setTimeout(tick, this.options.blockTimeMs);
    };
    this.timer = setTimeout(tick, this.options.blockTimeMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  head(): Block {
    return this.blocks[this.blocks.length - 1]!;
  }

  /** Doomslug finality: a block is final two blocks later. */
  finalBlock(): Block {
    return this.blocks[Math.max(0, this.blocks.length - 3)]!;
  }

  blockAt(height: number): Block | undefined {
    return this.blocks[height - this.options.genesisHeight];
  }

  blockByHash(hash: string): Block | undefined {
    return this.blocksByHash.get(hash);
  }

  genesisBlock(): Block {
    return this.blocks[0]!;
  }

  produceBlock(): Block {
    const prev = this.head();
    const height = prev.height + 1;
    if (this.epochs.startsEpoch(height)) {
      // The epoch before the ending one must be finalized before the ending one decides (grace > an epoch).
      if (this.unfinalized !== undefined) this.settleSignatures(this.epochs.current().startHeight - 1);
      this.epochs.advance(height, prev.hash);
      this.unfinalized = prev.epochIndex;
      this.releaseUnneededLocks();
    }
    const epoch = this.epochs.current();
    const block = this.makeBlock(height, prev.hash, epoch.index, epoch.id, this.epochs.nextEpochId());
    block.author = this.producerAt(height)?.accountId ?? 'devnet';
    this.append(block);
    this.signAsDevnet(block);
    this.settleSignatures();
    this.emit('block', block);
    return block;
  }

  /** Verifies a node's signatures for a height and records them for the accounting. */
  acceptSignature(msg: SignMessage): SignatureVerdict {
    const block = this.blockAt(msg.height);
    if (!block || block.hash !== msg.blockHash) return { accepted: false, reason: `unknown block ${msg.blockHash}` };
    let key: PublicKey;
    try {
      key = PublicKey.fromString(msg.publicKey);
    } catch {
      return { accepted: false, reason: 'malformed public key' };
    }
    const verifies = (payload: Uint8Array, signature: string) => {
      try {
        return key.verify(payload, baseDecode(signature));
      } catch {
        return false;
      }
    };
    const blockOk = verifies(blockApprovalPayload(msg.blockHash), msg.blockSignature);
    const chunkOk = verifies(chunkPayload(msg.blockHash), msg.chunkSignature);
    if (!blockOk && !chunkOk) return { accepted: false, reason: 'bad signature' };
    const doubleSign = this.ledger.record({
      height: msg.height,
      accountId: msg.accountId,
      publicKey: key.toString(),
      instanceId: msg.instanceId,
      nodePublicKey: msg.nodePublicKey,
      block: blockOk,
      chunk: chunkOk,
      protocolVersion:
        typeof msg.protocolVersion === 'number' ? msg.protocolVersion : this.protocolVersionOf(block.height),
    });
    return doubleSign ? { accepted: true, doubleSign } : { accepted: true };
  }

  /** The protocol version the network runs at a produced height. */
  protocolVersionOf(height: number): number {
    return this.epochs.epochOfHeight(height)?.protocolVersion ?? this.options.protocolVersion;
  }

  /** The current validators of the epoch a height belongs to. */
  validatorsAt(height: number): ValidatorStake[] {
    return this.epochs.epochOfHeight(height)?.validators ?? [];
  }

  /** The validator expected to produce the block and the chunk at a produced height. */
  producerAt(height: number): ValidatorStake | undefined {
    return this.scheduleOf(height)?.producerAt(height);
  }

  /** The stake-weighted assignment of the epoch a height belongs to (fixed for the epoch). */
  scheduleOf(height: number): ProducerSchedule | undefined {
    const epoch = this.epochs.epochOfHeight(height);
    if (!epoch) return undefined;
    let schedule = this.schedules.get(epoch.index);
    if (!schedule) this.schedules.set(epoch.index, (schedule = new ProducerSchedule(epoch.validators)));
    return schedule;
  }

  /** The devnet's own validators sign every height of their epochs, as a healthy validator set does. */
  private signAsDevnet(block: Block): void {
    for (const v of this.validatorsAt(block.height)) {
      if (!this.devnetSigners.has(v.publicKey)) continue;
      this.ledger.record({
        height: block.height,
        accountId: v.accountId,
        publicKey: v.publicKey,
        instanceId: 'devnet',
        nodePublicKey: 'devnet',
        block: true,
        chunk: true,
        protocolVersion: this.options.devnetProtocolVersion,
      });
    }
  }

  /** Settles the heights past their grace period, and every height up to `forceUpTo`. */
  private settleSignatures(forceUpTo = 0): void {
    const now = Date.now();
    // Nobody signs the genesis block.
    const first = Math.max(this.ledger.settledHeight() + 1, this.options.genesisHeight + 1);
    for (let h = first; h < this.head().height || h <= forceUpTo; h++) {
      const block = this.blockAt(h);
      if (!block) continue;
      if (h > forceUpTo && block.producedAtMs + this.options.signatureGraceMs > now) break;
      this.ledger.settle(h, block.epochIndex, this.producerAt(h));
    }
    this.finalizeSettledEpoch();
  }

  /** Once an ended epoch's heights are all settled, its kickouts and protocol version vote take effect. */
  private finalizeSettledEpoch(): void {
    const index = this.unfinalized;
    const ended = index === undefined ? undefined : this.epochs.byIndex(index);
    const following = index === undefined ? undefined : this.epochs.byIndex(index + 1);
    if (!ended || !following || this.ledger.settledHeight() < following.startHeight - 1) return;
    this.unfinalized = undefined;
    const decision = decideEpochEnd(
      {
        validators: ended.validators,
        protocolVersion: following.protocolVersion,
        stats: (accountId) => this.ledger.epochStats(ended.index, accountId),
        votes: this.ledger.votes(ended.index),
      },
      this.options,
    );
    this.epochs.finalize(ended.index, decision.kickouts, decision.protocolVersion);
    this.releaseUnneededLocks();
  }

  /** Stake above what the current and decided validator sets need returns to the balance at epoch start. */
  private releaseUnneededLocks(): void {
    for (const [accountId, account] of this.accounts) {
      const required = this.epochs.requiredLock(accountId);
      if (account.locked > required) {
        account.amount += account.locked - required;
        account.locked = required;
      }
    }
  }

  private makeBlock(height: number, prevHash: string, epochIndex: number, epochId: string, nextEpochId: string) {
    const nowMs = Date.now();
    const timestampNs = BigInt(nowMs) * 1_000_000n;
    const hash = baseEncode(sha256(baseDecode(prevHash), String(height), timestampNs.toString()));
    return {
      height,
      hash,
      prevHash,
      epochIndex,
      epochId,
      nextEpochId,
      timestampNs,
      producedAtMs: nowMs,
      author: '',
    } satisfies Block;
  }

  private append(block: Block): void {
    this.blocks.push(block);
    this.blocksByHash.set(block.hash, block);
  }
}
