/**
 * The four NEAR runbooks on the time-skipping server at mainnet timing (epochs of 43200 blocks of 0.6 to
 * 1.3 s, waits of two and more epochs), against a validator and machines that move with the server's clock
 * (devnet/timed/near-timed-sim.ts): each finishes with the key on exactly one running node, a bounded
 * history, and exactly one staking transaction where one is needed; a bad input fails before any activity;
 * and the failure paths end in the safe state their runbook promises.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { approveUpdate, statusQuery } from '../../src/api/messages.js';
import {
  nearIdentity,
  type NearKeyHotSwapInput,
  type NearStopAndRestartInput,
  type NearSyncAndSwapInput,
  type NearZeroDowntimeInput,
  type NearZeroDowntimeTargets,
} from '../../src/api/near-inputs.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import { createTimeSkippingEnv, bundleUpgradeWorkflows } from '../helpers/temporal.js';
import { expectRunFollowedPlan } from '../helpers/plan-conformance.js';
import type { nearZeroDowntimeUpgrade } from '../../workflows/near-zero-downtime.js';
import {
  nearTimedSim,
  releaseText,
  sha256,
  type NearTimedSimOptions,
  type SimRelease,
} from '../../devnet/timed/near-timed-sim.js';

const OLD: SimRelease = { version: '2.3.0', dbVersion: 41 };
const NEW: SimRelease = { version: '2.4.0', dbVersion: 42 };
const STAGED = '/var/tmp/neard-2.4.0';
const HOUR = 3_600_000;
const MAINNET_EPOCH = 43_200;
/** Events in one run: a fifth of the server's 10,240-event warning, whatever the number of blocks waited. */
const HISTORY_BOUND = 2_000;
const ownerSigner = { id: 'pool-owner', type: 'keystore-dir', path: '/home/operator/.near-credentials' } as const;

let bundle: WorkflowBundle;
let env: TestWorkflowEnvironment | undefined;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleUpgradeWorkflows();
});
afterAll(async () => {
  await env?.teardown();
});
const clock = () => env!.currentTimeMs();

function simulate(accountId: string, blockTimeMs: number, over: Partial<NearTimedSimOptions> = {}) {
  return nearTimedSim({
    accountId,
    epochLength: MAINNET_EPOCH,
    blockTimeMs,
    now: clock,
    initialKey: 'ed25519:sim-old',
    ownerSignerId: ownerSigner.id,
    staged: { [STAGED]: NEW },
    nodes: [
      {
        id: 'a',
        host: 'val-a',
        home: '/srv/near',
        service: 'neard',
        binary: '/usr/local/bin/neard',
        release: OLD,
        key: 'ed25519:sim-old',
        running: true,
        syncMs: 0,
      },
      {
        id: 'b',
        host: 'val-b',
        home: '/srv/near',
        service: 'neard',
        binary: '/usr/local/bin/neard',
        release: OLD,
        syncMs: 3 * HOUR,
      },
      {
        id: 'sync',
        host: 'val-a',
        home: '/srv/near-sync',
        service: 'neard-sync',
        binary: '/usr/local/bin/neard-next',
        release: OLD,
        syncMs: 5 * HOUR,
      },
    ],
    ...over,
  });
}
type Sim = ReturnType<typeof simulate>;

const release = { staged: STAGED, sha256: sha256(releaseText(NEW)), version: NEW.version };
const validator = (accountId: string) => ({ network: 'mainnet' as const, accountId });
const networkRpcUrl = 'http://rpc.sim:3030';

const zeroDowntimeInput = (
  sim: Sim,
  accountId: string,
  over: Partial<NearZeroDowntimeTargets> = {},
): NearZeroDowntimeInput =>
  sim.upgrade('nearZeroDowntimeUpgrade', {
    validator: validator(accountId),
    networkRpcUrl,
    staking: { type: 'pool', ownerId: 'owner.near', signer: ownerSigner },
    oldNode: sim.ref('a'),
    newNode: sim.ref('b'),
    release,
    timeouts: { sync: '1 day', keyActive: '4 days', signing: '1 hour' },
    ...over,
  });

