/**
 * The NEAR strategies' scenarios on the local testbed: for each workflow type, the testbed layout it needs,
 * the nodes running before it starts, and its workflow input. The end-to-end tests and the demo run the same
 * scenarios; each judges the run by the network's counters (nearBaseline before, settledNearCounters after).
 *
 *   const { bed, input } = await startNearScenario('nearZeroDowntimeUpgrade', { epochLength: 12 });
 *   const before = await nearBaseline(bed);
 *   await startUpgrade(client, 'nearZeroDowntimeUpgrade', input);   // … until it ends
 *   const after = await settledNearCounters(bed);                   // after.missedBlocks - before.missedBlocks
 *   await bed.stop();
 */
import type { StrategyInput, StrategyTargets } from '../../src/api/strategies.js';
import type { Inventory } from '../../src/config/inventory.js';
import { NO_PERFORMANCE_KICKOUTS, type ValidatorCounters } from '../near/index.js';
import {
  startNearTestbed,
  launchNearTestbed,
  startTestbedService,
  type NearTestbed,
  type NearTestbedOptions,
  type TestbedNode,
} from '../testbeds/near.js';
import { inventoryForTargets } from '../testbeds/targets-inventory.js';

/** The validator every NEAR scenario upgrades: a staking pool owned by owner.near. */
export const NEAR_SCENARIO_POOL = 'pool.poolv1.near';

/**
 * The rest of the validator set, which the devnet runs itself: with 100 NEAR of 4000 the pool holds 2 of the
 * 98 seats, a height every 49 blocks, as on mainnet where a validator's heights are many blocks apart.
 */
export const NEAR_SCENARIO_OTHER_VALIDATORS = [
  { accountId: 'other-1.near', stake: 1950n * 10n ** 24n },
  { accountId: 'other-2.near', stake: 1950n * 10n ** 24n },
];

export type NearStrategy =
  'nearZeroDowntimeUpgrade' | 'nearSyncAndSwapUpgrade' | 'nearStopAndRestartUpgrade' | 'nearValidatorKeyHotSwap';

export interface NearScenarioOptions {
  epochLength?: number;
  blockTimeMs?: number;
  /** The rest of the validator set, run by the devnet (default NEAR_SCENARIO_OTHER_VALIDATORS). */
  otherValidators?: { accountId: string; stake: bigint }[];
  /** Hold for an `approve` update before each irreversible step. */
  manualApproval?: boolean;
  /** The machines' SSH user when the tests run as root (the testbed's `sshUser`; default the test process's user). */
  sshUser?: string;
  /** The hosts hold commands' answers when a crash test asks (devnet/hosts/sshd.ts `holdAnswers`). */
  holdAnswers?: boolean;
  /** The new release opens the node's database as it is: stop-and-restart has no migration to sit out. */
  withoutMigration?: boolean;
}

/** The database version of the nodes' data folders when the scenario starts (the old release's). */
const DB_VERSION = 41;

export interface NearScenario<N extends NearStrategy> {
  strategy: N;
  bed: NearTestbed;
  /** The workflow input: the validator, its nodes by id, the release. */
  input: StrategyInput<N>;
  /** What the worker resolves the input to (the nodes, RPC and signer it runs on). */
  targets: StrategyTargets<N>;
  /** The worker's inventory of this testbed. */
  inventory: Inventory;
  /** What the run shows, in one line. */
  description: string;
}

export const nodeInput = (node: TestbedNode) => ({ ...node.ref, binary: node.binary });
const nodeOf = (bed: NearTestbed, id: string) => {
  const node = bed.nodes[id];
  if (!node) throw new Error(`the testbed has no node ${id}`);
  return node;
};
const timeouts = { sync: '5 minutes', signing: '5 minutes' };

interface Layout<N extends NearStrategy> {
  description: string;
  testbed: NearTestbedOptions;
  /** Nodes whose services run before the upgrade starts. */
  running: string[];
  input(bed: NearTestbed): Omit<StrategyTargets<N>, 'validator' | 'networkRpcUrl'>;
}

/**
 * The strategies that stop the validator are down for seconds: several of the scenario's 1.8 s epochs, in which
 * the validator then produces none of its blocks, which nearcore's rule (90 % of the expected blocks per epoch)
 * punishes with a kickout. On a real network the same seconds are a sliver of a 43200-block epoch (about 7 h
 * on mainnet), far from the threshold; so these scenarios keep nearcore's protocol-version kickouts but do not
 * kick out for missed blocks. Their missed blocks are still counted and bounded by the test.
 */
const DOWNTIME_LONGER_THAN_AN_EPOCH = NO_PERFORMANCE_KICKOUTS;

