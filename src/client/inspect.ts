/**
 * Reading an upgrade's run from Temporal rather than from the workflow: whether one is open for a validator,
 * and its event history (the timeline on-call engineers read). Both work without a worker.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { upgradeWorkflowId, type ValidatorIdentity } from '../api/identity.js';
import { decodePayloadsIn } from '../codec/index.js';

/** A run's events as the server keeps them (proto objects), payloads decoded by the client's codec. */
export type UpgradeHistory = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

export interface UpgradeRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, CONTINUED_AS_NEW or TIMED_OUT. */
  status: string;
  startTime: Date;
  closeTime?: Date;
  historyLength: number;
}

/** The latest run under the workflow id, or undefined if there never was one. */
export async function describeUpgrade(client: Client, workflowId: string): Promise<UpgradeRun | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return {
      workflowId: d.workflowId,
      runId: d.runId,
      workflowType: d.type,
      status: d.status.name,
      startTime: d.startTime,
      closeTime: d.closeTime,
      historyLength: d.historyLength,
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** The open upgrade of this validator, if one runs (its id is the validator's; see identity.ts). */
export async function runningUpgrade(client: Client, identity: ValidatorIdentity): Promise<UpgradeRun | undefined> {
  const run = await describeUpgrade(client, upgradeWorkflowId(identity));
  return run?.status === 'RUNNING' ? run : undefined;
}

/** The event history of a run (the latest run of the id when runId is not given). */
export async function fetchUpgradeHistory(client: Client, workflowId: string, runId?: string): Promise<UpgradeHistory> {
  // Raw histories hold the payloads as stored; the client's codec (payload encryption) decodes them.
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return decodePayloadsIn(history, client.options.loadedDataConverter.payloadCodecs);
}