async function runToEnd<T>(
  sim: Sim,
  workflowType: string,
  input: { validator: { network: string; accountId: string }; [field: string]: unknown },
  during?: (handle: WorkflowHandle) => Promise<void>,
) {
  const taskQueue = `${workflowType}-${input.validator.accountId}`;
  const worker = await Worker.create({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: sim.activities,
  });
  const handle: WorkflowHandle = await env!.client.workflow.start(workflowType, {
    args: [input],
    taskQueue,
    workflowId: upgradeWorkflowId(nearIdentity(input.validator)),
    ...upgradeIdPolicy(),
  });
  const outcome = await worker.runUntil(async () => {
    await during?.(handle);
    const result = await handle.result().then(
      (value: T) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error }),
    );
    // A run refused before it began has no status query.
    const status = await handle.query(statusQuery).catch(() => undefined);
    return { ...result, status: status! };
  });
  const events = (await handle.fetchHistory()).events?.length ?? 0;
  return { ...outcome, events, handle };
}

/** The application failure at the root of a failed workflow (through an activity failure, if any). */
function failureOf(error: unknown): ApplicationFailure {
  if (!(error instanceof WorkflowFailedError)) throw new Error(`expected the workflow to fail, got ${String(error)}`);
  let found: ApplicationFailure | undefined;
  for (let e: unknown = error.cause; e instanceof Error; e = e.cause) if (e instanceof ApplicationFailure) found = e;
  if (!found) throw new Error(`no application failure in ${String(error.cause)}`);
  return found;
}

const stepStates = (status: UpgradeStatus) => Object.fromEntries(status.steps.map((s) => [s.id, s.state]));

