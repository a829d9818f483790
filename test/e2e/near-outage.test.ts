/**
 * A routine outage of the network's RPC is not fatal: the real workflows on the Temporal dev server, the real
 * activities over real SSH to the testbed's hosts, and the network's RPC behind a relay that answers HTTP 503
 * for 36 s while the run waits on the chain. The wait keeps looking until its own deadline and says so in the
 * status meanwhile; the run completes, and nothing is rolled back.
 *
 * - nearZeroDowntimeUpgrade: the outage starts in `wait-key-current`, after the stake landed (before, the look
 *   gave up on its 5th attempt and the run failed, both nodes left running).
 * - nearSyncAndSwapUpgrade: the outage starts as the validator restarts on the swapped data, so it falls on the
 *   last waits (before, a failed look there rolled a finished swap back).
 *
 * Other faults of the network's RPC, each with its defined outcome (nearStopAndRestartUpgrade):
 * - answering for another chain than the inventory's network (status.chain_id "testnet" for a "localnet"
 *   validator): the check before acting refuses it (WrongChain, final), so the run stops at its first step, the
 *   node untouched; the status, the UI's current details and UpgradeStage say so.
 * - accepting and never answering for a while inside a wait: each look times out, the wait looks again until
 *   its deadline (the outage rule), says so in the status, and the run completes.
 */
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { statusQuery } from '../../src/api/messages.js';
import { nearIdentity } from '../../src/api/near-inputs.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import {
  nearBaseline,
  type NearScenarioOptions,
  settledNearCounters,
  startNearScenario,
  type NearStrategy,
} from '../../devnet/scenarios/near.js';
import type { NearTestbed } from '../../devnet/testbeds/near.js';
import { InventoryBook, inventoryForTargets } from '../../devnet/testbeds/targets-inventory.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';
import { eventually } from '../helpers/eventually.js';
import { faultTest } from '../helpers/rotation.js';
import { stepStates } from '../helpers/near-e2e.js';
import { startTxHoldProxy, type TxHoldOptions, type TxHoldProxy } from '../helpers/near-tx-hold-proxy.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';
import { CHAIN_HALT_AFTER_MS } from '../../workflows/common/chain-wait.js';
import { watchRun, type WhileRunning } from '../helpers/watched-run.js';

/** What an operator saw today: 36 s of 503 from the RPC. */
const OUTAGE_MS = 36_000;
/** Epochs of 30 s (200 blocks of 150 ms), so a wait for an epoch boundary outlasts the outage's start. */
const EPOCH_LENGTH = 200;
const BLOCK_TIME_MS = 150;

/**
 * Longer than a look's three attempts of 20 s each, counted from the migration's start (the first look comes
 * ~10 s later): the look itself gives up, the wait does not.
 */
const HANG_MS = 100_000;

let env: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundle;
let bed: NearTestbed | undefined;
let proxy: TxHoldProxy | undefined;
const inventory = new InventoryBook();
const inventoryRemovers: (() => void)[] = [];

beforeAll(async () => {
  env = await createDevServerEnv();
  bundle = await bundleUpgradeWorkflows();
}, 180_000);
afterEach(async () => {
  for (const remove of inventoryRemovers.splice(0)) remove();
  await proxy?.close();
  proxy = undefined;
  await bed?.stop();
  bed = undefined;
}, 60_000);
afterAll(async () => {
  await env?.teardown();
});

/**
 * A fresh testbed for the strategy with the network RPC behind a relay (`relay`: how it misbehaves), and a
 * worker; `start()` starts the run.
 */
async function testbedBehindRelay(
  strategy: NearStrategy,
  nodeIds: Record<string, string>,
  relay: TxHoldOptions,
  options: NearScenarioOptions = {},
) {
  const scenario = await startNearScenario(strategy, options);
  const b = (bed = scenario.bed);
  proxy = await startTxHoldProxy(b.rpcUrl, { holdFirstTransaction: false, ...relay });
  const split = inventoryForTargets(strategy, { ...scenario.targets, networkRpcUrl: proxy.url }, { nodeIds });
  inventoryRemovers.push(inventory.add(split.inventory));
  const taskQueue = `e2e-outage-${strategy}-${relay.chainId ?? 'relay'}`;
  const { worker } = await createUpgradeWorker({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: { connections: b.connections, heartbeatIntervalMs: 500, inventory },
  });
  const start = async () => {
    const handle = await env!.client.workflow.start(strategy, {
      args: [split.input],
      taskQueue,
      workflowId: upgradeWorkflowId(nearIdentity(split.input.validator)),
      ...upgradeIdPolicy(),
    });
    const status = (): Promise<UpgradeStatus> => handle.query(statusQuery);
    return { handle, status };
  };
  return { b, worker, start };
}

