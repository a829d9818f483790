/**
 * The fleet runbook: upgrade the selected validators of the worker's inventory in waves.
 *
 *   resolve the members in the worker's inventory and read each network's pace
 *   for each wave (the canary first):
 *     after the previous wave: soak (a durable timer), then, when asked, wait for N distinct approvers
 *     start members, at most maxConcurrent at once, each as a child under its own upgrade id
 *     on a failure (beyond maxFailurePercent) or a bad observation: halt — start no more, let running members
 *     reach their own safe end, wait for the operator (resume, skip a member, abort)
 *   abort: no more starts; each running member is asked to abort its own safe way (its abort signal)
 *
 * Members run with parent-close policy ABANDON and report their end to the fleet by its workflow id
 * (upgrade-run.ts `reportToFleet`), so the fleet can continue as new at any safe point of its loop: a member
 * started by an earlier run is re-attached by the report it sends to the fleet's current run (a signal to a
 * workflow id reaches the newest run). Holding child handles across continue-as-new is not possible, and
 * draining every running member first would stall a wave for hours of chain waits.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { inventoryContracts, ResolvedFleet } from '../src/api/contracts/inventory.js';
import type { ActivityFunctions } from '../src/api/contracts/activity.js';
import {
  FLEET_WORKFLOW_TYPE,
  fleetInputSchema,
  fleetWorkflowId,
  projectedLengthMs,
  upgradeLengthMs,
  waveSizes,
  type ChainPace,
  type FleetApproval,
  type FleetApproveRequest,
  type FleetEvent,
  type FleetEventKind,
  type FleetMember,
  type FleetMemberRow,
  type FleetState,
  type FleetStatus,
  type FleetTotals,
  type MemberReport,
  type OperatorAction,
  type ParsedFleetInput,
  type SkipRequest,
} from '../src/api/fleet.js';
import {
  abortSignal,
  pauseSignal,
  resumeSignal,
  type AbortRequest,
  type PauseRequest,
  fleetApproveUpdate,
  fleetSkipUpdate,
  fleetStatusQuery,
  memberDoneSignal,
} from '../src/api/messages.js';
import {
  DEADLINE_BEHIND,
  DEADLINE_ON_TIME,
  UpgradeChain,
  UpgradeDeadline,
  UpgradeNetwork,
  UpgradeStage,
  UpgradeStrategy,
  UpgradeValidator,
} from '../src/api/search-attributes.js';
import { readOptions } from './common/activity-options.js';
import { ABORTED_ERROR_TYPE } from './common/gates.js';
import { parseWorkflowInput } from './common/input.js';
import { describe } from './common/upgrade-run.js';
import { Notifier } from './common/notify.js';
import { DEADLINE_PATCH, readPace } from './common/deadline.js';
import type { NotificationKind } from '../src/api/notifications.js';

export const FLEET_ABORTED_ERROR_TYPE = 'FleetAborted';
/** Events the status keeps (the history keeps them all). */
const EVENTS_KEPT = 50;

const inventory = proxyActivities<ActivityFunctions<typeof inventoryContracts>>(readOptions);

type Row = FleetMember & Omit<FleetMemberRow, keyof FleetMember> & { abortSent?: boolean; reported?: boolean };

/** Everything a fleet knows, carried across continue-as-new. Plain JSON. */
export interface FleetCarried {
  rows: Row[];
  waves: number[];
  /** 0-based index of the wave in progress; `stage` says where in it. */
  wave: number;
  stage: 'before' | 'running';
  soakUntil?: string;
  approvals: FleetApproval[];
  opened: string[];
  halt?: FleetStatus['halt'];
  pause?: FleetStatus['pause'];
  abortRequested?: FleetStatus['abortRequested'];
  operatorActions: OperatorAction[];
  events: FleetEvent[];
  paces: ChainPace[];
  behind: boolean;
  /** The events the worker's webhooks take, as it said with the members (absent: fleets from before it said). */
  webhookEvents?: NotificationKind[];
  startedAt: string;
  continuedAsNew: number;
}

