/**
 * Upgrades on the production twin (src/devnet/stack/): PostgreSQL, the Temporal server built from the Go
 * module proxy on deploy/'s configuration with mutual TLS, two workers from dist/ connected through a
 * temporal.toml profile, Prometheus; the NEAR devnet and sshd hosts of the end-to-end tests. Each run is
 * judged by the devnet's own records (the staking signer's nonce, missed blocks, double signs).
 *
 * - The worker holding a zero-downtime upgrade is SIGKILLed while the run waits on the chain for the new
 *   key to become current: the other worker finishes it; one staking transaction, no double sign.
 * - The Temporal server is SIGKILLed and started again while the run waits on the chain: the run completes,
 *   and it is still listed by its search attributes afterwards (PostgreSQL holds history and visibility).
 */
import { existsSync } from 'node:fs';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { statusQuery } from '../../src/api/messages.js';
import { nearIdentity } from '../../src/api/near-inputs.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import {
  NEAR_SCENARIO_POOL as POOL,
  nearBaseline,
  settledNearCounters,
  startNearScenario,
} from '../../src/devnet/scenarios/near.js';
import { startProductionTwin, type ProductionTwin } from '../../src/devnet/stack/production-twin.js';
import type { NearTestbed } from '../../src/devnet/testbeds/near.js';
import { eventually } from '../helpers/eventually.js';
import { signerNonce, stepStates } from '../helpers/near-e2e.js';

let twin: ProductionTwin | undefined;
let client: Client;
let bed: NearTestbed | undefined;

beforeAll(async () => {
  // build: the workers run dist/, so it must be this tree's code.
  twin = await startProductionTwin({ workers: 2, taskQueue: `stack-${process.pid}`, build: true });
  client = await twin.client();
}, 600_000);
afterEach(async () => {
  await bed?.stop();
  bed = undefined;
}, 60_000);
afterAll(async () => {
  await twin?.stop();
}, 120_000);

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Starts the zero-downtime upgrade of the scenario's pool on the twin; epochs long enough to act in a wait. */
async function startZeroDowntime() {
  const scenario = await startNearScenario('nearZeroDowntimeUpgrade', { epochLength: 30 });
  bed = scenario.bed;
  const before = await nearBaseline(bed);
  const nonceBefore = signerNonce(bed);
  const handle = await client.workflow.start('nearZeroDowntimeUpgrade', {
    args: [scenario.input],
    taskQueue: twin!.taskQueue,
    workflowId: upgradeWorkflowId(nearIdentity(scenario.input.validator)),
    ...upgradeIdPolicy(),
  });
  return { bed, before, nonceBefore, handle };
}

/** Resolves once the run sleeps on a durable timer until it looks at the chain again for the new key. */
async function inChainWait(handle: WorkflowHandle): Promise<UpgradeStatus> {
  return eventually(
    'the run to wait on the chain for the new key',
    async () => {
      const s: UpgradeStatus = await handle.query(statusQuery);
      const sleeping = s.waiting?.until !== undefined && Date.parse(s.waiting.until) > Date.now() + 1_000;
      return s.currentStep === 'wait-key-current' && s.state === 'waiting' && sleeping ? s : undefined;
    },
    300_000,
  );
}

/** The worker identities (pid@host) that completed workflow tasks, in order. */
const taskCompleters = (events: HistoryEvent[]) =>
  events.flatMap((e) =>
    e.workflowTaskCompletedEventAttributes ? [e.workflowTaskCompletedEventAttributes.identity ?? ''] : [],
  );

async function judge(b: NearTestbed, before: Awaited<ReturnType<typeof nearBaseline>>, nonceBefore: bigint) {
  const after = await settledNearCounters(b);
  return {
    stakingTransactions: signerNonce(b) - nonceBefore,
    doubleSigns: after.doubleSignHeights.length,
    missedBlocks: after.missedBlocks - before.missedBlocks,
  };
}

