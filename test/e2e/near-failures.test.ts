/**
 * Two NEAR failures end to end, with real processes: the production worker (worker/main.ts) as a child
 * process on the Temporal dev server, real SSH to sshd hosts running simulated neard services, and the local
 * NEAR network judging each run by its own counters.
 *
 * - The worker is SIGKILLed (with everything it spawned) in the worst moment of nearZeroDowntimeUpgrade:
 *   the staking transaction is on the chain and the activity has not reported it. A fresh worker process
 *   resumes the run, and exactly one staking transaction lands.
 * - The data swap of nearSyncAndSwapUpgrade meets a folder the host refuses to rename out of, after the
 *   validator was stopped: the run fails naming the problem, the old data folder is back unchanged, and the
 *   validator runs and signs again on its old binary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { statusQuery } from '../../src/api/messages.js';
import { nearIdentity } from '../../src/api/near-inputs.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import { approve } from '../../src/client/index.js';
import type { Inventory } from '../../src/config/inventory.js';
import {
  NEAR_SCENARIO_POOL as POOL,
  nearBaseline,
  settledNearCounters,
  startNearScenario,
} from '../../devnet/scenarios/near.js';
import type { NearTestbed } from '../../devnet/testbeds/near.js';
import { inventoryForTargets } from '../../devnet/testbeds/targets-inventory.js';
import { lockFolder, type FolderLock } from '../helpers/folder-lock.js';
import { eventually } from '../helpers/eventually.js';
import { rootCause, signerNonce, stepStates } from '../helpers/near-e2e.js';
import { startTxHoldProxy, type TxHoldProxy } from '../helpers/near-tx-hold-proxy.js';
import { makeTree, snapshot, withoutLiveMarker } from '../helpers/trees.js';
import { useWorkerProcesses } from '../helpers/worker-process.js';

const processes = useWorkerProcesses('near-failures-e2e');
let bed: NearTestbed | undefined;
let proxy: TxHoldProxy | undefined;
let lock: FolderLock | undefined;

afterEach(async () => {
  await processes.stopAll();
  await lock?.unlock();
  lock = undefined;
  await proxy?.close();
  proxy = undefined;
  await bed?.stop();
  bed = undefined;
}, 60_000);

const worker = (taskQueue: string, inventory: Inventory) => processes.start(taskQueue, inventory);

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The activity type of each scheduled activity, by its scheduled event id. */
function activityTypes(history: HistoryEvent[]): Map<string, string> {
  const types = new Map<string, string>();
  for (const e of history) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) types.set(String(e.eventId), name);
  }
  return types;
}

function startedAttempts(history: HistoryEvent[], activityType: string): number[] {
  const types = activityTypes(history);
  return history
    .filter((e) => types.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) === activityType)
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
}

function completions(history: HistoryEvent[], activityType: string): number {
  const types = activityTypes(history);
  return history.filter(
    (e) => types.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)) === activityType,
  ).length;
}

/** What the node's own RPC says about its binary (the banner of the running process). */
async function nodeVersion(rpcUrl: string): Promise<string> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 'e2e', method: 'status', params: [] }),
  });
  const body = (await res.json()) as { result?: { version?: { version?: string } } };
  return body.result?.version?.version ?? '(no version)';
}

/**
 * Seconds from the later of the kill and the fresh worker being up to the end of the killed step: what the
 * step's heartbeat timeout and retry cost, without the worker's own start (which a restarted worker pays anyway).
 */
function resumedAfterReady(endedAt: string, killedAt: number, readyAt: number): number {
  return (Date.parse(endedAt) - Math.max(killedAt, readyAt)) / 1000;
}