export interface FleetResult {
  name: string;
  totals: FleetTotals;
  failed: string[];
  skipped: string[];
  /** With `planOnly`: the waves, the projected finish and the deadline, as the status would show them. */
  plan?: FleetStatus;
}

export async function fleetUpgrade(rawInput: unknown, carried?: FleetCarried): Promise<FleetResult> {
  const input = parseWorkflowInput(fleetInputSchema, rawInput, FLEET_WORKFLOW_TYPE);
  const fleet = new Fleet(input, rawInput, carried ?? (await resolve(input)));
  fleet.install();
  if (input.planOnly) return { ...fleet.finish('planned'), plan: fleet.status() };
  const expected = fleetWorkflowId(input.name);
  if (workflowInfo().workflowId !== expected)
    throw ApplicationFailure.nonRetryable(
      `workflow id must be "${expected}" (one fleet of a name at a time)`,
      'InvalidWorkflowId',
    );
  return fleet.run();
}

/** The members from the worker's inventory, in waves, and each network's pace (for projections). */
async function resolve(input: ParsedFleetInput): Promise<FleetCarried> {
  const resolved: ResolvedFleet = await inventory.resolveFleetMembers({
    select: input.select,
    targets: input.targets,
    ...(input.deadline ? { deadline: input.deadline } : {}),
  });
  const waves = waveSizes(resolved.members.length, input.canary, input.waveSize);
  let index = 0;
  const rows: Row[] = waves.flatMap((size, w) =>
    resolved.members.slice(index, (index += size)).map((m) => ({ ...m, wave: w + 1, state: 'pending' as const })),
  );
  const paces: ChainPace[] = [];
  for (const net of resolved.networks) {
    const pace = await readPace(net);
    if (pace) paces.push(pace);
  }
  const startedAt = new Date().toISOString();
  return {
    rows,
    waves,
    wave: 0,
    stage: 'before',
    approvals: [],
    opened: [],
    operatorActions: [],
    events: [],
    paces,
    behind: false,
    ...(resolved.webhookEvents ? { webhookEvents: resolved.webhookEvents } : {}),
    startedAt,
    continuedAsNew: 0,
  };
}

/** The webhook event each fleet event is sent as. */
const NOTIFIED_AS: Record<FleetEventKind, NotificationKind> = {
  'gate-waiting': 'awaiting-approval',
  'wave-done': 'wave-done',
  halted: 'halted',
  'member-failed': 'failed',
  completed: 'completed',
  aborted: 'aborted',
  'deadline-at-risk': 'deadline-at-risk',
};

class Fleet {
  private changed = false;
  private state: FleetState = 'running';
  private pendingApproval?: { gate: string; description: string };
  private readonly soakMs: number;
  private stage?: string;
  private deadlineStage?: string;
  /** Members this run started and holds a handle of; the reports they sent before they closed. */
  private readonly held = new Set<string>();
  private readonly reports = new Map<string, MemberReport>();
  /** The operators' webhooks (the members leave their own events to the fleet). */
  private readonly notifier = new Notifier(true);

  constructor(
    private readonly input: ParsedFleetInput,
    private readonly rawInput: unknown,
    private readonly s: FleetCarried,
  ) {
    this.soakMs = input.soak;
    this.notifier.webhooksTake(s.webhookEvents);
  }