describe('nearZeroDowntimeUpgrade at mainnet timing', () => {
  it.each([
    ['1.3 s', 1300],
    ['0.6 s', 600],
  ])(
    'hands the account to the new node over two epochs of %s blocks with a bounded history',
    async (_l, blockTimeMs) => {
      const accountId = `zd-${blockTimeMs}.poolv1.near`;
      const sim = simulate(accountId, blockTimeMs);
      const upgrade = zeroDowntimeInput(sim, accountId);
      const { value, error, status, events } = await runToEnd<{ newKey: string; stakeTxHash?: string }>(
        sim,
        'nearZeroDowntimeUpgrade',
        upgrade,
      );
      expect(error).toBeUndefined();
      expectRunFollowedPlan(status, 'nearZeroDowntimeUpgrade', upgrade);
      const chain = await sim.chain();
      expect(chain.currentKey).toBe(value!.newKey);
      // The old node stopped only once the key staked in epoch T was current, from T+2 on.
      const stoppedIn = sim.stops.find((s) => s.node === 'a')!.epoch;
      expect(stoppedIn - sim.stakes[0]!.epoch).toBeGreaterThanOrEqual(2);
      expect(sim.stakes).toHaveLength(1);
      expect(value!.stakeTxHash).toBe('tx-1');
      expect(sim.inspect('a').active).toBe(false);
      expect(sim.inspect('b')).toMatchObject({ active: true, loadedKey: value!.newKey, release: NEW.version });
      expect(sim.doubleSigners).toEqual([]);
      expect(status.state).toBe('completed');
      expect(events).toBeLessThan(HISTORY_BOUND);
      console.log(
        `zero-downtime at ${blockTimeMs} ms blocks: staked in epoch ${sim.stakes[0]!.epoch}, old node stopped in ${stoppedIn}, ` +
          `${status.continuedAsNew} continue-as-new, ${events} events in the last run`,
      );
    },
  );

  it('refuses to begin while a process nobody accounts for on the new node’s host holds the old key', async () => {
    const accountId = 'zd-rogue.poolv1.near';
    // A neard started by hand on val-b with a copy of the old key: the host's records show it, its RPC is unknown.
    const sim = simulate(accountId, 1000, {
      strangers: [{ host: 'val-b', home: '/home/ops/rogue/.near', key: 'ed25519:sim-old' }],
    });
    const { error, status } = await runToEnd(sim, 'nearZeroDowntimeUpgrade', zeroDowntimeInput(sim, accountId));
    const failure = failureOf(error);
    expect(failure.type).toBe('UnsafeToProceed');
    expect(failure.message).toContain('/home/ops/rogue/.near, which holds it');
    expect(stepStates(status)['check-nodes']).toBe('failed');
    expect(sim.calls).not.toContain('installBinary');
    expect(sim.stakes).toEqual([]);
  });

  it('holds while a host cannot tell who runs there, says why in the status, and goes on once it can', async () => {
    const accountId = 'zd-unknown.poolv1.near';
    const workflowId = upgradeWorkflowId(nearIdentity(validator(accountId)));
    const seenWhileHeld: UpgradeStatus[] = [];
    const sim = simulate(accountId, 1000, {
      strangers: [{ host: 'val-b', home: '/home/other/.near', unreadableLooks: 2 }],
      onObserveSigner: async (count) => {
        if (count === 1) seenWhileHeld.push(await env!.client.workflow.getHandle(workflowId).query(statusQuery));
      },
    });
    const { error, status, handle } = await runToEnd(sim, 'nearZeroDowntimeUpgrade', zeroDowntimeInput(sim, accountId));
    expect(error).toBeUndefined();
    expect(status.state).toBe('completed');
    // Held at the first check, with the reason where operators look.
    expect(seenWhileHeld[0]).toMatchObject({ state: 'waiting', currentStep: 'check-nodes' });
    expect(seenWhileHeld[0]!.waiting?.reason).toContain('/home/other/.near, which cannot be read');
    const held = (await handle.fetchHistory()).events!.filter(
      (e) => e.timerStartedEventAttributes && e.userMetadata?.summary?.data,
    );
    expect(held.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a bad input before any activity runs', async () => {
    const accountId = 'bad-input.poolv1.near';
    const sim = simulate(accountId, 1000);
    const input = { ...zeroDowntimeInput(sim, accountId), release: { staged: 'neard', sha256: 'nope' } };
    const { error } = await runToEnd(sim, 'nearZeroDowntimeUpgrade', input as never);
    const failure = failureOf(error);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toContain('release.staged');
    expect(failure.message).toContain('must be an absolute path');
    expect(failure.nonRetryable).toBe(true);
    expect(sim.calls).toEqual([]);
  });

  it('refuses an input that brings its own hosts, command templates or signer, and a node that is not the validator’s, before any activity acts', async () => {
    const accountId = 'injected.poolv1.near';
    const sim = simulate(accountId, 1000);
    const input = zeroDowntimeInput(sim, accountId);
    // The shape inputs had before the inventory moved to the worker: a host whose service manager runs `id`.
    const commands = { type: 'commands', start: ['id'], stop: ['id'], isActive: ['id'] };
    const injected = {
      ...input,
      networkRpcUrl,
      staking: { type: 'direct', signer: { id: 'planted', type: 'env', variable: 'HOME' } },
      oldNode: { ...sim.ref('a'), host: { ...sim.ref('a').host, serviceManager: commands } },
    };
    const first = failureOf((await runToEnd(sim, 'nearZeroDowntimeUpgrade', injected as never)).error);
    expect(first).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    for (const field of ['oldNode', 'networkRpcUrl', 'staking']) expect(first.message).toContain(field);

    // A node id the inventory holds, but for another validator: refused by the worker, naming the field.
    const theirs = sim.upgrade('nearStopAndRestartUpgrade', {
      validator: validator('other.poolv1.near'),
      networkRpcUrl,
      node: sim.ref('b'),
      release,
    });
    expect(theirs.node).toBe('node');
    const second = failureOf((await runToEnd(sim, 'nearZeroDowntimeUpgrade', { ...input, newNode: 'node' })).error);
    expect(second).toMatchObject({ type: 'NotInInventory', nonRetryable: true });
    expect(second.message).toMatch(/^newNode: "node" is not a node of validator "v\d+" in the worker's inventory/);
    expect(sim.calls).toEqual([]);
  });

  it('gives up when the new node never syncs: the new node stops, the old one is untouched', async () => {
    const accountId = 'never-syncs.poolv1.near';
    const slow = simulate(accountId, 1000, {
      nodes: [
        {
          id: 'a',
          host: 'val-a',
          home: '/srv/near',
          service: 'neard',
          binary: '/usr/local/bin/neard',
          release: OLD,
          key: 'ed25519:sim-old',
          running: true,
          syncMs: 0,
        },
        {
          id: 'b',
          host: 'val-b',
          home: '/srv/near',
          service: 'neard',
          binary: '/usr/local/bin/neard',
          release: OLD,
          syncMs: Infinity,
        },
      ],
    });
    const input = zeroDowntimeInput(slow, accountId);
    const { error, status } = await runToEnd(slow, 'nearZeroDowntimeUpgrade', {
      ...input,
      timeouts: { sync: '6 hours' },
    });
    const failure = failureOf(error);
    expect(failure.type).toBe('ChainWaitTimeout');
    expect(failure.message).toContain('to sync after 360 min');
    expect(slow.inspect('a')).toMatchObject({ active: true, loadedKey: 'ed25519:sim-old', release: OLD.version });
    expect(slow.inspect('b').active).toBe(false);
    expect(slow.stakes).toEqual([]);
    expect(stepStates(status)).toMatchObject({ 'wait-new-synced': 'failed', 'undo-start-new-node': 'compensated' });
  });

  it('fails non-retryably with the contract’s words when the owner signer is wrong, and stakes nothing', async () => {
    const accountId = 'wrong-owner.poolv1.near';
    const sim = simulate(accountId, 1000);
    const input = zeroDowntimeInput(sim, accountId, {
      staking: { type: 'pool', ownerId: 'owner.near', signer: { ...ownerSigner, id: 'someone-else' } },
    });
    const { error, status } = await runToEnd(sim, 'nearZeroDowntimeUpgrade', input);
    const failure = failureOf(error);
    expect(failure.type).toBe('NotPoolOwner');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('Can only be called by the owner');
    expect(status.steps.find((s) => s.id === 'stake-new-key')?.detail).toContain('Can only be called by the owner');
    expect(sim.calls.filter((c) => c === 'stakeWithKey')).toHaveLength(1);
    expect(sim.stakes).toEqual([]);
    expect(sim.inspect('a')).toMatchObject({ active: true, loadedKey: 'ed25519:sim-old' });
    expect(sim.inspect('b').active).toBe(false);
    expect(stepStates(status)).toMatchObject({ 'stake-new-key': 'failed', 'undo-start-new-node': 'compensated' });
  });

  it('resumes on a new worker after the first one died mid-wait, and stakes exactly once', async () => {
    const accountId = 'worker-dies.poolv1.near';
    const sim = simulate(accountId, 1300);
    const taskQueue = 'zd-worker-dies';
    const input = zeroDowntimeInput(sim, accountId);
    const handle = await env!.client.workflow.start<typeof nearZeroDowntimeUpgrade>('nearZeroDowntimeUpgrade', {
      args: [input],
      taskQueue,
      workflowId: upgradeWorkflowId(nearIdentity(input.validator)),
      ...upgradeIdPolicy(),
    });
    const first = await Worker.create({
      connection: env!.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: sim.activities,
      // No sticky cache: the dead worker's sticky queue would otherwise hold the next task until it times out.
      maxCachedWorkflows: 0,
    });
    // Run the first worker until the stake is on chain, then take it away mid-wait. Awaiting the result
    // alongside lets the server skip time.
    const result = handle.result();
    result.catch(() => undefined);
    const staked = (async () => {
      while (sim.stakes.length === 0) await new Promise((r) => setTimeout(r, 20));
    })();
    await first.runUntil(Promise.race([result, staked]));
    expect(sim.inspect('a').active).toBe(true); // stopped mid-run: the old node still validates
    const second = await Worker.create({
      connection: env!.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: sim.activities,
    });
    const done = await second.runUntil(result);
    expect(done).toMatchObject({ stakeTxHash: 'tx-1' });
    expect(sim.stakes).toHaveLength(1);
    expect(sim.doubleSigners).toEqual([]);
  });
});

describe('nearSyncAndSwapUpgrade at mainnet timing', () => {
  const input = (sim: Sim, accountId: string): NearSyncAndSwapInput =>
    sim.upgrade('nearSyncAndSwapUpgrade', {
      validator: validator(accountId),
      networkRpcUrl,
      node: sim.ref('a'),
      syncNode: sim.ref('sync'),
      release,
    });

  it('swaps the synced data in and runs the validator on the new release with its own key', async () => {
    const accountId = 'swap.poolv1.near';
    const sim = simulate(accountId, 1100);
    const upgrade = input(sim, accountId);
    const { value, error, status, events } = await runToEnd<{ oldDataBackup: string }>(
      sim,
      'nearSyncAndSwapUpgrade',
      upgrade,
    );
    expect(error).toBeUndefined();
    expectRunFollowedPlan(status, 'nearSyncAndSwapUpgrade', upgrade);
    expect(sim.inspect('a')).toMatchObject({
      active: true,
      loadedKey: 'ed25519:sim-old',
      release: NEW.version,
      dataDbVersion: NEW.dbVersion,
    });
    expect(sim.inspect('sync')).toMatchObject({ active: false, keyFile: undefined });
    expect(sim.file('val-a', value!.oldDataBackup)).toBe(JSON.stringify({ dbVersion: OLD.dbVersion }));
    expect(sim.doubleSigners).toEqual([]);
    expect(events).toBeLessThan(HISTORY_BOUND);
    console.log(`sync-and-swap: ${status.continuedAsNew} continue-as-new, ${events} events in the last run`);
  });

  it('holds at the gate of the step that stops the sync node, and takes an approval under its old names', async () => {
    const accountId = 'swap-gate.poolv1.near';
    const sim = simulate(accountId, 1100);
    const upgrade = { ...input(sim, accountId), manualApproval: true };
    const { error, status } = await runToEnd(sim, 'nearSyncAndSwapUpgrade', upgrade, async (handle) => {
      let pending: UpgradeStatus['pendingApproval'];
      while (!(pending = (await handle.query(statusQuery)).pendingApproval)) await env!.sleep(60_000);
      expect(pending.gate).toBe('stop-swap-and-restart');
      expect(stepStates(await handle.query(statusQuery))).toMatchObject({
        'wait-sync-node-synced': 'done',
        'stage-release': 'done',
        'stop-swap-and-restart': 'pending',
      });
      expect(sim.inspect('sync').active).toBe(true); // it follows the chain until the approved step stops it
      // Operators and scripts that learned the gate as swap-data-folder (or stop-sync-node) are still heard.
      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'swap-data-folder', by: 'alice' }] });
    });
    expect(error).toBeUndefined();
    expectRunFollowedPlan(status, 'nearSyncAndSwapUpgrade', upgrade);
  });

  it('restores the old data and runs the old binary when the swap fails', async () => {
    const accountId = 'swap-fails.poolv1.near';
    const sim = simulate(accountId, 1100, { failSwap: true });
    const { error, status } = await runToEnd(sim, 'nearSyncAndSwapUpgrade', input(sim, accountId));
    expect(failureOf(error).message).toContain('Input/output error');
    expect(sim.inspect('a')).toMatchObject({
      active: true,
      loadedKey: 'ed25519:sim-old',
      release: OLD.version,
      dataDbVersion: OLD.dbVersion,
    });
    expect(sim.inspect('sync').active).toBe(false);
    expect(stepStates(status)).toMatchObject({
      'stop-swap-and-restart': 'failed',
      'undo-start-sync-node': 'compensated',
    });
    expect(sim.doubleSigners).toEqual([]);
  });
});

