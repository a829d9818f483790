/**
 * Runs the production workflows with no activities served, so a test can start a strategy with an example
 * input: the workflow parses its input, runs its frame (id check, search attributes, status) and schedules
 * its first activity (resolving the validator's nodes in the worker's inventory), which then waits forever
 * for a worker that never comes. That is what "the workflow accepts this input" means here.
 */
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { statusQuery } from '../../src/api/messages.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import { bundleUpgradeWorkflows } from './temporal.js';

export interface WorkflowsOnlyWorker {
  stop(): Promise<void>;
}

/** A worker polling only workflow tasks on the queue; nothing polls its activity tasks. */
export async function startWorkflowsOnlyWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
): Promise<WorkflowsOnlyWorker> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleUpgradeWorkflows(),
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/**
 * Waits until the run is past its input: its status query answers, still running, and its first activity
 * (resolveUpgradeTargets) is scheduled. Fails with the run's failure if it closed instead (an InvalidInput,
 * say).
 */
export async function waitUntilAccepted(
  client: Client,
  workflowId: string,
  timeoutMs = 60_000,
): Promise<UpgradeStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') {
      await handle.result();
      throw new Error(`${workflowId} closed as ${description.status.name} before its first activity`);
    }
    const pending = description.raw.pendingActivities ?? [];
    const first = pending[0]?.activityType?.name;
    if (first === 'resolveUpgradeTargets') {
      const status = await handle.query(statusQuery);
      if (status.state === 'running') return status;
      last = `the run is ${status.state}`;
    } else last = first ? `its first activity is ${first}` : 'no activity scheduled yet';
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${workflowId} was not accepted within ${timeoutMs} ms: ${last}`);
}
