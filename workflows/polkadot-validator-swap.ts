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
 * Compensation (a failure, or an abort at a safe point): before B's keys may be on chain, stop B. After
 * that, the validator is given back to A first (A restarted if it was stopped, synced, new keys generated on
 * A and set, waited until active), and only then is B stopped. A is never stopped while its keys are the
 * active ones, B never while its keys may still become or be active. New keys rather than A's old ones:
 * runtimes that check the ownership proof (RFC-0048) refuse old keys, and no RPC makes a proof for them.
 */
import { ActivityFailure, ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { RotatedKeys, SetKeysResult } from '../src/api/contracts/polkadot.js';
import type { PolkadotValidatorSwapInput, PolkadotValidatorSwapParsed } from '../src/api/polkadot-inputs.js';
import {
  compensationWaits,
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

export async function polkadotValidatorSwapUpgrade(
  rawInput: PolkadotValidatorSwapInput,
  carried?: CarriedState,
): Promise<PolkadotValidatorSwapResult> {
  const { run, input } = await beginStrategy('polkadotValidatorSwapUpgrade', rawInput, carried);
  const { stash } = input.validator;
  const { nodeA, nodeB, relayRpcUrl: relay, timeouts } = input;
  // Key generation is idempotent per id: a retry (or a new worker) gets back the keys already generated.
  const keysId = (node: string) =>
    run.remember(
      `keys-id-${node}`,
      // The run id's random tail: UUIDv7 run ids share their head for about a minute.
      () => `${workflowInfo().workflowId}-${workflowInfo().firstExecutionRunId.replace(/-/g, '').slice(-12)}-${node}`,
    );

  // Set while B's keys may be on their way to the chain; a refusal by the chain (non-retryable) clears it.
  let keysBInFlight = false;
  let keysBGenerated: string | undefined;
  const keysBMayBeOnChain = () => keysBInFlight || run.steps.find('set-keys-b')?.state === 'done';

  return run.execute(async () => {
    const { keysA } = await run.step('check-a', async () => {
      const onChain = await dot.stashKeys(relay, stash);
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
      const health = await dot.health(nodeA);
      if (health.isSyncing) throw unsafe(`${nodeName(nodeA)} is syncing; it cannot be the validator now`);
      if (!(await dot.hasKeys(nodeA, keys)))
        throw unsafe(`${nodeName(nodeA)} does not hold the active keys ${shortKeys(keys)}; it is not the validator`);
      return { keysA: keys, session: standing.currentIndex };
    });

    if (input.releaseB) {
      const release = input.releaseB;
      await run.step('install-b', () => host.install(nodeB, release));
    }

    await run.step(
      'start-b',
      async () => {
        await ensureNodeLacks(run, nodeB, keysA, 'B must not sign with A’s keys', [nodeA]);
        await ensureKeystoreLacks(nodeB, keysA, 'B must not sign with A’s keys');
        return host.start(nodeB);
      },
      {
        undo: {
          title: 'Stop B (after giving the validator back to A if B’s keys may be on chain)',
          run: async () => {
            if (keysBGenerated && keysBMayBeOnChain()) await giveBackToA(run, input, keysBGenerated);
            await stopVerified(run, nodeB);
          },
        },
      },
    );

    await run.step('wait-b-synced', () => dotWaits.synced(run, 'b-synced', nodeB, relay, { timeoutMs: timeouts.sync }));

    const rotatedB = await run.step('rotate-keys-b', async () => {
      const rotated = await dot.rotateKeys(nodeB, stash, keysId('b'));
      if (rotated.keys === keysA) throw unsafe(`B generated A's keys ${shortKeys(keysA)}; a swap needs new keys`);
      run.note(`B's keys ${shortKeys(rotated.keys)} (${rotated.method}${rotated.reused ? ', kept from before' : ''})`);
      return rotated;
    });
    const keysB = rotatedB.keys;
    keysBGenerated = keysB;

    await run.step('check-signers-b', async () => {
      if (!(await dot.hasKeys(nodeB, keysB))) throw unsafe(`${nodeName(nodeB)} does not hold its new keys`);
      if (await dot.hasKeys(nodeA, keysB))
        throw unsafe(`${nodeName(nodeA)} holds B's new keys ${shortKeys(keysB)}; two nodes would sign with them`);
      if (await dot.hasKeys(nodeB, keysA))
        throw unsafe(`${nodeName(nodeB)} holds A's active keys ${shortKeys(keysA)}; two nodes would sign with them`);
    });

    await run.approval(
      'set-keys-b',
      `Set B's keys ${shortKeys(keysB)} for ${stash} (active two sessions later; A keeps validating until then)`,
    );
    const setB = await run.step('set-keys-b', async () => {
      keysBInFlight = true;
      try {
        return await submitKeys(input, keysB, rotatedB);
      } catch (err) {
        if (refusedByChain(err)) keysBInFlight = false;
        throw err;
      }
    });

    await run.step('wait-keys-b-active', () =>
      dotWaits.keysActive(run, 'keys-b-active', nodeB, relay, stash, keysB, { timeoutMs: timeouts.keysActive }),
    );

    await run.step(
      'stop-a',
      async () => {
        const standing = await dot.keysStanding(relay, stash, keysB);
        observeCounters(run, standing.counters);
        if (standing.stage !== 'active')
          throw unsafe(`B's keys are ${standing.stage}, not active; A must keep validating`);
        await stopVerified(run, nodeA);
      },
      {
        undo: {
          title: 'Start A again (its keys are not active; it syncs to take the validator back)',
          run: () => host.start(nodeA).then(() => undefined),
        },
      },
    );

    if (input.release) {
      const release = input.release;
      await run.step('upgrade-a', () => host.install(nodeA, release));
    }

    if (!input.handBack) return { keysA, keysB, setKeysBTx: setB.txHash, validatingNode: 'B' as const };

    await run.step('start-a', async () => {
      await ensureNodeLacks(run, nodeB, keysA, 'A’s old keys must stay on A only', [nodeA]);
      return host.start(nodeA);
    });
    await run.step('wait-a-synced', () => dotWaits.synced(run, 'a-synced', nodeA, relay, { timeoutMs: timeouts.sync }));
    const rotatedA = await run.step('rotate-keys-a', async () => {
      const rotated = await dot.rotateKeys(nodeA, stash, keysId('a'));
      if (rotated.keys === keysB) throw unsafe(`A generated B's keys ${shortKeys(keysB)}`);
      return rotated;
    });
    await run.step('check-signers-a', async () => {
      if (!(await dot.hasKeys(nodeA, rotatedA.keys))) throw unsafe(`${nodeName(nodeA)} does not hold its new keys`);
      if (await dot.hasKeys(nodeB, rotatedA.keys))
        throw unsafe(`${nodeName(nodeB)} holds A's new keys ${shortKeys(rotatedA.keys)}`);
      if (await dot.hasKeys(nodeA, keysB)) throw unsafe(`${nodeName(nodeA)} holds B's active keys ${shortKeys(keysB)}`);
    });
    await run.approval(
      'set-keys-a',
      `Set A's new keys ${shortKeys(rotatedA.keys)} for ${stash} (B keeps validating until they are active)`,
    );
    const setA = await run.step('set-keys-a', () => submitKeys(input, rotatedA.keys, rotatedA));
    await run.step('wait-keys-a-active', () =>
      dotWaits.keysActive(run, 'keys-a-active', nodeA, relay, stash, rotatedA.keys, { timeoutMs: timeouts.keysActive }),
    );
    await run.step('stop-b', async () => {
      const standing = await dot.keysStanding(relay, stash, keysB);
      observeCounters(run, standing.counters);
      if (standing.stage !== 'unset')
        throw unsafe(`B's keys are still ${standing.stage} for ${stash}; B must keep running`);
      await stopVerified(run, nodeB);
    });

    return {
      keysA,
      keysB,
      setKeysBTx: setB.txHash,
      keysAfter: rotatedA.keys,
      setKeysAfterTx: setA.txHash,
      validatingNode: 'A' as const,
    };
  });
}

/** Sets keys through the input's route; NextKeys is read on the relay (Asset Hub has no Session pallet). */
function submitKeys(input: PolkadotValidatorSwapParsed, keys: string, rotated: RotatedKeys): Promise<SetKeysResult> {
  const route = { ...input.setKeys, relayRpcUrl: input.relayRpcUrl };
  return dot.setKeys(route, input.validator.stash, keys, rotated.proof);
}

/**
 * Compensation once B's keys may be on chain: make A the validator again before anything stops B. A is
 * started if it was stopped and must sync; if the chain's next keys are not keys A holds, A generates new
 * ones and they are set; then wait until they are active (B's keys are then neither next, queued nor active).
 */
async function giveBackToA(run: UpgradeRun, input: PolkadotValidatorSwapParsed, keysB: string): Promise<void> {
  const { nodeA, relayRpcUrl: relay, timeouts } = input;
  const { stash } = input.validator;
  if (!(await host.isActive(nodeA))) await host.start(nodeA);
  await compensationWaits.synced(nodeA, relay, { timeoutMs: timeouts.sync });
  const onChain = await dot.stashKeys(relay, stash);
  let keys = onChain.nextKeys;
  if (!keys || keys === keysB || !(await dot.hasKeys(nodeA, keys))) {
    const rotated = await dot.rotateKeys(
      nodeA,
      stash,
      run.remember(
        'keys-id-restore',
        () => `${workflowInfo().workflowId}-${workflowInfo().firstExecutionRunId.slice(0, 8)}-restore`,
      ),
    );
    await ensureNodeLacks(run, input.nodeB, rotated.keys, 'A’s new keys must be on A only', [nodeA]);
    await submitKeys(input, rotated.keys, rotated);
    keys = rotated.keys;
  }
  await compensationWaits.keysActive(nodeA, relay, stash, keys, { timeoutMs: timeouts.keysActive });
  const standing = await dot.keysStanding(relay, stash, keysB);
  if (standing.stage !== 'unset') throw unsafe(`B's keys are still ${standing.stage}; B keeps running`);
}

/** An activity failure no retry fixes: the chain or the host refused, so nothing was changed by it. */
function refusedByChain(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable === true;
}
