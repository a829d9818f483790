/**
 * The four NEAR runbooks end to end: the real workflows on the Temporal dev server, the real activities
 * (createActivities) over real SSH to sshd hosts running simulated neard services, against the local NEAR
 * network with short epochs. The network's own counters judge each run: no height is ever signed twice
 * with one key, and the account misses no block or chunk in the strategies that promise it (the others
 * report their misses, bounded by the time the validator was down).
 *
 * With RECORD_HISTORIES=1 each happy path's history is kept under test/histories/ for replay.test.ts.
 */
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { KeyPair } from 'near-api-js';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { statusQuery } from '../../src/api/messages.js';
import { nearIdentity } from '../../src/api/near-inputs.js';
import type { StrategyTargets } from '../../src/api/strategies.js';
import { resolveNearSigner, type NearSignerContext } from '../../src/secrets/near-signer.js';
import type { SignerSpec } from '../../src/config/signers.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import {
  startNearTestbed,
  launchNearTestbed,
  startTestbedService,
  type NearTestbed,
  type NearTestbedOptions,
  type TestbedNode,
} from '../../devnet/testbeds/near.js';
import {
  NEAR_SCENARIO_OTHER_VALIDATORS,
  nearBaseline,
  settledNearCounters,
  startNearScenario,
  type NearStrategy,
} from '../../devnet/scenarios/near.js';
import { InventoryBook, inventoryForTargets } from '../../devnet/testbeds/targets-inventory.js';
import { createDevServerEnv, bundleUpgradeWorkflows } from '../helpers/temporal.js';
import { eventually } from '../helpers/eventually.js';
import { recordHistory } from '../helpers/histories.js';
import { kickoutsNaming, rootCause, stepStates } from '../helpers/near-e2e.js';
import { startFrozenNeard } from '../helpers/neard-process.js';
import { initNodeHome, type Kickout } from '../../devnet/near/index.js';
import { freePort } from '../../devnet/ports.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';

const POOL = 'pool.poolv1.near';
const EPOCH_LENGTH = 12;
const BLOCK_TIME_MS = 150;

let env: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundle;
let bed: NearTestbed | undefined;
/** The workers' inventory: the testbed's hosts, nodes and validator, as a deployed worker's file holds them. */
const inventory = new InventoryBook();
/** Removes each test's inventory from the book once its testbed is gone. */
const inventoryRemovers: (() => void)[] = [];

beforeAll(async () => {
  env = await createDevServerEnv();
  bundle = await bundleUpgradeWorkflows();
}, 180_000);
afterEach(async () => {
  for (const remove of inventoryRemovers.splice(0)) remove();
  await bed?.stop();
  bed = undefined;
}, 60_000);
afterAll(async () => {
  await env?.teardown();
});

async function testbed(options: NearTestbedOptions): Promise<NearTestbed> {
  bed = await startNearTestbed({
    epochLength: EPOCH_LENGTH,
    blockTimeMs: BLOCK_TIME_MS,
    otherValidators: NEAR_SCENARIO_OTHER_VALIDATORS,
    ...options,
  });
  return bed;
}

const nodeInput = (node: TestbedNode) => ({ ...node.ref, binary: node.binary });
/** The pool's identity on the testbed's network (the testbeds run a localnet). */
const poolOn = (b: NearTestbed) => ({ network: b.networkId as 'localnet', accountId: POOL });

async function scenario<N extends NearStrategy>(strategy: N) {
  const s = await startNearScenario(strategy, { epochLength: EPOCH_LENGTH, blockTimeMs: BLOCK_TIME_MS });
  bed = s.bed;
  inventoryRemovers.push(inventory.add(s.inventory));
  return s;
}

/**
 * The workflow input of an upgrade with these targets (split as a deployed worker's inventory and an input
 * would hold them), whose inventory the workers now hold. The testbed's node ids name the roles.
 */
function upgradeOn<N extends NearStrategy>(strategy: N, targets: StrategyTargets<N>, nodeIds: Record<string, string>) {
  const split = inventoryForTargets(strategy, targets, { nodeIds });
  inventoryRemovers.push(inventory.add(split.inventory));
  return split.input;
}

