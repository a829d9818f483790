/**
 * The frame every strategy runs in. A strategy reads like its runbook:
 *
 *   const { run, input, steps } = await beginStrategy('nearZeroDowntimeUpgrade', rawInput, carried);
 *   return run.execute(async () => {
 *     await run.step(steps.stopOldNode, () => host.stopService(...));   // title, gate, undo: from the plan
 *     ...
 *   });
 *
 * and the frame gives it: the one-upgrade-per-validator id check, search attributes, the status query,
 * gates, compensation on failure or abort (in reverse order, not cancellable), and continue-as-new that
 * carries all of it over, so a multi-day wait keeps its history bounded.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  describeIdentityIssue,
  upgradeWorkflowId,
  type IdentityIssue,
  type ValidatorIdentity,
} from '../../src/api/identity.js';
import { errorText } from '../../src/api/error-text.js';
import { INVALID_INPUT_ERROR_TYPE } from '../../src/api/near-inputs.js';
import { statusQuery, memberDoneSignal } from '../../src/api/messages.js';
import { type MemberReport } from '../../src/api/fleet.js';
import {
  planPatches,
  plannedSteps,
  plans,
  retiredSteps,
  type PlanStep,
  type PlannedStep,
  type StepOf,
} from '../../src/api/plans.js';
import { strategies, type ParsedStrategyTargets, type StrategyName } from '../../src/api/strategies.js';
import {
  AWAITING_APPROVAL_STAGE,
  UpgradeChain,
  UpgradeNetwork,
  UpgradeStrategy,
  UpgradeValidator,
} from '../../src/api/search-attributes.js';
import type { StepStatus, UpgradeStatus } from '../../src/api/status.js';
import type { NotificationKind } from '../../src/api/notifications.js';
import { ABORTED_ERROR_TYPE, Gates, type GateState } from './gates.js';
import { Notifier } from './notify.js';
import { observedStatus } from './chain-counters.js';
import { parseWorkflowInput } from './input.js';
import { resolvedTargets, webhookEventsOfRefusal } from './targets.js';
import { UpgradeMetrics } from './metrics.js';
import { StepBook } from './steps.js';
import { DeadlineWatch, deadlineWatched, readPace } from './deadline.js';
import type { ChainPace } from '../../src/api/deadline.js';

/** State carried from one run of an upgrade to the next across continue-as-new. Plain JSON. */
export interface CarriedState {
  startedAt: string;
  continuedAsNew: number;
  steps: StepStatus[];
  /** Results of finished steps, so a resumed run skips them. */
  results: Record<string, unknown>;
  /** Values fixed once per upgrade (wait deadlines, generated names). */
  remembered: Record<string, unknown>;
  gates: GateState;
}

export interface UpgradeSpec {
  strategy: string;
  identity: ValidatorIdentity;
  plan: PlannedStep[];
  manualApproval?: boolean;
  /** Whether the run tells the worker's webhooks about its gates, failure and completion (workflows/common/notify.ts). */
  notify?: boolean;
}

export interface StepOptions<T> {
  /** How to undo this step if a later one fails or the operator aborts (the plan says what it means). Gets the step's result. */
  undo?: (result: T) => Promise<void>;
  /** What the approval gate before the step asks a person, in this run's words (the plan's when absent). */
  approval?: string;
}

interface Undo {
  stepId: string;
  title: string;
  run: () => Promise<void>;
}

export { UNSAFE_ERROR_TYPE } from './activity-options.js';
export const CANONICAL_IDENTITY_PATCH = 'canonical-identity';
/** Inputs name validators and node ids; the targets come from the worker's inventory. */
export const INVENTORY_TARGETS_PATCH = 'inventory-targets';