describe('NEAR failures end to end, with real worker processes', () => {
  it('a worker SIGKILLed after its staking transaction landed: a fresh worker resumes, one staking tx in all', async () => {
    const scenario = await startNearScenario('nearZeroDowntimeUpgrade');
    const b = (bed = scenario.bed);
    proxy = await startTxHoldProxy(b.rpcUrl);
    const taskQueue = `e2e-near-sigkill-${process.pid}`;
    // Every call of the run to the network goes through the relay, which holds the staking answer: the
    // workers' inventory names it as the validator's network RPC.
    const { inventory, input } = inventoryForTargets(
      'nearZeroDowntimeUpgrade',
      { ...scenario.targets, networkRpcUrl: proxy.url },
      { nodeIds: { oldNode: 'val-a', newNode: 'val-b' } },
    );
    expect(inventory.validators[0]).toMatchObject({ networkRpc: proxy.url });
    const first = await worker(taskQueue, inventory);
    const before = await nearBaseline(b);
    const nonceBefore = signerNonce(b);
    const handle = await processes.env.client.workflow.start('nearZeroDowntimeUpgrade', {
      args: [input],
      taskQueue,
      workflowId: upgradeWorkflowId(nearIdentity(input.validator)),
      ...upgradeIdPolicy(),
    });

    const heldTx = await eventually('the staking transaction to land', () => proxy!.heldTransaction, 300_000);
    // The transaction is on the chain (the devnet answered it and the signer's nonce moved), and the
    // worker has not seen the answer: now it dies, with everything it spawned.
    expect(signerNonce(b)).toBe(nonceBefore + 1n);
    expect(await first.kill()).toBe('SIGKILL');
    const killedAt = Date.now();
    const atKill = (await handle.fetchHistory()).events ?? [];
    expect(completions(atKill, 'stakeWithKey')).toBe(0);

    // The server hands the stake to the new worker once the dead attempt misses its heartbeats: stakeWithKey
    // heartbeats, with a heartbeat timeout of 10 s and a first retry after 1 s (it took a minute before).
    await worker(taskQueue, inventory);
    const readyAt = Date.now();
    const result = (await handle.result()) as { newKey: string; stakeTxHash?: string };
    const status: UpgradeStatus = await handle.query(statusQuery);
    const stakeStep = status.steps.find((s) => s.id === 'stake-new-key')!;
    const history = (await handle.fetchHistory()).events ?? [];
    const after = await settledNearCounters(b);
    const recoverySeconds = (Date.parse(stakeStep.endedAt!) - killedAt) / 1000;
    const afterReady = resumedAfterReady(stakeStep.endedAt!, killedAt, readyAt);
    console.log(
      `worker SIGKILL: the stake step ended ${recoverySeconds.toFixed(1)} s after the kill, ` +
        `${afterReady.toFixed(1)} s after the fresh worker was up (its start took ${((readyAt - killedAt) / 1000).toFixed(1)} s; ` +
        `attempts ${startedAttempts(history, 'stakeWithKey').join(', ')}); ` +
        `${after.missedBlocks - before.missedBlocks} missed blocks, ${after.doubleSignHeights.length} double signs`,
    );

    // One staking transaction in all: the signer's nonce on the chain moved once, and the only transaction
    // the network accepted from the run is the held update_staking_key.
    expect(signerNonce(b) - nonceBefore).toBe(1n);
    expect(proxy.landed).toEqual([heldTx]);
    expect(heldTx).toMatchObject({ signerId: 'owner.near', receiverId: POOL, actions: ['update_staking_key'] });
    // The stake activity ran again on the new worker, found the key staked, and submitted nothing.
    expect(startedAttempts(history, 'stakeWithKey')).toEqual([expect.any(Number)]);
    expect(startedAttempts(history, 'stakeWithKey')[0]).toBeGreaterThan(1);
    expect(result.stakeTxHash).toBeUndefined();
    // Resumed within the heartbeat timeout and the first retry (once a worker is there), not minutes.
    expect(afterReady).toBeLessThan(15);
    expect(stepStates(status)).toMatchObject({ 'stake-new-key': 'done', 'stop-old-node': 'done' });

    expect(after.blocksSignedByKey[result.newKey]).toBeGreaterThan(0);
    expect(after.doubleSignHeights).toEqual([]);
    expect(after.missedBlocks - before.missedBlocks).toBe(0);
    expect(after.missedChunks - before.missedChunks).toBe(0);
    expect(b.isRunning('val-a')).toBe(false);
    expect(b.isRunning('val-b')).toBe(true);
  }, 900_000);

  it('a data swap the host refuses after the validator stopped: old data back unchanged, old binary, signing', async () => {
    // manualApproval: the run waits at the gate before the validator stops, while the test lays the obstacle.
    const scenario = await startNearScenario('nearSyncAndSwapUpgrade', { manualApproval: true });
    const b = (bed = scenario.bed);
    const { input } = scenario;
    const validator = b.nodes['val-a']!;
    const sync = b.nodes['sync']!;
    const oldData = path.join(validator.home, 'data');
    const syncedData = path.join(sync.home, 'data');
    // Real content beside the node's own marker: folders, binary files, a symlink, odd names.
    await makeTree(oldData, 'old');
    const taskQueue = `e2e-near-swap-refused-${process.pid}`;
    await worker(taskQueue, scenario.inventory);
    const before = await nearBaseline(b);
    const validatorKey = b.validators[POOL]!.validatorKey.getPublicKey().toString();
    const workflowId = upgradeWorkflowId(nearIdentity(input.validator));
    const handle = await processes.env.client.workflow.start('nearSyncAndSwapUpgrade', {
      args: [input],
      taskQueue,
      workflowId,
      ...upgradeIdPolicy(),
    });
    await eventually(
      'the run to wait for approval to stop the sync node and swap',
      async () =>
        (await handle.query(statusQuery)).pendingApproval?.gate === 'stop-swap-and-restart' ? true : undefined,
      300_000,
    );
    expect(existsSync(syncedData)).toBe(true);
    const syncedTree = withoutLiveMarker(await snapshot(syncedData));
    const oldTree = withoutLiveMarker(await snapshot(oldData));
    // The synced folder cannot leave the sync node's home: the swap moves the old folder aside, and then
    // the host refuses to move the new one in.
    lock = await lockFolder(sync.home);
    await approve(processes.env.client, workflowId, 'stop-swap-and-restart', { by: 'e2e' });

    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    const failedAt = b.counters(POOL);
    const status: UpgradeStatus = await handle.query(statusQuery);
    await lock.unlock();

    expect(error).toBeDefined();
    const cause = rootCause(error) as Error;
    console.log(`swap refused: ${cause.message}`);
    expect(cause).toMatchObject({ type: 'RemoteCommandFailed', nonRetryable: true });
    expect(cause.message).toContain(`renaming ${syncedData} to ${oldData}`);
    expect(cause.message).toMatch(/Operation not permitted|Permission denied/);
    // Refused once, not retried while the validator is down: the rollback follows at once.
    const history = (await handle.fetchHistory()).events ?? [];
    expect(startedAttempts(history, 'restartOnRelease')).toEqual([1]);
    expect(stepStates(status)).toMatchObject({
      'stop-swap-and-restart': 'failed',
      'undo-start-sync-node': 'compensated',
    });

    // The old folder is back in its place, every file as it was; no backup copy is left beside it, and the
    // synced folder is still where it was.
    expect(withoutLiveMarker(await snapshot(oldData))).toBe(oldTree);
    const marker = JSON.parse(readFileSync(path.join(oldData, 'DB_MARKER.json'), 'utf8')) as object;
    expect(marker).toMatchObject({ db_version: 41, state: 'ok' });
    expect((await readdir(validator.home)).filter((name) => name.startsWith('data.'))).toEqual([]);
    expect(withoutLiveMarker(await snapshot(syncedData))).toBe(syncedTree);

    // The validator runs its old binary again, and signs.
    expect(b.isRunning('val-a')).toBe(true);
    expect(b.isRunning('sync')).toBe(false);
    expect(readFileSync(validator.binary).equals(readFileSync(b.binaries.old.staged('val-a')))).toBe(true);
    expect(await nodeVersion(validator.rpcUrl)).toBe(b.binaries.old.version);
    await eventually('the validator to sign again', () =>
      b.counters(POOL).producedBlocks > failedAt.producedBlocks + 5 ? true : undefined,
    );
    const after = await settledNearCounters(b);
    expect(after.blocksSignedByKey[validatorKey]).toBeGreaterThan(failedAt.blocksSignedByKey[validatorKey] ?? 0);
    expect(Object.keys(after.blocksSignedByKey)).toEqual([validatorKey]);
    expect(after.doubleSignHeights).toEqual([]);
    const stop = status.steps.find((s) => s.id === 'stop-swap-and-restart')!;
    console.log(
      `swap refused: ${after.missedBlocks - before.missedBlocks} missed blocks while the validator was down ` +
        `(stopped at ${stop.startedAt}, failure handled by ${status.updatedAt}), ${after.doubleSignHeights.length} double signs`,
    );
  }, 900_000);
});