interface Figures {
  wallSeconds: number;
  /** Heights assigned to the validator during the run (its expected blocks; chunks go with them). */
  expectedBlocks: number;
  missedBlocks: number;
  missedChunks: number;
  doubleSigns: number;
  events: number;
  /** The network's kickouts of the validator (prev_epoch_kickout) from the epoch the run started in on. */
  kickouts: { epochHeight: number; kickout: Kickout }[];
}

async function runStrategy(
  b: NearTestbed,
  workflowType: string,
  input: { validator: { network: string; accountId: string }; [field: string]: unknown },
  { expectFailure = false } = {},
) {
  const taskQueue = `e2e-${workflowType}`;
  const { worker } = await createUpgradeWorker({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: { connections: b.connections, heartbeatIntervalMs: 500, inventory },
  });
  const before = await nearBaseline(b);
  const startEpochHeight = b.devnet.chain.epochs.current().index + 1;
  const started = Date.now();
  const handle = await env!.client.workflow.start(workflowType, {
    args: [input],
    taskQueue,
    workflowId: upgradeWorkflowId(nearIdentity(input.validator)),
    ...upgradeIdPolicy(),
  });
  const { result, error, status } = await worker.runUntil(async () => {
    const outcome = await handle.result().then(
      (value: unknown) => ({ result: value, error: undefined }),
      (err: unknown) => ({ result: undefined, error: err }),
    );
    return { ...outcome, status: await handle.query(statusQuery) };
  });
  if (error && !expectFailure) throw error instanceof Error ? error : new Error('the workflow failed');
  const wallSeconds = (Date.now() - started) / 1000;
  const after = await settledNearCounters(b);
  const events = (await handle.fetchHistory()).events?.length ?? 0;
  const kickouts = await kickoutsNaming(b, POOL, startEpochHeight);
  if (!error) await recordHistory(handle, workflowType);
  const figures: Figures = {
    wallSeconds,
    expectedBlocks: after.expectedBlocks - before.expectedBlocks,
    missedBlocks: after.missedBlocks - before.missedBlocks,
    missedChunks: after.missedChunks - before.missedChunks,
    doubleSigns: after.doubleSignHeights.length,
    events,
    kickouts,
  };
  console.log(
    `${workflowType}: ${wallSeconds.toFixed(1)} s wall, ${figures.missedBlocks} missed blocks and ` +
      `${figures.missedChunks} missed chunks of ${figures.expectedBlocks} expected, ${figures.doubleSigns} double ` +
      `signs, ${events} history events (epochs of ${EPOCH_LENGTH} blocks of ${BLOCK_TIME_MS} ms), kickouts ` +
      JSON.stringify(kickouts),
  );
  return { result, error, status, figures, after };
}

/**
 * What the validator could miss while it was down: the heights assigned to it from the start of `fromStep`
 * (the validator stops; heights produced just before are still in flight) to the end of `toStep` (it signs
 * again).
 */
function downtimeBound(b: NearTestbed, status: UpgradeStatus, fromStep: string, toStep: string): number {
  const at = (id: string, edge: 'startedAt' | 'endedAt') => Date.parse(status.steps.find((s) => s.id === id)![edge]!);
  const from = at(fromStep, 'startedAt') - 2 * BLOCK_TIME_MS;
  const to = at(toStep, 'endedAt') + BLOCK_TIME_MS;
  const chain = b.devnet.chain;
  let assigned = 0;
  for (let h = chain.genesisBlock().height + 1; h <= chain.head().height; h++) {
    const block = chain.blockAt(h)!;
    if (block.producedAtMs >= from && block.producedAtMs <= to && chain.producerAt(h)?.accountId === POOL) assigned++;
  }
  console.log(`${assigned} heights of ${POOL} from ${fromStep} to the end of ${toStep}`);
  return assigned;
}

const timeouts = { sync: '5 minutes', signing: '5 minutes' };

