/**
 * Polkadot A/B swap: validator B takes over while A is upgraded, then hands back (the official runbook).
 *
 *   1. check A: it answers, is synced, and holds the stash's keys, which are the active ones and settled
 *   2. (install a release on B) and start B; its keystore holds none of A's keys
 *   3. wait until B is synced
 *   4. generate keys on B with the stash as owner (kept in history and on B's host at once)
 *   5. never two signers: A does not hold B's keys, B does not hold A's
 *   6. [approval] set B's keys on chain (relay session.setKeys or Asset Hub stakingRcClient.setKeys)
 *   7. wait until B's keys are active (set in session S, queued in S+1, active in S+2) and a block of that
 *      session is finalized; only then
 *   8. stop A (verified by observation) and install the new release on A (checksum verified)
 *   9. hand back the same way: start A, wait synced, new keys on A, set them, wait until active; stop B
 *
 * With handBack=false the run ends after step 8: B validates, A is stopped (upgraded if a release was given).
 *
 * Steps 2-8 and step 9 are one routine, the hand-over, run from A to B and back from B to A; compensation
 * runs it a third time. Compensation (a failure, or an abort at a safe point): before B's keys may be on
 * chain, stop B. After that, the validator is handed back to A first (A started if it was stopped, synced,
 * the chain's next keys kept if A holds them, else new keys generated on A and set; waited until active), and
 * only then is B stopped. A is never stopped while its keys are the
 * active ones, B never while its keys may still become or be active. New keys rather than A's old ones:
 * runtimes that check the ownership proof (RFC-0048) refuse old keys, and no RPC makes a proof for them.
 */