/** The frame of one upgrade; `Step` is its strategy's steps (src/api/plans.ts), the only ones it runs. */
export class UpgradeRun<Step extends PlanStep = PlanStep> {
  readonly steps: StepBook;
  readonly gates: Gates;
  readonly metrics: UpgradeMetrics;
  readonly notifier: Notifier;
  private readonly undos: Undo[] = [];
  private deadline?: DeadlineWatch;
  private readonly carried: CarriedState;
  /** Chain looks made in this run (see chain-wait.ts); a fresh run after continue-as-new starts at 0. */
  looksThisRun = 0;
  /** True while undoing: waits then ignore the gates (an abort is what started them) and never continue as new. */
  compensating = false;

  constructor(
    readonly spec: UpgradeSpec,
    private readonly input: unknown,
    carried?: CarriedState,
  ) {
    this.metrics = new UpgradeMetrics(spec.strategy, spec.identity);
    // A fleet's member leaves its events to the fleet, which tells them once per wave, halt or failure.
    this.notifier = new Notifier((spec.notify ?? false) && !workflowInfo().parent);
    if (!carried) this.metrics.upgradeStarted();
    this.carried = carried ?? {
      startedAt: new Date().toISOString(),
      continuedAsNew: 0,
      steps: [],
      results: {},
      remembered: {},
      gates: { approved: [] },
    };
    this.steps = new StepBook(spec.plan, this.carried.steps, this.metrics);
    this.gates = new Gates(spec.manualApproval ?? false, this.carried.gates, this.metrics, () => {
      // A run holding at a gate is listed as awaiting approval; the next step then sets its own stage.
      if (this.gates.pendingApproval) this.steps.setStage(AWAITING_APPROVAL_STAGE);
      this.steps.publish();
    });
    this.gates.onAwaitingApproval = (gate, description) =>
      this.notify(
        'awaiting-approval',
        `awaiting approval of ${gate}: ${description}`,
        spec.plan.find((p) => p.id === gate)?.title,
      );
    this.steps.extraDetails = () => [...this.gateLines(), ...this.deadlineLines()];
  }

  /** Runs the strategy body; on failure or abort compensates, records the outcome, and rethrows. */
  async execute<T>(body: () => Promise<T>): Promise<T> {
    try {
      const result = await body();
      this.steps.state = 'completed';
      this.steps.setStage('completed');
      this.steps.publish();
      this.metrics.upgradeEnded('completed', this.carried.startedAt);
      this.notify('completed', 'the upgrade completed');
      await this.reportToFleet('completed');
      await condition(allHandlersFinished);
      await this.notifier.settled();
      return result;
    } catch (err) {
      if (err instanceof ContinueAsNew) throw err;
      const aborted = isCancellation(err) || (err instanceof ApplicationFailure && err.type === ABORTED_ERROR_TYPE);
      const current = this.steps.current;
      const failedAt = current ? `step ${this.steps.steps.indexOf(current) + 1} "${current.title}"` : undefined;
      if (current) this.steps.mark(current.id, current.title, 'failed', describe(err));
      await CancellationScope.nonCancellable(() => this.compensate());
      const outcome = aborted ? 'aborted' : 'failed';
      this.steps.state = outcome;
      this.steps.waiting = undefined;
      this.steps.setStage(this.steps.state);
      this.steps.publish();
      this.metrics.upgradeEnded(outcome, this.carried.startedAt, errorType(err));
      this.notify(outcome, `${failedAt ? `${failedAt} failed: ` : ''}${describe(err)}`, current?.title);
      const failure = aborted ? err : forOperators(err, failedAt);
      await this.reportToFleet(outcome, describe(failure));
      await this.notifier.settled();
      throw failure;
    }
  }

  /**
   * A run started by a fleet (workflows/fleet-upgrade.ts) tells it how it ended, by the fleet's workflow id:
   * the signal reaches the fleet's current run, also after it continued as new and no longer holds this
   * child's handle. A run with no parent (every run started on its own) sends nothing.
   */
  private async reportToFleet(outcome: MemberReport['outcome'], error?: string): Promise<void> {
    const parent = workflowInfo().parent;
    if (!parent) return;
    const observed = observedStatus(this);
    const report: MemberReport = {
      workflowId: workflowInfo().workflowId,
      outcome,
      ...(error ? { error } : {}),
      ...(observed ? { observed } : {}),
    };
    try {
      await CancellationScope.nonCancellable(() =>
        getExternalWorkflowHandle(parent.workflowId).signal(memberDoneSignal, report),
      );
    } catch (err) {
      // A fleet that is gone (terminated) cannot hear it; the upgrade's own outcome stands.
      log.warn('could not tell the fleet how this upgrade ended', { fleet: parent.workflowId, error: describe(err) });
    }
  }

