/**
 * Reading an upgrade's run from Temporal rather than from the workflow: whether one is open for a validator,
 * and its event history (the timeline on-call engineers read). Both work without a worker.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
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

/** An activity the server is retrying: what it is, which attempt, and why the last one failed. */
export interface RetryingActivity {
  activityType: string;
  /** The attempt running or scheduled now (2 is the first retry). */
  attempt: number;
  /** The retry policy's limit; absent when the activity retries until its step's own deadline. */
  maximumAttempts?: number;
  /** The last attempt's failure in one line: its type and message. */
  lastFailure?: string;
  /** When the next attempt starts, if it waits for its backoff (ISO time). */
  nextAttemptAt?: string;
}

/**
 * The run's activities that failed at least once and are being retried (the describe API's pending
 * activities), so `vup status` can say that a step is not stuck but retrying, and why.
 */
export async function retryingActivities(client: Client, workflowId: string): Promise<RetryingActivity[]> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  return (raw.pendingActivities ?? [])
    .filter((a) => (a.attempt ?? 1) > 1 || a.lastFailure)
    .map((a) => ({
      activityType: a.activityType?.name ?? 'activity',
      attempt: a.attempt ?? 1,
      ...(a.maximumAttempts ? { maximumAttempts: a.maximumAttempts } : {}),
      ...(a.lastFailure ? { lastFailure: failureLine(a.lastFailure) } : {}),
      ...(a.nextAttemptScheduleTime ? { nextAttemptAt: isoOf(a.nextAttemptScheduleTime) } : {}),
    }));
}

type Failure = temporal.api.failure.v1.IFailure;

/** A failure as the server keeps it, in one line: the root cause's type and message (not its stack). */
export function failureLine(failure: Failure): string {
  let root = failure;
  while (root.cause && (root.activityFailureInfo || root.childWorkflowExecutionFailureInfo)) root = root.cause;
  const type = root.applicationFailureInfo?.type;
  const message = (root.message ?? '').replace(/\s*\n\s*/g, '; ');
  return type && type !== 'Error' && !message.startsWith(type) ? `${type}: ${message}` : message;
}

function isoOf(t: { seconds?: unknown; nanos?: number | null }): string {
  const seconds = Number(t.seconds ?? 0);
  return new Date(seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}
