/**
 * polkadotValidatorSwapUpgrade on the time-skipping server at real session lengths (Polkadot: 2400 slots
 * of 6 s = 4 h; Kusama: 600 slots = 1 h), against a stash and two machines that move with the server's
 * clock (devnet/timed/polkadot-timed-sim.ts): the round trip ends with A validating on the new release,
 * no slot missed and none signed twice, one set-keys transaction per hand-over and a bounded history; a bad
 * input fails before any activity; the failure paths and an abort end in the safe state the runbook promises.
 */
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { ss58PrefixOfNetwork } from '../../src/config/ss58.js';
import { abortSignal, statusQuery } from '../../src/api/messages.js';
import {
  polkadotIdentity,
  type PolkadotValidatorSwapInput,
  type PolkadotValidatorSwapTargets,
} from '../../src/api/polkadot-inputs.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import type { PolkadotValidatorSwapResult } from '../../workflows/polkadot-validator-swap.js';
import { createTimeSkippingEnv, bundleUpgradeWorkflows } from '../helpers/temporal.js';
import { polkadotTimedSim, sha256, type PolkadotTimedSimOptions } from '../../devnet/timed/polkadot-timed-sim.js';
import { recordHistory } from '../helpers/histories.js';
import { expectRunFollowedPlan } from '../helpers/plan-conformance.js';

const HOUR = 3_600_000;
const OLD = 'polkadot 1.19.0';
const NEW = 'polkadot 1.20.0';
const STAGED = '/var/tmp/polkadot-1.20.0';
const BINARY = '/usr/local/bin/polkadot';
const timing = {
  polkadot: { sessionLengthSlots: 2400, slotMs: 6000 },
  kusama: { sessionLengthSlots: 600, slotMs: 6000 },
};

let bundle: WorkflowBundle;
let env: TestWorkflowEnvironment | undefined;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleUpgradeWorkflows();
});
afterAll(async () => {
  await env?.teardown();
});

/** Distinct stashes per test (one upgrade per validator at a time): valid-looking SS58 text. */
const stashes = {
  roundTrip: '15Jbynf3EcRqdHV1K14LXYh7PQFTbp5wiXfrc4kbMReR9KxA',
  kusama: 'HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F',
  badInput: '14E5nqKAp3oAJcmzgZhUD2RcptBeUBScxKHgJKU4HPNcKVf3',
  refused: '13UVJyLnbVp9RBZYFwFGyDvVd1y27Tt8tkntv6Q7JVPhFsTB',
  neverSyncs: '12xLgPQunSsPkwMJ3vAgfac7mtU3Xw6R4fbHQcCp2QqXzdtu',
  aborted: '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5',
  workerKilled: '16ZL8yLyXv3V3L3z9ofR1ovFLziyXaN1DPq4yffMAZ9czzBD',
};

/** The stash in its network's one form (the workflow refuses any other). */
const inForm = (stash: string, network: keyof typeof timing) =>
  encodeAddress(decodeAddress(stash), ss58PrefixOfNetwork[network]);

function simulate(stash: string, network: keyof typeof timing, over: Partial<PolkadotTimedSimOptions> = {}) {
  return polkadotTimedSim({
    stash: inForm(stash, network),
    ...timing[network],
    finalityLag: 3,
    now: () => env!.currentTimeMs(),
    staged: { [STAGED]: NEW },
    nodes: [
      { id: 'a', host: 'dot-a', binary: BINARY, release: OLD, running: true, syncMs: 0 },
      { id: 'b', host: 'dot-b', binary: BINARY, release: OLD, running: false, syncMs: 2 * HOUR },
    ],
    ...over,
  });
}
type Sim = ReturnType<typeof simulate>;

const swapInput = (
  sim: Sim,
  stash: string,
  network: 'polkadot' | 'kusama',
  over: Partial<PolkadotValidatorSwapTargets> = {},
): PolkadotValidatorSwapInput =>
  sim.upgrade('polkadotValidatorSwapUpgrade', {
    validator: { chain: 'polkadot', network, stash: inForm(stash, network) },
    relayRpcUrl: 'ws://relay.sim:9944',
    nodeA: sim.ref('a'),
    nodeB: sim.ref('b'),
    release: { staged: STAGED, sha256: sha256(NEW), installTo: BINARY, version: '1.20.0' },
    setKeys: {
      submitTo: 'asset-hub',
      rpcUrl: 'ws://asset-hub.sim:9944',
      signedBy: {
        type: 'proxy',
        proxyType: 'StakingOperator',
        account: inForm('14E5nqKAp3oAJcmzgZhUD2RcptBeUBScxKHgJKU4HPNcKVf3', network),
        signer: { id: 'operator', type: 'env', variable: 'OPERATOR_SURI' },
      },
    },
    timeouts: { sync: '1 day', keysActive: '1 day' },
    ...over,
  });