describe('nearStopAndRestartUpgrade at mainnet timing', () => {
  const input = (sim: Sim, accountId: string, migration = '12 hours'): NearStopAndRestartInput =>
    sim.upgrade('nearStopAndRestartUpgrade', {
      validator: validator(accountId),
      networkRpcUrl,
      node: sim.ref('a'),
      release,
      timeouts: { migration },
    });

  it('follows a migration that outlasts its limit to the end, never stopping the node', async () => {
    const accountId = 'migrates.poolv1.near';
    const sim = simulate(accountId, 1000, {
      nodes: [
        {
          id: 'a',
          host: 'val-a',
          home: '/srv/near',
          service: 'neard',
          binary: '/usr/local/bin/neard',
          release: OLD,
          key: 'ed25519:sim-old',
          running: true,
          syncMs: HOUR,
          migrationMs: 30 * HOUR,
        },
      ],
    });
    const upgrade = input(sim, accountId, '6 hours');
    const { value, error, status, events, handle } = await runToEnd<{ migrated: boolean }>(
      sim,
      'nearStopAndRestartUpgrade',
      upgrade,
    );
    expect(error).toBeUndefined();
    expectRunFollowedPlan(status, 'nearStopAndRestartUpgrade', upgrade);
    expect(value!.migrated).toBe(true);
    expect(sim.inspect('a')).toMatchObject({
      active: true,
      loadedKey: 'ed25519:sim-old',
      release: NEW.version,
      dataDbVersion: NEW.dbVersion,
    });
    expect(sim.calls.filter((c) => c === 'stopService' || c === 'restartOnRelease')).toHaveLength(1);
    expect(sim.doubleSigners).toEqual([]);
    expect(stepStates(status)['wait-migration']).toBe('done');
    // A migrating node's RPC is silent by design: each look says so in its answer, none is a failed activity.
    expect(sim.calls.filter((c) => c === 'migrationState').length).toBeGreaterThan(1);
    expect(sim.calls.filter((c) => c === 'nodeStatus')).toHaveLength(1); // the status read before the stop
    expect(events).toBeLessThan(HISTORY_BOUND);
    // What one look of the wait costs in the last run's history: from one look's activity to the next's.
    const history = (await handle.fetchHistory()).events ?? [];
    const looksAt = history.flatMap((e, i) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name === 'migrationState' ? [i] : [],
    );
    const perLook = (looksAt.at(-1)! - looksAt[0]!) / (looksAt.length - 1);
    expect(perLook).toBeLessThan(17);
    console.log(
      `stop-and-restart with a 30 h migration: ${status.continuedAsNew} continue-as-new, ${events} events, ` +
        `${looksAt.length} looks in the last run at ${perLook.toFixed(1)} events a look`,
    );
  });

  it('puts the old binary back and restarts it when the new one does not start', async () => {
    const accountId = 'rollback.poolv1.near';
    const crashing: SimRelease = { ...NEW, version: '2.4.0-bad', crashes: true };
    const sim = simulate(accountId, 1000, { staged: { [STAGED]: crashing } });
    const bad = { ...release, sha256: sha256(releaseText(crashing)) };
    const { error, status } = await runToEnd(sim, 'nearStopAndRestartUpgrade', {
      ...input(sim, accountId),
      release: bad,
    });
    expect(failureOf(error).message).toContain('exited right after it started');
    expect(sim.inspect('a')).toMatchObject({ active: true, loadedKey: 'ed25519:sim-old', release: OLD.version });
    // The one-step restart put the old binary back and started it before failing.
    expect(stepStates(status)).toMatchObject({ 'restart-on-release': 'failed' });
  });

  it('refuses a release older than the database before it stops anything', async () => {
    const accountId = 'older.poolv1.near';
    const older: SimRelease = { version: '2.2.0', dbVersion: 40 };
    const sim = simulate(accountId, 1000, { staged: { [STAGED]: older } });
    const { error } = await runToEnd(sim, 'nearStopAndRestartUpgrade', {
      ...input(sim, accountId),
      release: { ...release, sha256: sha256(releaseText(older)) },
    });
    const failure = failureOf(error);
    expect(failure.type).toBe('UnsafeToProceed');
    expect(failure.message).toContain("the node's database is version 41, newer than 40 of release 2.2.0");
    expect(sim.calls).not.toContain('stopService');
    expect(sim.inspect('a')).toMatchObject({ active: true, release: OLD.version });
  });
});

