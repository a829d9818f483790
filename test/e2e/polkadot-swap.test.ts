/**
 * polkadotValidatorSwapUpgrade end to end: the real workflow on the Temporal dev server, the real activities
 * (createActivities) over real SSH to sshd hosts running simulated polkadot services, against the local
 * Substrate network (real metadata, @polkadot/api on the wire) with short sessions. The network's own
 * counters judge each run: the validator misses no slot and no slot is signed twice.
 *
 * With RECORD_HISTORIES=1 the round trip's history is kept under test/histories/ for replay.test.ts.
 */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ActivityInboundCallsInterceptor, Worker, WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { abortSignal, statusQuery } from '../../src/api/messages.js';
import { polkadotIdentity, type PolkadotValidatorSwapInput } from '../../src/api/polkadot-inputs.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import type { PolkadotValidatorSwapResult } from '../../workflows/polkadot-validator-swap.js';
import {
  startPolkadotTestbed,
  type PolkadotTestbed,
  type PolkadotTestbedOptions,
} from '../../devnet/testbeds/polkadot.js';
import {
  polkadotSteadySlot,
  settledPolkadotCounters,
  startPolkadotScenario,
  type PolkadotScenarioName,
} from '../../devnet/scenarios/polkadot.js';
import { createDevServerEnv, bundleUpgradeWorkflows } from '../helpers/temporal.js';
import { recordHistory } from '../helpers/histories.js';
import { setKeysTransactions } from '../helpers/polkadot-devnet.js';
import { InventoryBook } from '../../devnet/testbeds/targets-inventory.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';

const SESSION_LENGTH = 12;
const BLOCK_TIME_MS = 150;
const waits = { sync: '2 minutes', keysActive: '3 minutes' };

let env: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundle;
let bed: PolkadotTestbed | undefined;

beforeAll(async () => {
  env = await createDevServerEnv();
  bundle = await bundleUpgradeWorkflows();
}, 180_000);
afterEach(async () => {
  await bed?.stop();
  bed = undefined;
}, 60_000);
afterAll(async () => {
  await env?.teardown();
});

async function testbed(options: PolkadotTestbedOptions = {}): Promise<PolkadotTestbed> {
  bed = await startPolkadotTestbed({ sessionLength: SESSION_LENGTH, blockTimeMs: BLOCK_TIME_MS, ...options });
  return bed;
}

async function scenario(name: PolkadotScenarioName) {
  const s = await startPolkadotScenario(name, { sessionLength: SESSION_LENGTH, blockTimeMs: BLOCK_TIME_MS });
  bed = s.bed;
  inventory.add(s.inventory);
  return s;
}

/** The workflow input of a swap on the testbed, whose inventory the workers now hold. */
function swapOn(b: PolkadotTestbed, overrides: Parameters<PolkadotTestbed['swapUpgrade']>[0]) {
  const upgrade = b.swapUpgrade(overrides);
  inventory.add(upgrade.inventory);
  return upgrade.input;
}

/** The workers' inventory: every testbed's hosts, nodes and validator, as a deployed worker's file holds them. */
const inventory = new InventoryBook();

let queues = 0;
async function newWorker(b: PolkadotTestbed, taskQueue: string, interceptor?: () => ActivityInboundCallsInterceptor) {
  const { worker } = await createUpgradeWorker({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: { connections: b.connections, inventory },
    activityInterceptors: interceptor ? [() => ({ inbound: interceptor() })] : [],
  });
  return worker;
}

function start(input: PolkadotValidatorSwapInput, taskQueue: string): Promise<WorkflowHandle> {
  return env!.client.workflow.start('polkadotValidatorSwapUpgrade', {
    args: [input],
    taskQueue,
    workflowId: upgradeWorkflowId(polkadotIdentity(input.validator)),
    ...upgradeIdPolicy(),
  });
}