  install(): void {
    setHandler(fleetStatusQuery, () => this.status(), { description: 'One row per validator, and fleet totals' });
    setHandler(
      memberDoneSignal,
      (report) => {
        // A member this run started is counted when it closes (its slot is free only then); its report adds
        // what it observed. A member an earlier run started is counted by its report.
        if (this.held.has(report.workflowId)) this.reports.set(report.workflowId, report);
        else this.memberEnded(report);
      },
      { description: 'A member upgrade tells its fleet how it ended' },
    );
    setHandler(
      fleetApproveUpdate,
      (req) => {
        this.s.approvals.push({ gate: req.gate, by: req.by, at: now(), ...(req.note ? { note: req.note } : {}) });
        const approvedBy = this.approversOf(req.gate);
        const remaining = Math.max(0, this.input.approvals.required - approvedBy.length);
        if (remaining === 0) this.s.opened.push(req.gate);
        this.touch();
        return { gate: req.gate, approvedBy, remaining };
      },
      {
        validator: (req: FleetApproveRequest) => this.validateApproval(req),
        description: 'Approve the gate before the next wave',
      },
    );
    setHandler(
      fleetSkipUpdate,
      (req) => {
        const row = this.s.rows.find((r) => r.id === req.validator)!;
        const was = row.state;
        row.state = 'skipped';
        row.endedAt = now();
        row.detail = `${was === 'running' ? 'no longer waited for (not aborted)' : 'not started'}: skipped${req.by ? ` by ${req.by}` : ''}${req.reason ? `: ${req.reason}` : ''}`;
        this.action({ kind: 'skip', validator: req.validator, by: req.by, reason: req.reason });
        return { skipped: req.validator };
      },
      {
        validator: (req: SkipRequest) => this.validateSkip(req),
        description: 'Leave a member out (one not started, or one lost)',
      },
    );
    setHandler(pauseSignal, (req?: PauseRequest) => {
      this.s.pause ??= { ...req, since: now() };
      this.action({ kind: 'pause', ...req });
    });
    setHandler(resumeSignal, (req?: PauseRequest) => {
      this.s.pause = undefined;
      this.s.halt = undefined;
      this.action({ kind: 'resume', ...req });
    });
    setHandler(abortSignal, (req: AbortRequest) => {
      this.s.abortRequested ??= { ...req, at: now() };
      this.action({ kind: 'abort', ...req });
    });
    this.publish();
  }

  async run(): Promise<FleetResult> {
    for (; this.s.wave < this.s.waves.length && !this.s.abortRequested; this.s.wave++) {
      if (this.s.stage === 'before') {
        if (this.s.wave > 0) {
          await this.soak();
          await this.approvalGate();
        }
        this.s.stage = 'running';
      }
      await this.runWave();
      if (this.s.abortRequested) break;
      const done = this.rowsOf(this.s.wave);
      this.fleetEvent('wave-done', `wave ${this.s.wave + 1} of ${this.s.waves.length} done: ${countLine(done)}`);
      this.s.stage = 'before';
    }
    if (this.s.abortRequested) {
      await this.abortAll();
      this.finish('aborted');
      await this.notifier.settled();
      const { by, reason } = this.s.abortRequested;
      throw ApplicationFailure.nonRetryable(
        `fleet ${this.input.name} aborted${by ? ` by ${by}` : ''}: ${reason}`,
        FLEET_ABORTED_ERROR_TYPE,
      );
    }
    const result = this.finish('completed');
    await condition(allHandlersFinished);
    await this.notifier.settled();
    return result;
  }

  /** Ends the run's bookkeeping (status, details, event) and says what happened to each member. */
  finish(state: FleetState): FleetResult {
    this.state = state;
    if (state === 'completed' || state === 'aborted')
      this.fleetEvent(state, `fleet ${state}: ${countLine(this.s.rows)}`);
    this.publish();
    return {
      name: this.input.name,
      totals: totals(this.s.rows),
      failed: this.s.rows.filter((r) => r.state === 'failed' || r.state === 'aborted').map((r) => r.id),
      skipped: this.s.rows.filter((r) => r.state === 'skipped').map((r) => r.id),
    };
  }

  // --- one wave ---

  private async runWave(): Promise<void> {
    const wave = this.s.wave + 1;
    for (;;) {
      if (this.s.abortRequested) return;
      const running = this.s.rows.filter((r) => r.state === 'running');
      const next = this.rowsOf(this.s.wave).find((r) => r.state === 'pending');
      if (!next && running.length === 0) return;
      if (this.shouldContinueAsNew()) await this.continueAsNew();
      if (next && !this.s.halt && !this.s.pause && running.length < this.input.maxConcurrent) {
        await this.startMember(next);
        continue;
      }
      this.state = this.s.halt ? 'halted' : this.s.pause ? 'paused' : 'running';
      this.publish();
      this.changed = false;
      await condition(() => this.changed);
      this.state = 'running';
      log.info('fleet wave looks again', { wave });
    }
  }

