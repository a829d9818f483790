/**
 * Upgrades on the production twin (devnet/stack/): PostgreSQL, the Temporal server built from the Go
 * module proxy on deploy/'s configuration with mutual TLS, two workers from dist/ connected through a
 * temporal.toml profile, Prometheus; the NEAR devnet and sshd hosts of the end-to-end tests. Each run is
 * judged by the devnet's own records (the staking signer's nonce, missed blocks, double signs).
 *
 * The workers start on an empty inventory file (VUP_INVENTORY). Each test adds its testbed's validator as an
 * operator does: writes the file and SIGHUPs the workers, then waits until each has logged that it reloaded;
 * the validator is removed the same way once the testbed is gone.
 *
 * - An upgrade started before the SIGHUP, for the validator the file does not hold yet, fails at once with
 *   NotInInventory naming the validator, having touched nothing; after the SIGHUP the same upgrade runs.
 * - The worker holding a zero-downtime upgrade is SIGKILLed while the run waits on the chain for the new
 *   key to become current: the other worker finishes it; one staking transaction, no double sign.
 * - The Temporal server is SIGKILLed and started again while the run waits on the chain: the run completes,
 *   and it is still listed by its search attributes afterwards (PostgreSQL holds history and visibility).
 * - Prometheus, on deploy/prometheus/prometheus.yml, returns the product's metrics (docs/metrics.md) for the
 *   first run from the worker that finished it.
 * - A worker release (docs/worker-release.md): workers of build 1 and build 2 of one Worker Deployment; an
 *   upgrade started on build 1 holds at its approval gate while build 2 is made current with the CLI, then
 *   finishes on build 1; the next upgrade runs on build 2.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { approveUpdate, statusQuery } from '../../src/api/messages.js';
import { nearIdentity } from '../../src/api/near-inputs.js';
import { repoRoot } from '../../src/repo-root.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import {
  NEAR_SCENARIO_POOL as POOL,
  nearBaseline,
  settledNearCounters,
  startNearScenario,
} from '../../devnet/scenarios/near.js';
import {
  EMPTY_INVENTORY,
  startProductionTwin,
  type InventoryReload,
  type ProductionTwin,
  type TwinWorker,
} from '../../devnet/stack/production-twin.js';
import type { NearTestbed } from '../../devnet/testbeds/near.js';
import { findJemalloc } from '../../worker/allocator.js';
import { eventually } from '../helpers/eventually.js';
import { inChainWait, serviceStartRecord, signerNonce, stepStates } from '../helpers/near-e2e.js';

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
  // The testbed is gone: its validator leaves the workers' inventory, as an operator retires one.
  await twin?.setInventory(EMPTY_INVENTORY);
}, 90_000);
afterAll(async () => {
  await twin?.stop();
}, 120_000);

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const exec = promisify(execFile);

/** An upgrade refused by the worker: how long it took, the failures it ended with, what it ran. */
interface Refused {
  error: unknown;
  ms: number;
  /** The failure and its causes, outermost first. */
  chain: { type?: string; message: string }[];
  activityTypes: string[];
}

/**
 * Starts the zero-downtime upgrade of the scenario's pool on the twin; by default with epochs long enough to
 * act in a wait. The testbed's inventory is written to the workers' file and they are SIGHUPed before the run
 * starts; with refusedFirst, the same upgrade is started once before that, and must fail.
 */
async function startZeroDowntime(
  options: {
    epochLength?: number;
    manualApproval?: boolean;
    taskQueue?: string;
    after?: Promise<unknown>;
    refusedFirst?: boolean;
  } = {},
) {
  const scenario = await startNearScenario('nearZeroDowntimeUpgrade', {
    epochLength: options.epochLength ?? 30,
    ...(options.manualApproval ? { manualApproval: true } : {}),
  });
  bed = scenario.bed;
  const start = () =>
    client.workflow.start('nearZeroDowntimeUpgrade', {
      args: [scenario.input],
      taskQueue: options.taskQueue ?? twin!.taskQueue,
      workflowId: upgradeWorkflowId(nearIdentity(scenario.input.validator)),
      ...upgradeIdPolicy(),
    });
  const nonceAtStart = signerNonce(bed);
  const refused = options.refusedFirst ? await refusedRun(await start()) : undefined;
  const nonceAfterRefusal = signerNonce(bed);
  await options.after; // what must be ready before the run starts (its workers)
  const reloads = await twin!.setInventory(scenario.inventory);
  const before = await nearBaseline(bed);
  const nonceBefore = signerNonce(bed);
  const handle = await start();
  return {
    bed,
    before,
    nonceBefore,
    handle,
    reloads,
    refused: refused && { ...refused, stakingTransactions: nonceAfterRefusal - nonceAtStart },
  };
}

