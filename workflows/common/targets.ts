/**
 * The one call that turns a workflow input (a validator and node ids) into its targets: the worker resolves
 * them against its own inventory (activities/inventory). A validator or node the inventory does not hold
 * fails the run at once (NotInInventory), before anything is touched.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { createInventoryActivities } from '../../activities/inventory/index.js';
import { strategies, type ParsedStrategyTargets, type StrategyName } from '../../src/api/strategies.js';
import { parseWorkflowInput } from './input.js';
import { readOptions } from './activity-options.js';
import { summarized } from './summaries.js';

const reads = proxyActivities<ReturnType<typeof createInventoryActivities>>(readOptions);

/** The input's targets, resolved by the worker and checked by the strategy's targets schema. */
export async function resolvedTargets<N extends StrategyName>(
  strategy: N,
  input: unknown,
): Promise<{ targets: Record<string, unknown>; parsed: ParsedStrategyTargets<N> }> {
  const targets = await summarized(
    reads.resolveUpgradeTargets,
    "resolve the validator's nodes in the worker's inventory",
  )({ strategy, input });
  const parsed = parseWorkflowInput(strategies[strategy].targets, targets, strategy) as ParsedStrategyTargets<N>;
  return { targets, parsed };
}

/** The input checked, then its targets resolved (what a read-only workflow such as preflight runs on). */
export async function targetsOf<N extends StrategyName>(
  strategy: N,
  input: unknown,
): Promise<ParsedStrategyTargets<N>> {
  parseWorkflowInput(strategies[strategy].input, input, strategy);
  return (await resolvedTargets(strategy, input)).parsed;
}