async function runSwap(
  b: PolkadotTestbed,
  input: PolkadotValidatorSwapInput,
  during?: (handle: WorkflowHandle) => Promise<void>,
) {
  const taskQueue = `dot-e2e-${++queues}`;
  const worker = await newWorker(b, taskQueue);
  const handle = await start(input, taskQueue);
  const outcome = await worker.runUntil(async () => {
    await during?.(handle);
    const result = await handle.result().then(
      (value: PolkadotValidatorSwapResult) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error }),
    );
    return { ...result, status: await handle.query(statusQuery) };
  });
  const events = (await handle.fetchHistory()).events?.length ?? 0;
  return { ...outcome, events, handle };
}

const settledCounters = (b: PolkadotTestbed, fromSlot: number) => settledPolkadotCounters(b, fromSlot, BLOCK_TIME_MS);
const steadySlot = (b: PolkadotTestbed) => polkadotSteadySlot(b);

function failureOf(error: unknown): ApplicationFailure {
  if (!(error instanceof WorkflowFailedError)) throw new Error(`expected the workflow to fail, got ${String(error)}`);
  let found: ApplicationFailure | undefined;
  for (let e: unknown = error.cause; e instanceof Error; e = e.cause) if (e instanceof ApplicationFailure) found = e;
  if (!found) throw new Error(`no application failure in ${String(error.cause)}`);
  return found;
}

const stepStates = (status: UpgradeStatus) => Object.fromEntries(status.steps.map((s) => [s.id, s.state]));