  /**
   * One step of the runbook. A step already finished in an earlier run (before continue-as-new) is not
   * run again: its recorded result is returned and its undo registered.
   */
  async step<T>(step: Step, fn: () => Promise<T>, opts: StepOptions<T> = {}): Promise<T> {
    const { id } = step;
    const title = this.titleOf(step);
    // The plan says which steps are undone; code that disagrees is a bug: fail the task, a fixed worker goes on.
    if (!!step.undo !== !!opts.undo)
      throw new Error(`step "${id}": the plan ${step.undo ? 'undoes it' : 'has no undo for it'}, the code disagrees`);
    const done = this.steps.find(id);
    if (done?.state === 'done' && id in this.carried.results) {
      const result = this.carried.results[id] as T;
      this.registerUndo(step, result, opts);
      return result;
    }
    if (step.gate) await this.gates.approval(id, opts.approval ?? step.gate.why, step.gate.alsoAccepts);
    await this.gates.checkpoint();
    this.steps.mark(id, title, 'running');
    const result = await fn();
    this.carried.results[id] = result === undefined ? null : result;
    this.steps.waiting = undefined;
    this.steps.mark(id, title, 'done');
    this.registerUndo(step, result, opts);
    return result;
  }

  /** Whether this run's plan has the step (plans change with workflow patches; see `plannedSteps`). */
  takes(step: Step): boolean {
    return this.spec.plan.some((p) => p.id === step.id);
  }

  /** Marks a planned step that this run does not need (e.g. no release to install), with the reason. */
  skip(step: Step, reason: string): void {
    this.steps.mark(step.id, this.titleOf(step), 'skipped', reason);
  }

  private titleOf(step: Step): string {
    const planned = this.spec.plan.find((p) => p.id === step.id);
    // A step outside this run's plan is a bug in the strategy: fail the workflow task, so a fixed worker can go on.
    if (!planned) throw new Error(`step "${step.id}" is not in the plan of ${this.spec.strategy} for this input`);
    return planned.title;
  }

  /** Says what the running step is doing now (shown in the status query and the UI). */
  note(detail: string): void {
    const current = this.steps.current;
    if (current) this.steps.note(current.id, detail);
  }

  /** A value computed once per upgrade and kept across continue-as-new (a deadline, a generated name). */
  remember<T>(key: string, compute: () => T): T {
    if (!(key in this.carried.remembered)) this.carried.remembered[key] = compute();
    return this.carried.remembered[key] as T;
  }

  /**
   * A name of this upgrade's own (a key id, a backup tag), fixed for the whole upgrade: made from the random
   * tail of its first run id. Not from the head: on servers that hand out UUIDv7 run ids the head is a
   * timestamp, so runs started within a minute of each other would share it (and find each other's keys).
   */
  uniqueName(key: string, make: (nonce: string) => string): string {
    return this.remember(key, () => make(workflowInfo().firstExecutionRunId.replace(/-/g, '').slice(-12)));
  }

  /** A value remembered earlier, if any; never computes one (for the status query, which changes nothing). */
  recalled<T>(key: string): T | undefined {
    return this.carried.remembered[key] as T | undefined;
  }

  /** Continues as new with the same input and everything this run knows. Never returns. */
  async continueAsNew(): Promise<never> {
    await condition(allHandlersFinished);
    await this.notifier.settled();
    const state: CarriedState = {
      ...this.carried,
      continuedAsNew: this.carried.continuedAsNew + 1,
      steps: this.steps.steps,
      gates: this.gates.state(),
    };
    log.info('continuing as new to keep the history bounded', { historyLength: workflowInfo().historyLength });
    return continueAsNew<(input: unknown, carried?: CarriedState) => Promise<unknown>>(this.input, state);
  }