  private async startMember(row: Row): Promise<void> {
    row.state = 'running';
    row.startedAt = now();
    this.touch();
    try {
      const child = await startChild(row.strategy, {
        workflowId: row.workflowId,
        args: [row.input],
        // Members outlive this run: continue-as-new must not end them (they report back by the fleet's id).
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        staticSummary: `${row.summary} (fleet ${this.input.name}, wave ${row.wave})`,
        typedSearchAttributes: [
          { key: UpgradeChain, value: row.chain },
          { key: UpgradeNetwork, value: row.network },
          { key: UpgradeValidator, value: row.validator },
          { key: UpgradeStrategy, value: row.strategy },
        ],
      });
      this.held.add(row.workflowId);
      const closed = (outcome: MemberReport['outcome'], error?: string) => {
        this.held.delete(row.workflowId);
        const report = this.reports.get(row.workflowId);
        this.reports.delete(row.workflowId);
        this.memberEnded({
          ...report,
          workflowId: row.workflowId,
          outcome,
          ...(error ? { error: report?.error ?? error } : {}),
        });
      };
      void child.result().then(
        () => closed('completed'),
        (err: unknown) => closed(outcomeOf(err), describe(err)),
      );
    } catch (err) {
      // Most often: another upgrade of this validator is running (one upgrade per validator at a time).
      this.memberEnded({
        workflowId: row.workflowId,
        outcome: 'failed',
        error: `not started: ${describe(err)} (is another upgrade of ${row.validator} running?)`,
      });
    }
  }

  /** A member ended (its report or, in the run that started it, its close): count it, and halt if it says so. */
  private memberEnded(report: MemberReport): void {
    const row = this.s.rows.find((r) => r.workflowId === report.workflowId);
    if (!row) return;
    if (row.state === 'running') {
      const byFleet = report.outcome === 'aborted' && !!this.s.abortRequested;
      row.state = report.outcome;
      row.endedAt = now();
      if (report.error) row.detail = report.error;
      if (report.outcome !== 'completed' && !byFleet) {
        this.fleetEvent('member-failed', `${row.id} ${report.outcome}: ${report.error ?? 'no reason given'}`, row);
        const failed = this.s.rows.filter((r) => r.state === 'failed' || r.state === 'aborted').length;
        const percent = (failed * 100) / this.s.rows.length;
        if (percent > this.input.maxFailurePercent)
          this.haltWith(
            `${row.id} ${report.outcome}; ${failed} of ${this.s.rows.length} failed (${percent.toFixed(1)}%, more than ${this.input.maxFailurePercent}%)`,
            row,
          );
      }
    }
    if (report.observed && !row.reported) {
      row.reported = true;
      row.observed = report.observed;
      const missed = Object.values(report.observed.missed).reduce((a, b) => a + (b ?? 0), 0);
      const { missedAbove, doubleSign } = this.input.haltOn;
      if (doubleSign && (report.observed.doubleSigns ?? 0) > 0)
        this.haltWith(`${row.id}: the chain saw ${report.observed.doubleSigns} double sign(s)`, row);
      else if (missedAbove !== undefined && missed > missedAbove)
        this.haltWith(`${row.id}: ${missed} missed blocks/slots, more than ${missedAbove}`, row);
    }
    const kickout = report.observed?.kickouts?.[0];
    if (kickout && this.input.haltOn.kickout)
      this.haltWith(
        `${row.id}: kicked out by the chain at the end of epoch ${kickout.period} (${kickout.reason})`,
        row,
      );
    this.touch();
  }

  private haltWith(reason: string, row: Row): void {
    if (this.s.halt) return;
    this.s.halt = { reason, at: now(), validator: row.id };
    this.fleetEvent('halted', `halted: ${reason}; running members go on to their own end, no more start`, row);
  }

  // --- between waves ---

  private async soak(): Promise<void> {
    if (this.soakMs <= 0) return;
    this.s.soakUntil ??= new Date(Date.now() + this.soakMs).toISOString();
    this.state = 'soaking';
    this.publish();
    const left = Date.parse(this.s.soakUntil) - Date.now();
    if (left > 0) await condition(() => !!this.s.abortRequested, left, { summary: `soak after wave ${this.s.wave}` });
    this.s.soakUntil = undefined;
    this.state = 'running';
  }

