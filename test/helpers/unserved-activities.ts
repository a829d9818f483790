/**
 * Runs the production workflows with no host or chain activity served, so a test can start a strategy with an
 * example input: the workflow parses its input, runs its frame (id check, search attributes, status) and
 * resolves the validator's nodes in the worker's inventory (the example inventory, when given; without one
 * that first activity waits forever), then its first step schedules an activity that never ends: nothing
 * reaches the hosts the examples name. That is what "the workflow accepts this input" means here.
 */
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { createInventoryActivities } from '../../activities/inventory/index.js';
import { createNotifyActivities } from '../../activities/notify/index.js';
import { staticInventory } from '../../src/config/inventory-source.js';
import type { Inventory } from '../../src/config/inventory.js';
import { statusQuery } from '../../src/api/messages.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import { bundleUpgradeWorkflows } from './temporal.js';

export interface WorkflowsOnlyWorker {
  stop(): Promise<void>;
}

/**
 * A worker polling workflow tasks on the queue. With an inventory it also resolves upgrades against it, and
 * holds every other activity until it is cancelled (a host that never answers); without one, nothing polls
 * its activity tasks.
 */
export async function startWorkflowsOnlyWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  inventory?: Inventory,
): Promise<WorkflowsOnlyWorker> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleUpgradeWorkflows(),
    ...(inventory
      ? {
          activities: {
            ...createInventoryActivities({ inventory: staticInventory(inventory) }),
            // No webhooks: a run that fails at its nodes is told to nobody, at once.
            ...createNotifyActivities({}),
            default: () => Context.current().cancelled,
          },
          shutdownGraceTime: '1s',
        }
      : {}),
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
 * Waits until the run is past its input: it runs, and either waits at resolving its nodes (no inventory served)
 * or its first step runs with that step's activity scheduled. Fails with the run's failure if it closed
 * instead (an InvalidInput, say).
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
    if (pending.length > 0) {
      const status = await handle.query(statusQuery);
      const resolving = pending[0]?.activityType?.name === 'resolveUpgradeTargets';
      if (status.state === 'running' && (resolving || status.steps[0]?.state === 'running')) return status;
      last = `first step ${status.steps[0]?.id ?? '(none)'} is ${status.steps[0]?.state ?? 'missing'}`;
    } else last = 'no activity scheduled yet';
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${workflowId} was not accepted within ${timeoutMs} ms: ${last}`);
}
