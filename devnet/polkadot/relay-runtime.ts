/**
 * The relay-chain runtime the simulator executes: pallet-session (NextKeys -> QueuedKeys -> active over two
 * rotations, ownership proof, duplicate keys), BABE slots/epochs (one slot per block, session = epoch),
 * pallet-proxy with the relay's proxy filters, and the post-AHM call filter that disables
 * `session.set_keys/purge_keys` (keys then arrive from Asset Hub, as `StakingAhClient.set_keys_from_ah`),
 * and pallet-offences' record of equivocations (`Offences.Reports`, `ConcurrentReportsIndex`, the `Offence`
 * event), written as a real chain writes them once an equivocation report lands.
 */
import type { Call } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { bnToU8a, compactAddLength, stringToU8a, u8aConcat, u8aEq, u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';
import type { BlockInfo, DispatchContext, DispatchResult, RuntimeLogic } from './chain.js';
import { COMMON_CALLS, accountExists, callName, dispatchCommon, fundAccount } from './common-calls.js';
import { moduleError } from './events.js';
import type { Runtime } from './metadata.js';
import { type ProxyDefinition, callFiltered, dispatchProxy, proxiesValue } from './proxy.js';
import {
  type SessionKeyField,
  isOwnershipProofValid,
  keyTypeHex,
  sessionKeyLayout,
  splitSessionKeys,
} from './session-keys.js';
import type { StorageOverlay } from './storage.js';

export interface GenesisValidator {
  stash: Uint8Array;
  sessionKeys: Uint8Array;
}

export interface GenesisConfig {
  accounts: Uint8Array[];
  validators: GenesisValidator[];
  proxies: { real: Uint8Array; definitions: ProxyDefinition[] }[];
}

export interface RelayRuntimeOptions {
  sessionLength: number;
  /** `set_keys` checks the ownership proof (polkadot-sdk #1739); false models older runtimes. */
  requireProof: boolean;
  /** Post Asset-Hub-Migration: relay `session.set_keys/purge_keys` are filtered. */
  ahm: boolean;
  /**
   * pallet-session's `ValidatorIdOf` comes from staking (`StashOf`, the relay runtimes before polkadot-sdk
   * #7953): `set_keys` from an account that is no bonded controller fails with `NoAssociatedValidatorId`.
   * False models `ConvertInto` (any account is its own validator id). Only meaningful pre-AHM.
   */
  validatorIdFromStaking: boolean;
}

export interface ActiveValidator {
  stash: Uint8Array;
  keys: Uint8Array;
}

type KeysTuple = Codec & [Codec, Codec];

/** An equivocation to record as an offence: BABE (two blocks for a slot) or GRANDPA (two votes in a round). */
export interface OffenceReport {
  offender: Uint8Array;
  kind: 'babe' | 'grandpa';
  slot: number;
  /** GRANDPA's authority set id (the devnet's session index); its round is the slot. */
  setId: number;
}

/** `Offence::ID` of sp-consensus-babe and sp-consensus-grandpa: 16 bytes each. */
const OFFENCE_KIND = { babe: stringToU8a('babe:equivocatio'), grandpa: stringToU8a('grandpa:equivoca') };
const u64 = (n: number) => bnToU8a(n, { bitLength: 64 });

/** Pallets the relay's `ProxyType::Staking` may call (fellows relay/polkadot InstanceFilter). */
const STAKING_PALLETS = ['staking', 'session', 'utility', 'fastUnstake', 'voterList', 'nominationPools'];
const GOVERNANCE_PALLETS = [
  'treasury',
  'bounties',
  'utility',
  'childBounties',
  'convictionVoting',
  'referenda',
  'whitelist',
];

export function relayProxyFilter(proxyType: string, call: Call): boolean {
  switch (proxyType) {
    case 'Any':
      return true;
    case 'NonTransfer':
      return call.section !== 'balances';
    case 'Staking':
      return STAKING_PALLETS.includes(call.section);
    case 'Governance':
      return GOVERNANCE_PALLETS.includes(call.section);
    default:
      return false;
  }
}

const RELAY_CALLS = new Set([...COMMON_CALLS, 'session.setKeys', 'session.purgeKeys', 'proxy.proxy']);

export class RelayRuntime implements RuntimeLogic {
  readonly layout: SessionKeyField[];
  /** Active validators (and their keys) of each session, kept for the accounting of signatures. */
  private readonly activeBySession = new Map<number, ActiveValidator[]>();
  private readonly fromAssetHub: { stash: Uint8Array; keys: Uint8Array | undefined }[] = [];
  private readonly offences: OffenceReport[] = [];
  private epochStartBlock = 0;

  constructor(
    readonly runtime: Runtime,
    private readonly opts: RelayRuntimeOptions,
    private readonly config: GenesisConfig,
  ) {
    this.layout = sessionKeyLayout(runtime);
  }

  activeValidators(sessionIndex: number): ActiveValidator[] {
    return this.activeBySession.get(sessionIndex) ?? [];
  }

  /** Keys forwarded by Asset Hub's `stakingRcClient.set_keys` (undefined keys: purge), applied next block. */
  receiveFromAssetHub(stash: Uint8Array, keys: Uint8Array | undefined): void {
    this.fromAssetHub.push({ stash, keys });
  }

  /** An equivocation found in the signatures of a slot; recorded in the next block, as a landed report is. */
  reportOffence(report: OffenceReport): void {
    this.offences.push(report);
  }

  genesis(storage: StorageOverlay, block: BlockInfo): void {
    for (const account of this.config.accounts) fundAccount(storage, account);
    const validators = this.config.validators;
    const keyed = validators.map((v) => [v.stash, v.sessionKeys]);
    storage.set('session', 'currentIndex', [], 0);
    storage.set(
      'session',
      'validators',
      [],
      validators.map((v) => v.stash),
    );
    storage.set('session', 'queuedKeys', [], keyed);
    for (const v of validators) this.storeKeys(storage, v.stash, v.sessionKeys);
    if (!this.opts.ahm) {
      // Pre-AHM, staking lives on the relay: the validators are bonded stashes that called `validate`.
      for (const v of validators) {
        storage.set('staking', 'bonded', [v.stash], v.stash);
        storage.set('staking', 'validators', [v.stash], { commission: 0, blocked: false });
      }
    }
    this.activeBySession.set(
      0,
      validators.map((v) => ({ stash: v.stash, keys: v.sessionKeys })),
    );
    storage.set('babe', 'genesisSlot', [], block.slot);
    storage.set('babe', 'currentSlot', [], block.slot);
    storage.set('babe', 'epochIndex', [], 0);
    storage.set('babe', 'epochStart', [], [0, 0]);
    storage.set('babe', 'authorities', [], this.babeAuthorities(validators.map((v) => v.sessionKeys)));
    storage.set('staking', 'activeEra', [], { index: 0, start: block.timestampMs });
    storage.set('staking', 'currentEra', [], 0);
    storage.set('staking', 'erasStartSessionIndex', [0], 0);
    for (const { real, definitions } of this.config.proxies)
      storage.set('proxy', 'proxies', [real], proxiesValue(definitions));
  }

  onInitialize(ctx: DispatchContext, block: BlockInfo): void {
    ctx.storage.set('babe', 'currentSlot', [], block.slot);
    // What `StakingAhClient.set_keys_from_ah` / `purge_keys_from_ah` do when Asset Hub's XCM arrives.
    for (const { stash, keys } of this.fromAssetHub.splice(0)) {
      if (keys) this.storeKeys(ctx.storage, stash, keys);
      else this.purgeKeys(ctx.storage, stash);
    }
    for (const report of this.offences.splice(0)) this.recordOffence(ctx, report);
    if (block.number % this.opts.sessionLength === 0) this.rotateSession(ctx, block);
  }

  /** pallet-offences `report_offence`: one report per offender, kind and time slot, listed by (kind, time slot). */
  private recordOffence(ctx: DispatchContext, { offender, kind, slot, setId }: OffenceReport): void {
    const kindId = OFFENCE_KIND[kind];
    // BABE's time slot is the slot; GRANDPA's is (set id, round), both SCALE-encoded.
    const encodedSlot = kind === 'babe' ? u64(slot) : u8aConcat(u64(setId), u64(slot));
    const reportId = blake2AsU8a(u8aConcat(kindId, compactAddLength(encodedSlot), offender));
    // `OpaqueTimeSlot` is `Vec<u8>`: given as hex, polkadot-js takes it as the content (a Uint8Array would be
    // read as already length-prefixed).
    const timeSlot = u8aToHex(encodedSlot);
    if (ctx.storage.get('offences', 'reports', reportId)) return;
    ctx.storage.set('offences', 'reports', [reportId], { offender: [offender, {}], reporters: [] });
    const concurrent = ctx.storage.get<Codec & Codec[]>('offences', 'concurrentReportsIndex', kindId, timeSlot);
    ctx.storage.set(
      'offences',
      'concurrentReportsIndex',
      [kindId, timeSlot],
      [...(concurrent ?? []).map((id) => id.toU8a()), reportId],
    );
    ctx.deposit('Offences', 'Offence', { kind: kindId, timeslot: timeSlot });
  }

  digest(storage: StorageOverlay, block: BlockInfo): string[] {
    const validators = storage.get<Codec & Codec[]>('session', 'validators');
    const count = Math.max(1, validators?.length ?? 1);
    // BABE SecondaryPlain pre-digest: authority index and slot; lets clients find the block author.
    const preDigest = u8aConcat(
      new Uint8Array([2]),
      bnToU8a(block.slot % count, { bitLength: 32 }),
      bnToU8a(block.slot, { bitLength: 64 }),
    );
    return [
      u8aToHex(
        this.runtime.registry.createType('DigestItem', { PreRuntime: ['0x42414245', u8aToHex(preDigest)] }).toU8a(),
      ),
    ];
  }

  /** BabeApi: the epoch arithmetic tools use to predict session ends (`api.call.babeApi.*`). */
  runtimeApi(method: string, storage: StorageOverlay): unknown {
    const number = (item: string) => storage.get<Codec & { toNumber(): number }>('babe', item)?.toNumber() ?? 0;
    const epochIndex = number('epochIndex');
    const length = this.opts.sessionLength;
    const startSlot = number('genesisSlot') + epochIndex * length;
    const babeConfig = { c: [1, 4], allowedSlots: 'PrimaryAndSecondaryVRFSlots' };
    const epoch = (index: number, authorities: unknown) => ({
      epochIndex: index,
      startSlot: number('genesisSlot') + index * length,
      duration: length,
      authorities,
      randomness: new Uint8Array(32),
      config: babeConfig,
    });
    const queued = (storage.get<Codec & KeysTuple[]>('session', 'queuedKeys') ?? []).map((t) => t[1].toU8a());
    switch (method) {
      case 'BabeApi_configuration':
        return {
          slotDuration: this.runtime.decorated.consts.babe!.expectedBlockTime!,
          epochLength: length,
          authorities: storage.get('babe', 'authorities'),
          randomness: new Uint8Array(32),
          ...babeConfig,
        };
      case 'BabeApi_current_epoch_start':
        return startSlot;
      case 'BabeApi_current_epoch':
        return epoch(epochIndex, storage.get('babe', 'authorities'));
      case 'BabeApi_next_epoch':
        return epoch(epochIndex + 1, this.babeAuthorities(queued));
      default:
        return undefined;
    }
  }

  isSupported(call: Call): boolean {
    if (!RELAY_CALLS.has(callName(call))) return false;
    return callName(call) !== 'proxy.proxy' || this.isSupported(call.args[2] as Call);
  }

  dispatch(ctx: DispatchContext, origin: Uint8Array, call: Call): DispatchResult {
    if (this.opts.ahm && call.section === 'session') return callFiltered(ctx);
    const common = dispatchCommon(ctx, origin, call);
    if (common) return common;
    switch (callName(call)) {
      case 'session.setKeys':
        return this.setKeys(
          ctx,
          origin,
          call.args[0]!.toU8a(),
          (call.args[1] as Codec & { toU8a(bare: boolean): Uint8Array }).toU8a(true),
        );
      case 'session.purgeKeys':
        if (!ctx.storage.get('session', 'nextKeys', origin)) {
          return { ok: false, error: moduleError(ctx.runtime, 'Session', 'NoKeys') };
        }
        this.purgeKeys(ctx.storage, origin);
        return { ok: true };
      case 'proxy.proxy':
        return dispatchProxy(ctx, origin, call, relayProxyFilter, (inner, real, innerCall) =>
          this.dispatch(inner, real, innerCall),
        );
      default:
        return callFiltered(ctx);
    }
  }

  private setKeys(ctx: DispatchContext, who: Uint8Array, keys: Uint8Array, proof: Uint8Array): DispatchResult {
    const error = (name: string): DispatchResult => ({ ok: false, error: moduleError(ctx.runtime, 'Session', name) });
    if (this.opts.requireProof && !isOwnershipProofValid(this.layout, keys, proof, who)) return error('InvalidProof');
    if (this.opts.validatorIdFromStaking && !this.stashOf(ctx.storage, who)) return error('NoAssociatedValidatorId');
    if (!accountExists(ctx.storage, who)) return error('NoAccount');
    const parts = splitSessionKeys(this.layout, keys)!;
    const takenByOther = parts.some(({ field, publicKey }) => {
      const owner = ctx.storage.get('session', 'keyOwner', [keyTypeHex(field.keyType), u8aToHex(publicKey)]);
      return owner !== undefined && !u8aEq(owner.toU8a(), who);
    });
    if (takenByOther) return error('DuplicatedKey');
    this.storeKeys(ctx.storage, who, keys);
    return { ok: true };
  }

  /**
   * pallet-staking's `StashOf`: the stash a controller controls. The devnet bonds every stash as its own
   * controller (controllers are deprecated), so a controller is known to staking when `Bonded(who)` is itself.
   */
  private stashOf(storage: StorageOverlay, who: Uint8Array): Uint8Array | undefined {
    const controller = storage.get('staking', 'bonded', who);
    return controller && u8aEq(controller.toU8a(), who) ? who : undefined;
  }

  /** NextKeys plus the KeyOwner index (pallet-session `inner_set_keys`): old keys released, new ones owned. */
  private storeKeys(storage: StorageOverlay, who: Uint8Array, keys: Uint8Array): void {
    this.purgeKeys(storage, who);
    for (const { field, publicKey } of splitSessionKeys(this.layout, keys) ?? []) {
      storage.set('session', 'keyOwner', [[keyTypeHex(field.keyType), u8aToHex(publicKey)]], who);
    }
    storage.set('session', 'nextKeys', [who], keys);
  }

  private purgeKeys(storage: StorageOverlay, who: Uint8Array): void {
    const old = storage.get('session', 'nextKeys', who);
    if (!old) return;
    for (const { field, publicKey } of splitSessionKeys(this.layout, old.toU8a()) ?? []) {
      storage.remove('session', 'keyOwner', [keyTypeHex(field.keyType), u8aToHex(publicKey)]);
    }
    storage.remove('session', 'nextKeys', who);
  }

  /** pallet-session `rotate_session`: queued becomes active, NextKeys of the elected set are queued. */
  private rotateSession(ctx: DispatchContext, block: BlockInfo): void {
    const { storage } = ctx;
    const current = storage.get<Codec & { toNumber(): number }>('session', 'currentIndex')?.toNumber() ?? 0;
    const queued = (storage.get<Codec & KeysTuple[]>('session', 'queuedKeys') ?? []).map((t) => ({
      stash: t[0].toU8a(),
      keys: t[1].toU8a(),
    }));
    const next = current + 1;
    storage.set(
      'session',
      'validators',
      [],
      queued.map((v) => v.stash),
    );
    storage.set('session', 'currentIndex', [], next);
    this.activeBySession.set(next, queued);

    const nextQueued = this.config.validators.flatMap(({ stash }) => {
      const keys = storage.get('session', 'nextKeys', stash);
      return keys ? [{ stash, keys: keys.toU8a() }] : [];
    });
    const changed =
      nextQueued.length !== queued.length ||
      nextQueued.some((v, i) => !u8aEq(v.keys, queued[i]!.keys) || !u8aEq(v.stash, queued[i]!.stash));
    storage.set(
      'session',
      'queuedKeys',
      [],
      nextQueued.map((v) => [v.stash, v.keys]),
    );
    storage.set('session', 'queuedChanged', [], changed);
    ctx.deposit('Session', 'NewSession', { sessionIndex: next });

    storage.set('babe', 'epochIndex', [], next);
    storage.set('babe', 'epochStart', [], [this.epochStartBlock, block.number]);
    this.epochStartBlock = block.number;
    storage.set('babe', 'authorities', [], this.babeAuthorities(queued.map((v) => v.keys)));
  }

  private babeAuthorities(allKeys: Uint8Array[]) {
    const babe = this.layout.findIndex((f) => f.keyType === 'babe');
    return allKeys.flatMap((keys) => {
      const part = splitSessionKeys(this.layout, keys)?.[babe];
      return part ? [[part.publicKey, 1]] : [];
    });
  }
}
