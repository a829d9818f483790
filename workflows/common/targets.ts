/**
 * The one call that turns a workflow input (a validator and node ids) into its targets: the worker resolves
 * them against its own inventory (activities/inventory). A validator or node the inventory does not hold
 * fails the run at once (NotInInventory), before anything is touched.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { NotificationKind } from '../../src/api/notifications.js';
import type { createInventoryActivities } from '../../activities/inventory/index.js';
import { strategies, type ParsedStrategyTargets, type StrategyName } from '../../src/api/strategies.js';
import { parseWorkflowInput } from './input.js';
import { readOptions } from './activity-options.js';
import { summarized } from './summaries.js';

const reads = proxyActivities<ReturnType<typeof createInventoryActivities>>(readOptions);

/**
 * The input's targets, resolved by the worker and checked by the strategy's targets schema, and the events
 * the worker's webhooks take (undefined in results recorded before the worker said).
 */
export async function resolvedTargets<N extends StrategyName>(
  strategy: N,
  input: unknown,
): Promise<{
  targets: Record<string, unknown>;
  parsed: ParsedStrategyTargets<N>;
  webhookEvents?: NotificationKind[];
}> {
  const { webhookEvents, ...targets } = await summarized(
    reads.resolveUpgradeTargets,
    "resolve the validator's nodes in the worker's inventory",
  )({ strategy, input });
  const parsed = parseWorkflowInput(strategies[strategy].targets, targets, strategy) as ParsedStrategyTargets<N>;
  return { targets, parsed, ...(webhookEvents ? { webhookEvents } : {}) };
}

/** The events a refusal of the lookup says the worker's webhooks take (its failure's details). */
export function webhookEventsOfRefusal(err: unknown): NotificationKind[] | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  const said = (cause.details?.[0] as { webhookEvents?: unknown } | undefined)?.webhookEvents;
  return Array.isArray(said) ? (said as NotificationKind[]) : undefined;
}

/** The input checked, then its targets resolved (what a read-only workflow such as preflight runs on). */
export async function targetsOf<N extends StrategyName>(
  strategy: N,
  input: unknown,
): Promise<ParsedStrategyTargets<N>> {
  parseWorkflowInput(strategies[strategy].input, input, strategy);
  return (await resolvedTargets(strategy, input)).parsed;
}