/**
 * Runs the strategy with the network RPC behind the relay; once `outageFrom` says the run is there, the relay
 * answers 503 for OUTAGE_MS. Returns what the status and the UI's current details said during the outage.
 */
async function runThroughOutage(
  strategy: NearStrategy,
  nodeIds: Record<string, string>,
  outageFrom: (status: UpgradeStatus) => boolean,
) {
  const { b, worker, start } = await testbedBehindRelay(
    strategy,
    nodeIds,
    {},
    {
      epochLength: EPOCH_LENGTH,
      blockTimeMs: BLOCK_TIME_MS,
    },
  );
  const before = await nearBaseline(b);
  const { handle, status } = await start();
  return worker.runUntil(async () => {
    await eventually(
      'the run to reach the outage',
      async () => (outageFrom(await status()) ? true : undefined),
      300_000,
    );
    const outage = proxy!.outage(OUTAGE_MS);
    let over = false;
    void outage.then(() => (over = true));
    const said = new Set<string>();
    while (!over) {
      const s = await status();
      const details = (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
      for (const text of [s.waiting?.reason ?? '', details]) {
        const line = /chain RPC unavailable since [^\n]*/.exec(text)?.[0];
        if (line) said.add(line);
      }
      expect(s.state).not.toBe('failed');
      await new Promise((r) => setTimeout(r, 500));
    }
    const window = await outage;
    const result = (await handle.result()) as Record<string, unknown>;
    const after = await settledNearCounters(b);
    const final = await status();
    console.log(
      `${strategy}: ${window.refused} requests answered 503 in ${((window.to - window.from) / 1000).toFixed(1)} s; ` +
        `the status said:\n  ${[...said].join('\n  ')}\n` +
        `${after.missedBlocks - before.missedBlocks} missed blocks, ${after.doubleSignHeights.length} double signs`,
    );
    return { result, said: [...said], window, final, before, after };
  });
}

describe('a 36 s RPC outage inside a wait', () => {
  faultTest('outage-zero-downtime')(
    'nearZeroDowntimeUpgrade: 503s in wait-key-current after the stake; the status says so, the run completes',
    async () => {
      const { result, said, window, final, before, after } = await runThroughOutage(
        'nearZeroDowntimeUpgrade',
        { oldNode: 'val-a', newNode: 'val-b' },
        (s) => s.steps.some((step) => step.id === 'wait-key-current' && step.state === 'running'),
      );
      expect(window.refused).toBeGreaterThan(0);
      expect(said.length).toBeGreaterThan(0);
      expect(said[0]).toMatch(/^chain RPC unavailable since \S+Z, retrying \(attempt \d+\): .*unavailable/);
      expect(final.state).toBe('completed');
      expect(stepStates(final)).toMatchObject({ 'wait-key-current': 'done', 'stop-old-node': 'done' });
      expect(final.steps.filter((s) => s.id.startsWith('undo-'))).toEqual([]);
      expect(after.blocksSignedByKey[result.newKey as string]).toBeGreaterThan(0);
      expect(after.doubleSignHeights).toEqual([]);
      expect(after.missedBlocks - before.missedBlocks).toBe(0);
      expect(bed!.isRunning('val-a')).toBe(false);
      expect(bed!.isRunning('val-b')).toBe(true);
    },
    600_000,
  );

  faultTest('outage-sync-and-swap')(
    'nearSyncAndSwapUpgrade: 503s in the last waits after the swap; nothing is rolled back, the run completes',
    async () => {
      const { said, window, final, after } = await runThroughOutage(
        'nearSyncAndSwapUpgrade',
        { node: 'val-a', syncNode: 'sync' },
        (s) => s.steps.some((step) => step.id === 'stop-swap-and-restart' && step.state !== 'pending'),
      );
      expect(window.refused).toBeGreaterThan(0);
      expect(said.length).toBeGreaterThan(0);
      expect(final.state).toBe('completed');
      expect(stepStates(final)).toMatchObject({
        'stop-swap-and-restart': 'done',
        'wait-validator-synced': 'done',
        'wait-validator-signing': 'done',
      });
      expect(final.steps.filter((s) => s.id.startsWith('undo-'))).toEqual([]);
      expect(after.doubleSignHeights).toEqual([]);
      expect(bed!.isRunning('val-a')).toBe(true);
    },
    600_000,
  );
});

/** Runs nearStopAndRestartUpgrade with the network RPC behind a relay; `during` acts while it runs. */
async function runBehindRelay<S>(relay: TxHoldOptions, during: WhileRunning<S>) {
  const { worker, start } = await testbedBehindRelay('nearStopAndRestartUpgrade', { node: 'val-a' }, relay);
  const { handle } = await start();
  return watchRun(worker, handle, during);
}

describe('an RPC answering for another chain', () => {
  faultTest('wrong-chain')(
    'is refused by the check before acting: the run stops at its first step, the node untouched, and says why',
    async () => {
      const { error, final, details, stage } = await runBehindRelay({ chainId: 'testnet' }, () => Promise.resolve());
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause;
      expect(cause?.message).toMatch(/^step 1 "Check the node[^"]*" failed: WrongChain: the network RPC /);
      expect(String(cause?.message)).toContain('answers for chain "testnet", not "localnet"');
      expect(final.state).toBe('failed');
      expect(stepStates(final)).toEqual({
        ...stepStates(final),
        'check-node': 'failed',
        'restart-on-release': 'pending',
      });
      expect(final.steps.filter((s) => s.state === 'done')).toEqual([]);
      expect(details).toContain('answers for chain "testnet"');
      expect(stage).toBe('failed');
      expect(bed!.isRunning('val-a')).toBe(true);
      console.log(`wrong chain: ${cause?.message}`);
    },
    300_000,
  );
});

describe('an RPC that hangs inside a wait', () => {
  faultTest('rpc-hang')(
    'times out each look, the wait looks again and says so in the status, and the run completes',
    async () => {
      const { seen, error, final } = await runBehindRelay({}, async (status) => {
        await eventually(
          // The 9 s migration reads only the node; the sync wait after it is the first to read the network RPC.
          'the run to wait for the migration',
          async () =>
            (await status()).steps.some((s) => s.id === 'wait-migration' && s.state === 'running') ? true : undefined,
          300_000,
        );
        const hang = proxy!.hang(HANG_MS);
        let over = false;
        void hang.then(() => (over = true));
        const said = new Set<string>();
        while (!over) {
          const line = /chain RPC unavailable since [^\n]*/.exec((await status()).waiting?.reason ?? '')?.[0];
          if (line) said.add(line);
          await new Promise((r) => setTimeout(r, 500));
        }
        return { said: [...said], window: await hang };
      });
      console.log(
        `hang: ${seen.window.held} requests held ${((seen.window.to - seen.window.from) / 1000).toFixed(1)} s; ` +
          `the status said:\n  ${seen.said.join('\n  ')}`,
      );
      expect(error).toBeUndefined();
      expect(seen.window.held).toBeGreaterThan(0);
      expect(seen.said[0]).toMatch(/^chain RPC unavailable since \S+Z, retrying \(attempt \d+\): /);
      expect(final.state).toBe('completed');
      expect(final.steps.filter((s) => s.id.startsWith('undo-'))).toEqual([]);
      expect(bed!.isRunning('val-a')).toBe(true);
    },
    600_000,
  );
});

describe('the chain halting inside a wait', () => {
  faultTest('chain-halt')(
    'is not taken as an answer: the status says "no new block since …" until blocks come again, then the run completes',
    async () => {
      const { seen, error, final } = await runBehindRelay({}, async (status, details) => {
        await eventually(
          'the run to wait for the migration',
          async () =>
            (await status()).steps.some((s) => s.id === 'wait-migration' && s.state === 'running') ? true : undefined,
          300_000,
        );
        bed!.devnet.chain.stop();
        const haltedAt = bed!.devnet.chain.head().height;
        const said = await eventually(
          'the status to say the chain halted',
          async () => /chain halted\? no new block since [^\n]*/.exec((await status()).waiting?.reason ?? '')?.[0],
          (CHAIN_HALT_AFTER_MS * 3) / 2 + 30_000,
        );
        const during = await status();
        const shown = await details();
        bed!.devnet.chain.start();
        return { said, haltedAt, during, details: shown };
      });
      const waitingIn = seen.during.steps.find((s) => s.state === 'running')?.id;
      console.log(`halt at #${seen.haltedAt}, in ${waitingIn}; the status said: ${seen.said}`);
      expect(seen.said).toMatch(new RegExp(`^chain halted\\? no new block since \\S+Z \\(#${seen.haltedAt}\\)`));
      expect(seen.during.state).toBe('waiting');
      expect(seen.details).toContain(seen.said);
      expect(error).toBeUndefined();
      expect(final.state).toBe('completed');
      expect(final.steps.filter((s) => s.id.startsWith('undo-'))).toEqual([]);
      expect(bed!.isRunning('val-a')).toBe(true);
    },
    600_000,
  );
});
