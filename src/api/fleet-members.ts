/**
 * Which validators of the worker's inventory a fleet upgrades, and each one's child workflow input: the same
 * input `vup start` would send for it (upgradeInputFor), under the same per-validator workflow id. Runs on the
 * worker (the resolveFleetMembers activity): workflow code cannot read the inventory.
 */
import type { Inventory, ValidatorSpec } from '../config/inventory.js';
import type { FleetMember, ParsedFleetInput } from './fleet.js';
import { upgradeWorkflowId, type ValidatorIdentity } from './identity.js';
import { strategies } from './strategies.js';
import { UpgradeRequestError, upgradeInputFor } from './upgrade-request.js';

type Selection = ParsedFleetInput['select'];

export function selectValidators(inventory: Inventory, select: Selection): ValidatorSpec[] {
  for (const id of select.ids ?? []) {
    if (!inventory.validators.some((v) => v.id === id))
      throw new UpgradeRequestError(`select.ids: no validator "${id}" in the worker's inventory`);
  }
  return inventory.validators.filter(
    (v) =>
      (!select.ids || select.ids.includes(v.id)) &&
      (!select.labels || select.labels.every((label) => v.labels?.includes(label))) &&
      (!select.chain || v.chain === select.chain) &&
      (!select.network || v.network === select.network),
  );
}

export function fleetMembers(
  inventory: Inventory,
  input: Pick<ParsedFleetInput, 'select' | 'targets' | 'deadline'>,
): FleetMember[] {
  const selected = selectValidators(inventory, input.select);
  if (selected.length === 0) throw new UpgradeRequestError("select: no validator of the worker's inventory matches");
  return selected.map((v) => {
    const target = input.targets[v.chain];
    if (!target)
      throw new UpgradeRequestError(`targets.${v.chain}: validator "${v.id}" is on ${v.chain}, which has no target`);
    const childInput = upgradeInputFor(inventory, {
      validator: v.id,
      strategy: target.strategy,
      ...(target.release ? { release: target.release } : {}),
      ...(target.manualApproval === undefined ? {} : { manualApproval: target.manualApproval }),
      // Each member is held to the fleet's deadline: its own status, search attribute and notification say when it is late.
      ...(input.deadline ? { deadline: input.deadline } : {}),
    });
    const spec = strategies[target.strategy];
    const parsed = spec.input.parse(childInput);
    const identity = (spec.identity as (i: unknown) => ValidatorIdentity)(parsed);
    return {
      id: v.id,
      chain: v.chain,
      network: v.network,
      validator: identity.validator,
      strategy: target.strategy,
      workflowId: upgradeWorkflowId(identity),
      input: childInput,
      summary: (spec.summary as (i: unknown) => string)(parsed),
    };
  });
}

/** The network RPC of each chain and network the members run on, to read its pace. */
export function fleetNetworks(inventory: Inventory, members: FleetMember[]) {
  const seen = new Map<string, { chain: FleetMember['chain']; network: string; rpcUrl: string }>();
  for (const m of members) {
    const key = `${m.chain}/${m.network}`;
    if (seen.has(key)) continue;
    const v = inventory.validators.find((x) => x.id === m.id)!;
    seen.set(key, { chain: m.chain, network: m.network, rpcUrl: v.networkRpc });
  }
  return [...seen.values()];
}
