/**
 * A fleet on the local NEAR network: `count` staking pools, each validated by its own node, all the nodes on
 * one machine (one sshd, a service each, as a provider packs validators), and the worker's inventory of them
 * all, labelled "fleet". A fleetUpgrade selecting that label moves each pool with nearStopAndRestartUpgrade to
 * the new release (staged once on the machine, no database migration); each is judged by the network's
 * counters (nearBaseline before, settledNearCounters after, by account).
 *
 *   const fleet = await startNearFleetScenario(3);
 *   fleet.accounts;                 // ['fleet-1.poolv1.near', …]
 *   fleet.inventory;                // the worker's inventory: hosts, nodes, validators fleet-1…
 *   fleet.release;                  // { staged, sha256, version } for the fleet's targets.near.release
 *   await fleet.bed.stop();
 */
import type { Inventory } from '../../src/config/inventory.js';
import { NO_PERFORMANCE_KICKOUTS } from '../near/index.js';
import { launchNearTestbed, startNearTestbed, startTestbedService, type NearTestbed } from '../testbeds/near.js';
import { fleetInventory, inventoryForTargets } from '../testbeds/targets-inventory.js';
import { NEAR_SCENARIO_OTHER_VALIDATORS, nodeInput } from './near.js';

export const FLEET_LABEL = 'fleet';
const HOST = 'val-a';
/** The old release's database version, which the new one opens as it is. */
const DB_VERSION = 41;

export interface NearFleetScenario {
  bed: NearTestbed;
  /** The pools, in inventory order (validator ids fleet-1, fleet-2, …; nodes node-1, node-2, …). */
  accounts: string[];
  inventory: Inventory;
  release: { staged: string; sha256: string; version: string };
}

export async function startNearFleetScenario(
  count: number,
  options: { epochLength?: number; blockTimeMs?: number } = {},
): Promise<NearFleetScenario> {
  const accounts = Array.from({ length: count }, (_, i) => `fleet-${i + 1}.poolv1.near`);
  const nodeId = (i: number) => `node-${i + 1}`;
  const bed = await startNearTestbed({
    epochLength: options.epochLength ?? 12,
    blockTimeMs: options.blockTimeMs ?? 150,
    hosts: [HOST],
    validators: accounts.map((accountId) => ({ accountId })),
    otherValidators: NEAR_SCENARIO_OTHER_VALIDATORS,
    nodes: accounts.map((accountId, i) => ({
      id: nodeId(i),
      host: HOST,
      service: `neard-${i + 1}`,
      validator: accountId,
      dbVersion: DB_VERSION,
    })),
    binaries: { new: { dbVersion: DB_VERSION } },
    // Each pool is down for seconds, several of these short epochs; see DOWNTIME_LONGER_THAN_AN_EPOCH in near.ts.
    kickouts: NO_PERFORMANCE_KICKOUTS,
    paused: true,
  });
  try {
    for (let i = 0; i < count; i++) await startTestbedService(bed, nodeId(i));
    await launchNearTestbed(bed);
    const release = bed.binaries.new.release(HOST);
    const parts = accounts.map(
      (accountId, i) =>
        inventoryForTargets(
          'nearStopAndRestartUpgrade',
          {
            validator: { network: 'localnet', accountId },
            networkRpcUrl: bed.rpcUrl,
            node: nodeInput(bed.nodes[nodeId(i)]!),
            release,
            timeouts: { sync: '5 minutes', signing: '5 minutes' },
          },
          { validatorId: `fleet-${i + 1}`, nodeIds: { node: nodeId(i) } },
        ).inventory,
    );
    return { bed, accounts, inventory: fleetInventory(parts, FLEET_LABEL), release };
  } catch (err) {
    await bed.stop();
    throw err;
  }
}
