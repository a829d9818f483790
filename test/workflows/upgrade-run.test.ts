/**
 * The machinery every strategy shares (workflows/common), on real Temporal servers: chain waits with
 * bounded history, compensation, the workflow id rule, gates, status, UI details and summaries, and
 * continue-as-new. The rehearsal runbook (test/workflows/fixtures) drives it.
 */
import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId, type ValidatorIdentity } from '../../src/api/identity.js';
import { abortSignal, approveUpdate, pauseSignal, resumeSignal, statusQuery } from '../../src/api/messages.js';
import { AWAITING_APPROVAL_STAGE, UpgradeStage } from '../../src/api/search-attributes.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import { bundleFixtures, createDevServerEnv, createTimeSkippingEnv } from '../helpers/temporal.js';
import { rehearsalActivities, type RehearsalChainOptions } from '../helpers/rehearsal-chain.js';
import type { RehearsalInput, rehearsalUpgrade } from './fixtures/index.js';

const EventType = temporal.api.enums.v1.EventType;
let bundle: WorkflowBundle;
beforeAll(async () => {
  bundle = await bundleFixtures();
});

const identity = (validator: string): ValidatorIdentity => ({ chain: 'near', network: 'testnet', validator });

function newWorker(env: TestWorkflowEnvironment, taskQueue: string, chain: RehearsalChainOptions) {
  const fixture = rehearsalActivities(chain);
  const worker = Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: fixture.activities,
  });
  return { worker, ...fixture };
}

function start(env: TestWorkflowEnvironment, taskQueue: string, input: RehearsalInput) {
  return env.client.workflow.start<typeof rehearsalUpgrade>('rehearsalUpgrade', {
    args: [input],
    taskQueue,
    workflowId: upgradeWorkflowId(input.identity),
    ...upgradeIdPolicy(),
  });
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw new Error(`expected the workflow to fail, got ${String(err)}`);
  if (!(err.cause instanceof ApplicationFailure)) throw new Error(`unexpected cause ${String(err.cause)}`);
  return err.cause;
}

async function eventsOf(handle: WorkflowHandle, runId?: string) {
  const h = runId ? handle.client.getHandle(handle.workflowId, runId) : handle;
  return (await h.fetchHistory()).events ?? [];
}