  private async approvalGate(): Promise<void> {
    if (!this.input.approvalBetweenWaves || this.s.abortRequested) return;
    const gate = `wave-${this.s.wave + 1}`;
    if (this.s.opened.includes(gate)) return;
    const size = this.s.waves[this.s.wave]!;
    this.pendingApproval = {
      gate,
      description: `start wave ${this.s.wave + 1} of ${this.s.waves.length} (${size} validators) after: ${countLine(this.s.rows)}`,
    };
    this.state = 'awaiting-approval';
    this.fleetEvent('gate-waiting', `waiting at ${gate}: ${this.pendingApproval.description}`);
    await condition(() => this.s.opened.includes(gate) || !!this.s.abortRequested);
    this.pendingApproval = undefined;
    this.state = 'running';
    this.publish();
  }

  /** Four eyes: refused here, an approval never enters the history. */
  private validateApproval(req: FleetApproveRequest): void {
    if (!req || typeof req.gate !== 'string') throw new Error('approve needs {"gate": "wave-<n>", "by": "<who>"}');
    if (typeof req.by !== 'string' || req.by.trim() === '')
      throw new Error('approve needs "by": who approves (a fleet counts its approvers)');
    const pending = this.pendingApproval;
    if (!pending) throw new Error(`no gate of fleet ${this.input.name} is waiting (asked to approve "${req.gate}")`);
    if (req.gate !== pending.gate) throw new Error(`gate "${req.gate}" is not waiting; "${pending.gate}" is`);
    if (this.input.approvals.forbidStarter && req.by === this.input.startedBy)
      throw new Error(`${req.by} started fleet ${this.input.name} and may not approve it (four eyes)`);
    if (this.approversOf(req.gate).includes(req.by))
      throw new Error(
        `${req.by} already approved ${req.gate}; it needs ${this.input.approvals.required} distinct approvers`,
      );
  }

  private validateSkip(req: SkipRequest): void {
    const row = this.s.rows.find((r) => r.id === req?.validator);
    if (!row) throw new Error(`no member "${String(req?.validator)}" in fleet ${this.input.name}`);
    if (row.state !== 'pending' && row.state !== 'running')
      throw new Error(`${row.id} is ${row.state} already; only a member not started or still running can be skipped`);
  }

  private approversOf(gate: string): string[] {
    return [...new Set(this.s.approvals.filter((a) => a.gate === gate).map((a) => a.by))];
  }

  // --- abort ---

  /** Each running member is asked to abort its own safe way; members not started never start. */
  private async abortAll(): Promise<void> {
    this.state = 'aborting';
    const reason = `fleet ${this.input.name} aborted: ${this.s.abortRequested!.reason}`;
    for (const row of this.s.rows) {
      if (row.state === 'pending') {
        row.state = 'skipped';
        row.detail = 'not started: the fleet was aborted';
      }
    }
    for (const row of this.s.rows.filter((r) => r.state === 'running' && !r.abortSent)) {
      row.abortSent = true;
      try {
        await getExternalWorkflowHandle(row.workflowId).signal(abortSignal, {
          reason,
          ...(this.s.abortRequested!.by ? { by: this.s.abortRequested!.by } : {}),
        });
      } catch (err) {
        log.warn('could not ask a member to abort (it may have ended)', { member: row.id, error: describe(err) });
      }
    }
    this.publish();
    await condition(() => this.s.rows.every((r) => r.state !== 'running'));
  }

  // --- history, status, details ---