describe('upgrades on the production twin', () => {
  it('the worker holding a run is SIGKILLed in a chain wait: the other worker finishes it, one staking tx, no double sign', async () => {
    const started = Date.now();
    const { bed: b, before, nonceBefore, handle } = await startZeroDowntime();
    await inChainWait(handle);

    // The run is cached on the worker that completed its last workflow task: that one dies, with its group.
    const atKill = (await handle.fetchHistory()).events ?? [];
    const holderIdentity = taskCompleters(atKill).at(-1)!;
    const holder = twin!.workers.find((w) => holderIdentity.startsWith(`${w.pid}@`));
    expect(holder).toBeDefined();
    const other = twin!.workers.find((w) => w !== holder && w.running())!;
    expect(await holder!.kill()).toBe('SIGKILL');

    await handle.result();
    const history = (await handle.fetchHistory()).events ?? [];
    const status: UpgradeStatus = await handle.query(statusQuery);
    const afterKill = taskCompleters(history.slice(atKill.length));
    const counted = await judge(b, before, nonceBefore);
    console.log(
      `twin, worker SIGKILL in a chain wait: completed in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${afterKill.length} workflow tasks after the kill, all by ${other.name}; ${history.length} events; ` +
        `${counted.stakingTransactions} staking tx, ${counted.doubleSigns} double signs, ${counted.missedBlocks} missed blocks`,
    );

    expect(afterKill.length).toBeGreaterThan(0);
    expect(new Set(afterKill)).toEqual(new Set([expect.stringMatching(new RegExp(`^${other.pid}@`))]));
    expect(stepStates(status)).toMatchObject({ 'wait-key-current': 'done', 'stop-old-node': 'done' });
    expect(counted).toEqual({ stakingTransactions: 1n, doubleSigns: 0, missedBlocks: 0 });
    expect(b.isRunning('val-a')).toBe(false);
    expect(b.isRunning('val-b')).toBe(true);
  }, 600_000);

  it('the Temporal server is SIGKILLed and restarted in a chain wait: the run completes and is still listed by search attribute', async () => {
    // One worker may be left from the test before; the run needs only one.
    if (twin!.workers.filter((w) => w.running()).length === 0) await twin!.startWorker();
    const started = Date.now();
    const { bed: b, before, nonceBefore, handle } = await startZeroDowntime();
    const runId = handle.firstExecutionRunId;
    await inChainWait(handle);
    const query = `UpgradeValidator="${POOL}" AND UpgradeChain="near" AND WorkflowId="${handle.workflowId}"`;
    const listed = async () => {
      const runs = [];
      for await (const r of client.workflow.list({ query })) runs.push(r);
      return runs.filter((r) => r.runId === runId);
    };
    expect(await listed()).toHaveLength(1);

    const killedAt = Date.now();
    await twin!.restartServer({ kill: true, downMs: 2_000 });
    const backAfter = Date.now() - killedAt;

    await handle.result();
    const runs = await eventually('the closed run to be listed', async () => {
      const r = await listed();
      return r.length === 1 && r[0]!.status.name === 'COMPLETED' ? r : undefined;
    });
    const history = (await handle.fetchHistory()).events ?? [];
    const counted = await judge(b, before, nonceBefore);
    console.log(
      `twin, server SIGKILL in a chain wait: back in ${(backAfter / 1000).toFixed(1)} s, completed in ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s; ${history.length} events; listed as ` +
        `${runs[0]!.status.name} with UpgradeStage=${String(runs[0]!.searchAttributes.UpgradeStage)}; ` +
        `${counted.stakingTransactions} staking tx, ${counted.doubleSigns} double signs, ${counted.missedBlocks} missed blocks`,
    );

    expect(twin!.server().running()).toBe(true);
    expect(counted).toEqual({ stakingTransactions: 1n, doubleSigns: 0, missedBlocks: 0 });
    expect(b.isRunning('val-b')).toBe(true);
  }, 600_000);

  it('stops without leaving a process or its folder behind, and Prometheus scraped the server and the workers', async () => {
    const targets = await eventually('Prometheus to have scraped every target', async () => {
      const up = await twin!.queryPrometheus('up');
      return up.length >= 3 ? up : undefined;
    });
    const byJob = (job: string) => targets.filter((t) => t.metric.job === job);
    expect(byJob('temporal').map((t) => t.value[1])).toEqual(['1']);
    // Every worker the twin started is a target; the ones the tests killed are down.
    expect(byJob('validator-upgrades-worker').length).toBe(twin!.workers.length);
    const serverMetric = await twin!.queryPrometheus('count({job="temporal", __name__=~"persistence_requests.*"})');
    expect(Number(serverMetric[0]?.value[1] ?? 0)).toBeGreaterThan(0);

    const processes = twin!.processes();
    expect(processes.map((p) => p.name)).toEqual(
      expect.arrayContaining(['postgresql', 'temporal-server', 'prometheus', 'worker-1', 'worker-2']),
    );
    const workDir = twin!.workDir;
    await twin!.stop();
    twin = undefined;
    const alive = processes.filter((p) => {
      try {
        process.kill(p.pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive.map((p) => `${p.name} (${p.pid})`)).toEqual([]);
    expect(existsSync(workDir)).toBe(false);
  }, 120_000);
});
