/**
 * A fleet of N NEAR validators for `fleetUpgrade`, each upgraded with nearStopAndRestartUpgrade on its own
 * machine, the machines and the chain in memory at the activity boundary (devnet/timed's simulation), all on
 * one chain whose blocks every sim shares. The machines are grouped onto shared hosts (one host, many
 * services), as a provider packs validators. One inventory holds them all: the fleet selects its members
 * from it and each member resolves its node from it, through the real inventory activities.
 *
 * The bench process builds the fleet input and the worker process the activities from the same function, so
 * both hold the same inventory without passing it around.
 */
import { Context } from '@temporalio/activity';
import { createInventoryActivities } from '../../activities/inventory/index.js';
import { createNotifyActivities } from '../../activities/notify/index.js';
import type { FleetInput } from '../../src/api/fleet.js';
import type { Inventory } from '../../src/config/inventory.js';
import { staticInventory } from '../../src/config/inventory-source.js';
import { fleetInventory, inventoryForTargets } from '../testbeds/targets-inventory.js';
import { nearTimedSim, releaseText, sha256, type SimRelease } from '../timed/near-timed-sim.js';
import type { SharedChain } from './waiting-fleet.js';

const OLD: SimRelease = { version: '2.3.0', dbVersion: 41 };
/** Same database version: no migration to sit out, so a member's length is the restart and its checks. */
const NEW: SimRelease = { version: '2.4.0', dbVersion: 41 };
const STAGED = '/var/tmp/neard-2.4.0';
/** Validators packed per host (a service each). */
const PER_HOST = 10;

export const fleetAccount = (i: number) => `fleet-${i}.poolv1.near`;

function memberSim(i: number, chain: SharedChain) {
  const sim = nearTimedSim({
    accountId: fleetAccount(i),
    epochLength: chain.epochLength,
    blockTimeMs: chain.blockTimeMs,
    genesisMs: chain.genesisMs,
    now: () => Promise.resolve(Date.now()),
    initialKey: `ed25519:sim-${i}`,
    ownerSignerId: 'pool-owner',
    staged: { [STAGED]: NEW },
    nodes: [
      {
        id: `n${i}`,
        host: `host-${Math.floor(i / PER_HOST)}`,
        home: `/srv/near-${i}`,
        service: `neard-${i}`,
        binary: `/opt/neard-${i}/neard`,
        release: OLD,
        key: `ed25519:sim-${i}`,
        running: true,
        syncMs: 0,
      },
    ],
  });
  return sim;
}

/** The inventory of every member (hosts listed once, however many validators share them). */
function benchInventory(n: number, chain: SharedChain): Inventory {
  const parts = Array.from({ length: n }, (_, i) => {
    const sim = memberSim(i, chain);
    return inventoryForTargets(
      'nearStopAndRestartUpgrade',
      {
        validator: { network: 'mainnet', accountId: fleetAccount(i) },
        networkRpcUrl: 'http://rpc.sim:3030',
        node: sim.ref(`n${i}`),
        release: { staged: STAGED, sha256: sha256(releaseText(NEW)) },
      },
      { validatorId: `fleet-v${i}`, nodeIds: { node: `fleet-n${i}` } },
    ).inventory;
  });
  return fleetInventory(parts, 'bench');
}

/** The fleet's input: every member, a canary, then waves of a fifth of the fleet. */
export function benchFleetInput(name: string, overrides: Partial<FleetInput> = {}): FleetInput {
  return {
    name,
    select: { labels: ['bench'] },
    targets: {
      near: {
        strategy: 'nearStopAndRestartUpgrade',
        release: { staged: STAGED, sha256: sha256(releaseText(NEW)), version: NEW.version },
      },
    },
    canary: 5,
    waveSize: '20%',
    maxConcurrent: 50,
    ...overrides,
  };
}

type ActivityFn = (...args: unknown[]) => Promise<unknown>;

/**
 * The worker's activities: the inventory and notifier for real (no webhooks), every machine and chain call
 * to the sim of the member whose run made it (by workflow id); the fleet's own pace read goes to the first.
 */
export function benchFleetActivities(n: number, chain: SharedChain) {
  const inventory = staticInventory(benchInventory(n, chain));
  const sims = new Map<number, ReturnType<typeof memberSim>>();
  const simOf = (workflowId: string) => {
    const m = /^upgrade-near-mainnet-fleet-(\d+)\.poolv1\.near$/.exec(workflowId);
    const i = m ? Number(m[1]) : 0;
    let sim = sims.get(i);
    if (!sim) sims.set(i, (sim = memberSim(i, chain)));
    return sim;
  };
  const simActivities = memberSim(0, chain).activities as unknown as Record<string, ActivityFn>;
  const names = Object.keys(simActivities).filter((name) => !name.startsWith('resolve'));
  return {
    activities: {
      ...Object.fromEntries(
        names.map((name) => [
          name,
          (...args: unknown[]) => {
            const sim = simOf(Context.current().info.workflowExecution!.workflowId);
            return (sim.activities as unknown as Record<string, ActivityFn>)[name]!(...args);
          },
        ]),
      ),
      ...createInventoryActivities({ inventory }),
      ...createNotifyActivities({ inventory }),
    },
    /** What the machines say: members whose node runs the new release, and double signs any of them saw. */
    figures: () => {
      const nodes = [...sims.entries()].map(([i, sim]) => sim.inspect(`n${i}`));
      return {
        upgraded: nodes.filter((n) => n.active && n.release === NEW.version).length,
        doubleSigns: [...sims.values()].reduce((sum, s) => sum + s.doubleSigners.length, 0),
      };
    },
  };
}