  private shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= this.input.historyLimit;
  }

  private async continueAsNew(): Promise<never> {
    await condition(allHandlersFinished);
    await this.notifier.settled();
    // A member that reported and has not closed yet is in its last task: count it now, the next run will
    // not hear its close.
    for (const report of this.reports.values()) {
      this.held.delete(report.workflowId);
      this.memberEnded(report);
    }
    log.info('fleet continuing as new to keep its history bounded', { historyLength: workflowInfo().historyLength });
    return continueAsNew<typeof fleetUpgrade>(this.rawInput, { ...this.s, continuedAsNew: this.s.continuedAsNew + 1 });
  }

  /**
   * The one place where something an operator wants to hear about happens: waiting at a gate, a wave done, a
   * halt, a member failed, completion, abort, a deadline at risk. Recorded (status, log, history) and sent to
   * the operators' webhooks, without waiting for them.
   */
  private fleetEvent(kind: FleetEventKind, text: string, row?: Row): void {
    const event: FleetEvent = { kind, at: now(), text, wave: this.s.wave + 1, ...(row ? { validator: row.id } : {}) };
    this.s.events = [...this.s.events, event].slice(-EVENTS_KEPT);
    log.info(`fleet event: ${text}`, { kind, fleet: this.input.name });
    this.notifier.send(NOTIFIED_AS[kind], {
      validators: row ? [row.id] : [],
      strategy: 'fleetUpgrade',
      message: `fleet ${this.input.name}: ${text}`,
    });
    this.publish();
  }

  private action(a: Omit<OperatorAction, 'at'>): void {
    this.s.operatorActions.push({ ...a, at: now() });
    this.touch();
  }

  private touch(): void {
    this.changed = true;
    this.publish();
  }

  private rowsOf(waveIndex: number): Row[] {
    return this.s.rows.filter((r) => r.wave === waveIndex + 1);
  }

  /** When the rest would be done at the pace seen so far (or the plan's estimate), and whether that is late. */
  private projection(): { finish?: string; behind: boolean } {
    const nowMs = Date.now();
    // One pass over the rows: this runs on every change of a 500-member fleet, several times a workflow task.
    const seen = new Map<string, { sum: number; count: number }>();
    for (const x of this.s.rows) {
      if (x.state !== 'completed' || !x.startedAt || !x.endedAt) continue;
      const s = seen.get(x.strategy) ?? { sum: 0, count: 0 };
      s.sum += Date.parse(x.endedAt) - Date.parse(x.startedAt);
      s.count++;
      seen.set(x.strategy, s);
    }
    const lengthOf = (r: Row): number | undefined => {
      const s = seen.get(r.strategy);
      if (s) return s.sum / s.count;
      const pace = this.s.paces.find((p) => p.chain === r.chain && p.network === r.network);
      return upgradeLengthMs(r.strategy, pace, this.input.perUpgrade);
    };
    const waves: (number | undefined)[][] = [];
    for (let w = this.s.wave; w < this.s.waves.length; w++) {
      const left = this.rowsOf(w).filter((r) => r.state === 'pending' || r.state === 'running');
      waves.push(
        left.map((r) => {
          const length = lengthOf(r);
          if (length === undefined || r.state === 'pending') return length;
          return Math.max(0, length - (nowMs - Date.parse(r.startedAt!)));
        }),
      );
    }
    const ms = projectedLengthMs(waves, this.input.maxConcurrent, this.soakMs);
    const finish = ms === undefined ? undefined : new Date(nowMs + ms).toISOString();
    const deadline = this.input.deadline ? Date.parse(this.input.deadline) : undefined;
    const open = this.state !== 'completed' && this.state !== 'aborted';
    const behind = deadline !== undefined && open && (nowMs > deadline || (ms !== undefined && nowMs + ms > deadline));
    return { finish, behind };
  }

  status(): FleetStatus {
    const { finish, behind } = this.projection();
    return {
      workflowId: workflowInfo().workflowId,
      name: this.input.name,
      state: this.state,
      wave: Math.min(this.s.wave + 1, this.s.waves.length),
      waves: this.s.waves,
      maxConcurrent: this.input.maxConcurrent,
      totals: totals(this.s.rows),
      members: this.s.rows.map(
        ({ input: _i, summary: _s, abortSent: _a, reported: _r, ...row }): FleetMemberRow => row,
      ),
      ...(this.s.halt ? { halt: this.s.halt } : {}),
      ...(this.s.pause ? { pause: this.s.pause } : {}),
      ...(this.s.abortRequested ? { abortRequested: this.s.abortRequested } : {}),
      ...(this.s.soakUntil ? { soakUntil: this.s.soakUntil } : {}),
      ...(this.pendingApproval
        ? {
            pendingApproval: {
              ...this.pendingApproval,
              required: this.input.approvals.required,
              approvedBy: this.approversOf(this.pendingApproval.gate),
            },
          }
        : {}),
      approvals: this.s.approvals,
      operatorActions: this.s.operatorActions,
      ...(this.input.startedBy ? { startedBy: this.input.startedBy } : {}),
      ...(finish ? { projectedFinish: finish } : {}),
      ...(this.input.deadline ? { deadline: { at: this.input.deadline, behind } } : {}),
      paces: this.s.paces,
      events: this.s.events,
      continuedAsNew: this.s.continuedAsNew,
      startedAt: this.s.startedAt,
      updatedAt: now(),
    };
  }

  /** The UI's current details and the fleet's stage search attribute; a deadline newly at risk is an event. */
  private publish(): void {
    const { finish, behind } = this.projection();
    if (behind && !this.s.behind) {
      this.s.behind = true;
      this.fleetEvent(
        'deadline-at-risk',
        `behind the deadline ${this.input.deadline}: projected finish ${finish ?? 'unknown'}`,
      );
      return;
    }
    const lines = [
      `**Fleet ${this.input.name}: wave ${Math.min(this.s.wave + 1, this.s.waves.length)} of ${this.s.waves.length}** (${this.state}): ${countLine(this.s.rows)}`,
    ];
    if (this.s.halt) lines.push(`Halted: ${this.s.halt.reason}. Resume, skip a member, or abort.`);
    if (this.s.pause) lines.push(`Paused${this.s.pause.by ? ` by ${this.s.pause.by}` : ''}`);
    if (this.pendingApproval)
      lines.push(
        `Awaiting approval of **${this.pendingApproval.gate}** (${this.approversOf(this.pendingApproval.gate).length} of ${this.input.approvals.required}): ${this.pendingApproval.description}`,
      );
    if (this.s.soakUntil) lines.push(`Soaking until ${this.s.soakUntil}`);
    if (this.input.deadline)
      lines.push(
        `Deadline ${this.input.deadline}: projected finish ${finish ?? 'unknown'}${behind ? ' — BEHIND' : ''}`,
      );
    if (this.s.abortRequested) lines.push(`Abort requested: ${this.s.abortRequested.reason}`);
    setCurrentDetails(lines.join('\n\n'));
    // Only a change of state is an upsert (each is a history event).
    const stage = `fleet-${this.state}`;
    if (stage !== this.stage) {
      this.stage = stage;
      upsertSearchAttributes([{ key: UpgradeStage, value: stage }]);
    }
    // Fleets behind their deadline are listed as the upgrades are (UpgradeDeadline=behind); from the patch on.
    const deadlineStage = this.s.behind ? DEADLINE_BEHIND : DEADLINE_ON_TIME;
    if (this.input.deadline && deadlineStage !== this.deadlineStage && patched(DEADLINE_PATCH)) {
      this.deadlineStage = deadlineStage;
      upsertSearchAttributes([{ key: UpgradeDeadline, value: deadlineStage }]);
    }
  }
}

function outcomeOf(err: unknown): MemberReport['outcome'] {
  for (let e: unknown = err; e instanceof Error; e = e.cause)
    if (e instanceof ApplicationFailure && e.type === ABORTED_ERROR_TYPE) return 'aborted';
  return 'failed';
}

function totals(rows: Row[]): FleetTotals {
  const count = (state: Row['state']) => rows.filter((r) => r.state === state).length;
  return {
    members: rows.length,
    pending: count('pending'),
    running: count('running'),
    completed: count('completed'),
    failed: count('failed'),
    aborted: count('aborted'),
    skipped: count('skipped'),
  };
}

function countLine(rows: Row[]): string {
  const t = totals(rows);
  return `${t.completed} done, ${t.running} running, ${t.failed + t.aborted} failed, ${t.skipped} skipped, ${t.pending} pending`;
}

const now = () => new Date().toISOString();
