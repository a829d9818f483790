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

export function resolveTargets(strategy: StrategyName, input: unknown): Promise<Record<string, unknown>> {
  return summarized(
    reads.resolveUpgradeTargets,
    "resolve the validator's nodes in the worker's inventory",
  )({
    strategy,
    input,
  });
}

/** The input checked, then its targets resolved and parsed (what a read-only workflow such as preflight runs on). */
export async function targetsOf<N extends StrategyName>(
  strategy: N,
  input: unknown,
): Promise<ParsedStrategyTargets<N>> {
  parseWorkflowInput(strategies[strategy].input, input, strategy);
  const targets = await resolveTargets(strategy, input);
  return parseWorkflowInput(strategies[strategy].targets, targets, strategy) as ParsedStrategyTargets<N>;
}