import { ActivityFailure, ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import type { PolkadotNodeRef, RotatedKeys, SetKeysResult } from '../src/api/contracts/polkadot.js';
import type { PolkadotValidatorSwapInput, PolkadotValidatorSwapParsed } from '../src/api/polkadot-inputs.js';
import {
  dot,
  dotWaits,
  ensureKeystoreLacks,
  ensureNodeLacks,
  host,
  nodeName,
  shortKeys,
  stopVerified,
  unsafe,
} from './common/polkadot.js';
import { observeCounters } from './common/chain-counters.js';
import type { StepOf } from '../src/api/plans.js';
import { beginStrategy, type CarriedState, type UpgradeRun } from './common/upgrade-run.js';

export interface PolkadotValidatorSwapResult {
  /** The keys A validated with before the swap. */
  keysA: string;
  /** B's keys, active while A was upgraded. */
  keysB: string;
  setKeysBTx?: string;
  /** A's new keys after the hand-back (handBack only). */
  keysAfter?: string;
  setKeysAfterTx?: string;
  /** Which node validates for the stash at the end. */
  validatingNode: 'A' | 'B';
}

/**
 * Take-over, hand-back and compensation's give-back as one routine. Runs recorded before it replay the three
 * versions they ran: the hand-back then checked B for A's old keys (now: A, about to start, for B's active
 * keys, on its RPC and in its keystore, as the take-over does for B), the take-over read B's keys active
 * before stopping A (now: A's keys unset, as the hand-back reads B's), and the give-back had its own sequence.
 */
export const ONE_HAND_OVER_PATCH = 'polkadot-one-hand-over';
/** A hand-over's three signer checks in one activity (fewer events). Runs recorded before made three. */
export const SIGNER_CHECKS_AT_ONCE_PATCH = 'polkadot-signer-checks-at-once';

export async function polkadotValidatorSwapUpgrade(rawInput: PolkadotValidatorSwapInput, carried?: CarriedState) {
  const { run, input, steps } = await beginStrategy('polkadotValidatorSwapUpgrade', rawInput, carried);
  const { stash } = input.validator;
  const { nodeA, nodeB, relayRpcUrl: relay } = input;
  // Decided once per upgrade, so a run never switches routines half-way.
  const oneHandOver = run.remember('one-hand-over', () => patched(ONE_HAND_OVER_PATCH));

  return run.execute<PolkadotValidatorSwapResult>(async () => {
    const { keysA } = await run.step(steps.checkA, async () => {
      const onChain = await dot.stashKeys(relay, stash, input.genesisHash);
      const keys = onChain.nextKeys;
      if (!keys) throw unsafe(`${stash} has no session keys on chain; it is not a validator to swap`);
      if (onChain.queuedKeys !== undefined && onChain.queuedKeys !== keys)
        throw unsafe(
          `a key change for ${stash} is under way (queued ${shortKeys(onChain.queuedKeys)}, next ${shortKeys(keys)}); start the swap once it is active`,
        );
      const standing = await dot.keysStanding(relay, stash, keys);
      observeCounters(run, standing.counters);
      if (standing.stage !== 'active')
        throw unsafe(`the keys ${shortKeys(keys)} of ${stash} are ${standing.stage}, not active; nothing to take over`);
      const health = await dot.health(nodeA, input.genesisHash);
      if (health.isSyncing) throw unsafe(`${nodeName(nodeA)} is syncing; it cannot be the validator now`);
      if (!(await dot.hasKeys(nodeA, keys)))
        throw unsafe(`${nodeName(nodeA)} does not hold the active keys ${shortKeys(keys)}; it is not the validator`);
      return { keysA: keys, session: standing.currentIndex };
    });
    const takeOver: HandOver = {
      from: { node: nodeA, label: 'A' },
      to: { node: nodeB, label: 'B' },
      name: 'b',
      steps: {
        start: steps.startB,
        waitSynced: steps.waitBSynced,
        rotateKeys: steps.rotateKeysB,
        checkSigners: steps.checkSignersB,
        setKeys: steps.setKeysB,
        waitKeysActive: steps.waitKeysBActive,
        stopFrom: steps.stopA,
      },
      legacy: !oneHandOver,
      fromKeys: keysA,
      keysInFlight: false,
    };
    const keysBMayBeOnChain = () => takeOver.keysInFlight || run.steps.find(steps.setKeysB.id)?.state === 'done';

    if (input.releaseB) {
      const release = input.releaseB;
      await run.step(steps.installB, () => host.install(nodeB, release));
    }

    const toB = await handOver(run, input, takeOver, {
      // Stop B, after handing the validator back to A if B's keys may be on chain.
      start: async () => {
        const keysB = takeOver.keysGenerated;
        if (!keysB || !keysBMayBeOnChain()) return stopVerified(run, nodeB);
        if (!oneHandOver) {
          await legacyGiveBackToA(run, input, keysB);
          return stopVerified(run, nodeB);
        }
        await handOver(run, input, {
          from: takeOver.to,
          to: takeOver.from,
          name: 'restore',
          fromKeys: keysB,
          keysInFlight: false,
        });
      },
      // Start A again: its keys are not active; it syncs to take the validator back.
      stopFrom: () => host.start(nodeA).then(() => undefined),
    });
    const keysB = toB.keys;

    if (input.release) {
      const release = input.release;
      await run.step(steps.upgradeA, () => host.install(nodeA, release));
    }

    if (!input.handBack) return { keysA, keysB, setKeysBTx: toB.setKeys?.txHash, validatingNode: 'B' as const };

    const toA = await handOver(run, input, {
      from: takeOver.to,
      to: takeOver.from,
      name: 'a',
      steps: {
        start: steps.startA,
        waitSynced: steps.waitASynced,
        rotateKeys: steps.rotateKeysA,
        checkSigners: steps.checkSignersA,
        setKeys: steps.setKeysA,
        waitKeysActive: steps.waitKeysAActive,
        stopFrom: steps.stopB,
      },
      legacy: !oneHandOver,
      legacyOldKeys: keysA,
      fromKeys: keysB,
      keysInFlight: false,
    });

    return {
      keysA,
      keysB,
      setKeysBTx: toB.setKeys?.txHash,
      keysAfter: toA.keys,
      setKeysAfterTx: toA.setKeys?.txHash,
      validatingNode: 'A' as const,
    };
  });
}

interface Side {
  node: PolkadotNodeRef;
  label: 'A' | 'B';
}

/** One hand-over of the validator from the node that signs now to the other. */
interface HandOver {
  from: Side;
  to: Side;
  /** The keys `from` validates with. */
  fromKeys: string;
  /** Names this hand-over's generated keys and its waits: b (take-over), a (hand-back), restore (give-back). */
  name: 'a' | 'b' | 'restore';
  /** Its steps in the runbook; absent when compensation runs it (inside an undo, from a state it must read). */
  steps?: Record<
    'start' | 'waitSynced' | 'rotateKeys' | 'checkSigners' | 'setKeys' | 'waitKeysActive' | 'stopFrom',
    StepOf<'polkadotValidatorSwapUpgrade'>
  >;
  /** Set once `to` generated its keys. */
  keysGenerated?: string;
  /** Set while the keys may be on their way to the chain; a refusal by the chain (non-retryable) clears it. */
  keysInFlight: boolean;
  /** Runs recorded before ONE_HAND_OVER_PATCH. */
  legacy?: boolean;
  /** Legacy hand-back only: the keys A validated with before the take-over, which it checked B for. */
  legacyOldKeys?: string;
}

/** How the take-over's steps are undone (the plan says what undoing them means). */
interface HandOverUndos {
  start?: () => Promise<void>;
  stopFrom?: () => Promise<void>;
}

/**
 * Start `to` (shown to hold none of `from`'s keys), wait until it is synced, generate keys on it, check that
 * only it holds them, set them on chain, wait until they are active and a block of that session is final,
 * then stop `from` once its keys are neither next, queued nor active. Never two signers: `from` keeps
 * validating until `to`'s keys are active, and stops only then.
 */
async function handOver(
  run: UpgradeRun,
  input: PolkadotValidatorSwapParsed,
  h: HandOver,
  undos: HandOverUndos = {},
): Promise<{ keys: string; setKeys?: SetKeysResult }> {
  const { stash } = input.validator;
  const { relayRpcUrl: relay, timeouts, genesisHash } = input;
  const { from, to, fromKeys } = h;
  const step = <T>(id: keyof NonNullable<HandOver['steps']>, fn: () => Promise<T>, undo?: HandOverUndos['start']) =>
    h.steps ? run.step(h.steps[id], fn, undo ? { undo } : {}) : fn();

  await step(
    'start',
    async () => {
      if (h.legacy && h.legacyOldKeys) {
        await ensureNodeLacks(run, from.node, h.legacyOldKeys, 'A’s old keys must stay on A only', [to.node]);
      } else {
        const why = `${to.label} must not sign with ${from.label}’s keys`;
        await ensureNodeLacks(run, to.node, fromKeys, why, [from.node]);
        await ensureKeystoreLacks(to.node, fromKeys, why);
      }
      return host.start(to.node);
    },
    undos.start,
  );

  await step('waitSynced', () =>
    dotWaits.synced(run, `${h.name}-synced`, to.node, relay, { timeoutMs: timeouts.sync, genesisHash }),
  );

  // Compensation starts from a state it must read: the chain's next keys may be ones `to` already holds.
  const kept = h.steps ? undefined : await keysToKeep(input, to.node, fromKeys);
  let keys = kept;
  let setKeys: SetKeysResult | undefined;
  if (keys === undefined) {
    const rotated = await step('rotateKeys', async () => {
      const made = await dot.rotateKeys(to.node, stash, keysId(run, h.name));
      if (made.keys === fromKeys)
        throw unsafe(`${to.label} generated ${from.label}'s keys ${shortKeys(fromKeys)}; a hand-over needs new keys`);
      run.note(`${to.label}'s keys ${shortKeys(made.keys)} (${made.method}${made.reused ? ', kept from before' : ''})`);
      return made;
    });
    const newKeys = rotated.keys;
    h.keysGenerated = newKeys;

    await step('checkSigners', async () => {
      const checks = [
        { node: to.node, keys: newKeys },
        { node: from.node, keys: newKeys },
        { node: to.node, keys: fromKeys },
      ];
      // Runs recorded before SIGNER_CHECKS_AT_ONCE_PATCH asked one at a time, stopping at the first refusal.
      const atOnce = patched(SIGNER_CHECKS_AT_ONCE_PATCH) ? await dot.holdKeys(checks) : undefined;
      const holds = (i: number) =>
        atOnce ? Promise.resolve(atOnce[i]) : dot.hasKeys(checks[i]!.node, checks[i]!.keys);
      if (!(await holds(0))) throw unsafe(`${nodeName(to.node)} does not hold its new keys`);
      if (await holds(1))
        throw unsafe(
          `${nodeName(from.node)} holds ${to.label}'s new keys ${shortKeys(newKeys)}; two nodes would sign with them`,
        );
      if (await holds(2))
        throw unsafe(
          `${nodeName(to.node)} holds ${from.label}'s active keys ${shortKeys(fromKeys)}; two nodes would sign with them`,
        );
    });

    setKeys = await step('setKeys', async () => {
      h.keysInFlight = true;
      try {
        return await submitKeys(input, newKeys, rotated);
      } catch (err) {
        if (refusedByChain(err)) h.keysInFlight = false;
        throw err;
      }
    });
    keys = newKeys;
  }
  const toKeys = keys;

  await step('waitKeysActive', () =>
    dotWaits.keysActive(run, `keys-${h.name}-active`, to.node, relay, stash, toKeys, {
      timeoutMs: timeouts.keysActive,
      genesisHash,
    }),
  );

  await step(
    'stopFrom',
    async () => {
      // Before the patch the take-over read B's keys active here; now every hand-over reads A's keys unset.
      if (h.legacy && h.name === 'b') {
        const standing = await dot.keysStanding(relay, stash, toKeys);
        observeCounters(run, standing.counters);
        if (standing.stage !== 'active')
          throw unsafe(`B's keys are ${standing.stage}, not active; A must keep validating`);
      } else {
        const standing = await dot.keysStanding(relay, stash, fromKeys);
        observeCounters(run, standing.counters);
        if (standing.stage !== 'unset')
          throw unsafe(
            `${from.label}'s keys are still ${standing.stage} for ${stash}; ${from.label} must keep running`,
          );
      }
      await stopVerified(run, from.node);
    },
    undos.stopFrom,
  );

  return { keys: toKeys, setKeys };
}

/** Key generation is idempotent per id: a retry (or a new worker) gets back the keys already generated. */
function keysId(run: UpgradeRun, name: HandOver['name']): string {
  return run.uniqueName(`keys-id-${name}`, (nonce) => `${workflowInfo().workflowId}-${nonce}-${name}`);
}

/** The chain's next keys, when `node` holds them and they are not `fromKeys` (a hand-over that never landed). */
async function keysToKeep(
  input: PolkadotValidatorSwapParsed,
  node: PolkadotNodeRef,
  fromKeys: string,
): Promise<string | undefined> {
  const next = (await dot.stashKeys(input.relayRpcUrl, input.validator.stash, input.genesisHash)).nextKeys;
  return next && next !== fromKeys && (await dot.hasKeys(node, next)) ? next : undefined;
}

/** Sets keys through the input's route; NextKeys is read on the relay (Asset Hub has no Session pallet). */
function submitKeys(input: PolkadotValidatorSwapParsed, keys: string, rotated: RotatedKeys): Promise<SetKeysResult> {
  const route = { ...input.setKeys, relayRpcUrl: input.relayRpcUrl };
  return dot.setKeys(route, input.validator.stash, keys, rotated.proof, input.genesisHash);
}

/**
 * The give-back of runs recorded before ONE_HAND_OVER_PATCH, replayed as it ran: A started if it was not
 * running, synced; the chain's next keys kept if A holds them, else new keys on A checked against B and set;
 * wait until they are active and B's keys unset. The caller then stops B.
 */
async function legacyGiveBackToA(run: UpgradeRun, input: PolkadotValidatorSwapParsed, keysB: string): Promise<void> {
  const { nodeA, relayRpcUrl: relay, timeouts } = input;
  const { stash } = input.validator;
  if (!(await host.isActive(nodeA))) await host.start(nodeA);
  await dotWaits.synced(run, 'restore-synced', nodeA, relay, { timeoutMs: timeouts.sync });
  const onChain = await dot.stashKeys(relay, stash);
  let keys = onChain.nextKeys;
  if (!keys || keys === keysB || !(await dot.hasKeys(nodeA, keys))) {
    const rotated = await dot.rotateKeys(nodeA, stash, keysId(run, 'restore'));
    await ensureNodeLacks(run, input.nodeB, rotated.keys, 'A’s new keys must be on A only', [nodeA]);
    await submitKeys(input, rotated.keys, rotated);
    keys = rotated.keys;
  }
  await dotWaits.keysActive(run, 'keys-restore-active', nodeA, relay, stash, keys, { timeoutMs: timeouts.keysActive });
  const standing = await dot.keysStanding(relay, stash, keysB);
  if (standing.stage !== 'unset') throw unsafe(`B's keys are still ${standing.stage}; B keeps running`);
}

/** An activity failure no retry fixes: the chain or the host refused, so nothing was changed by it. */
function refusedByChain(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable === true;
}
