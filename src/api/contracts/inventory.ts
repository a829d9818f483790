/**
 * The inventory activity's contract: a workflow input (which names a validator, never a host or a signer)
 * in, the targets the workflow runs on out, resolved against the worker's inventory.
 */
import { z } from 'zod';
import { fleetInputFields, type FleetMember } from '../fleet.js';
import { strategies, type StrategyName } from '../strategies.js';
import { activity } from './activity.js';

export const resolveUpgradeTargetsInput = z.strictObject({
  strategy: z.enum(Object.keys(strategies) as [StrategyName, ...StrategyName[]]),
  /** The workflow's input as it was started; the activity checks it against the strategy's input schema. */
  input: z.unknown(),
});

export const resolveFleetMembersInput = fleetInputFields.pick({ select: true, targets: true, deadline: true });

export interface ResolvedFleet {
  members: FleetMember[];
  /** Each chain and network the members run on, with its network RPC (to read its pace). */
  networks: { chain: FleetMember['chain']; network: string; rpcUrl: string }[];
}

export const inventoryContracts = {
  /** A fleet's validators from the worker's inventory, each with the child input `vup start` would send. */
  resolveFleetMembers: activity(resolveFleetMembersInput).returns<ResolvedFleet>(),
  /** The input's roles, RPCs and signer references, from the worker's inventory as it is now. */
  resolveUpgradeTargets: activity(resolveUpgradeTargetsInput).returns<Record<string, unknown>>(),
};
