/**
 * The inventory activity's contract: a workflow input (which names a validator, never a host or a signer)
 * in, the targets the workflow runs on out, resolved against the worker's inventory.
 */
import { z } from 'zod';
import { fleetInputFields, type FleetMember } from '../fleet.js';
import type { NotificationKind } from '../notifications.js';
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
  /** The events the worker's webhooks take (absent in fleets resolved before it was told). */
  webhookEvents?: NotificationKind[];
}

/**
 * The targets, and beside them the events the worker's webhooks take (`eventsTaken`: empty when none is
 * configured, so the run schedules no notify activity). Absent in results recorded before it was told; a
 * refusal (NotInInventory, InvalidInput) carries it as its failure's details, `{ webhookEvents }`.
 */
export type ResolvedTargets = Record<string, unknown> & { webhookEvents?: NotificationKind[] };

export const inventoryContracts = {
  /** A fleet's validators from the worker's inventory, each with the child input `vup start` would send. */
  resolveFleetMembers: activity(resolveFleetMembersInput).returns<ResolvedFleet>(),
  /** The input's roles, RPCs and signer references, from the worker's inventory as it is now. */
  resolveUpgradeTargets: activity(resolveUpgradeTargetsInput).returns<ResolvedTargets>(),
};
