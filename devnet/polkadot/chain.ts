/**
 * One simulated chain: blocks on a timer (one per slot), per-block storage snapshots, a transaction pool
 * with Ready -> InBlock -> Finalized watchers, and GRANDPA-style finality lagging the head. What calls do and
 * what happens at block start (sessions, BABE) is the runtime's business (RuntimeLogic).
 */
import { EventEmitter } from 'node:events';
import type { Header } from '@polkadot/types/interfaces';
import type { Call } from '@polkadot/types/interfaces';
import type { GenericExtrinsic } from '@polkadot/types';
import type { Codec } from '@polkadot/types/types';
import { u8aConcat, u8aToHex, stringToU8a } from '@polkadot/util';
import { blake2AsHex, blake2AsU8a } from '@polkadot/util-crypto';
import type { Runtime } from './metadata.js';
import { StorageOverlay, type StorageSnapshot } from './storage.js';
import {
  type EventRecord,
  type ModuleDispatchError,
  type Phase,
  dispatchInfo,
  encodeEventRecords,
  runtimeEvent,
} from './events.js';
import { decodeExtrinsic, validateSigned, type ValidatedExtrinsic } from './extrinsics.js';
import { InvalidTransactionReason, RpcError, invalidTransaction } from './rpc-error.js';
import { canPayFee, reportFeePaid, withdrawFee } from './transaction-payment.js';

export type DispatchResult = { ok: true } | { ok: false; error: ModuleDispatchError };

export interface DispatchContext {
  runtime: Runtime;
  storage: StorageOverlay;
  deposit(palletName: string, eventName: string, data?: unknown): void;
  /** Runs `fn` so that its storage writes and events are dropped when it fails (FRAME's #[transactional]). */
  transactional(fn: (ctx: DispatchContext) => DispatchResult): DispatchResult;
}

export interface BlockInfo {
  number: number;
  slot: number;
  timestampMs: number;
}

export interface RuntimeLogic {
  readonly runtime: Runtime;
  genesis(storage: StorageOverlay, block: BlockInfo): void;
  onInitialize(ctx: DispatchContext, block: BlockInfo): void;
  /** Calls the simulator can execute; anything else is refused by the pool as `Call`. */
  isSupported(call: Call): boolean;
  dispatch(ctx: DispatchContext, origin: Uint8Array, call: Call): DispatchResult;
  /** Digest logs (hex DigestItems) of a new block, e.g. the BABE pre-digest. */
  digest(storage: StorageOverlay, block: BlockInfo): string[];
  /**
   * Runtime API calls beyond the generic ones (`state_call`, e.g. `BabeApi_next_epoch`): the result value,
   * encoded with the API's output type from the metadata; undefined if this runtime does not serve it.
   */
  runtimeApi?(method: string, storage: StorageOverlay): unknown;
}

type AccountInfo = Codec & { nonce: { toNumber(): number } };

export interface Block {
  number: number;
  hash: string;
  header: Header;
  extrinsics: string[];
  /** Emptied once the block falls out of the state retention window (`pruned`). */
  storage: StorageSnapshot;
  pruned: boolean;
  slot: number;
}

export type ExtrinsicStatus = 'ready' | 'future' | 'invalid' | 'dropped' | { inBlock: string } | { finalized: string };

interface PoolEntry extends ValidatedExtrinsic {
  watch?: (status: ExtrinsicStatus) => void;
  includedIn?: Block;
}

export interface ChainOptions {
  blockTimeMs: number;
  /** Finality lags the best block by this many blocks. */
  finalityLag: number;
  /** Blocks whose state is kept for queries at older blocks, like a pruned node (default 4096). */
  stateRetention?: number;
  /** Unix time (ms) of slot 0 of this chain; genesis is the slot of "now". */
  now?: () => number;
}

interface ChainEvents {
  block: [Block];
  finalized: [Block];
}

export class Chain extends EventEmitter<ChainEvents> {
  readonly runtime: Runtime;
  private readonly blocks: Block[] = [];
  private readonly byHash = new Map<string, Block>();
  private readonly pool: PoolEntry[] = [];
  private finalizedNumber = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly genesisSlot: number;
  private readonly now: () => number;
  private lastTimestampMs: number;

  constructor(
    readonly logic: RuntimeLogic,
    private readonly opts: ChainOptions,
  ) {
    super();
    this.runtime = logic.runtime;
    this.now = opts.now ?? Date.now;
    this.genesisSlot = Math.floor(this.now() / opts.blockTimeMs);
    const info: BlockInfo = { number: 0, slot: this.genesisSlot, timestampMs: this.genesisSlot * opts.blockTimeMs };
    this.lastTimestampMs = info.timestampMs;
    const storage = new StorageOverlay(this.runtime, new Map());
    storage.set('system', 'number', [], 0);
    logic.genesis(storage, info);
    this.append(this.seal(storage, info, [], blake2AsHex(stringToU8a(`${this.runtime.name} genesis`))));
  }

  get genesisHash(): string {
    return this.blocks[0]!.hash;
  }