describe('on the time-skipping server', () => {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  const clock = () => env!.currentTimeMs();

  it.each([
    ['1.3 s', 1300],
    ['0.6 s', 600],
  ])('waits two mainnet epochs (43200 blocks of %s) with a bounded history', async (_label, blockTimeMs) => {
    const queue = `long-wait-${blockTimeMs}`;
    const { worker, looks, log, chainHours } = newWorker(env!, queue, { epochLength: 43_200, blockTimeMs, now: clock });
    const handle = await start(env!, queue, { identity: identity(`long-${blockTimeMs}.near`), waitEpochs: 2 });
    const result = await (await worker).runUntil(handle.result());
    const waitedHours = chainHours();
    const events = await eventsOf(handle);

    expect(result).toEqual(['prepare', 'switch', 'epoch 2', 'finish']);
    expect(log).toEqual(['prepare', 'switch', 'finish']);
    // Two epochs of 43200 blocks really passed on the chain's clock...
    expect(waitedHours).toBeGreaterThanOrEqual((2 * 43_200 * blockTimeMs) / 3_600_000);
    // ...with a look per estimated boundary or per 6 h cap, not a poll loop.
    expect(looks()).toBeLessThanOrEqual(Math.ceil(waitedHours / 6) + 4);
    expect(events.length).toBeLessThan(150);
    console.log(
      `two-epoch wait at ${blockTimeMs} ms blocks: ${waitedHours.toFixed(1)} h of chain time, ` +
        `${looks()} chain looks, ${events.length} history events`,
    );
  });

  it('undoes finished steps newest first when a later step fails', async () => {
    const queue = 'compensate';
    const { worker, log } = newWorker(env!, queue, { epochLength: 10, blockTimeMs: 1000, now: clock });
    const handle = await start(env!, queue, {
      identity: identity('comp.near'),
      waitEpochs: 0,
      failAfter: 'finish',
    });
    // Queries need a polling worker, so ask inside runUntil.
    const [failure, status] = await (
      await worker
    ).runUntil(async () => [await failureOf(handle.result()), await handle.query(statusQuery)] as const);

    expect(failure.type).toBe('RehearsalFailure');
    expect(log).toEqual(['prepare', 'switch', 'finish', 'undo-switch', 'undo-prepare']);
    expect(status.state).toBe('failed');
    expect(status.steps.map((s) => [s.id, s.state])).toEqual([
      ['prepare', 'done'],
      ['switch', 'done'],
      ['wait-epochs', 'done'],
      ['finish', 'failed'],
      ['undo-switch', 'compensated'],
      ['undo-prepare', 'compensated'],
    ]);
  });

  it('stops compensating at a failed undo and says an operator is needed', async () => {
    const queue = 'compensate-fails';
    const { worker, log } = newWorker(env!, queue, { epochLength: 10, blockTimeMs: 1000, now: clock });
    const handle = await start(env!, queue, {
      identity: identity('comp-fail.near'),
      waitEpochs: 0,
      failAfter: 'finish',
      failUndo: 'switch',
    });
    const status = await (
      await worker
    ).runUntil(async () => {
      await failureOf(handle.result());
      return handle.query(statusQuery);
    });

    expect(log).toEqual(['prepare', 'switch', 'finish', 'undo-switch']);
    const undo = status.steps.find((s) => s.id === 'undo-switch');
    expect(undo?.state).toBe('failed');
    expect(undo?.detail).toMatch(/needs an operator/);
    expect(status.steps.find((s) => s.id === 'undo-prepare')).toBeUndefined();
  });

  it('gives up a chain wait at its deadline with a clear error', async () => {
    const queue = 'deadline';
    const { worker } = newWorker(env!, queue, { epochLength: 43_200, blockTimeMs: 1000, now: clock });
    const handle = await start(env!, queue, {
      identity: identity('deadline.near'),
      waitEpochs: 5,
      waitTimeoutMs: 24 * 3600_000,
    });
    const failure = await (await worker).runUntil(failureOf(handle.result()));
    expect(failure.type).toBe('ChainWaitTimeout');
    expect(failure.message).toMatch(/timed out waiting for epoch 5 after 1440 min; last seen: epoch 2/);
  });

  it('refuses a workflow id that is not the validator’s upgrade id', async () => {
    const queue = 'wrong-id';
    const { worker, log } = newWorker(env!, queue, { epochLength: 10, blockTimeMs: 1000, now: clock });
    const handle = await env!.client.workflow.start<typeof rehearsalUpgrade>('rehearsalUpgrade', {
      args: [{ identity: identity('right.near'), waitEpochs: 0 }],
      taskQueue: queue,
      workflowId: 'my-own-id',
    });
    const failure = await (await worker).runUntil(failureOf(handle.result()));
    expect(failure.type).toBe('InvalidWorkflowId');
    expect(failure.message).toContain('upgrade-near-testnet-right.near');
    expect(log).toEqual([]);
  });
});

