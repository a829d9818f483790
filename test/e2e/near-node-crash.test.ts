/**
 * A node crashing while it syncs (issue 12, faults at the wire): nearSyncAndSwapUpgrade on the Temporal dev
 * server, the real activities over real SSH to the testbed's host, and the sync node's process SIGKILLed
 * (its whole process group) during `wait-sync-node-synced`. The testbed's service-ctl does not restart a
 * crashed service, so the test plays the service manager.
 *
 * Defined outcomes (workflows/common/near.ts nearWaits.synced):
 * - not restarted within NODE_RESTART_GRACE_MS: the wait says "stopped while syncing" in the status, the UI's
 *   current details and keeps UpgradeStage at the wait; then the run fails with NodeStoppedWhileSyncing, long
 *   before the sync deadline, having compensated (the sync node stopped; the validator untouched, signing).
 * - restarted in time (as systemd `Restart=` would): the wait goes on and the run completes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { statusQuery } from '../../src/api/messages.js';
import { nearIdentity } from '../../src/api/near-inputs.js';
import { UpgradeStage } from '../../src/api/search-attributes.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import { serviceFiles } from '../../devnet/hosts/service-ctl.js';
import { nearBaseline, settledNearCounters, startNearScenario } from '../../devnet/scenarios/near.js';
import { startTestbedService, type NearTestbed } from '../../devnet/testbeds/near.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';
import { faultTest } from '../helpers/rotation.js';
import { NODE_RESTART_GRACE_MS } from '../../workflows/common/stopped-node.js';
import { eventually } from '../helpers/eventually.js';
import { nearE2eSuite, rootCause, stepStates } from '../helpers/near-e2e.js';

const EPOCH_LENGTH = 200;
const BLOCK_TIME_MS = 150;
const WAIT = 'wait-sync-node-synced';

const suite = nearE2eSuite();

/** The simulated neard reports syncing for this long after it starts (its config.json). */
function setSyncDelay(b: NearTestbed, nodeId: string, ms: number) {
  const file = path.join(b.nodes[nodeId]!.home, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as { simulator: { sync_delay_ms: number } };
  config.simulator.sync_delay_ms = ms;
  writeFileSync(file, JSON.stringify(config, null, 2));
}

/** SIGKILL to the node's process group, found from the host's own record (service-ctl's pid file). */
function crash(b: NearTestbed, nodeId: string): number {
  const node = b.nodes[nodeId]!;
  const { pid } = JSON.parse(readFileSync(serviceFiles(node.host.root, node.service).pidFile, 'utf8')) as {
    pid: number;
  };
  process.kill(-pid, 'SIGKILL');
  return pid;
}

/**
 * Runs sync-and-swap; once the sync node runs and the run waits for it to sync, crashes it, and hands the run
 * to `then`. Returns what the status, the current details and UpgradeStage said while the node was down.
 */
async function crashWhileSyncing(then: (b: NearTestbed, handle: WorkflowHandle) => Promise<void>) {
  const scenario = await startNearScenario('nearSyncAndSwapUpgrade', {
    epochLength: EPOCH_LENGTH,
    blockTimeMs: BLOCK_TIME_MS,
  });
  const b = (suite.bed = scenario.bed);
  setSyncDelay(b, 'sync', 3_600_000);
  suite.inventoryRemovers.push(suite.inventory.add(scenario.inventory));
  const taskQueue = `e2e-node-crash-${Date.now()}`;
  const { worker } = await createUpgradeWorker({
    connection: suite.env!.nativeConnection,
    taskQueue,
    workflowBundle: suite.bundle!,
    activities: { connections: b.connections, heartbeatIntervalMs: 500, inventory: suite.inventory },
  });
  const before = await nearBaseline(b);
  const handle = await suite.env!.client.workflow.start('nearSyncAndSwapUpgrade', {
    args: [scenario.input],
    taskQueue,
    workflowId: upgradeWorkflowId(nearIdentity(scenario.input.validator)),
    ...upgradeIdPolicy(),
  });
  const status = (): Promise<UpgradeStatus> => handle.query(statusQuery);
  return worker.runUntil(async () => {
    await eventually(
      'the run to wait for the sync node to sync',
      async () => ((await status()).currentStep === WAIT && b.isRunning('sync') ? true : undefined),
      300_000,
    );
    const crashedAt = Date.now();
    crash(b, 'sync');
    const seen = await eventually(
      'the run to say the sync node stopped',
      async () => {
        const s = await status();
        const details = (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
        const stage = (await handle.describe()).typedSearchAttributes.get(UpgradeStage);
        const said = /\S+ on \S+ stopped while syncing[^\n]*/.exec(s.waiting?.reason ?? '')?.[0];
        return said && details.includes('stopped while syncing') ? { said, details, stage } : undefined;
      },
      120_000,
    );
    await then(b, handle);
    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    const final = await status();
    const finalDetails = (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata'))
      .currentDetails;
    const finalStage = (await handle.describe()).typedSearchAttributes.get(UpgradeStage);
    const after = await settledNearCounters(b);
    const endedAfterMs = Date.now() - crashedAt;
    console.log(
      `crash of the sync node: status said "${seen.said}"; UpgradeStage ${seen.stage} -> ${finalStage}; ` +
        `run ${final.state} ${Math.round(endedAfterMs / 1000)} s after the crash`,
    );
    return { seen, error, final, finalDetails, finalStage, before, after, endedAfterMs };
  });
}

describe('a node crashing while it syncs', () => {
  faultTest('node-crash-not-restarted')(
    'not restarted: the wait says so, then the run stops in its safe state (NodeStoppedWhileSyncing, compensated)',
    async () => {
      const { seen, error, final, finalDetails, finalStage, before, after, endedAfterMs } = await crashWhileSyncing(
        () => Promise.resolve(),
      );
      expect(seen.said).toMatch(/^neard-sync on val-a stopped while syncing: .*; waiting until \S+Z for its service/);
      expect(seen.stage).toBe(WAIT);
      expect(rootCause(error)).toMatchObject({ type: 'NodeStoppedWhileSyncing' });
      expect(final.state).toBe('failed');
      expect(stepStates(final)).toMatchObject({ [WAIT]: 'failed', 'stop-swap-and-restart': 'pending' });
      expect(final.steps.find((s) => s.id === WAIT)?.detail).toContain('stopped while syncing');
      expect(finalDetails).toMatch(/Failed at step \d+ "[^"]+": .*stopped while syncing/);
      expect(finalStage).toBe('failed');
      // After the restart grace, not after the 2-day sync deadline.
      expect(endedAfterMs).toBeGreaterThanOrEqual(NODE_RESTART_GRACE_MS);
      expect(endedAfterMs).toBeLessThan(NODE_RESTART_GRACE_MS + 60_000);
      // The safe state: the sync node down, the validator on its own data, running and signing, nothing swapped.
      expect(suite.bed!.isRunning('sync')).toBe(false);
      expect(suite.bed!.isRunning('val-a')).toBe(true);
      expect(stepStates(final)['stop-swap-and-restart']).toBe('pending');
      expect(after.doubleSignHeights).toEqual([]);
      expect(after.missedBlocks - before.missedBlocks).toBe(0);
    },
    600_000,
  );

  faultTest('node-crash-restarted')(
    'restarted within the grace period (as systemd would): the wait goes on and the run completes',
    async () => {
      const { error, final, after } = await crashWhileSyncing(async (b) => {
        setSyncDelay(b, 'sync', 2_000);
        await startTestbedService(b, 'sync');
      });
      expect(error).toBeUndefined();
      expect(final.state).toBe('completed');
      expect(stepStates(final)).toMatchObject({ [WAIT]: 'done', 'stop-swap-and-restart': 'done' });
      expect(final.steps.filter((s) => s.id.startsWith('undo-'))).toEqual([]);
      expect(after.doubleSignHeights).toEqual([]);
      expect(suite.bed!.isRunning('val-a')).toBe(true);
    },
    600_000,
  );
});