/** Waits for a run that must fail; what it failed with. */
async function refusedRun(handle: WorkflowHandle): Promise<Refused> {
  const started = Date.now();
  const error = await handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  const ms = Date.now() - started;
  const chain: Refused['chain'] = [];
  for (let e = error; e instanceof Error; e = e.cause) {
    chain.push({ ...(e instanceof ApplicationFailure && e.type ? { type: e.type } : {}), message: e.message });
  }
  const events = (await handle.fetchHistory()).events ?? [];
  const activityTypes = events.flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
  return { error, ms, chain, activityTypes };
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

/** Approves every gate the run holds at until it ends; its result. */
async function approveUntilDone(handle: WorkflowHandle): Promise<unknown> {
  const result = handle.result();
  let ended = false;
  void result.then(
    () => (ended = true),
    () => (ended = true),
  );
  while (!ended) {
    const status: UpgradeStatus = await handle.query(statusQuery).catch(() => ({}) as UpgradeStatus);
    if (status.pendingApproval)
      await handle.executeUpdate(approveUpdate, { args: [{ gate: status.pendingApproval.gate, by: 'release-test' }] });
    else await new Promise((r) => setTimeout(r, 200));
  }
  return result;
}

/**
 * Which build ran the run: the version it is pinned to, the build ids that completed its workflow tasks (from
 * its history) and the worker processes that ran its activities (their identities are pid@host).
 */
async function ranBy(started: WorkflowHandleWithFirstExecutionRunId, workers: TwinWorker[]) {
  // This run, not the newest of its workflow id (the next upgrade of the validator has the same id).
  const handle = client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
  const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
  const events = (await handle.fetchHistory()).events ?? [];
  const workflowTasks = events.flatMap((e) =>
    e.workflowTaskCompletedEventAttributes
      ? [e.workflowTaskCompletedEventAttributes.deploymentVersion?.buildId ?? '(unversioned)']
      : [],
  );
  const activityWorkers = events.flatMap((e) => {
    const identity = e.activityTaskStartedEventAttributes?.identity;
    if (identity === undefined || identity === null) return [];
    return [workers.find((w) => identity.startsWith(`${w.pid}@`))?.name ?? identity];
  });
  const PINNED = temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED;
  return {
    pinnedTo: info?.behavior === PINNED ? info.deploymentVersion?.buildId : `not pinned (${String(info?.behavior)})`,
    workflowTasks: [...new Set(workflowTasks)],
    activityWorkers: [...new Set(activityWorkers)],
  };
}

type PromSeries = Awaited<ReturnType<ProductionTwin['queryPrometheus']>>[number];

/** The query's series once Prometheus has scraped some (every 15 s, deploy/prometheus/prometheus.yml). */
const scraped = (promql: string) =>
  eventually(
    `Prometheus to return ${promql}`,
    async () => {
      const r = await twin!.queryPrometheus(promql);
      return r.length > 0 ? r : undefined;
    },
    120_000,
  );

describe('upgrades on the production twin', () => {
  it('the worker holding a run is SIGKILLed in a chain wait: the other worker finishes it, one staking tx, no double sign', async () => {
    const started = Date.now();
    const { bed: b, before, nonceBefore, handle, reloads, refused } = await startZeroDowntime({ refusedFirst: true });
    console.log(
      `twin, upgrade before the SIGHUP: failed in ${refused!.ms} ms with ${JSON.stringify(refused!.chain)}, ` +
        `activities ${JSON.stringify(refused!.activityTypes)}; after it: ${reloads.map((r) => `${r.worker.name}: ${r.line}`).join('; ')}`,
    );
    // The file did not hold the validator: the worker refused the run at once, naming it, and touched nothing:
    // the lookup is its only activity (no webhook is configured here, so its failure schedules no notify).
    expect(refused!.error).toBeInstanceOf(WorkflowFailedError);
    expect(refused!.chain).toContainEqual({
      type: 'NotInInventory',
      message: `validator: ${POOL} on localnet is not in the worker's inventory`,
    });
    expect(refused!.ms).toBeLessThan(30_000);
    expect(refused!.activityTypes).toEqual(['resolveUpgradeTargets']);
    expect(refused!.stakingTransactions).toBe(0n);
    expect(b.isRunning('val-a')).toBe(true);
    expect(b.isRunning('val-b')).toBe(false);
    // Then each worker reloaded the file holding the testbed (one validator), and the same upgrade runs.
    expect(reloads.map((r: InventoryReload) => r.worker.name).sort()).toEqual(
      twin!.workers.filter((w) => w.running()).map((w) => w.name),
    );
    for (const r of reloads) expect(r.line).toMatch(/ reloaded: 1 validator\(s\), 2 node\(s\), 2 host\(s\)$/);
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

    // Prometheus scraped the product's metrics of this run from the worker that finished it (the killed
    // one's series are stale). The run is the first upgrade on the twin, so each count is this run's.
    const run = `chain="near",network="localnet",strategy="nearZeroDowntimeUpgrade"`;
    const worker = `job="validator-upgrades-worker",instance="${other.metricsAddress}"`;
    const completed = await scraped(`vup_upgrades_completed{${run}}`);
    const duration = await scraped(`vup_upgrade_duration_seconds_sum{${run},outcome="completed"}`);
    const steps = await scraped(`vup_step_duration_seconds_count{${run},${worker}}`);
    const looks = await scraped(`vup_chain_wait_looks{${run},${worker}}`);
    const attempts = await scraped(`sum by (activityType, outcome) (vup_activity_attempts{${worker}})`);
    // The refused run, from whichever worker ran it (over a range: that one may be the killed one).
    const refusals = await scraped(`sum(max_over_time(vup_upgrades_failed{${run},error_type="NotInInventory"}[30m]))`);
    const series = (r: PromSeries[], label: string) =>
      Object.fromEntries(r.map((x) => [x.metric[label] ?? '', Number(x.value[1])]));
    console.log(
      `twin, Prometheus for that run (${other.name}, ${other.metricsAddress}): vup_upgrades_completed ` +
        `${completed[0]!.value[1]}; vup_upgrade_duration_seconds_sum ${Number(duration[0]!.value[1]).toFixed(1)}; ` +
        `steps ${JSON.stringify(series(steps, 'step'))}; chain-wait looks ` +
        `${JSON.stringify(looks.map((l) => `${l.metric.wait}/${l.metric.reached}: ${l.value[1]}`))}; activity attempts ` +
        `${JSON.stringify(attempts.map((a) => `${a.metric.activityType}/${a.metric.outcome}: ${a.value[1]}`))}`,
    );
    expect(completed.map((c) => [c.metric.instance, c.metric.job, c.metric.taskQueue, c.value[1]])).toEqual([
      [other.metricsAddress, 'validator-upgrades-worker', twin!.taskQueue, '1'],
    ]);
    expect(refusals.map((r) => r.value[1])).toEqual(['1']);
    expect(Number(duration[0]!.value[1])).toBeGreaterThan(0);
    expect(Number(duration[0]!.value[1])).toBeLessThanOrEqual((Date.now() - started) / 1000);
    // The steps the survivor ran: the ones after the kill, each once.
    expect(series(steps, 'step')).toMatchObject({ 'wait-key-current': 1, 'wait-new-signing': 1, 'stop-old-node': 1 });
    expect(looks.some((l) => l.metric.reached === 'true' && Number(l.value[1]) >= 1)).toBe(true);
    expect(attempts.filter((a) => a.metric.outcome === 'ok').length).toBeGreaterThan(0);
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
    // The new node runs from before the kill; the host's record shows whether it was started again.
    const newNodeStarted = serviceStartRecord(b, 'val-b');

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
    // No side effect twice: the one staking transaction (above, from the chain), the new node started once.
    expect(serviceStartRecord(b, 'val-b')).toBe(newNodeStarted);
  }, 600_000);

  it('a worker release: an upgrade started on build 1 finishes on build 1 after build 2 is made current; the next runs on build 2', async () => {
    // As compose and the systemd unit run it (VUP_DEPLOYMENT_NAME), each build with its VUP_BUILD_ID; on a
    // task queue of its own, so the unversioned workers of the tests above take none of it.
    const deploymentName = 'validator-upgrades';
    const taskQueue = `release-${process.pid}`;
    const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
    const temporalCli = (args: string[]) =>
      exec(cli, args, { env: { ...process.env, ...twin!.clientEnv }, maxBuffer: 16 * 1024 * 1024 });
    // The release step of docs/worker-release.md; retried until the build's pollers have reached the server
    // (a first build may also have made itself current already).
    const currentBuild = async () =>
      (await client.workflowService.describeWorkerDeployment({ namespace: twin!.namespace, deploymentName }))
        .workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId;
    const setCurrent = (buildId: string) =>
      eventually(`${buildId} to become current`, async () => {
        const args = ['worker', 'deployment', 'set-current-version', '--deployment-name', deploymentName];
        const set = await temporalCli([...args, '--build-id', buildId, '--yes']).then(
          () => true,
          () => false,
        );
        return set || (await currentBuild().catch(() => undefined)) === buildId ? true : undefined;
      });
    // The drain check of docs/worker-release.md, as written there.
    const runningOn = async (buildId: string) => {
      const query = `TemporalWorkerDeploymentVersion="${deploymentName}:${buildId}" AND ExecutionStatus="Running"`;
      const { stdout } = await temporalCli(['workflow', 'list', '--query', query, '--output', 'json']);
      return (JSON.parse(stdout || '[]') as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId);
    };
    const started = Date.now();

    // Build 1 starts and is made current while the devnet comes up; build 2 starts beside it (step 1 of the
    // procedure: nothing goes to it yet) while the first upgrade starts on build 1 and reaches its gate.
    const build1Current = (async () => {
      const w = await twin!.startWorker({ taskQueue, deploymentName, buildId: 'build-1' });
      await setCurrent('build-1');
      return w;
    })();
    const build2Started = build1Current.then(() =>
      twin!.startWorker({ taskQueue, deploymentName, buildId: 'build-2' }),
    );
    build1Current.catch(() => undefined); // both awaited below
    build2Started.catch(() => undefined);
    const first = await startZeroDowntime({ epochLength: 12, manualApproval: true, taskQueue, after: build1Current });
    const build1 = await build1Current;
    const held = await eventually(
      'the first upgrade at its approval gate',
      async () => (await first.handle.query(statusQuery)).pendingApproval,
      300_000,
    );
    expect(held.gate).toBe('stake-new-key');

    // The release, while the first upgrade holds: build 2, which said at start where new upgrades go, is
    // made current.
    const build2 = await build2Started;
    expect(build2.output()).toContain(
      `build build-2 is not the current version of deployment ${deploymentName}: new upgrades go to its current version ${deploymentName}.build-1`,
    );
    await setCurrent('build-2');
    // build 1 must stay: the first upgrade is pinned to it.
    expect(
      await eventually('the held upgrade listed on build 1', async () => {
        const ids = await runningOn('build-1');
        return ids.length > 0 ? ids : undefined;
      }),
    ).toEqual([first.handle.workflowId]);

    await first.handle.executeUpdate(approveUpdate, { args: [{ gate: held.gate, by: 'release-test' }] });
    await approveUntilDone(first.handle);
    const firstCounted = await judge(first.bed, first.before, first.nonceBefore);
    await first.bed.stop();
    bed = undefined;

    const second = await startZeroDowntime({ epochLength: 12, taskQueue });
    await second.handle.result();
    const secondCounted = await judge(second.bed, second.before, second.nonceBefore);

    const firstRan = await ranBy(first.handle, [build1, build2]);
    const secondRan = await ranBy(second.handle, [build1, build2]);
    console.log(
      `twin, worker release: ${((Date.now() - started) / 1000).toFixed(1)} s; first upgrade (held at ` +
        `${held.gate} while build-2 was made current): ${JSON.stringify(firstRan)}, ` +
        `${firstCounted.stakingTransactions} staking tx, ${firstCounted.doubleSigns} double signs; second: ` +
        `${JSON.stringify(secondRan)}, ${secondCounted.stakingTransactions} staking tx, ${secondCounted.doubleSigns} double signs`,
    );

    expect(build1.version).toEqual({ deploymentName, buildId: 'build-1' });
    expect(build2.version).toEqual({ deploymentName, buildId: 'build-2' });
    expect(await currentBuild()).toBe('build-2');
    expect(firstRan).toEqual({ pinnedTo: 'build-1', workflowTasks: ['build-1'], activityWorkers: [build1.name] });
    expect(secondRan).toEqual({ pinnedTo: 'build-2', workflowTasks: ['build-2'], activityWorkers: [build2.name] });
    for (const counted of [firstCounted, secondCounted])
      expect(counted).toEqual({ stakingTransactions: 1n, doubleSigns: 0, missedBlocks: 0 });
    // Drained: build 1's workers may stop.
    await eventually('build 1 drained', async () => ((await runningOn('build-1')).length === 0 ? true : undefined));
  }, 900_000);

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

    // Each worker ran what the image runs: the bundle `npm run build` wrote, on jemalloc where this machine has it
    // (.ci/run installs it), and said so at start.
    const allocator = findJemalloc() ? 'jemalloc' : 'glibc malloc';
    const bundle = path.join(repoRoot(), 'dist', 'workflow-bundle.js');
    for (const w of twin!.workers)
      expect(w.output()).toContain(`worker: workflows ${bundle}; memory allocator: ${allocator}`);

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
