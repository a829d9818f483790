/**
 * The `status` screen: every step of the runbook with its state, times and last detail; what the run waits
 * for and when it next looks at the chain; the gate that waits for `vup approve`.
 */
import type { RunState, StepState, UpgradeStatus } from '../api/status.js';
import type { RetryingActivity } from '../client/inspect.js';
import { clock, duration } from './format.js';
import { describeObserved } from '../api/validator-counters.js';

const MARK: Record<StepState, string> = {
  pending: '·',
  running: '▶',
  done: '✓',
  skipped: '-',
  failed: '✗',
  compensating: '↺',
  compensated: '↩',
};

const STATE_WORDS: Record<RunState, string> = {
  running: 'running',
  paused: 'paused',
  'awaiting-approval': 'awaiting approval',
  waiting: 'waiting for the chain',
  completed: 'completed',
  failed: 'failed',
  aborted: 'aborted',
};

export const FINAL_STATES: readonly RunState[] = ['completed', 'failed', 'aborted'];

/** `retrying`: the run's activities that failed and are being retried (shown under the running step). */
export function renderStatus(status: UpgradeStatus, now = Date.now(), retrying: RetryingActivity[] = []): string {
  const done = status.steps.filter((s) => s.state === 'done' || s.state === 'skipped').length;
  const lines = [
    `${status.workflowId}  (${status.strategy})`,
    `state: ${STATE_WORDS[status.state]}, ${done} of ${status.steps.length} steps done` +
      `, started ${clock(status.startedAt)} UTC, updated ${clock(status.updatedAt)}` +
      (status.continuedAsNew > 0 ? `, continued as new ${status.continuedAsNew}×` : ''),
    '',
  ];
  const width = Math.max(...status.steps.map((s) => s.title.length));
  status.steps.forEach((step, i) => {
    const started = step.startedAt ? Date.parse(step.startedAt) : undefined;
    const ended = step.endedAt ? Date.parse(step.endedAt) : undefined;
    const timing =
      started === undefined
        ? ''
        : ended === undefined
          ? `${clock(step.startedAt)} +${duration(now - started)}`
          : `${clock(step.startedAt)} ${duration(ended - started)}`;
    const number = String(i + 1).padStart(2);
    lines.push(
      `${MARK[step.state]} ${number}. ${step.title.padEnd(width)}  ${step.state.padEnd(12)} ${timing}`.trimEnd(),
    );
    if (step.detail && step.state !== 'pending') lines.push(`       ${step.detail}`);
    if (step.id === status.currentStep) for (const a of retrying) lines.push(`       ${retryLine(a, now)}`);
  });
  lines.push('');
  if (status.observed)
    lines.push(
      `observed on chain since ${clock(status.observed.since)} UTC (last read ${clock(status.observed.lastAt)}): ${describeObserved(status.observed)}`,
    );
  if (status.deadline) {
    const { at, behind, projectedFinish } = status.deadline;
    lines.push(`deadline ${at}: projected finish ${projectedFinish ?? 'unknown'}${behind ? ' — BEHIND' : ''}`);
  }
  if (status.waiting) {
    const until = status.waiting.until ? Date.parse(status.waiting.until) : undefined;
    const eta =
      until === undefined
        ? ''
        : ` — next look at the chain ${clock(status.waiting.until)} UTC (${until > now ? `in ${duration(until - now)}` : 'now'})`;
    lines.push(`waiting: ${status.waiting.reason}${eta}`);
  }
  if (status.pendingApproval) {
    const { gate, description } = status.pendingApproval;
    lines.push(`approval needed at gate "${gate}": ${description}`);
    lines.push(`  vup approve ${status.workflowId} --gate ${gate}`);
  }
  if (status.pause) {
    const who = status.pause.by ? ` by ${status.pause.by}` : '';
    lines.push(
      `paused${who} since ${clock(status.pause.since)} UTC${status.pause.reason ? `: ${status.pause.reason}` : ''}`,
    );
  }
  if (status.abortRequested) {
    const who = status.abortRequested.by ? ` by ${status.abortRequested.by}` : '';
    lines.push(`abort requested${who} at ${clock(status.abortRequested.at)} UTC: ${status.abortRequested.reason}`);
  }
  return lines.join('\n').trimEnd() + '\n';
}

function retryLine(a: RetryingActivity, now: number): string {
  const of = a.maximumAttempts ? ` of ${a.maximumAttempts}` : '';
  const next = a.nextAttemptAt ? Date.parse(a.nextAttemptAt) : undefined;
  const when = next === undefined ? '' : next > now ? `, next in ${duration(next - now)}` : ', next now';
  return `retrying ${a.activityType}: attempt ${a.attempt}${of}${when}; last error: ${a.lastFailure ?? 'none reported'}`;
}