async function startSwap(
  sim: Sim,
  input: PolkadotValidatorSwapInput,
  workerOptions: { maxCachedWorkflows?: number } = {},
) {
  const taskQueue = `dot-swap-${input.validator.stash}`;
  const worker = await Worker.create({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: sim.activities,
    ...workerOptions,
  });
  const handle: WorkflowHandle = await env!.client.workflow.start('polkadotValidatorSwapUpgrade', {
    args: [input],
    taskQueue,
    workflowId: upgradeWorkflowId(polkadotIdentity(input.validator)),
    ...upgradeIdPolicy(),
  });
  return { worker, handle };
}

async function runToEnd(sim: Sim, input: PolkadotValidatorSwapInput, during?: (h: WorkflowHandle) => Promise<void>) {
  const { worker, handle } = await startSwap(sim, input);
  const outcome = await worker.runUntil(async () => {
    await during?.(handle);
    const result = await handle.result().then(
      (value: PolkadotValidatorSwapResult) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error }),
    );
    // A run refused before it began has no status query.
    const status = await handle.query(statusQuery).catch(() => undefined);
    return { ...result, status: status! };
  });
  const events = (await handle.fetchHistory()).events?.length ?? 0;
  return { ...outcome, events, handle };
}

function failureOf(error: unknown): ApplicationFailure {
  if (!(error instanceof WorkflowFailedError)) throw new Error(`expected the workflow to fail, got ${String(error)}`);
  let found: ApplicationFailure | undefined;
  for (let e: unknown = error.cause; e instanceof Error; e = e.cause) if (e instanceof ApplicationFailure) found = e;
  if (!found) throw new Error(`no application failure in ${String(error.cause)}`);
  return found;
}

const stepStates = (status: UpgradeStatus) => Object.fromEntries(status.steps.map((s) => [s.id, s.state]));

