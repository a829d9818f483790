/**
 * A fleet on the local NEAR network (issue 13): fleetUpgrade on the Temporal dev server selects three pools
 * from the worker's inventory by label and upgrades each with nearStopAndRestartUpgrade as a child workflow,
 * the real activities over real SSH to one machine that runs all three nodes. A canary, then waves of one,
 * one member at a time, a soak between waves. Judged from the network's counters (each pool's missed blocks
 * and double signs) and each node's own RPC (the release it runs), not from the fleet's word.
 */
import { fleetStatusQuery } from '../../src/api/messages.js';
import { fleetWorkflowId, type FleetInput } from '../../src/api/fleet.js';
import { nearBaseline, settledNearCounters } from '../../devnet/scenarios/near.js';
import { FLEET_LABEL, startNearFleetScenario } from '../../devnet/scenarios/near-fleet.js';
import type { ValidatorCounters } from '../../devnet/near/index.js';
import { nodeStatus } from '../../src/near/node-status.js';
import type { fleetUpgrade } from '../../workflows/fleet-upgrade.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';
import { nearE2eSuite } from '../helpers/near-e2e.js';

const suite = nearE2eSuite();

/** The release a node's RPC says it runs. */
const versionOf = async (rpcUrl: string) => (await nodeStatus(rpcUrl)).version;

it('upgrades three pools in waves, one at a time, each judged by the chain', async () => {
  const fleet = await startNearFleetScenario(3);
  const b = (suite.bed = fleet.bed);
  suite.inventoryRemovers.push(suite.inventory.add(fleet.inventory));
  const taskQueue = `e2e-fleet-${Date.now()}`;
  const { worker } = await createUpgradeWorker({
    connection: suite.env!.nativeConnection,
    taskQueue,
    workflowBundle: suite.bundle!,
    activities: { connections: b.connections, heartbeatIntervalMs: 500, inventory: suite.inventory },
  });
  const before: Record<string, ValidatorCounters> = {};
  for (const account of fleet.accounts) before[account] = await nearBaseline(b, account);
  expect(await Promise.all(Object.values(b.nodes).map((n) => versionOf(n.rpcUrl)))).toEqual([
    '2.3.0',
    '2.3.0',
    '2.3.0',
  ]);

  const input: FleetInput = {
    name: `e2e-${Date.now()}`,
    select: { labels: [FLEET_LABEL], chain: 'near', network: 'localnet' },
    targets: { near: { strategy: 'nearStopAndRestartUpgrade', release: fleet.release } },
    canary: 1,
    waveSize: 1,
    maxConcurrent: 1,
    soak: '2s',
  };
  const started = Date.now();
  const { outcome, status, runs } = await worker.runUntil(async () => {
    const handle = await suite.env!.client.workflow.start<typeof fleetUpgrade>('fleetUpgrade', {
      args: [input],
      taskQueue,
      workflowId: fleetWorkflowId(input.name),
    });
    const outcome = await handle.result();
    const status = await handle.query(fleetStatusQuery);
    const runs = await Promise.all(
      status.members.map(async (m) => {
        const d = await suite.env!.client.workflow.getHandle(m.workflowId).describe();
        return { ...m, start: d.startTime.getTime(), close: d.closeTime!.getTime(), state: d.status.name };
      }),
    );
    return { outcome, status, runs };
  });
  const wallSeconds = (Date.now() - started) / 1000;

  const rows = [];
  for (const [i, account] of fleet.accounts.entries()) {
    const after = await settledNearCounters(b, account);
    const run = runs.find((r) => r.validator === account)!;
    rows.push({
      account,
      wave: run.wave,
      run: run.state,
      seconds: Math.round((run.close - run.start) / 100) / 10,
      release: await versionOf(b.nodes[`node-${i + 1}`]!.rpcUrl),
      missedBlocks: after.missedBlocks - before[account]!.missedBlocks,
      doubleSigns: after.doubleSigns.length,
    });
  }
  console.log(
    `fleet ${input.name}: ${fleet.accounts.length} validators, waves ${status.waves.join(', ')}, ` +
      `${wallSeconds.toFixed(0)} s, halts ${status.events.filter((e) => e.kind === 'halted').length}\n` +
      rows.map((r) => JSON.stringify(r)).join('\n'),
  );

  expect(outcome.totals).toMatchObject({ members: 3, completed: 3, failed: 0, aborted: 0, skipped: 0 });
  expect(status.waves).toEqual([1, 1, 1]);
  expect(status.events.filter((e) => e.kind === 'halted')).toEqual([]);
  // The chain's and the nodes' own records: every pool runs the new release, never signed twice, and missed
  // only the blocks of its own restart.
  for (const row of rows) {
    expect(row).toMatchObject({ run: 'COMPLETED', release: '2.4.0', doubleSigns: 0 });
    expect(row.missedBlocks).toBeLessThan(20);
  }
  // One at a time, in wave order, with the soak between: each member starts after the one before closed and
  // the 2 s soak passed (counted from its report to the fleet, sent just before it closes).
  const inOrder = [...runs].sort((x, y) => x.wave - y.wave);
  for (let i = 1; i < inOrder.length; i++)
    expect(inOrder[i]!.start).toBeGreaterThanOrEqual(inOrder[i - 1]!.close + 1500);
}, 420_000);