  status(): UpgradeStatus {
    const status = this.steps.snapshot({
      strategy: this.spec.strategy,
      continuedAsNew: this.carried.continuedAsNew,
      startedAt: this.carried.startedAt,
    });
    if (status.state === 'running') {
      if (this.gates.pause) status.state = 'paused';
      else if (this.gates.pendingApproval) status.state = 'awaiting-approval';
      else if (this.steps.waiting) status.state = 'waiting';
    }
    const observed = observedStatus(this);
    const deadline = this.deadline?.status(this.steps.state === 'running');
    return {
      ...status,
      ...(observed ? { observed } : {}),
      ...(deadline ? { deadline } : {}),
      pendingApproval: this.gates.pendingApproval,
      pause: this.gates.pause,
      abortRequested: this.gates.abortRequested,
    };
  }

  /**
   * Holds the run to the input's deadline (workflows/common/deadline.ts): reads the network's pace once (kept
   * across continue-as-new), then every publish of the run's details projects its finish again, and a timer
   * looks once more when the deadline passes.
   */
  async watchDeadline(
    strategy: StrategyName,
    targets: { deadline?: string; networkRpcUrl?: string; relayRpcUrl?: string },
  ): Promise<void> {
    const rpcUrl = targets.networkRpcUrl ?? targets.relayRpcUrl;
    if (!targets.deadline || !rpcUrl || !deadlineWatched(this.carried.remembered)) return;
    let pace = this.recalled<ChainPace | null>('deadline-pace');
    if (pace === undefined) {
      const { chain, network } = this.spec.identity;
      pace = (await readPace({ chain, network, rpcUrl })) ?? null;
      this.remember('deadline-pace', () => pace);
    }
    this.deadline = new DeadlineWatch(
      targets.deadline,
      strategy,
      pace ?? undefined,
      this.carried.startedAt,
      this.carried.remembered,
      (s) => {
        this.metrics.fellBehindDeadline();
        this.notify(
          'deadline-at-risk',
          `behind the deadline ${s.at}: projected finish ${s.projectedFinish ?? 'unknown'}`,
        );
      },
    );
    this.deadline.lookAtDeadline(() => this.steps.publish());
    this.steps.publish();
  }

  /** Tells the worker's webhooks (if any) about this run; never waits and never fails the run. */
  notify(kind: NotificationKind, message: string, step?: string): void {
    this.notifier.send(kind, {
      validators: [this.spec.identity.validator],
      strategy: this.spec.strategy,
      step,
      message,
    });
  }

  private registerUndo<T>(step: Step, result: T, opts: StepOptions<T>): void {
    const undo = opts.undo;
    if (undo && step.undo) this.undos.push({ stepId: step.id, title: step.undo, run: () => undo(result) });
  }

  /** Undoes finished steps, newest first. A failed undo stops the chain: what is left needs a person. */
  private async compensate(): Promise<void> {
    this.compensating = true;
    while (this.undos.length > 0) {
      const undo = this.undos.pop()!;
      const id = `undo-${undo.stepId}`;
      this.steps.mark(id, undo.title, 'compensating');
      try {
        await undo.run();
        this.steps.mark(id, undo.title, 'compensated');
      } catch (err) {
        this.steps.mark(id, undo.title, 'failed', `compensation failed, needs an operator: ${describe(err)}`);
        log.error('compensation failed; leaving the rest for an operator', { step: undo.stepId, error: describe(err) });
        return;
      }
    }
  }

  private deadlineLines(): string[] {
    return this.deadline ? [DeadlineWatch.line(this.deadline.check(this.steps.state === 'running'))] : [];
  }