describe('polkadotValidatorSwapUpgrade end to end', () => {
  it('hands the validator A → B → A through a Staking proxy with no missed slot and no equivocation', async () => {
    const { bed: b, input } = await scenario('relay-round-trip');
    const fromSlot = await steadySlot(b);
    const began = Date.now();
    const { value, error, status, events, handle } = await runSwap(b, input);
    const wallMs = Date.now() - began;
    expect(error).toBeUndefined();
    expect(status.state).toBe('completed');
    expect(value).toMatchObject({ keysA: b.validator.genesisKeys, validatingNode: 'A' });
    expect(value!.keysAfter).not.toBe(value!.keysB);
    expect(b.isRunning('val-a')).toBe(true);
    expect(b.isRunning('val-b')).toBe(false);
    expect(setKeysTransactions(b)).toHaveLength(2);
    const counters = await settledCounters(b, fromSlot);
    expect(counters.signed).toBeGreaterThan(0);
    expect(counters.missed).toBe(0);
    expect(counters.equivocations).toBe(0);
    // What the run observed, from the relay's offence reports and the devnet's slot counts, agrees.
    expect(status.observed).toMatchObject({ missed: { slots: 0 }, doubleSigns: 0 });
    await recordHistory(handle, 'polkadot-swap-e2e-relay-round-trip');
    console.log(
      `Polkadot swap e2e (relay, sessions of ${SESSION_LENGTH} × ${BLOCK_TIME_MS} ms): ${(wallMs / 1000).toFixed(1)} s wall, ` +
        `${counters.missed} missed slots of ${counters.expected}, ${counters.equivocations} equivocations, ` +
        `signers ${counters.signers.join(', ')}, ${events} history events`,
    );
  }, 300_000);

  it('ends after B takes over through Asset Hub (StakingOperator proxy, handBack false)', async () => {
    const { bed: b, input } = await scenario('ahm-takeover');
    const fromSlot = await steadySlot(b);
    const { value, error, status } = await runSwap(b, input);
    expect(error).toBeUndefined();
    expect(status.state).toBe('completed');
    expect(value!.validatingNode).toBe('B');
    expect(b.isRunning('val-a')).toBe(false);
    expect(b.isRunning('val-b')).toBe(true);
    const counters = await settledCounters(b, fromSlot);
    expect(counters.missed).toBe(0);
    expect(counters.equivocations).toBe(0);
  }, 300_000);

  it('fails non-retryably when the signer is no proxy of the stash; B stops and A keeps validating', async () => {
    const b = await testbed({ mode: 'relay' });
    const fromSlot = await steadySlot(b);
    const { relayRpcUrl: _relay, ...stranger } = b.routes.stranger;
    const { error, status } = await runSwap(b, swapOn(b, { timeouts: waits, setKeys: stranger }));
    const failure = failureOf(error);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('NotProxy');
    expect(stepStates(status)).toMatchObject({ 'set-keys-b': 'failed', 'undo-start-b': 'compensated' });
    expect(b.isRunning('val-a')).toBe(true);
    expect(b.isRunning('val-b')).toBe(false);
    const counters = await settledCounters(b, fromSlot);
    expect(counters.missed).toBe(0);
    expect(counters.equivocations).toBe(0);
  }, 300_000);

  it('fails non-retryably when the relay filters session.setKeys (after the Asset Hub migration); A keeps validating', async () => {
    const b = await testbed({ mode: 'ahm' });
    const fromSlot = await steadySlot(b);
    const setKeys = { submitTo: 'relay' as const, rpcUrl: b.relayUrl, signedBy: b.routes.stash.signedBy };
    const { error, status } = await runSwap(b, swapOn(b, { timeouts: waits, setKeys }));
    const failure = failureOf(error);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('CallFiltered');
    expect(stepStates(status)).toMatchObject({ 'set-keys-b': 'failed', 'undo-start-b': 'compensated' });
    expect(b.isRunning('val-a')).toBe(true);
    expect(b.isRunning('val-b')).toBe(false);
    const counters = await settledCounters(b, fromSlot);
    expect(counters.missed).toBe(0);
    expect(counters.equivocations).toBe(0);
  }, 300_000);

  it('keeps B’s keys and lands one set-keys transaction when the worker dies right after generating them', async () => {
    const b = await testbed({ mode: 'relay' });
    const fromSlot = await steadySlot(b);
    const taskQueue = `dot-e2e-${++queues}`;
    let killed = false;
    // After the real rotateKeys has generated and persisted the keys, the worker goes down before it reports.
    const first: Worker = await newWorker(b, taskQueue, () => ({
      execute: async (input, next) => {
        const result: unknown = await next(input);
        if (!killed && Context.current().info.activityType === 'rotateKeys') {
          killed = true;
          first.shutdown();
          throw new Error('the worker died before reporting the keys');
        }
        return result;
      },
    }));
    const handle = await start(swapOn(b, { timeouts: waits, handBack: false }), taskQueue);
    await first.run();
    expect(killed).toBe(true);
    const second = await newWorker(b, taskQueue);
    const { value, status } = await second.runUntil(async () => ({
      value: (await handle.result()) as PolkadotValidatorSwapResult,
      status: await handle.query(statusQuery),
    }));
    expect(value.validatingNode).toBe('B');
    expect(setKeysTransactions(b)).toHaveLength(1);
    expect(status.steps.find((s) => s.id === 'rotate-keys-b')?.detail).toContain('kept from before');
    const counters = await settledCounters(b, fromSlot);
    expect(counters.missed).toBe(0);
    expect(counters.equivocations).toBe(0);
  }, 300_000);

  it('aborted while B’s keys are on their way: the validator goes back to A, B stops, the status says so', async () => {
    const b = await testbed({ mode: 'relay' });
    const fromSlot = await steadySlot(b);
    const { error, status } = await runSwap(b, swapOn(b, { timeouts: waits }), async (handle) => {
      for (;;) {
        const s = await handle.query(statusQuery);
        if (s.steps.find((x) => x.id === 'set-keys-b')?.state === 'done') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await handle.signal(abortSignal, { by: 'oncall', reason: 'drill' });
    });
    expect(failureOf(error).type).toBe('UpgradeAborted');
    expect(status.state).toBe('aborted');
    expect(stepStates(status)).toMatchObject({ 'undo-start-b': 'compensated', 'stop-a': 'pending' });
    // B's keys were set, so A got new keys of its own set after them before B was stopped.
    expect(setKeysTransactions(b)).toHaveLength(2);
    expect(status.abortRequested).toMatchObject({ by: 'oncall', reason: 'drill' });
    expect(b.isRunning('val-a')).toBe(true);
    expect(b.isRunning('val-b')).toBe(false);
    const counters = await settledCounters(b, fromSlot);
    expect(counters.missed).toBe(0);
    expect(counters.equivocations).toBe(0);
  }, 300_000);
});