describe('on the dev server', () => {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await createDevServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  const realClock = { epochLength: 10, blockTimeMs: 50, now: () => Promise.resolve(Date.now()) };

  async function until(handle: WorkflowHandle, ok: (s: UpgradeStatus) => boolean): Promise<UpgradeStatus> {
    for (let i = 0; i < 300; i++) {
      const status = await handle.query(statusQuery);
      if (ok(status)) return status;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`status never matched; last: ${JSON.stringify(await handle.query(statusQuery))}`);
  }

  it('holds at an approval gate, refuses a wrong approval, and tells the UI', async () => {
    const queue = `gates-${randomUUID()}`;
    const { worker, log } = newWorker(env!, queue, realClock);
    const handle = await start(env!, queue, {
      identity: identity('gated.near'),
      manualApproval: true,
      waitEpochs: 1,
      minRecheckMs: 100,
    });
    await (
      await worker
    ).runUntil(async () => {
      const waiting = await until(handle, (s) => s.state === 'awaiting-approval');
      expect(waiting.pendingApproval).toEqual({ gate: 'switch', description: 'Switch signing to the new node' });
      expect(log).toEqual(['prepare']);

      const meta = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
      expect(meta.currentDetails).toContain('Awaiting approval of **switch**');
      expect((await handle.describe()).typedSearchAttributes.get(UpgradeStage)).toBe(AWAITING_APPROVAL_STAGE);

      await expect(handle.executeUpdate(approveUpdate, { args: [{ gate: 'finish' }] })).rejects.toThrow(
        WorkflowUpdateFailedError,
      );
      const approved = await handle.executeUpdate(approveUpdate, { args: [{ gate: 'switch', by: 'alice' }] });
      expect(approved.gate).toBe('switch');
      expect(await handle.result()).toEqual(['prepare', 'switch', expect.stringMatching(/^epoch \d+$/), 'finish']);
    });
    expect(log).toEqual(['prepare', 'switch', 'finish']);

    // Every activity carries its summary into the history (what the UI lists).
    const summaries = (await eventsOf(handle))
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => e.userMetadata?.summary?.data)
      .filter((d): d is Uint8Array => !!d)
      .map((d) => JSON.parse(Buffer.from(d).toString()) as string);
    expect(summaries).toEqual(expect.arrayContaining(['prepare on gated.near', 'switch on gated.near']));
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(UpgradeStage)).toBe('completed');
  });

  it('pauses at a safe point, resumes, and on abort compensates and ends described', async () => {
    const queue = `abort-${randomUUID()}`;
    const { worker, log } = newWorker(env!, queue, { ...realClock, blockTimeMs: 200 });
    const handle = await start(env!, queue, {
      identity: identity('aborted.near'),
      waitEpochs: 1000,
      minRecheckMs: 200,
    });
    const status = await (
      await worker
    ).runUntil(async () => {
      await until(handle, (s) => s.state === 'waiting');
      await handle.signal(pauseSignal, { by: 'bob', reason: 'incident' });
      const paused = await until(handle, (s) => s.state === 'paused');
      expect(paused.pause).toMatchObject({ by: 'bob', reason: 'incident' });
      await handle.signal(resumeSignal);
      await until(handle, (s) => s.state === 'waiting');

      await handle.signal(abortSignal, { by: 'bob', reason: 'wrong binary' });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe('UpgradeAborted');
      expect(failure.message).toBe('aborted by bob: wrong binary');
      return handle.query(statusQuery);
    });
    expect(log).toEqual(['prepare', 'switch', 'undo-switch', 'undo-prepare']);
    expect(status.state).toBe('aborted');
    expect(status.abortRequested).toMatchObject({ by: 'bob', reason: 'wrong binary' });
    expect(status.steps.find((s) => s.id === 'wait-epochs')?.state).toBe('failed');
    expect((await handle.describe()).typedSearchAttributes.get(UpgradeStage)).toBe('aborted');
  });

  it('refuses a second upgrade of the same validator while one runs, allows one after', async () => {
    const queue = `conflict-${randomUUID()}`;
    const { worker } = newWorker(env!, queue, realClock);
    const input: RehearsalInput = { identity: identity('busy.near'), manualApproval: true, waitEpochs: 0 };
    const first = await start(env!, queue, input);
    await expect(start(env!, queue, input)).rejects.toThrow(WorkflowExecutionAlreadyStartedError);
    await (
      await worker
    ).runUntil(async () => {
      await until(first, (s) => s.state === 'awaiting-approval');
      await first.executeUpdate(approveUpdate, { args: [{ gate: 'switch' }] });
      await first.result();
      const second = await start(env!, queue, { ...input, manualApproval: false });
      await second.result();
      expect(second.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
    });
  });
});

describe('continue-as-new on a server that suggests it early', () => {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await createDevServerEnv(['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40']);
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('continues a long wait as new, carrying steps, results and status', async () => {
    const queue = `can-${randomUUID()}`;
    const { worker, log, looks } = newWorker(env!, queue, {
      epochLength: 10,
      blockTimeMs: 40,
      now: () => Promise.resolve(Date.now()),
    });
    const handle = await start(env!, queue, { identity: identity('can.near'), waitEpochs: 6, minRecheckMs: 150 });
    const [result, status] = await (
      await worker
    ).runUntil(async () => [await handle.result(), await handle.query(statusQuery)] as const);

    expect(result).toEqual(['prepare', 'switch', expect.stringMatching(/^epoch \d+$/), 'finish']);
    // Steps finished before continue-as-new ran exactly once.
    expect(log).toEqual(['prepare', 'switch', 'finish']);
    expect(status.continuedAsNew).toBeGreaterThanOrEqual(1);
    expect(status.steps.every((s) => s.state === 'done')).toBe(true);
    const firstRun = await eventsOf(handle, handle.firstExecutionRunId);
    expect(firstRun.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    console.log(
      `continue-as-new: ${looks()} looks over ${status.continuedAsNew + 1} runs; first run ${firstRun.length} events`,
    );
  });
});
