/**
 * The runbook's steps as the operator sees them: every step of the plan with its state and timestamps,
 * served by the `status` query, told to the UI through current details, and mirrored in the UpgradeStage
 * search attribute.
 */
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { UpgradeStage } from '../../src/api/search-attributes.js';
import type { RunState, StepState, StepStatus, UpgradeStatus, WaitingFor } from '../../src/api/status.js';
import type { PlannedStep } from '../../src/api/plans.js';
import type { UpgradeMetrics } from './metrics.js';

const nowIso = () => new Date().toISOString();

export class StepBook {
  readonly steps: StepStatus[];
  state: RunState = 'running';
  waiting?: WaitingFor;
  private stage?: string;
  /** Renders the lines that other parts (gates) add to the current details. */
  extraDetails: () => string[] = () => [];

  constructor(
    plan: PlannedStep[],
    carried?: StepStatus[],
    private readonly metrics?: UpgradeMetrics,
  ) {
    const known = new Map((carried ?? []).map((s) => [s.id, s]));
    this.steps = plan.map((p) => known.get(p.id) ?? { id: p.id, title: p.title, state: 'pending' });
    // Steps added on the way (not in the plan) survive a continue-as-new too.
    for (const s of carried ?? []) if (!this.steps.some((p) => p.id === s.id)) this.steps.push(s);
  }

  find(id: string): StepStatus | undefined {
    return this.steps.find((s) => s.id === id);
  }

  /** The step, added at the end if the plan did not name it (compensation steps, for example). */
  ensure(id: string, title: string): StepStatus {
    let step = this.find(id);
    if (!step) {
      step = { id, title, state: 'pending' };
      this.steps.push(step);
    }
    return step;
  }

  get current(): StepStatus | undefined {
    return this.steps.find((s) => s.state === 'running' || s.state === 'compensating');
  }

  mark(id: string, title: string, state: StepState, detail?: string): void {
    const step = this.ensure(id, title);
    if (state === 'running' || state === 'compensating') {
      step.startedAt = nowIso();
      delete step.endedAt;
    } else if (state !== 'pending') {
      step.endedAt = nowIso();
      this.metrics?.stepEnded(id, state, step.startedAt);
    }
    step.state = state;
    if (detail !== undefined) step.detail = detail;
    if (state === 'running' || state === 'compensating') this.setStage(id);
    this.publish();
  }

  note(id: string, detail: string): void {
    const step = this.find(id);
    if (step) step.detail = detail;
    this.publish();
  }

  setStage(stage: string): void {
    if (stage === this.stage) return;
    this.stage = stage;
    upsertSearchAttributes([{ key: UpgradeStage, value: stage }]);
  }

  /** Current details are markdown the Temporal UI shows on the run's page. */
  publish(): void {
    const current = this.current;
    const done = this.steps.filter((s) => s.state === 'done').length;
    // Between steps (at an approval gate, paused) the step about to run is what the operator is deciding on.
    const next = !current && this.state === 'running' ? this.steps.find((s) => s.state === 'pending') : undefined;
    const lines = [
      current
        ? `**Step ${this.steps.indexOf(current) + 1} of ${this.steps.length}: ${current.title}** (${current.state})`
        : next
          ? `**Step ${this.steps.indexOf(next) + 1} of ${this.steps.length}: ${next.title}** (not started; ${done} steps done)`
          : `**${this.state}**: ${done} of ${this.steps.length} steps done`,
    ];
    if (current?.detail) lines.push(current.detail);
    // A run that ended failed says where and why first: what on-call engineers open the page for.
    const failed = !current && this.state !== 'running' ? this.steps.find((s) => s.state === 'failed') : undefined;
    if (failed)
      lines.push(`Failed at step ${this.steps.indexOf(failed) + 1} "${failed.title}": ${failed.detail ?? 'no detail'}`);
    if (this.waiting)
      lines.push(`Waiting: ${this.waiting.reason}${this.waiting.until ? ` (next check ${this.waiting.until})` : ''}`);
    lines.push(...this.extraDetails());
    setCurrentDetails(lines.join('\n\n'));
  }

  snapshot(base: Pick<UpgradeStatus, 'strategy' | 'continuedAsNew' | 'startedAt'>): UpgradeStatus {
    return {
      ...base,
      workflowId: workflowInfo().workflowId,
      state: this.state,
      currentStep: this.current?.id,
      steps: this.steps.map((s) => ({ ...s })),
      waiting: this.waiting,
      updatedAt: nowIso(),
    };
  }
}