  private gateLines(): string[] {
    const lines: string[] = [];
    if (this.gates.pendingApproval)
      lines.push(
        `Awaiting approval of **${this.gates.pendingApproval.gate}**: ${this.gates.pendingApproval.description}`,
      );
    if (this.gates.pause) lines.push(`Paused${this.gates.pause.by ? ` by ${this.gates.pause.by}` : ''}`);
    if (this.gates.abortRequested) lines.push(`Abort requested: ${this.gates.abortRequested.reason}`);
    return lines;
  }
}

/**
 * Starts the frame of an upgrade: refuses a workflow id that does not match the validator (the id is what
 * keeps two upgrades of one validator from running at once), tags the run with search attributes, and
 * installs the status query and the gates.
 */
export function beginUpgrade(spec: UpgradeSpec, input: unknown, carried?: CarriedState): UpgradeRun {
  const expectedId = upgradeWorkflowId(spec.identity);
  const { workflowId } = workflowInfo();
  if (workflowId !== expectedId)
    throw ApplicationFailure.nonRetryable(
      `workflow id must be "${expectedId}" (one upgrade per validator at a time), not "${workflowId}"`,
      'InvalidWorkflowId',
    );
  upsertSearchAttributes([
    { key: UpgradeChain, value: spec.identity.chain },
    { key: UpgradeNetwork, value: spec.identity.network },
    { key: UpgradeValidator, value: spec.identity.validator },
    { key: UpgradeStrategy, value: spec.strategy },
  ]);
  const run = new UpgradeRun(spec, input, carried);
  setHandler(statusQuery, () => run.status(), { description: 'Every step with its state and timestamps' });
  run.gates.install();
  run.steps.publish();
  return run;
}

/**
 * Starts a strategy from the strategy table (src/api/strategies.ts): parses its input in the sandbox (a bad
 * one fails the run at once, naming every wrong field), derives the validator and plans the steps
 * (src/api/plans.ts), then resolves the input's roles against the worker's inventory (the targets) before
 * anything is touched. The targets are fixed for the whole upgrade: kept across continue-as-new, so an
 * inventory edited mid-upgrade never moves a role.
 */
export async function beginStrategy<N extends StrategyName>(
  strategy: N,
  rawInput: unknown,
  carried?: CarriedState,
): Promise<{ run: UpgradeRun<StepOf<N>>; input: ParsedStrategyTargets<N>; steps: (typeof plans)[N]['steps'] }> {
  const spec = strategies[strategy];
  const steps = plans[strategy].steps;
  const known = carried?.remembered.targets;
  // Runs started before inputs named ids carried their targets in the input, and replay as they ran.
  if (known !== undefined || !patched(INVENTORY_TARGETS_PATCH)) {
    const targets = known ?? rawInput;
    const input = parseWorkflowInput(spec.targets, targets, strategy) as ParsedStrategyTargets<N>;
    const run = beginFrame(strategy, input, rawInput, carried);
    run.remember('targets', () => targets);
    run.notifier.webhooksTake(run.recalled<NotificationKind[]>('webhookEvents'));
    await run.watchDeadline(strategy, input);
    return { run, input, steps };
  }
  const request = parseWorkflowInput(spec.input, rawInput, strategy);
  const run = beginFrame(strategy, request, rawInput, carried);
  try {
    const { targets, parsed, webhookEvents } = await resolvedTargets(strategy, rawInput);
    run.remember('targets', () => targets);
    if (webhookEvents) run.remember('webhookEvents', () => webhookEvents);
    run.notifier.webhooksTake(webhookEvents);
    await run.watchDeadline(strategy, parsed);
    return { run, input: parsed, steps };
  } catch (err) {
    // Nothing was touched: the run ends failed, with the reason in its status and metrics.
    run.notifier.webhooksTake(webhookEventsOfRefusal(err));
    return run.execute(() => Promise.reject(err as Error));
  }
}

