/**
 * Fleets in the client SDK: plan, start, read and steer a fleet upgrade (workflows/fleet-upgrade.ts) with the
 * rules the CLI follows: the input checked before anything is sent, one fleet of a name at a time, approvals
 * that carry who approves.
 *
 *   const plan = await planFleet(client, input);                  // waves, projected finish, deadline
 *   await startFleet(client, input, { by: 'ops-bot' });
 *   await approveFleet(client, 'fleet-eu-2-4', 'wave-2', { by: 'alice' });
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import {
  FLEET_WORKFLOW_TYPE,
  fleetInputFields,
  fleetInputSchema,
  fleetWorkflowId,
  type FleetApproveResult,
  type FleetInput,
  type FleetStatus,
} from '../api/fleet.js';
import { DEFAULT_TASK_QUEUE } from '../api/identity.js';
import { statusQuery, fleetApproveUpdate, fleetSkipUpdate, fleetStatusQuery } from '../api/messages.js';
import { InvalidUpgradeInput, UpgradeAlreadyRunning } from './upgrades.js';

/** What fleetUpgrade returns (workflows/fleet-upgrade.ts FleetResult), as clients see it. */
interface FleetOutcome {
  plan?: FleetStatus;
}

export function checkFleetInput(input: FleetInput, options: { fieldsOnly?: boolean } = {}) {
  // fieldsOnly: each field alone, for an input read before the starter (--by) is filled in.
  const parsed = (options.fieldsOnly ? fleetInputFields : fleetInputSchema).safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${z.core.toDotPath(i.path) || '(input)'}: ${i.message}`);
    throw new InvalidUpgradeInput(FLEET_WORKFLOW_TYPE, problems);
  }
  return parsed.data;
}

/** The fleet's id from its name or id. */
export function fleetIdOf(nameOrId: string): string {
  return nameOrId.startsWith('fleet-') ? nameOrId : fleetWorkflowId(nameOrId);
}

/**
 * Asks the worker what the fleet would do, touching nothing: the members its inventory selects, the waves,
 * the projected finish from the networks' observed epoch or session lengths, and whether the deadline holds.
 */
export async function planFleet(
  client: Client,
  input: FleetInput,
  options: { taskQueue?: string } = {},
): Promise<FleetStatus> {
  const planned = { ...input, planOnly: true };
  const checked = checkFleetInput(planned);
  const outcome = (await client.workflow.execute(FLEET_WORKFLOW_TYPE, {
    args: [planned],
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: `fleet-plan-${checked.name}-${randomUUID().slice(0, 8)}`,
    staticSummary: `plan of fleet ${checked.name}`,
  })) as FleetOutcome;
  return outcome.plan!;
}

/** Why a plan should not start: its projected finish is past its deadline (or it cannot be projected). */
export function deadlineProblem(plan: FleetStatus): string | undefined {
  if (!plan.deadline) return undefined;
  if (!plan.projectedFinish)
    return `the finish cannot be projected (no pace read for a network) and the deadline is ${plan.deadline.at}`;
  if (plan.deadline.behind) return `projected finish ${plan.projectedFinish} is past the deadline ${plan.deadline.at}`;
  return undefined;
}

export async function startFleet(
  client: Client,
  input: FleetInput,
  options: { taskQueue?: string; by?: string } = {},
): Promise<{ workflowId: string; runId: string }> {
  const withStarter = { ...input, ...(options.by && !input.startedBy ? { startedBy: options.by } : {}) };
  const checked = checkFleetInput(withStarter);
  const workflowId = fleetWorkflowId(checked.name);
  try {
    const handle = await client.workflow.start(FLEET_WORKFLOW_TYPE, {
      args: [withStarter],
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowId,
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `fleet ${checked.name}${withStarter.startedBy ? ` started by ${withStarter.startedBy}` : ''}`,
    });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new UpgradeAlreadyRunning(workflowId);
    throw err;
  }
}

/**
 * The fleet's status; with `steps`, each running member's current step read from its own upgrade's status
 * (the fleet itself knows when members start and end, not their steps).
 */
export async function fleetStatus(
  client: Client,
  nameOrId: string,
  options: { steps?: boolean } = {},
): Promise<FleetStatus> {
  const status = await client.workflow.getHandle(fleetIdOf(nameOrId)).query(fleetStatusQuery);
  if (options.steps) {
    await Promise.all(
      status.members
        .filter((m) => m.state === 'running')
        .map(async (m) => {
          const child = await client.workflow
            .getHandle(m.workflowId)
            .query(statusQuery)
            .catch(() => undefined);
          const step = child?.steps.find((s) => s.id === child.currentStep);
          if (step) m.step = step.title;
          else if (child?.pendingApproval) m.step = `awaiting approval of ${child.pendingApproval.gate}`;
        }),
    );
  }
  return status;
}

/** Approves the gate the fleet waits at; `by` is required: a fleet may need several distinct approvers. */
export function approveFleet(
  client: Client,
  nameOrId: string,
  gate: string,
  who: { by: string; note?: string },
): Promise<FleetApproveResult> {
  return client.workflow.getHandle(fleetIdOf(nameOrId)).executeUpdate(fleetApproveUpdate, { args: [{ gate, ...who }] });
}

/** Leaves a member out: one not started yet, or a running one the fleet should stop waiting for (not aborted). */
export function skipFleetMember(
  client: Client,
  nameOrId: string,
  validator: string,
  who: { by?: string; reason?: string } = {},
) {
  return client.workflow
    .getHandle(fleetIdOf(nameOrId))
    .executeUpdate(fleetSkipUpdate, { args: [{ validator, ...who }] });
}
// pause, resume and abort of a fleet are the single upgrade's (upgrades.ts), given the fleet's id (fleetIdOf).