describe('nearValidatorKeyHotSwap at mainnet timing', () => {
  it('stages the key on the synced standby, then hands it over in one activity once the primary is stopped', async () => {
    const accountId = 'hot-swap.poolv1.near';
    const sim = simulate(accountId, 1200);
    const input: NearKeyHotSwapInput = sim.upgrade('nearValidatorKeyHotSwap', {
      validator: validator(accountId),
      networkRpcUrl,
      primary: sim.ref('a'),
      standby: sim.ref('b'),
      release,
    });
    const { value, error, status, events } = await runToEnd<{
      primaryKeyParkedAt: string;
      handedOverAfterBlock?: number;
    }>(sim, 'nearValidatorKeyHotSwap', input);
    expect(error).toBeUndefined();
    expectRunFollowedPlan(status, 'nearValidatorKeyHotSwap', input);
    expect(sim.inspect('a')).toMatchObject({ active: false, keyFile: undefined });
    expect(sim.inspect('b')).toMatchObject({
      active: true,
      loadedKey: 'ed25519:sim-old',
      keyFile: 'ed25519:sim-old',
      release: NEW.version,
    });
    expect(sim.file('val-a', value!.primaryKeyParkedAt)).toContain('ed25519:sim-old');
    expect(value!.handedOverAfterBlock).toBeGreaterThan(0);
    // Staged after the standby synced, handed over in one activity; the primary is stopped by nothing else.
    const calls = sim.calls.filter((c) => ['stageValidatorKey', 'handOverValidatorKey', 'lookNodeSynced'].includes(c));
    expect(calls.slice(-2)).toEqual(['stageValidatorKey', 'handOverValidatorKey']);
    expect(sim.stops.filter((s) => s.node === 'a')).toHaveLength(1);
    expect(sim.calls).not.toContain('withdrawValidatorKey');
    expect(stepStates(status)).toMatchObject({
      'stage-key': 'done',
      'hand-over': 'done',
      'wait-standby-signing': 'done',
    });
    expect(sim.doubleSigners).toEqual([]);
    expect(sim.stakes).toEqual([]);
    expect(events).toBeLessThan(HISTORY_BOUND);
    console.log(`hot swap: ${status.continuedAsNew} continue-as-new, ${events} events`);
  });

  it('takes the key off the standby and sees it not signing before the primary starts again', async () => {
    const accountId = 'hot-swap-undo.poolv1.near';
    // The hand-over stops the primary and moves both key files, then fails: the worst moment to fail.
    const sim = simulate(accountId, 1200, { failHandOver: true });
    const input: NearKeyHotSwapInput = sim.upgrade('nearValidatorKeyHotSwap', {
      validator: validator(accountId),
      networkRpcUrl,
      primary: sim.ref('a'),
      standby: sim.ref('b'),
      release,
      timeouts: { sync: '1 day', signing: '1 hour' },
    });
    const { error, status } = await runToEnd(sim, 'nearValidatorKeyHotSwap', input);
    expect(error).toBeDefined();
    expect(stepStates(status)).toMatchObject({
      'hand-over': 'failed',
      'undo-stage-key': 'compensated',
    });
    const order = sim.calls.filter((c) => ['withdrawValidatorKey', 'startService'].includes(c));
    expect(order.slice(-2)).toEqual(['withdrawValidatorKey', 'startService']);
    expect(sim.inspect('b')).toMatchObject({ keyFile: undefined, loadedKey: undefined });
    expect(sim.inspect('a')).toMatchObject({ active: true, keyFile: 'ed25519:sim-old', loadedKey: 'ed25519:sim-old' });
    expect(sim.doubleSigners).toEqual([]);
  });
});
