/**
 * The worker's inventory at the activity boundary. `resolveUpgradeTargets` turns a workflow input (which
 * names a validator, never a host or a signer) into the targets the workflow runs on; `withinInventory`
 * makes every other activity refuse a host or a signer reference that is not the inventory's, so nothing a
 * workflow was handed reaches a machine or a key unless the worker's own file lists it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { InventoryFailureType } from '../../src/api/contracts/failures.js';
import { inventoryContracts } from '../../src/api/contracts/inventory.js';
import { strategies } from '../../src/api/strategies.js';
import { resolveUpgradeTargets, UpgradeRequestError } from '../../src/api/upgrade-request.js';
import { fleetMembers, fleetNetworks } from '../../src/api/fleet-members.js';
import { hostNotInInventory, signerNotInInventory, type InventorySource } from '../../src/config/inventory-source.js';
import { eventsTaken } from '../../src/config/notifications.js';
import { resolveNearSigner, type NearSignerResolver } from '../../src/secrets/near-signer.js';
import { resolveSubstrateSigner, type SubstrateSignerResolver } from '../../src/secrets/substrate-signer.js';
import { SignerError } from '../../src/secrets/errors.js';
import type { SshConnectionProvider } from '../../src/ssh/connection.js';
import { HostError } from '../../src/ssh/errors.js';
import { implement } from '../contract.js';

const NOT_IN_INVENTORY: InventoryFailureType = 'NotInInventory';
const INVALID_INPUT: InventoryFailureType = 'InvalidInput';

export interface InventoryActivityDeps {
  /** The worker's inventory; without one, nothing resolves. */
  inventory?: InventorySource;
}

export function createInventoryActivities(deps: InventoryActivityDeps) {
  return implement(inventoryContracts, {
    // Async as every activity is (the worker awaits it); the resolution itself reads memory only.
    // eslint-disable-next-line @typescript-eslint/require-await
    resolveUpgradeTargets: async ({ strategy, input }) => {
      // Said on a refusal too: the refused run's failure goes to the webhooks only if one takes it.
      const webhookEvents = eventsTaken(deps.inventory?.current().notifications?.webhooks ?? []);
      const refuse = (message: string, type: InventoryFailureType) =>
        ApplicationFailure.create({ message, type, nonRetryable: true, details: [{ webhookEvents }] });
      const parsed = strategies[strategy].input.safeParse(input);
      if (!parsed.success)
        throw refuse(`invalid input to ${strategy}:\n${z.prettifyError(parsed.error)}`, INVALID_INPUT);
      if (!deps.inventory)
        throw refuse('this worker has no inventory (VUP_INVENTORY): it cannot resolve any validator', NOT_IN_INVENTORY);
      try {
        const targets = resolveUpgradeTargets(deps.inventory.current(), strategy, input as Record<string, unknown>);
        return { ...targets, webhookEvents };
      } catch (err) {
        if (err instanceof UpgradeRequestError) throw refuse(err.message, NOT_IN_INVENTORY);
        throw err;
      }
    },
    // eslint-disable-next-line @typescript-eslint/require-await
    resolveFleetMembers: async (selection) => {
      if (!deps.inventory) {
        throw ApplicationFailure.nonRetryable(
          'this worker has no inventory (VUP_INVENTORY): it cannot select a fleet',
          NOT_IN_INVENTORY,
        );
      }
      const inventory = deps.inventory.current();
      try {
        const members = fleetMembers(inventory, selection);
        const webhookEvents = eventsTaken(inventory.notifications?.webhooks ?? []);
        return { members, networks: fleetNetworks(inventory, members), webhookEvents };
      } catch (err) {
        if (err instanceof UpgradeRequestError) throw ApplicationFailure.nonRetryable(err.message, NOT_IN_INVENTORY);
        if (err instanceof z.ZodError)
          throw ApplicationFailure.nonRetryable(`a member's input is invalid: ${z.prettifyError(err)}`, INVALID_INPUT);
        throw err;
      }
    },
  });
}

export interface GuardedDeps {
  connections: SshConnectionProvider;
  resolveNearSigner?: NearSignerResolver;
  resolveSubstrateSigner?: SubstrateSignerResolver;
}

/** The same dependencies, refusing any host or signer that the inventory does not list exactly so. */
export function withinInventory<D extends GuardedDeps>(deps: D, source: InventorySource): D {
  const near = deps.resolveNearSigner ?? resolveNearSigner;
  const substrate = deps.resolveSubstrateSigner ?? resolveSubstrateSigner;
  const refuseSigner = (spec: Parameters<NearSignerResolver>[0]) => {
    const why = signerNotInInventory(source.current(), spec);
    if (why) throw new SignerError('NotInInventory', why);
  };
  return {
    ...deps,
    connections: {
      get: async (host) => {
        const why = hostNotInInventory(source.current(), host);
        if (why) throw new HostError('NotInInventory', why);
        return deps.connections.get(host);
      },
    },
    resolveNearSigner: async (spec, context) => {
      refuseSigner(spec);
      return near(spec, context);
    },
    resolveSubstrateSigner: async (spec, context) => {
      refuseSigner(spec);
      return substrate(spec, context);
    },
  };
}
