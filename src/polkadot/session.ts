/**
 * Sessions on the relay chain: where the current one stands and when the next begins (BABE slot maths, as
 * polkadot-js's session.progress derive does it), and where a stash's session keys stand:
 * NextKeys (set) → QueuedKeys (next session) → active (in Session.Validators, babe key in Babe.Authorities).
 */
import type { ApiPromise } from '@polkadot/api';
import type { Struct } from '@polkadot/types';
import { u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import type { KeysStanding, SessionInfo, StashKeys } from '../api/contracts/polkadot.js';
import { PolkadotError } from './errors.js';

export async function sessionInfo(api: ApiPromise): Promise<SessionInfo> {
  const babe = api.consts.babe;
  if (!babe || !api.query.session) {
    throw new PolkadotError('UnsupportedRuntime', 'this chain has no BABE sessions (is it the relay chain?)');
  }
  const sessionLengthSlots = babe.epochDuration.toNumber();
  // The slot duration is the runtime's (never assumed): BABE's expected block time is one slot.
  const slotDurationMs = babe.expectedBlockTime.toNumber();
  const [currentIndex, epochIndex, genesisSlot, currentSlot, best, finalizedHash] = await Promise.all([
    api.query.session.currentIndex(),
    api.query.babe.epochIndex(),
    api.query.babe.genesisSlot(),
    api.query.babe.currentSlot(),
    api.rpc.chain.getHeader(),
    api.rpc.chain.getFinalizedHead(),
  ]);
  const [finalized, finalizedAt] = await Promise.all([
    api.rpc.chain.getHeader(finalizedHash),
    api.query.timestamp.now.at(finalizedHash),
  ]);
  const epochStartSlot = epochIndex.toNumber() * sessionLengthSlots + genesisSlot.toNumber();
  const slotInSession = Math.max(0, currentSlot.toNumber() - epochStartSlot);
  const slotsLeft = Math.max(0, epochStartSlot + sessionLengthSlots - currentSlot.toNumber());
  return {
    currentIndex: currentIndex.toNumber(),
    epochIndex: epochIndex.toNumber(),
    sessionLengthSlots,
    slotInSession,
    slotDurationMs,
    nextSessionEtaMs: slotsLeft * slotDurationMs,
    finalizedBlock: finalized.number.toNumber(),
    finalizedTime: new Date(finalizedAt.toNumber()).toISOString(),
    bestBlock: best.number.toNumber(),
  };
}

/** The SessionKeys type of this runtime, from the metadata (never a hard-coded layout). */
function decodeSessionKeys(api: ApiPromise, keys: string): Struct {
  const type = api.tx.session.setKeys.meta.args[0]?.type.toString();
  if (!type) throw new PolkadotError('UnsupportedRuntime', 'session.setKeys has no keys argument in the metadata');
  try {
    const decoded = api.registry.createType<Struct>(type, keys);
    if (decoded.encodedLength !== (keys.length - 2) / 2) throw new Error('length');
    return decoded;
  } catch {
    throw new PolkadotError('BadInput', `the keys are not this runtime's ${type} (SCALE-encoded session keys)`);
  }
}

/** The babe public key of encoded SessionKeys (hex). */
export function babeKeyOf(api: ApiPromise, keys: string): string {
  const babe = decodeSessionKeys(api, keys).get('babe');
  if (!babe) throw new PolkadotError('UnsupportedRuntime', "this runtime's session keys have no babe key");
  return u8aToHex(babe.toU8a());
}

/** Is the stash in the active set with these keys at block `at` (default best)? Also returns that block's session. */
async function activeAt(api: ApiPromise, stash: Uint8Array, babeKey: string, at?: string) {
  const query = at ? await api.at(at) : api;
  const [validators, authorities, index] = await Promise.all([
    query.query.session.validators(),
    query.query.babe.authorities(),
    query.query.session.currentIndex(),
  ]);
  const inSet = validators.some((v) => u8aToHex(v.toU8a()) === u8aToHex(stash));
  const withKeys = authorities.some(([id]) => u8aToHex(id.toU8a()) === babeKey);
  return { active: inSet && withKeys, index: index.toNumber() };
}

export async function keysStanding(api: ApiPromise, stash: string, keys: string): Promise<KeysStanding> {
  const who = decodeAddress(stash);
  const babeKey = babeKeyOf(api, keys);
  const wanted = u8aToHex(decodeSessionKeys(api, keys).toU8a());
  const [best, nextKeys, queued] = await Promise.all([
    activeAt(api, who, babeKey),
    api.query.session.nextKeys(who),
    api.query.session.queuedKeys(),
  ]);
  const currentIndex = best.index;
  if (best.active) {
    const finalized = await activeAt(api, who, babeKey, (await api.rpc.chain.getFinalizedHead()).toHex());
    if (finalized.active) return { stash, stage: 'active', currentIndex, activeSince: finalized.index };
  }
  const isQueued = queued.some(([id, k]) => u8aToHex(id.toU8a()) === u8aToHex(who) && u8aToHex(k.toU8a()) === wanted);
  // Active at the best block but not yet at the finalized one counts as queued: the handover is not final.
  if (isQueued || best.active) return { stash, stage: 'queued', currentIndex };
  if (nextKeys.isSome && u8aToHex(nextKeys.unwrap().toU8a()) === wanted) return { stash, stage: 'next', currentIndex };
  return { stash, stage: 'unset', currentIndex };
}

/** Session.NextKeys of the stash (hex), or undefined when none are set. */
export async function nextKeysOf(api: ApiPromise, stash: string): Promise<string | undefined> {
  const next = await api.query.session.nextKeys(decodeAddress(stash));
  return next.isSome ? u8aToHex(next.unwrap().toU8a()) : undefined;
}

/** The stash's keys the relay holds now: Session.NextKeys and its entry in Session.QueuedKeys. */
export async function stashKeys(api: ApiPromise, stash: string): Promise<StashKeys> {
  const who = u8aToHex(decodeAddress(stash));
  const [currentIndex, next, queued] = await Promise.all([
    api.query.session.currentIndex(),
    nextKeysOf(api, stash),
    api.query.session.queuedKeys(),
  ]);
  const queuedEntry = queued.find(([id]) => u8aToHex(id.toU8a()) === who);
  return {
    stash,
    currentIndex: currentIndex.toNumber(),
    ...(next === undefined ? {} : { nextKeys: next }),
    ...(queuedEntry ? { queuedKeys: u8aToHex(queuedEntry[1].toU8a()) } : {}),
  };
}