describe('NEAR upgrades end to end', () => {
  it('nearZeroDowntimeUpgrade: the new node takes over with its own key, without a missed block', async () => {
    const { bed: b, input } = await scenario('nearZeroDowntimeUpgrade');
    const v = b.validators[POOL]!;
    const { result, figures, after } = await runStrategy(b, 'nearZeroDowntimeUpgrade', input);
    const { newKey, oldKey } = result as { newKey: string; oldKey: string };
    expect(figures.doubleSigns).toBe(0);
    expect(figures.missedBlocks).toBe(0);
    expect(figures.missedChunks).toBe(0);
    expect(figures.kickouts).toEqual([]);
    expect(after.blocksSignedByKey[newKey]).toBeGreaterThan(0);
    expect(oldKey).toBe(v.validatorKey.getPublicKey().toString());
    expect(b.isRunning('val-a')).toBe(false);
    expect(b.isRunning('val-b')).toBe(true);
  }, 600_000);

  it('nearSyncAndSwapUpgrade: the validator restarts on the synced data and the new binary', async () => {
    const { bed: b, input } = await scenario('nearSyncAndSwapUpgrade');
    const { figures, status } = await runStrategy(b, 'nearSyncAndSwapUpgrade', input);
    expect(figures.doubleSigns).toBe(0);
    const bound = downtimeBound(b, status, 'stop-swap-and-restart', 'wait-validator-signing');
    expect(figures.missedBlocks).toBeLessThanOrEqual(bound);
    // One producer per height: a missed height is a missed block and its chunk.
    expect(figures.missedChunks).toBe(figures.missedBlocks);
    expect(figures.kickouts).toEqual([]);
    expect(b.isRunning('val-a')).toBe(true);
    expect(b.isRunning('sync')).toBe(false);
  }, 600_000);

  it('nearStopAndRestartUpgrade: stop, new binary, a migration past its limit followed to its end, signing again', async () => {
    // The scenario's migration: three steps of 3 s, longer than the 5 s its input allows.
    const { bed: b, input } = await scenario('nearStopAndRestartUpgrade');
    const { result, figures, status } = await runStrategy(b, 'nearStopAndRestartUpgrade', input);
    expect(result).toMatchObject({ migrated: true, database: { dataDbVersion: 41, binaryDbVersion: 44 } });
    const migration = status.steps.find((s) => s.id === 'wait-migration')!;
    expect(migration.state).toBe('done');
    expect(Date.parse(migration.endedAt!) - Date.parse(migration.startedAt!)).toBeGreaterThan(5_000);
    const marker = JSON.parse(readFileSync(`${b.nodes['val-a']!.home}/data/DB_MARKER.json`, 'utf8')) as object;
    expect(marker).toMatchObject({ db_version: 44, state: 'ok' });
    expect(figures.doubleSigns).toBe(0);
    expect(figures.missedBlocks).toBeLessThanOrEqual(downtimeBound(b, status, 'restart-on-release', 'wait-signing'));
    expect(figures.missedChunks).toBe(figures.missedBlocks);
    expect(figures.kickouts).toEqual([]);
    expect(b.isRunning('val-a')).toBe(true);
  }, 600_000);

  it('nearValidatorKeyHotSwap: the standby takes the key right after a block of the validator, missing nothing', async () => {
    const { bed: b, input } = await scenario('nearValidatorKeyHotSwap');
    const { result, figures, after } = await runStrategy(b, 'nearValidatorKeyHotSwap', input);
    const { handedOverAfterBlock } = result as { handedOverAfterBlock?: number };
    const chain = b.devnet.chain;
    const own = (h: number) => chain.producerAt(h)?.accountId === POOL;
    const next = [...Array(60).keys()].map((i) => handedOverAfterBlock! + 1 + i).find(own);
    console.log(
      `hand-over after #${handedOverAfterBlock} (next height of ${POOL}: #${next}); missed ` +
        `${JSON.stringify(after.missedBlockHeights)}; signed by key ${JSON.stringify(after.blocksSignedByKey)}`,
    );
    expect(b.devnet.chain.blockAt(handedOverAfterBlock!)!.author).toBe(POOL);
    // The key was staged before the primary stopped and went live on the standby within the gap between two
    // of the validator's heights: not one missed, and never two signers.
    expect(figures.doubleSigns).toBe(0);
    expect(after.doubleSigns).toEqual([]);
    expect(figures.expectedBlocks).toBeGreaterThan(0);
    expect(figures.missedBlocks).toBe(0);
    expect(figures.missedChunks).toBe(0);
    expect(figures.kickouts).toEqual([]);
    expect(b.isRunning('val-a')).toBe(false);
    expect(b.isRunning('standby')).toBe(true);
  }, 600_000);
});