const layouts: { [N in NearStrategy]: Layout<N> } = {
  nearZeroDowntimeUpgrade: {
    description: 'val-b syncs the new release with a key of its own, the pool stakes it, val-a stops at T+2',
    testbed: {},
    running: ['val-a'],
    input: (bed) => ({
      staking: bed.validators[NEAR_SCENARIO_POOL]!.stakingInput,
      oldNode: nodeInput(nodeOf(bed, 'val-a')),
      newNode: nodeInput(nodeOf(bed, 'val-b')),
      release: bed.binaries.new.release('val-b'),
      timeouts: { ...timeouts, keyActive: '10 minutes' },
    }),
  },
  nearSyncAndSwapUpgrade: {
    description: 'a keyless node on val-a syncs the new release; its data folder is swapped into the validator',
    testbed: {
      kickouts: DOWNTIME_LONGER_THAN_AN_EPOCH,
      nodes: [
        { id: 'val-a', host: 'val-a', validator: NEAR_SCENARIO_POOL, dbVersion: DB_VERSION },
        { id: 'sync', host: 'val-a', service: 'neard-sync' },
      ],
      hosts: ['val-a'],
    },
    running: ['val-a'],
    input: (bed) => ({
      node: nodeInput(nodeOf(bed, 'val-a')),
      syncNode: nodeInput(nodeOf(bed, 'sync')),
      release: bed.binaries.new.release('val-a'),
      timeouts: { sync: '5 minutes', resync: '5 minutes', signing: '5 minutes' },
    }),
  },
  nearStopAndRestartUpgrade: {
    // Three migration steps of 3 s: longer than the 5 s the input allows, and still never interrupted.
    description: 'stop, install, start; a 9 s database migration is followed past its 5 s limit, never cut',
    testbed: {
      nodes: [{ id: 'val-a', host: 'val-a', validator: NEAR_SCENARIO_POOL, dbVersion: DB_VERSION }],
      hosts: ['val-a'],
      binaries: { new: { dbVersion: 44 } },
      migrationStepMs: 3_000,
      kickouts: DOWNTIME_LONGER_THAN_AN_EPOCH,
    },
    running: ['val-a'],
    input: (bed) => ({
      node: nodeInput(nodeOf(bed, 'val-a')),
      release: bed.binaries.new.release('val-a'),
      timeouts: { migration: '5s', sync: '5 minutes', signing: '5 minutes' },
    }),
  },
  nearValidatorKeyHotSwap: {
    description:
      'the key is staged on a synced standby on val-b; right after a block of the pool, val-a stops and the ' +
      'standby loads the key (rename + SIGHUP)',
    testbed: {
      nodes: [
        { id: 'val-a', host: 'val-a', validator: NEAR_SCENARIO_POOL },
        { id: 'standby', host: 'val-b', service: 'neard-standby' },
      ],
    },
    running: ['val-a', 'standby'],
    input: (bed) => ({
      primary: nodeInput(nodeOf(bed, 'val-a')),
      standby: nodeInput(nodeOf(bed, 'standby')),
      release: bed.binaries.new.release('val-b'),
      timeouts,
    }),
  },
};

export const nearStrategies = Object.keys(layouts) as NearStrategy[];

/** Stands up the strategy's testbed, starts the nodes that run before it, and builds its workflow input. */
export async function startNearScenario<N extends NearStrategy>(
  strategy: N,
  options: NearScenarioOptions = {},
): Promise<NearScenario<N>> {
  const layout = layouts[strategy] as Layout<N>;
  const bed = await startNearTestbed({
    epochLength: options.epochLength ?? 12,
    blockTimeMs: options.blockTimeMs ?? 150,
    otherValidators: options.otherValidators ?? NEAR_SCENARIO_OTHER_VALIDATORS,
    ...layout.testbed,
    ...(options.withoutMigration ? { binaries: { new: { dbVersion: DB_VERSION } } } : {}),
    ...(options.sshUser === undefined ? {} : { sshUser: options.sshUser }),
    paused: true,
    ...(options.holdAnswers ? { holdAnswers: true } : {}),
  });
  try {
    for (const id of layout.running) await startTestbedService(bed, id);
    await launchNearTestbed(bed);
    const targets = {
      validator: { network: 'localnet', accountId: NEAR_SCENARIO_POOL },
      networkRpcUrl: bed.rpcUrl,
      ...(options.manualApproval ? { manualApproval: true } : {}),
      ...layout.input(bed),
    } as StrategyTargets<N>;
    const { inventory, input } = inventoryForTargets(strategy, targets, { nodeIds: testbedNodeIds(bed, targets) });
    return { strategy, bed, input, targets, inventory, description: layout.description };
  } catch (err) {
    await bed.stop();
    throw err;
  }
}

/** The testbed's id of the node in each role field of the targets (matched by host and home). */
function testbedNodeIds(bed: NearTestbed, targets: object): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const [field, value] of Object.entries(targets)) {
    const ref = value as { host?: { id?: string }; home?: string };
    const node = Object.values(bed.nodes).find((n) => n.home === ref?.home && n.ref.host.id === ref.host?.id);
    if (node) ids[field] = node.id;
  }
  return ids;
}

/** The account's counters once every height up to now has settled (past the devnet's signature grace). */
export async function settledNearCounters(
  bed: NearTestbed,
  accountId = NEAR_SCENARIO_POOL,
  graceMs = 3_000,
): Promise<ValidatorCounters> {
  const head = bed.counters(accountId).settledHeight + Math.ceil(graceMs / bed.devnet.chain.options.blockTimeMs);
  return eventually('the counters to settle', () => {
    const c = bed.counters(accountId);
    return c.settledHeight >= head ? c : undefined;
  });
}

/** Waits until the validator has signed for a while, and returns its settled counters then (the baseline). */
export async function nearBaseline(bed: NearTestbed, accountId = NEAR_SCENARIO_POOL): Promise<ValidatorCounters> {
  const start = bed.counters(accountId).producedBlocks;
  await eventually('the validator to sign', () =>
    bed.counters(accountId).producedBlocks > start + 1 ? true : undefined,
  );
  return settledNearCounters(bed, accountId);
}

async function eventually<T>(what: string, look: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = look();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