function beginFrame(
  strategy: StrategyName,
  input: { validator: unknown; manualApproval?: boolean; release?: unknown; releaseB?: unknown; handBack?: boolean },
  rawInput: unknown,
  carried?: CarriedState,
): UpgradeRun {
  const spec = strategies[strategy];
  // A validator written in a second form would be a second workflow id: two hands on one key. Runs started
  // before this rule replay without it.
  const issue = (spec as { identityIssue?: (i: unknown) => IdentityIssue | undefined }).identityIssue?.(input);
  if (issue && patched(CANONICAL_IDENTITY_PATCH))
    throw ApplicationFailure.nonRetryable(
      `invalid input to ${strategy}:\n${describeIdentityIssue(issue)}`,
      INVALID_INPUT_ERROR_TYPE,
    );
  // The table pairs each schema with functions of its own output; TypeScript cannot follow the pairing.
  const identity = (spec.identity as (i: unknown) => ValidatorIdentity)(input);
  const taken = planPatchesTaken(strategy, carried);
  const run = beginUpgrade(
    {
      strategy,
      identity,
      plan: plannedSteps(strategy, input, (id) => taken[id] ?? true),
      manualApproval: input.manualApproval,
      notify: true,
    },
    rawInput,
    carried,
  );
  for (const [id, isTaken] of Object.entries(taken)) run.remember(`patch:${id}`, () => isTaken);
  return run;
}

/**
 * Which of the patches that change the strategy's plan this upgrade takes, decided once and kept across
 * continue-as-new: a run recorded before a patch replays without it; a run that continued as new into a
 * newer worker keeps the old steps if it had begun them.
 */
function planPatchesTaken(strategy: StrategyName, carried?: CarriedState): Record<string, boolean> {
  const taken: Record<string, boolean> = {};
  for (const id of planPatches(strategy)) {
    const known = carried?.remembered[`patch:${id}`];
    if (typeof known === 'boolean') {
      taken[id] = known;
      continue;
    }
    const retired = new Set(retiredSteps(strategy, id).map((s) => s.id));
    const begunRetired = carried?.steps.some((s) => retired.has(s.id) && s.state !== 'pending') ?? false;
    taken[id] = patched(id) && !begunRetired;
  }
  return taken;
}

/** The failure's type for the failed-upgrades metric: an ApplicationFailure's type, else the error's name. */
function errorType(err: unknown): string {
  if (err instanceof ApplicationFailure) return err.type ?? 'ApplicationFailure';
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof ApplicationFailure && cause.type) return cause.type;
  return err instanceof Error ? err.name : 'unknown';
}

/**
 * The failure in one line, as on-call engineers read it: the root cause's type and message, without the
 * SDK's wrappers ("Activity task failed") and without line breaks.
 */
export function describe(err: unknown): string {
  let root: unknown = err;
  while (isTemporalWrapper(root) && root.cause instanceof Error) root = root.cause;
  const type = root instanceof ApplicationFailure ? root.type : undefined;
  const message = (root instanceof Error ? root.message : errorText(root)).replace(/\s*\n\s*/g, '; ');
  return type && type !== 'Error' && !message.startsWith(type) ? `${type}: ${message}` : message;
}

/** An activity's or child's failure only says which call failed; the cause says why. */
function isTemporalWrapper(err: unknown): err is ActivityFailure | ChildWorkflowFailure {
  return err instanceof ActivityFailure || err instanceof ChildWorkflowFailure;
}

/**
 * The run's final failure, which `temporal workflow describe`, the UI and `vup` show: the step and the cause
 * in one line, of the cause's type, with what was thrown kept as its cause. No stack: the workflow's own
 * stack says nothing to an operator (an activity's stays in the worker log).
 */
function forOperators(err: unknown, failedAt: string | undefined): unknown {
  if (err instanceof ApplicationFailure && !failedAt) return err;
  const failure = ApplicationFailure.create({
    message: failedAt ? `${failedAt} failed: ${describe(err)}` : describe(err),
    type: errorType(err),
    nonRetryable: true,
    cause: err instanceof Error ? err : undefined,
  });
  failure.stack = '';
  return failure;
}
