/**
 * Runs the read-only preflight workflow (`preflightUpgrade`) on the worker and returns its report. The input
 * is validated here first, like startUpgrade does, so a bad one never reaches the server.
 */
import type { Client } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../api/identity.js';
import { preflightWorkflowId, type PreflightReport, type PreflightRequest } from '../api/preflight.js';
import { checkUpgradeInput } from './upgrades.js';

/** Whether any worker polls the task queue for workflow tasks now (the preflight needs one to run). */
export async function hasWorkflowPollers(client: Client, taskQueue: string): Promise<boolean> {
  // Unspecified task queue type means workflow tasks.
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
  });
  return (pollers?.length ?? 0) > 0;
}

export async function runPreflight(
  client: Client,
  request: PreflightRequest,
  options: { taskQueue?: string; timeout?: string } = {},
): Promise<PreflightReport> {
  const { workflowId } = checkUpgradeInput(request.strategy, request.input);
  return client.workflow.execute<(request: PreflightRequest) => Promise<PreflightReport>>('preflightUpgrade', {
    args: [request],
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: preflightWorkflowId(workflowId),
    // A second `plan` of the same upgrade while one runs waits for that one's report.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    // No worker on the queue must not leave `plan` waiting forever.
    workflowExecutionTimeout: options.timeout ?? '5 minutes',
    staticSummary: `Preflight checks for ${workflowId}`,
  });
}
