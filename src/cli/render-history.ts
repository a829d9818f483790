/**
 * `vup history`: the run's event history as a timeline an on-call engineer reads: each activity with its
 * summary, outcome and duration; timers; the stage changes; signals and updates with who sent them and why;
 * failures with their messages. Workflow-task bookkeeping is left out.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { UpgradeHistory } from '../client/inspect.js';
import { clock, dateTime, duration } from './format.js';

type HistoryEvent = NonNullable<UpgradeHistory['events']>[number];
type Payload = Parameters<typeof defaultPayloadConverter.fromPayload>[0];
type Failure = NonNullable<NonNullable<HistoryEvent['workflowExecutionFailedEventAttributes']>['failure']>;
type Timestamp = HistoryEvent['eventTime'];

const toNumber = (v: number | { toNumber(): number } | null | undefined) =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

function timeOf(ts: Timestamp): Date | undefined {
  if (!ts) return undefined;
  return new Date(toNumber(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

function decode(payload: Payload | null | undefined): unknown {
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return '(undecodable payload)';
  }
}

function failureText(failure: Failure | null | undefined): string {
  const parts: string[] = [];
  for (let f = failure; f; f = f.cause) {
    const type = f.applicationFailureInfo?.type;
    if (f.message) parts.push(type ? `${f.message} [${type}]` : f.message);
  }
  return parts.join(': ') || 'no message';
}

/** "by alice: incident" from a message's { by, reason | note, gate } argument. */
function whoAndWhy(arg: unknown): string {
  if (typeof arg !== 'object' || arg === null) return '';
  const { by, reason, note, gate } = arg as Record<string, unknown>;
  const words = [typeof gate === 'string' ? `gate "${gate}"` : '', typeof by === 'string' ? `by ${by}` : ''].filter(
    Boolean,
  );
  const why = typeof reason === 'string' ? reason : typeof note === 'string' ? note : '';
  return `${words.join(' ')}${why ? `: ${why}` : ''}`;
}

export function renderHistory(workflowId: string, runId: string, history: UpgradeHistory): string {
  const events = history.events ?? [];
  const first = timeOf(events[0]?.eventTime);
  const lines = [`${workflowId} (run ${runId})${first ? `, from ${dateTime(first)}` : ''}`, ''];
  const scheduled = new Map<number, { name: string; at?: Date; attempt: number }>();
  const timers = new Map<string, string>();
  const add = (event: HistoryEvent, mark: string, text: string) =>
    lines.push(`${clock(timeOf(event.eventTime))}  ${mark} ${text}`);

  for (const e of events) {
    const at = timeOf(e.eventTime);
    const summary = decode(e.userMetadata?.summary);
    if (e.workflowExecutionStartedEventAttributes) {
      const a = e.workflowExecutionStartedEventAttributes;
      add(
        e,
        '●',
        `started ${a.workflowType?.name ?? ''} on task queue ${a.taskQueue?.name ?? ''}${a.identity ? ` by ${a.identity}` : ''}`,
      );
      if (typeof summary === 'string') lines.push(`           ${summary}`);
    } else if (e.activityTaskScheduledEventAttributes) {
      const name =
        typeof summary === 'string'
          ? summary
          : (e.activityTaskScheduledEventAttributes.activityType?.name ?? 'activity');
      scheduled.set(toNumber(e.eventId), { name, at, attempt: 1 });
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      const s = scheduled.get(toNumber(a.scheduledEventId));
      if (s) s.attempt = a.attempt ?? 1;
    } else if (e.activityTaskCompletedEventAttributes) {
      const s = scheduled.get(toNumber(e.activityTaskCompletedEventAttributes.scheduledEventId));
      add(e, '✓', `${s?.name ?? 'activity'}${timing(s, at)}`);
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      const s = scheduled.get(toNumber(a.scheduledEventId));
      add(e, '✗', `${s?.name ?? 'activity'}${timing(s, at)}: ${failureText(a.failure)}`);
    } else if (e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskTimedOutEventAttributes;
      const s = scheduled.get(toNumber(a.scheduledEventId));
      add(e, '✗', `${s?.name ?? 'activity'} timed out${timing(s, at)}: ${failureText(a.failure)}`);
    } else if (e.activityTaskCanceledEventAttributes) {
      const s = scheduled.get(toNumber(e.activityTaskCanceledEventAttributes.scheduledEventId));
      add(e, '-', `${s?.name ?? 'activity'} cancelled${timing(s, at)}`);
    } else if (e.timerStartedEventAttributes) {
      const a = e.timerStartedEventAttributes;
      const ms = toNumber(a.startToFireTimeout?.seconds) * 1000 + Math.floor((a.startToFireTimeout?.nanos ?? 0) / 1e6);
      const what = typeof summary === 'string' ? summary : 'timer';
      timers.set(a.timerId ?? '', what);
      add(e, '⏲', `${what}: sleep ${duration(ms)}`);
    } else if (e.timerFiredEventAttributes) {
      add(e, '⏲', `${timers.get(e.timerFiredEventAttributes.timerId ?? '') ?? 'timer'}: woke up`);
    } else if (e.upsertWorkflowSearchAttributesEventAttributes) {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {};
      const stage = decode(fields.UpgradeStage);
      if (typeof stage === 'string') add(e, '→', `stage ${stage}`);
    } else if (e.workflowExecutionSignaledEventAttributes) {
      const a = e.workflowExecutionSignaledEventAttributes;
      const detail = whoAndWhy(decode(a.input?.payloads?.[0]));
      add(e, '✉', `signal ${a.signalName ?? ''}${detail ? ` ${detail}` : ''}`);
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const request = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
      const detail = whoAndWhy(decode(request?.input?.args?.payloads?.[0]));
      add(e, '✉', `update ${request?.input?.name ?? ''} accepted${detail ? ` ${detail}` : ''}`);
    } else if (e.workflowExecutionUpdateCompletedEventAttributes) {
      const outcome = e.workflowExecutionUpdateCompletedEventAttributes.outcome;
      if (outcome?.failure) add(e, '✗', `update failed: ${failureText(outcome.failure)}`);
    } else if (e.workflowExecutionCompletedEventAttributes) {
      add(e, '●', 'completed');
    } else if (e.workflowExecutionFailedEventAttributes) {
      add(e, '✗', `failed: ${failureText(e.workflowExecutionFailedEventAttributes.failure)}`);
    } else if (e.workflowExecutionTerminatedEventAttributes) {
      const a = e.workflowExecutionTerminatedEventAttributes;
      add(e, '✗', `terminated${a.identity ? ` by ${a.identity}` : ''}${a.reason ? `: ${a.reason}` : ''}`);
    } else if (e.workflowExecutionCancelRequestedEventAttributes) {
      add(
        e,
        '✉',
        `cancellation requested${e.workflowExecutionCancelRequestedEventAttributes.identity ? ` by ${e.workflowExecutionCancelRequestedEventAttributes.identity}` : ''}`,
      );
    } else if (e.workflowExecutionCanceledEventAttributes) {
      add(e, '●', 'cancelled');
    } else if (e.workflowExecutionTimedOutEventAttributes) {
      add(e, '✗', 'timed out');
    } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
      const next = e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId;
      add(e, '↻', `continued as new${next ? ` in run ${next}` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

function timing(s: { at?: Date; attempt: number } | undefined, end: Date | undefined): string {
  if (!s) return '';
  const took = s.at && end ? ` (${duration(end.getTime() - s.at.getTime())}` : ' (';
  return `${took}${s.attempt > 1 ? `, attempt ${s.attempt}` : ''})`.replace(' ()', '');
}
