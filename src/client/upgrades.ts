/**
 * The client SDK for other services: start an upgrade, read its status, and act on it, with the same
 * rules the CLI and the Temporal UI follow (input validated before anything is sent, one upgrade per
 * validator, search attributes set at start).
 *
 *   const client = new Client({ connection: await Connection.connect(config.connectionOptions) });
 *   const { workflowId } = await startUpgrade(client, 'nearZeroDowntimeUpgrade', input);
 *   await approve(client, workflowId, 'stake-new-key', { by: 'ops-bot' });
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import {
  DEFAULT_TASK_QUEUE,
  upgradeIdPolicy,
  upgradeWorkflowId,
  type IdentityIssue,
  type ValidatorIdentity,
} from '../api/identity.js';
import {
  abortSignal,
  approveUpdate,
  pauseSignal,
  resumeSignal,
  statusQuery,
  type ApproveResult,
} from '../api/messages.js';
import {
  UpgradeChain,
  UpgradeNetwork,
  UpgradeStage,
  UpgradeStrategy,
  UpgradeValidator,
} from '../api/search-attributes.js';
import type { UpgradeStatus } from '../api/status.js';
import { isStrategyName, strategies, type StrategyInput, type StrategyName } from '../api/strategies.js';

/** The input was refused before anything reached Temporal; `problems` name each field. */
export class InvalidUpgradeInput extends Error {
  constructor(
    readonly strategy: string,
    readonly problems: string[],
  ) {
    super(`invalid ${strategy} input:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'InvalidUpgradeInput';
  }
}

/** Another upgrade of the same validator is running; only one may hold its keys at a time. */
export class UpgradeAlreadyRunning extends Error {
  constructor(readonly workflowId: string) {
    super(`an upgrade of this validator is already running (${workflowId}); wait for it, or abort it first`);
    this.name = 'UpgradeAlreadyRunning';
  }
}

export interface StartedUpgrade {
  workflowId: string;
  runId: string;
  identity: ValidatorIdentity;
}

/** Validates the input against the strategy's schema and derives the validator's identity from it. */
export function checkUpgradeInput<N extends StrategyName>(strategy: N, input: unknown) {
  if (!isStrategyName(strategy)) throw new InvalidUpgradeInput(strategy, [`unknown strategy "${String(strategy)}"`]);
  const spec = strategies[strategy];
  const parsed = spec.input.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${z.core.toDotPath(i.path) || '(input)'}: ${i.message}`);
    throw new InvalidUpgradeInput(strategy, problems);
  }
  // The table pairs each schema with functions of its own output; TypeScript cannot follow the pairing.
  const issue = (spec as { identityIssue?: (i: unknown) => IdentityIssue | undefined }).identityIssue?.(parsed.data);
  if (issue) throw new InvalidUpgradeInput(strategy, [`${issue.path}: ${issue.message}`]);
  const identity = (spec.identity as (i: unknown) => ValidatorIdentity)(parsed.data);
  const summary = (spec.summary as (i: unknown) => string)(parsed.data);
  return { identity, summary, workflowId: upgradeWorkflowId(identity) };
}

export async function startUpgrade<N extends StrategyName>(
  client: Client,
  strategy: N,
  input: StrategyInput<N>,
  options: { taskQueue?: string } = {},
): Promise<StartedUpgrade> {
  const { identity, summary, workflowId } = checkUpgradeInput(strategy, input);
  try {
    const handle = await client.workflow.start(strategy, {
      args: [input],
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowId,
      ...upgradeIdPolicy(),
      staticSummary: summary,
      typedSearchAttributes: [
        { key: UpgradeChain, value: identity.chain },
        { key: UpgradeNetwork, value: identity.network },
        { key: UpgradeValidator, value: identity.validator },
        { key: UpgradeStrategy, value: strategy },
      ],
    });
    return { workflowId, runId: handle.firstExecutionRunId, identity };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new UpgradeAlreadyRunning(workflowId);
    throw err;
  }
}

export function getStatus(client: Client, workflowId: string): Promise<UpgradeStatus> {
  return client.workflow.getHandle(workflowId).query(statusQuery);
}

export function approve(
  client: Client,
  workflowId: string,
  gate: string,
  who: { by?: string; note?: string } = {},
): Promise<ApproveResult> {
  return client.workflow.getHandle(workflowId).executeUpdate(approveUpdate, { args: [{ gate, ...who }] });
}

export function pause(client: Client, workflowId: string, who: { by?: string; reason?: string } = {}) {
  return client.workflow.getHandle(workflowId).signal(pauseSignal, who);
}

export function resume(client: Client, workflowId: string, who: { by?: string; reason?: string } = {}) {
  return client.workflow.getHandle(workflowId).signal(resumeSignal, who);
}

export function abort(client: Client, workflowId: string, why: { reason: string; by?: string }) {
  return client.workflow.getHandle(workflowId).signal(abortSignal, why);
}

export interface UpgradeFilter {
  chain?: string;
  network?: string;
  validator?: string;
  strategy?: string;
  stage?: string;
  /** Only runs that are still open. */
  running?: boolean;
}

export interface UpgradeSummary {
  workflowId: string;
  runId: string;
  strategy?: string;
  chain?: string;
  network?: string;
  validator?: string;
  stage?: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
}

/** A visibility query for the filter; values are quoted, so no filter value can change the query. */
export function upgradeListQuery(filter: UpgradeFilter): string {
  const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const terms = [
    `${UpgradeStrategy.name} IS NOT NULL`,
    ...(
      [
        [UpgradeChain.name, filter.chain],
        [UpgradeNetwork.name, filter.network],
        [UpgradeValidator.name, filter.validator],
        [UpgradeStrategy.name, filter.strategy],
        [UpgradeStage.name, filter.stage],
      ] as const
    )
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `${name} = ${quote(value!)}`),
  ];
  if (filter.running) terms.push('ExecutionStatus = "Running"');
  return terms.join(' AND ');
}

export async function listUpgrades(client: Client, filter: UpgradeFilter = {}, limit = 100): Promise<UpgradeSummary[]> {
  const found: UpgradeSummary[] = [];
  for await (const info of client.workflow.list({ query: upgradeListQuery(filter) })) {
    found.push(summarize(info));
    if (found.length >= limit) break;
  }
  return found;
}

function summarize(info: WorkflowExecutionInfo): UpgradeSummary {
  const get = (key: typeof UpgradeChain) => info.typedSearchAttributes.get(key);
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    strategy: get(UpgradeStrategy),
    chain: get(UpgradeChain),
    network: get(UpgradeNetwork),
    validator: get(UpgradeValidator),
    stage: get(UpgradeStage),
    status: info.status.name,
    startTime: info.startTime,
    closeTime: info.closeTime,
  };
}