describe('NEAR upgrades end to end, when things go wrong', () => {
  const ownerNonce = (b: NearTestbed) => {
    const owner = b.validators[POOL]!;
    return [...b.devnet.chain.accounts.get(owner.signerAccountId)!.keys.values()][0]!.nonce;
  };

  it('nearValidatorKeyHotSwap refuses to hand over while a neard started by hand holds a copy of the key', async () => {
    const { bed: b, input } = await scenario('nearValidatorKeyHotSwap');
    const primary = b.nodes['val-a']!;
    // On the primary's machine, another home with a copy of the key, frozen while it starts: it never answers
    // and never signs, so only the host's records show it.
    const rogueHome = path.join(b.hosts['val-a']!.root, 'home', 'by-hand', '.near');
    initNodeHome({
      home: rogueHome,
      chainId: b.chainId,
      networkRpcUrl: b.rpcUrl,
      rpcAddr: `127.0.0.1:${await freePort()}`,
    });
    copyFileSync(path.join(primary.home, 'validator_key.json'), path.join(rogueHome, 'validator_key.json'));
    const rogue = await startFrozenNeard(primary.binary, rogueHome);
    try {
      const { error, status, figures } = await runStrategy(b, 'nearValidatorKeyHotSwap', input, {
        expectFailure: true,
      });
      const cause = rootCause(error) as ApplicationFailure;
      expect(cause).toMatchObject({ type: 'TwoKeyHolders', nonRetryable: true });
      expect(cause.message).toContain(`pid ${rogue.child.pid} runs with home ${rogueHome}, which holds it`);
      expect(stepStates(status)).toMatchObject({ 'stage-key': 'done', 'hand-over': 'failed' });
      // Nothing was handed over: the primary kept its key file and signing, the standby has no key file.
      expect(b.isRunning('val-a')).toBe(true);
      expect(existsSync(path.join(primary.home, 'validator_key.json'))).toBe(true);
      expect(
        readdirSync(b.nodes['standby']!.home).filter((f) => /^validator_key\.json(\.pending-.*)?$/.test(f)),
      ).toEqual([]);
      expect(figures.doubleSigns).toBe(0);
      expect(figures.missedBlocks).toBe(0);
    } finally {
      await rogue.stop('SIGKILL');
    }
  }, 600_000);

  it('resumes on a new worker after the first one died right after staking; exactly one staking tx lands', async () => {
    const b = await testbed({ paused: true });
    await startTestbedService(b, 'val-a');
    await launchNearTestbed(b);
    const taskQueue = 'e2e-worker-dies';
    const workerOptions = {
      connection: env!.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: { connections: b.connections, heartbeatIntervalMs: 500, inventory },
    };
    await nearBaseline(b);
    const nonceBefore = ownerNonce(b);
    const input = upgradeOn(
      'nearZeroDowntimeUpgrade',
      {
        validator: poolOn(b),
        networkRpcUrl: b.rpcUrl,
        staking: b.validators[POOL]!.stakingInput,
        oldNode: nodeInput(b.nodes['val-a']!),
        newNode: nodeInput(b.nodes['val-b']!),
        release: b.binaries.new.release('val-b'),
        timeouts: { ...timeouts, keyActive: '10 minutes' },
      },
      { oldNode: 'val-a', newNode: 'val-b' },
    );
    const handle = await env!.client.workflow.start('nearZeroDowntimeUpgrade', {
      args: [input],
      taskQueue,
      workflowId: upgradeWorkflowId(nearIdentity(input.validator)),
      ...upgradeIdPolicy(),
    });
    // No sticky cache, so the next worker gets the run's next task at once instead of after a timeout.
    const { worker: first } = await createUpgradeWorker({ ...workerOptions, maxCachedWorkflows: 0 });
    const firstRun = first.run();
    await eventually(
      'the staking transaction to land',
      () => (ownerNonce(b) > nonceBefore ? true : undefined),
      180_000,
    );
    first.shutdown();
    await firstRun;

    const { worker: second } = await createUpgradeWorker(workerOptions);
    const result = (await second.runUntil(handle.result())) as { newKey: string };
    const after = await settledNearCounters(b);
    expect(ownerNonce(b) - nonceBefore).toBe(1n);
    expect(after.blocksSignedByKey[result.newKey]).toBeGreaterThan(0);
    expect(after.doubleSignHeights).toEqual([]);
    expect(b.isRunning('val-a')).toBe(false);
  }, 600_000);

  it('gives up on a new node that never syncs: it is stopped, nothing is staked, the old node never misses', async () => {
    // The new release speaks an older protocol than the network's: it never syncs.
    const b = await testbed({ binaries: { new: { protocolVersion: 72 } }, paused: true });
    await startTestbedService(b, 'val-a');
    await launchNearTestbed(b);
    const nonceBefore = ownerNonce(b);
    const input = upgradeOn(
      'nearZeroDowntimeUpgrade',
      {
        validator: poolOn(b),
        networkRpcUrl: b.rpcUrl,
        staking: b.validators[POOL]!.stakingInput,
        oldNode: nodeInput(b.nodes['val-a']!),
        newNode: nodeInput(b.nodes['val-b']!),
        release: b.binaries.new.release('val-b'),
        timeouts: { sync: '20s', keyActive: '10 minutes', signing: '5 minutes' },
      },
      { oldNode: 'val-a', newNode: 'val-b' },
    );
    const { error, status, figures } = await runStrategy(b, 'nearZeroDowntimeUpgrade', input, {
      expectFailure: true,
    });
    let root: unknown = error;
    while (root instanceof Error && root.cause) root = root.cause;
    expect(root).toMatchObject({ type: 'ChainWaitTimeout' });
    expect(stepStates(status)).toMatchObject({ 'wait-new-synced': 'failed', 'undo-start-new-node': 'compensated' });
    expect(ownerNonce(b)).toBe(nonceBefore);
    expect(b.isRunning('val-b')).toBe(false);
    expect(b.isRunning('val-a')).toBe(true);
    expect(figures.missedBlocks).toBe(0);
    expect(figures.doubleSigns).toBe(0);
  }, 600_000);

  it('refuses a wrong owner signer without retrying, and stops the new node it had started', async () => {
    const b = await testbed({ paused: true });
    await startTestbedService(b, 'val-a');
    await launchNearTestbed(b);
    const activities = {
      connections: b.connections,
      heartbeatIntervalMs: 500,
      resolveNearSigner: (spec: SignerSpec, context: NearSignerContext) =>
        resolveNearSigner(spec, context, { MALLORY_KEY: KeyPair.fromRandom('ed25519').toString() }),
      inventory,
    };
    const taskQueue = 'e2e-wrong-owner';
    await nearBaseline(b);
    const v = b.validators[POOL]!;
    // The worker's inventory names someone who is not the pool's owner as its staking signer: only the
    // owner may call update_staking_key.
    const input = upgradeOn(
      'nearZeroDowntimeUpgrade',
      {
        validator: poolOn(b),
        networkRpcUrl: b.rpcUrl,
        staking: {
          type: 'pool' as const,
          ownerId: 'mallory.near',
          signer: { id: 'mallory', type: 'env' as const, variable: 'MALLORY_KEY' },
        },
        oldNode: nodeInput(b.nodes['val-a']!),
        newNode: nodeInput(b.nodes['val-b']!),
        release: b.binaries.new.release('val-b'),
        timeouts: { ...timeouts, keyActive: '10 minutes' },
      },
      { oldNode: 'val-a', newNode: 'val-b' },
    );
    const { worker } = await createUpgradeWorker({
      connection: env!.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities,
    });
    const handle = await env!.client.workflow.start('nearZeroDowntimeUpgrade', {
      args: [input],
      taskQueue,
      workflowId: upgradeWorkflowId(nearIdentity(input.validator)),
      ...upgradeIdPolicy(),
    });
    const { error, status } = await worker.runUntil(async () => {
      const error = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      return { error, status: await handle.query(statusQuery) };
    });
    let root: unknown = error;
    while (root instanceof Error && root.cause) root = root.cause;
    expect(root).toMatchObject({ type: 'WrongOwner', nonRetryable: true });
    const stake = status.steps.find((s) => s.id === 'stake-new-key');
    expect(stake?.state).toBe('failed');
    console.log(`wrong owner: ${stake?.detail}`);
    const history = (await handle.fetchHistory()).events ?? [];
    const stakeAttempts = history.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'stakeWithKey',
    );
    expect(stakeAttempts).toHaveLength(1);
    expect(history.filter((e) => e.activityTaskFailedEventAttributes).length).toBeGreaterThan(0);
    expect(b.isRunning('val-b')).toBe(false);
    expect(b.isRunning('val-a')).toBe(true);
    const after = await settledNearCounters(b);
    expect(Object.keys(after.blocksSignedByKey)).toEqual([v.validatorKey.getPublicKey().toString()]);
  }, 600_000);
});