  get best(): Block {
    return this.blocks[this.blocks.length - 1]!;
  }

  get finalized(): Block {
    return this.blocks[this.finalizedNumber]!;
  }

  blockAt(hashOrNumber?: string | number | null): Block | undefined {
    if (hashOrNumber === undefined || hashOrNumber === null) return this.best;
    if (typeof hashOrNumber === 'number') return this.blocks[hashOrNumber];
    return this.byHash.get(hashOrNumber);
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      try {
        this.produceBlock();
      } catch (error) {
        // A simulator bug must be loud, but must not silently stop the chain for every other test.
        console.error(`[${this.runtime.name}] block production failed:`, error);
      }
      this.timer = setTimeout(tick, this.opts.blockTimeMs);
    };
    this.timer = setTimeout(tick, this.opts.blockTimeMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const entry of this.pool.splice(0)) entry.watch?.('dropped');
  }

  accountNonce(account: Uint8Array, at: Block = this.best): number {
    const overlay = new StorageOverlay(this.runtime, at.storage);
    const info = overlay.get<AccountInfo>('system', 'account', account);
    return info ? info.nonce.toNumber() : 0;
  }

  /** `system_accountNextIndex`: the account nonce plus its transactions already in the pool. */
  nextIndex(account: Uint8Array): number {
    let next = this.accountNonce(account);
    const pending = this.pool.filter((e) => !e.includedIn && u8aToHex(e.signer) === u8aToHex(account));
    while (pending.some((e) => e.nonce === next)) next += 1;
    return next;
  }

  /** Pool import: throws the RPC error a node would answer with; otherwise returns the tx hash. */
  submit(hex: unknown, watch?: (status: ExtrinsicStatus) => void): string {
    const xt: GenericExtrinsic = decodeExtrinsic(this.runtime, hex);
    const view = {
      genesisHash: this.genesisHash,
      bestNumber: this.best.number,
      blockHash: (n: number) => this.blocks[n]?.hash,
    };
    const validated = validateSigned(this.runtime, view, xt, (who) => this.accountNonce(who));
    if (!this.logic.isSupported(validated.call)) throw invalidTransaction(InvalidTransactionReason.call);
    if (!canPayFee(new StorageOverlay(this.runtime, this.best.storage), validated.signer)) {
      throw invalidTransaction(InvalidTransactionReason.payment);
    }
    if (this.pool.some((e) => e.hash === validated.hash)) throw new RpcError(1013, 'Transaction Already Imported');
    const sameSlot = this.pool.find(
      (e) => !e.includedIn && e.nonce === validated.nonce && u8aToHex(e.signer) === u8aToHex(validated.signer),
    );
    if (sameSlot)
      throw new RpcError(
        1014,
        'Priority is too low: (0 vs 0)',
        'The transaction has too low priority to replace another transaction already in the pool.',
      );
    const entry: PoolEntry = { ...validated, watch };
    const status = validated.nonce === this.nextIndex(validated.signer) ? 'ready' : 'future';
    this.pool.push(entry);
    watch?.(status);
    return validated.hash;
  }

  pendingExtrinsics(): string[] {
    return this.pool.filter((e) => !e.includedIn).map((e) => e.hex);
  }

  /** Builds, executes and imports the next block. Public so tests and the devnet can step deterministically. */
  produceBlock(): Block {
    const parent = this.best;
    const number = parent.number + 1;
    const slot = this.genesisSlot + number;
    // The timestamp inherent carries the producer's clock, as an author's does: after a halt (stop, start) the
    // next block is of now, not of the slot after the last (slots here follow block numbers and skip none).
    const timestampMs = Math.max(this.lastTimestampMs + 1, this.now());
    this.lastTimestampMs = timestampMs;
    const info: BlockInfo = { number, slot, timestampMs };
    const storage = new StorageOverlay(this.runtime, parent.storage);
    const records: EventRecord[] = [];
    let phase: Phase = 'initialization';

    const makeContext = (overlay: StorageOverlay, sink: EventRecord[]): DispatchContext => {
      const ctx: DispatchContext = {
        runtime: this.runtime,
        storage: overlay,
        deposit: (palletName, eventName, data) =>
          sink.push({ phase, event: runtimeEvent(this.runtime, palletName, eventName, data) }),
        transactional: (fn) => {
          const child = new StorageOverlay(this.runtime, overlay.snapshot());
          const childEvents: EventRecord[] = [];
          const result = fn(makeContext(child, childEvents));
          if (result.ok) {
            for (const [key, value] of child.snapshot()) overlay.setRaw(key, value);
            for (const key of overlay.snapshot().keys()) if (child.getRaw(key) === undefined) overlay.deleteRaw(key);
            sink.push(...childEvents);
          }
          return result;
        },
      };
      return ctx;
    };

    storage.set('system', 'number', [], number);
    storage.set('system', 'parentHash', [], parent.hash);
    this.logic.onInitialize(makeContext(storage, records), info);

    // The timestamp inherent is extrinsic 0, as on every Substrate chain.
    const extrinsics: string[] = [];
    const timestampCall = this.runtime.decorated.tx.timestamp!.set!(info.timestampMs);
    extrinsics.push(this.runtime.registry.createType('Extrinsic', timestampCall).toHex());
    storage.set('timestamp', 'now', [], info.timestampMs);
    phase = { applyExtrinsic: 0 };
    records.push({
      phase,
      event: runtimeEvent(this.runtime, 'System', 'ExtrinsicSuccess', { dispatchInfo: dispatchInfo('No') }),
    });

    const included: PoolEntry[] = [];
    for (const entry of this.pool) {
      if (entry.includedIn) continue;
      const nonce = this.accountNonceIn(storage, entry.signer);
      if (entry.nonce !== nonce || !canPayFee(storage, entry.signer)) continue;
      phase = { applyExtrinsic: extrinsics.length };
      extrinsics.push(entry.hex);
      this.bumpNonce(storage, entry.signer);
      const txEvents: EventRecord[] = [];
      const ctx = makeContext(storage, txEvents);
      withdrawFee(ctx, entry.signer);
      const result = ctx.transactional((inner) => this.logic.dispatch(inner, entry.signer, entry.call));
      reportFeePaid(ctx, entry.signer);
      records.push(...txEvents);
      records.push({
        phase,
        event: result.ok
          ? runtimeEvent(this.runtime, 'System', 'ExtrinsicSuccess', { dispatchInfo: dispatchInfo() })
          : runtimeEvent(this.runtime, 'System', 'ExtrinsicFailed', {
              dispatchError: result.error,
              dispatchInfo: dispatchInfo(),
            }),
      });
      included.push(entry);
    }
    storage.setRaw(this.eventsKey(), encodeEventRecords(records));
    storage.set('system', 'extrinsicCount', [], extrinsics.length);

    const block = this.seal(storage, info, extrinsics, parent.hash);
    this.append(block);
    for (const entry of included) {
      entry.includedIn = block;
      entry.watch?.({ inBlock: block.hash });
    }
    this.dropOutdated();
    this.emit('block', block);
    this.advanceFinality();
    return block;
  }

  private eventsKey(): string {
    return u8aToHex(this.runtime.decorated.query.system!.events!.keyPrefix());
  }

  private accountNonceIn(storage: StorageOverlay, who: Uint8Array): number {
    const info = storage.get<AccountInfo>('system', 'account', who);
    return info ? info.nonce.toNumber() : 0;
  }

  private bumpNonce(storage: StorageOverlay, who: Uint8Array): void {
    const info = storage.get('system', 'account', who);
    const json = (info?.toJSON() ?? { nonce: 0, consumers: 0, providers: 1, sufficients: 0, data: {} }) as {
      nonce: number;
    };
    storage.set('system', 'account', [who], { ...json, nonce: json.nonce + 1 });
  }

  private seal(storage: StorageOverlay, info: BlockInfo, extrinsics: string[], parentHash: string): Block {
    const snapshot = storage.snapshot();
    const sorted = [...snapshot].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const stateRoot = u8aToHex(blake2AsU8a(u8aConcat(...sorted.flatMap(([k, v]) => [stringToU8a(k), v]))));
    const extrinsicsRoot = blake2AsHex(u8aConcat(...extrinsics.map((x) => stringToU8a(x))));
    const header = this.runtime.registry.createType<Header>('Header', {
      parentHash: info.number === 0 ? '0x' + '00'.repeat(32) : parentHash,
      number: info.number,
      stateRoot,
      extrinsicsRoot,
      digest: { logs: info.number === 0 ? [] : this.logic.digest(storage, info) },
    });
    return {
      number: info.number,
      hash: header.hash.toHex(),
      header,
      extrinsics,
      storage: snapshot,
      pruned: false,
      slot: info.slot,
    };
  }

  private append(block: Block): void {
    this.blocks.push(block);
    this.byHash.set(block.hash, block);
    const old = this.blocks[block.number - (this.opts.stateRetention ?? 4096)];
    if (old && !old.pruned) {
      old.storage = new Map();
      old.pruned = true;
    }
  }

  /** Pending transactions whose nonce the chain has passed can never be included (the pool revalidates them). */
  private dropOutdated(): void {
    for (const entry of [...this.pool]) {
      if (!entry.includedIn && entry.nonce < this.accountNonce(entry.signer)) {
        this.pool.splice(this.pool.indexOf(entry), 1);
        entry.watch?.('invalid');
      }
    }
  }

  private advanceFinality(): void {
    const target = Math.max(0, this.best.number - this.opts.finalityLag);
    if (target <= this.finalizedNumber) return;
    this.finalizedNumber = target;
    const finalized = this.finalized;
    for (const entry of [...this.pool]) {
      if (entry.includedIn && entry.includedIn.number <= target) {
        entry.watch?.({ finalized: entry.includedIn.hash });
        this.pool.splice(this.pool.indexOf(entry), 1);
      }
    }
    this.emit('finalized', finalized);
  }
}
