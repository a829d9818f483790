/**
 * The operator's hands on a running upgrade: an `approve` update before each irreversible step (when the
 * input asks for manual approval), and `pause` / `resume` / `abort` signals.
 *
 * Pause and abort take effect at the next safe point (between steps, and during chain waits), never in
 * the middle of a step: interrupting a data-folder swap or a database migration is what makes a node
 * unrecoverable. An abort then runs the strategy's compensation.
 */
import type { Duration } from '@temporalio/common';
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import {
  abortSignal,
  approveUpdate,
  pauseSignal,
  resumeSignal,
  type AbortRequest,
  type ApproveRequest,
} from '../../src/api/messages.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import type { UpgradeMetrics } from './metrics.js';

export const ABORTED_ERROR_TYPE = 'UpgradeAborted';

export interface GateState {
  approved: string[];
  pause?: UpgradeStatus['pause'];
  abortRequested?: UpgradeStatus['abortRequested'];
}

export class Gates {
  pendingApproval?: { gate: string; description: string };
  /** Older names of the pending gate that an approval may still use. */
  private pendingAlsoAccepts: readonly string[] = [];
  private readonly approved: Set<string>;
  pause?: UpgradeStatus['pause'];
  abortRequested?: UpgradeStatus['abortRequested'];
  /** Called when a gate starts holding the run for a person (the run tells the webhooks). */
  onAwaitingApproval?: (gate: string, description: string) => void;

  constructor(
    private readonly manualApproval: boolean,
    carried: GateState | undefined,
    private readonly metrics: UpgradeMetrics | undefined,
    private readonly onChange: () => void,
  ) {
    this.approved = new Set(carried?.approved ?? []);
    this.pause = carried?.pause;
    this.abortRequested = carried?.abortRequested;
  }

  install(): void {
    setHandler(
      approveUpdate,
      ({ gate }) => {
        this.approved.add(gate);
        this.pendingApproval = undefined;
        this.pendingAlsoAccepts = [];
        this.onChange();
        return { gate, approvedAt: new Date().toISOString() };
      },
      { validator: (req: ApproveRequest) => this.validateApproval(req), description: 'Approve the pending gate' },
    );
    setHandler(
      pauseSignal,
      (req) => {
        this.pause ??= { ...req, since: new Date().toISOString() };
        this.onChange();
      },
      { description: 'Hold the upgrade at its next safe point' },
    );
    setHandler(
      resumeSignal,
      () => {
        this.pause = undefined;
        this.onChange();
      },
      { description: 'Continue a paused upgrade' },
    );
    setHandler(
      abortSignal,
      (req: AbortRequest) => {
        this.abortRequested ??= { ...req, at: new Date().toISOString() };
        this.onChange();
      },
      { description: 'Stop at the next safe point and compensate' },
    );
  }

  /** Rejects (without writing history) an approval that matches no waiting gate. */
  private validateApproval(req: ApproveRequest): void {
    if (!req || typeof req.gate !== 'string') throw new Error('approve needs {"gate": "<gate id>"}');
    if (!this.pendingApproval) throw new Error(`no gate is waiting for approval (asked to approve "${req.gate}")`);
    if (req.gate !== this.pendingApproval.gate && !this.pendingAlsoAccepts.includes(req.gate))
      throw new Error(`gate "${req.gate}" is not waiting; the pending gate is "${this.pendingApproval.gate}"`);
  }

  state(): GateState {
    return { approved: [...this.approved], pause: this.pause, abortRequested: this.abortRequested };
  }

  /** A safe point: throws if an abort was asked for, and holds while paused. */
  async checkpoint(): Promise<void> {
    this.throwIfAborted();
    if (this.pause) {
      await condition(() => !this.pause || !!this.abortRequested);
      this.throwIfAborted();
    }
  }

  /**
   * Holds before an irreversible step until an operator approves it (only with manual approval). An approval
   * under one of the gate's older names (`alsoAccepts`, as recorded in histories) passes it too.
   */
  async approval(gate: string, description: string, alsoAccepts: readonly string[] = []): Promise<void> {
    await this.checkpoint();
    const approved = () => this.approved.has(gate) || alsoAccepts.some((name) => this.approved.has(name));
    if (!this.manualApproval || approved()) return;
    this.pendingApproval = { gate, description };
    this.pendingAlsoAccepts = alsoAccepts;
    this.onChange();
    this.metrics?.gateWaitStarted(gate);
    this.onAwaitingApproval?.(gate, description);
    const since = Date.now();
    await condition(() => approved() || !!this.abortRequested);
    this.pendingApproval = undefined;
    this.pendingAlsoAccepts = [];
    this.metrics?.gateWaitEnded(gate, approved() ? 'approved' : 'aborted', Date.now() - since);
    this.throwIfAborted();
  }

  /** A durable sleep that ends early when an abort is asked for. */
  async sleep(duration: Duration, summary: string): Promise<void> {
    await condition(() => !!this.abortRequested, duration, { summary });
    this.throwIfAborted();
  }

  throwIfAborted(): void {
    const abort = this.abortRequested;
    if (abort)
      throw ApplicationFailure.nonRetryable(
        `aborted${abort.by ? ` by ${abort.by}` : ''}: ${abort.reason}`,
        ABORTED_ERROR_TYPE,
      );
  }
}
