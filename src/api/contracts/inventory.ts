/**
 * The inventory activity's contract: a workflow input (which names a validator, never a host or a signer)
 * in, the targets the workflow runs on out, resolved against the worker's inventory.
 */
import { z } from 'zod';
import { strategies, type StrategyName } from '../strategies.js';
import { activity } from './activity.js';

export const resolveUpgradeTargetsInput = z.strictObject({
  strategy: z.enum(Object.keys(strategies) as [StrategyName, ...StrategyName[]]),
  /** The workflow's input as it was started; the activity checks it against the strategy's input schema. */
  input: z.unknown(),
});

export const inventoryContracts = {
  /** The input's roles, RPCs and signer references, from the worker's inventory as it is now. */
  resolveUpgradeTargets: activity(resolveUpgradeTargetsInput).returns<Record<string, unknown>>(),
};
