/**
 * Follows one upgrade through its `status` query and prints one line per change: a step changing state or
 * saying something new, what the run waits for and when it looks again, gates awaiting approval. When asked,
 * it approves each gate as it comes (as an operator would, with `approve`), and says so.
 */
import type { Client } from '@temporalio/client';
import type { StepStatus, UpgradeStatus } from '../../src/api/status.js';
import { approve, getStatus } from '../../src/client/index.js';

export interface Outcome {
  ok: boolean;
  /** Why the run failed, from its failure chain. */
  error?: string;
  status?: UpgradeStatus;
}

export interface FollowOptions {
  say: (line: string) => void;
  /** Approve every gate the run waits at, in the name of `approver`. */
  approver?: string;
  pollMs?: number;
}

export async function followUpgrade(client: Client, workflowId: string, options: FollowOptions): Promise<Outcome> {
  const handle = client.workflow.getHandle(workflowId);
  let settled: { ok: boolean; error?: string } | undefined;
  void handle.result().then(
    () => (settled = { ok: true }),
    (err: unknown) => (settled = { ok: false, error: rootMessage(err) }),
  );
  const seen = new ChangeTracker(options.say);
  let status: UpgradeStatus | undefined;
  for (;;) {
    const done = settled;
    try {
      status = await getStatus(client, workflowId);
      seen.report(status);
      const gate = status.pendingApproval;
      if (gate && options.approver && !done) {
        const { approvedAt } = await approve(client, workflowId, gate.gate, { by: options.approver, note: 'demo' });
        options.say(`approved gate ${gate.gate} (by ${options.approver} at ${approvedAt})`);
      }
    } catch {
      // The first workflow task may not have run yet, or the gate moved on: look again.
    }
    if (done) return { ...done, status };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}

/** Remembers what was said about the run, to say only what changed. */
export class ChangeTracker {
  private steps = new Map<string, StepStatus>();
  private waiting?: string;
  private gate?: string;
  private state?: string;

  constructor(private readonly say: (line: string) => void) {}

  report(status: UpgradeStatus): void {
    for (const step of status.steps) {
      const before = this.steps.get(step.id);
      this.steps.set(step.id, step);
      if (before?.state === step.state && before.detail === step.detail) continue;
      if (!before && step.state === 'pending') continue;
      // A waiting step's news is told by the waiting line below.
      if (before?.state === step.state && status.waiting && step.id === status.currentStep) continue;
      const detail = step.detail && step.detail !== before?.detail ? ` — ${step.detail}` : '';
      this.say(`${step.state.padEnd(11)} ${step.id}${before?.state === step.state ? '' : `: ${step.title}`}${detail}`);
    }
    const waiting = status.waiting ? `waiting: ${status.waiting.reason}` : undefined;
    if (waiting && waiting !== this.waiting) {
      const eta = status.waiting?.until ? ` (expected in ${secondsUntil(status.waiting.until)}, looks again then)` : '';
      this.say(`${waiting}${eta}`);
    }
    this.waiting = waiting;
    const gate = status.pendingApproval?.gate;
    if (gate && gate !== this.gate) {
      this.say(`awaiting approval of gate ${gate}: ${status.pendingApproval!.description}`);
    }
    this.gate = gate;
    if (status.state !== this.state && ['paused', 'completed', 'failed', 'aborted'].includes(status.state)) {
      this.say(`run ${status.state}`);
    }
    this.state = status.state;
  }
}

function secondsUntil(iso: string): string {
  return `${Math.max(0, (Date.parse(iso) - Date.now()) / 1000).toFixed(1)} s`;
}

function rootMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err; e instanceof Error; e = e.cause) message = e.message;
  return message;
}