describe('polkadotValidatorSwapUpgrade at real session lengths', () => {
  it('hands Polkadot validation A → B → A over 4-hour sessions: no missed slot, no equivocation, bounded history', async () => {
    const stash = stashes.roundTrip;
    const sim = simulate(stash, 'polkadot');
    const upgrade = swapInput(sim, stash, 'polkadot');
    const { value, error, status, events, handle } = await runToEnd(sim, upgrade);
    expect(error).toBeUndefined();
    expectRunFollowedPlan(status, 'polkadotValidatorSwapUpgrade', upgrade);
    await recordHistory(handle, 'polkadot-swap-round-trip-4h-sessions');
    const chain = await sim.chain();
    expect(value).toMatchObject({ keysA: sim.genesisKeys, validatingNode: 'A' });
    expect(chain.activeKeys).toBe(value!.keysAfter);
    expect(sim.setKeysTxs.map((t) => t.keys)).toEqual([value!.keysB, value!.keysAfter]);
    // Each hand-over waits two session boundaries after its transaction.
    expect(sim.setKeysTxs[1]!.session - sim.setKeysTxs[0]!.session).toBeGreaterThanOrEqual(2);
    expect(sim.sessionsSpanned()).toBeGreaterThanOrEqual(4);
    expect(sim.inspect('a')).toMatchObject({ running: true, release: NEW });
    expect(sim.inspect('b').running).toBe(false);
    expect(sim.missedSlots).toEqual([]);
    expect(sim.equivocations).toEqual([]);
    expect(status.state).toBe('completed');
    // Issue 13's target for a run at mainnet timing without a migration.
    expect(events).toBeLessThanOrEqual(250);
    console.log(
      `Polkadot round trip: ${sim.sessionsSpanned()} sessions of 4 h, ${sim.setKeysTxs.length} set-keys, ` +
        `${sim.missedSlots.length} missed slots, ${sim.equivocations.length} equivocations, ` +
        `${status.continuedAsNew} continue-as-new, ${events} events in the last run`,
    );
  });

  it('ends after B takes over on Kusama (handBack false): B validates, A stopped on the new release', async () => {
    const stash = stashes.kusama;
    const sim = simulate(stash, 'kusama', {
      nodes: [
        { id: 'a', host: 'dot-a', binary: BINARY, release: OLD, running: true, syncMs: 0 },
        { id: 'b', host: 'dot-b', binary: BINARY, release: OLD, running: false, syncMs: 20 * 60_000 },
      ],
    });
    const upgrade = swapInput(sim, stash, 'kusama', { handBack: false });
    const { value, error, status, events } = await runToEnd(sim, upgrade);
    expect(error).toBeUndefined();
    expectRunFollowedPlan(status, 'polkadotValidatorSwapUpgrade', upgrade);
    expect(value!.validatingNode).toBe('B');
    expect((await sim.chain()).activeKeys).toBe(value!.keysB);
    expect(sim.setKeysTxs).toHaveLength(1);
    expect(sim.inspect('a')).toMatchObject({ running: false, release: NEW });
    expect(sim.inspect('b').running).toBe(true);
    expect(sim.missedSlots).toEqual([]);
    expect(sim.equivocations).toEqual([]);
    expect(status.steps.map((s) => s.id)).not.toContain('stop-b');
    expect(events).toBeLessThan(400);
  });

  it('refuses a bad input before any activity runs', async () => {
    const stash = stashes.badInput;
    const sim = simulate(stash, 'polkadot');
    const input = {
      ...swapInput(sim, stash, 'polkadot'),
      release: { staged: 'polkadot', sha256: 'nope' },
    };
    const { error } = await runToEnd(sim, input);
    const failure = failureOf(error);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('release.staged');
    expect(failure.message).toContain('must be an absolute path');
    expect(sim.calls).toEqual([]);
  });

  it('refuses the stash written in another form (the same account, another workflow id) before any activity runs', async () => {
    const stash = stashes.badInput;
    const sim = simulate(stash, 'polkadot');
    const generic = encodeAddress(decodeAddress(stash), 42);
    const input = {
      ...swapInput(sim, stash, 'polkadot'),
      validator: { chain: 'polkadot', network: 'polkadot', stash: generic },
    };
    const { error } = await runToEnd(sim, input as never);
    const failure = failureOf(error);
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(failure.message).toContain('→ at validator.stash');
    expect(failure.message).toContain('must be written for polkadot (SS58 prefix 0), not prefix 42');
    expect(sim.calls).toEqual([]);
  });

  it.each(['proxy.NotProxy', 'session.InvalidProof', 'system.CallFiltered'] as const)(
    'stops B and leaves A validating when the chain refuses the keys (%s)',
    async (refusal) => {
      const stash = stashes.refused;
      const sim = simulate(stash, 'kusama', { refuseSetKeys: refusal });
      const input = swapInput(sim, stash, 'kusama');
      const { error, status } = await runToEnd(sim, input);
      const failure = failureOf(error);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain(refusal);
      expect(sim.calls.filter((c) => c === 'setKeys')).toHaveLength(1);
      expect(sim.setKeysTxs).toEqual([]);
      expect((await sim.chain()).activeKeys).toBe(sim.genesisKeys);
      expect(sim.inspect('a')).toMatchObject({ running: true, release: OLD });
      expect(sim.inspect('b').running).toBe(false);
      expect(stepStates(status)).toMatchObject({ 'set-keys-b': 'failed', 'undo-start-b': 'compensated' });
      expect(sim.missedSlots).toEqual([]);
    },
  );

  it('gives up cleanly when B never syncs: B stopped, A untouched and validating', async () => {
    const stash = stashes.neverSyncs;
    const sim = simulate(stash, 'polkadot', {
      nodes: [
        { id: 'a', host: 'dot-a', binary: BINARY, release: OLD, running: true, syncMs: 0 },
        { id: 'b', host: 'dot-b', binary: BINARY, release: OLD, running: false, syncMs: Infinity },
      ],
    });
    const { error, status } = await runToEnd(sim, swapInput(sim, stash, 'polkadot', { timeouts: { sync: '6 hours' } }));
    const failure = failureOf(error);
    expect(failure.type).toBe('ChainWaitTimeout');
    expect(failure.message).toContain('to sync after 360 min');
    expect(sim.setKeysTxs).toEqual([]);
    expect(sim.inspect('a')).toMatchObject({ running: true, release: OLD });
    expect(sim.inspect('b').running).toBe(false);
    expect(stepStates(status)).toMatchObject({ 'wait-b-synced': 'failed', 'undo-start-b': 'compensated' });
    expect(sim.missedSlots).toEqual([]);
  });

  it('keeps the keys and sets them once when the worker dies between generating and setting them', async () => {
    const stash = stashes.workerKilled;
    let killFirstWorker: (() => void) | undefined;
    const sim = simulate(stash, 'kusama', {
      afterRotate: () => {
        if (!killFirstWorker) return;
        killFirstWorker();
        killFirstWorker = undefined;
        throw new Error('the worker died before reporting the keys');
      },
    });
    const input = swapInput(sim, stash, 'kusama', { handBack: false });
    // No sticky cache: the Java time-skipping server does not move a dead worker's sticky tasks to the queue.
    const { worker: first, handle } = await startSwap(sim, input, { maxCachedWorkflows: 0 });
    killFirstWorker = () => first.shutdown();
    // Waiting on the result is what lets the time-skipping server skip time (B syncs for 20 minutes).
    const result = handle.result() as Promise<PolkadotValidatorSwapResult>;
    await first.run();
    const second = await Worker.create({
      connection: env!.nativeConnection,
      taskQueue: `dot-swap-${input.validator.stash}`,
      workflowBundle: bundle,
      activities: sim.activities,
    });
    const value = await second.runUntil(result);
    expect(sim.calls.filter((c) => c === 'rotateKeys')).toHaveLength(2);
    expect(sim.inspect('b').keystore).toEqual([value.keysB]);
    expect(sim.setKeysTxs.map((t) => t.keys)).toEqual([value.keysB]);
    expect((await sim.chain()).activeKeys).toBe(value.keysB);
    expect(sim.missedSlots).toEqual([]);
    expect(sim.equivocations).toEqual([]);
  });

  it('gives the validator back to A when aborted while B’s keys are queued, then stops B', async () => {
    const stash = stashes.aborted;
    const sim = simulate(stash, 'polkadot');
    const input = swapInput(sim, stash, 'polkadot');
    const { error, status, handle } = await runToEnd(sim, input, async (running) => {
      // Wait (in server time) until B's keys are on chain, then abort while they are not active yet.
      for (;;) {
        const s = await running.query(statusQuery);
        if (s.steps.find((x) => x.id === 'set-keys-b')?.state === 'done') break;
        await env!.sleep(60_000);
      }
      await running.signal(abortSignal, { by: 'oncall', reason: 'incident on dot-b' });
    });
    await recordHistory(handle, 'polkadot-swap-aborted-after-set-keys');
    const failure = failureOf(error);
    expect(failure.type).toBe('UpgradeAborted');
    expect(status.state).toBe('aborted');
    expect(status.abortRequested).toMatchObject({ by: 'oncall', reason: 'incident on dot-b' });
    expect(stepStates(status)).toMatchObject({ 'undo-start-b': 'compensated', 'stop-a': 'pending' });
    const chain = await sim.chain();
    expect(sim.setKeysTxs).toHaveLength(2);
    expect(chain.activeKeys).toBe(sim.setKeysTxs[1]!.keys);
    expect(sim.inspect('a').keystore).toContain(chain.activeKeys);
    expect(sim.inspect('a')).toMatchObject({ running: true, release: OLD });
    expect(sim.inspect('b').running).toBe(false);
    expect(sim.missedSlots).toEqual([]);
    expect(sim.equivocations).toEqual([]);
    // B's keys and A's restored ones are named by the random tail of the run id, not its timestamp head.
    const events = (await handle.fetchHistory()).events ?? [];
    const firstRunId = events[0]!.workflowExecutionStartedEventAttributes!.firstExecutionRunId!;
    const tail = firstRunId.replace(/-/g, '').slice(-12);
    const keyIds = events
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'rotateKeys')
      .map(
        (a) =>
          (JSON.parse(Buffer.from(a!.input!.payloads![0]!.data!).toString('utf8')) as { upgradeId: string }).upgradeId,
      );
    expect(keyIds).toEqual([`${handle.workflowId}-${tail}-b`, `${handle.workflowId}-${tail}-restore`]);
  });
});
