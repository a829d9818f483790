/**
 * Errors as on-call engineers read them, on a real Temporal server with activities implemented through
 * activities/contract.ts and a real library failing (the NEAR RPC client against a port nobody listens on):
 * the run's final failure and the UI's current details name the step and the cause in one line; no failure
 * in the history carries a stack of node_modules paths; and while an activity is retried, `vup status`
 * shows the attempt and the last error.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { z } from 'zod';
import { implement } from '../../activities/contract.js';
import { reportingNearErrors } from '../../activities/near/failures.js';
import { freePort } from '../../devnet/ports.js';
import { activity } from '../../src/api/contracts/activity.js';
import type { ChainObservation } from '../../src/api/chain-observation.js';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { statusQuery } from '../../src/api/messages.js';
import { renderStatus } from '../../src/cli/render-status.js';
import { retryingActivities } from '../../src/client/inspect.js';
import { nodeStatus } from '../../src/near/node-status.js';
import { bundleFixtures, createDevServerEnv } from '../helpers/temporal.js';
import { eventually } from '../helpers/eventually.js';
import type { RehearsalInput, rehearsalUpgrade } from './fixtures/index.js';

const contracts = {
  record: activity(z.string()).returns<string>(),
  lookAtChain: activity(z.object({ targetEpoch: z.number() })).returns<ChainObservation<number>>(),
};

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;
let deadRpc: string;
beforeAll(async () => {
  [env, bundle] = await Promise.all([createDevServerEnv(), bundleFixtures()]);
  deadRpc = `http://127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  await env?.teardown();
});

/** The rehearsal runbook's activities, implemented against a contract; `record(failing)` reads a dead RPC. */
function activities(failing: string, failures: { left: number }) {
  return implement(contracts, {
    record: async (what) => {
      if (what === failing && failures.left-- > 0) await reportingNearErrors(() => nodeStatus(deadRpc));
      return what;
    },
    lookAtChain: () => Promise.resolve({ reached: true, detail: 'epoch 1', value: 1 }),
  });
}

async function run(
  validator: string,
  failing: string,
  failures: number,
  during?: (h: WorkflowHandle) => Promise<void>,
) {
  const taskQueue = `operator-errors-${validator}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: activities(failing, { left: failures }),
  });
  const input: RehearsalInput = { identity: { chain: 'near', network: 'testnet', validator }, waitEpochs: 0 };
  const handle = await env.client.workflow.start<typeof rehearsalUpgrade>('rehearsalUpgrade', {
    args: [input],
    taskQueue,
    workflowId: upgradeWorkflowId(input.identity),
    ...upgradeIdPolicy(),
  });
  return worker.runUntil(async () => {
    await during?.(handle);
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    const details = await handle
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata')
      .then((m) => m.currentDetails ?? '');
    const history = await handle.fetchHistory();
    return { error, details, history };
  });
}

/** Every failure recorded in a history, causes included. */
function failuresIn(history: temporal.api.history.v1.IHistory): temporal.api.failure.v1.IFailure[] {
  const found: temporal.api.failure.v1.IFailure[] = [];
  for (const e of history.events ?? []) {
    const top =
      e.activityTaskFailedEventAttributes?.failure ??
      e.workflowExecutionFailedEventAttributes?.failure ??
      e.workflowTaskFailedEventAttributes?.failure;
    for (let f = top; f; f = f.cause ?? undefined) found.push(f);
  }
  return found;
}

describe('a run that fails at a step', () => {
  it('names the step and the cause in one line, with no stack of library paths anywhere in its history', async () => {
    const { error, details, history } = await run('dead-rpc.near', 'switch', 99);

    expect(error).toBeInstanceOf(WorkflowFailedError);
    const failure = (error as WorkflowFailedError).cause!;
    expect(failure.message).toMatch(
      new RegExp(
        `^step 2 "Switch signing to the new node" failed: RpcUnavailable: status from ${deadRpc} failed: .*ECONNREFUSED`,
      ),
    );
    expect(failure.message).not.toContain('\n');
    expect(details).toContain(
      `Failed at step 2 "Switch signing to the new node": RpcUnavailable: status from ${deadRpc}`,
    );

    const failures = failuresIn(history);
    // The activity's three attempts are one failure event (the server keeps only the last), plus the run's.
    expect(failures.length).toBeGreaterThanOrEqual(2);
    for (const f of failures) {
      expect(f.message ?? '').not.toMatch(/\[object \w+\]/);
      expect(f.stackTrace ?? '').not.toMatch(/node_modules|\n\s+at /);
    }
    expect(failures.map((f) => f.stackTrace).filter(Boolean)).toContain(
      "record failed on attempt 3: the stack is in the worker's log",
    );
  });
});

describe('a step whose activity is retrying', () => {
  it('shows in vup status with the attempt and the last error, and the run goes on when it succeeds', async () => {
    let screen = '';
    const { error } = await run('retrying.near', 'prepare', 2, async (handle) => {
      const retrying = await eventually('a retried activity with its last failure', async () => {
        const seen = await retryingActivities(env.client, handle.workflowId);
        return seen.some((a) => a.lastFailure) ? seen : undefined;
      });
      screen = renderStatus(await handle.query(statusQuery), Date.now(), retrying);
    });
    expect(error).toBeUndefined();
    console.log(`vup status while retrying:\n${screen}`);
    expect(screen).toMatch(
      new RegExp(
        `\\n\\s+retrying record: attempt [23] of 3[^\\n]*; last error: RpcUnavailable: status from ${deadRpc}`,
      ),
    );
  });
});
