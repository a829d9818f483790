/**
 * The product's metrics, as Prometheus scrapes them from a worker: the runtime is installed the way the
 * worker process installs it (worker/metrics.ts, with VUP_METRICS_ADDRESS's host:port), a worker with the
 * activity-metrics interceptor and the gate gauge runs rehearsal upgrades on the dev server, and the test
 * reads /metrics. A replay of the finished history must not count anything again. The Grafana dashboard's
 * queries are checked against what the worker served.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId, type ValidatorIdentity } from '../../src/api/identity.js';
import { repoRoot } from '../../src/repo-root.js';
import { approveUpdate, statusQuery } from '../../src/api/messages.js';
import { METRIC } from '../../workflows/common/metrics.js';
import {
  WORKER_METRIC,
  activityMetricsInterceptor,
  installRuntime,
  metricsAddressFromEnv,
  startVisibilityGauges,
} from '../../worker/metrics.js';
import { eventually } from '../helpers/eventually.js';
import { freePort, scrape, valueOf, samplesOf, type Sample } from '../helpers/prometheus.js';
import {
  doubleSignsUpTo,
  heightsIn,
  missesBlock,
  missesChunk,
  rehearsalActivities,
} from '../helpers/rehearsal-chain.js';
import { bundleFixtures, createDevServerEnv } from '../helpers/temporal.js';
import type { RehearsalInput, rehearsalUpgrade } from './fixtures/index.js';

let env: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundle;
let address: string;
let stopGauge: (() => void) | undefined;

beforeAll(async () => {
  address = metricsAddressFromEnv({ VUP_METRICS_ADDRESS: `127.0.0.1:${await freePort()}` })!;
  // Before any connection of this file, as the worker process does.
  installRuntime({ logLevel: 'WARN', metricsAddress: address });
  env = await createDevServerEnv();
  bundle = await bundleFixtures();
  stopGauge = startVisibilityGauges(env.nativeConnection, 'default', 200);
}, 300_000);
afterAll(async () => {
  stopGauge?.();
  await env?.teardown();
});

const identity = (validator: string): ValidatorIdentity => ({ chain: 'near', network: 'testnet', validator });
const tags = { chain: 'near', network: 'testnet', strategy: 'rehearsalUpgrade' };

type Chain = ReturnType<typeof rehearsalActivities>;

async function withWorker<T>(taskQueue: string, fn: (chain: Chain) => Promise<T>): Promise<T> {
  // Epochs of 1.5 s: a wait of two epochs takes at least one boundary, so it looks at least twice even when
  // a loaded machine is slow between the two looks. The chain reports the validator's counters with each look.
  const chain = rehearsalActivities({
    epochLength: 30,
    blockTimeMs: 50,
    now: () => Promise.resolve(Date.now()),
    counters: true,
  });
  const worker = await Worker.create({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: {
      ...chain.activities,
      // The pace a deadline's projection reads.
      epochInfo: () => Promise.resolve({ epochLength: 30, observedBlockTimeMs: 50 }),
      // The undo of "prepare" fails for good, for the activity metric's error type.
      record: (what: string) =>
        what === 'undo-prepare'
          ? Promise.reject(ApplicationFailure.nonRetryable('the rehearsal host exploded', 'RehearsalExploded'))
          : chain.activities.record(what),
    },
    interceptors: { activity: [activityMetricsInterceptor] },
  });
  return worker.runUntil(() => fn(chain));
}

function start(taskQueue: string, input: RehearsalInput) {
  return env!.client.workflow.start<typeof rehearsalUpgrade>('rehearsalUpgrade', {
    args: [input],
    taskQueue,
    workflowId: upgradeWorkflowId(input.identity),
    ...upgradeIdPolicy(),
  });
}

/** Scrapes until `ok` holds for the samples (metrics are exported as they are emitted, but asynchronously). */
async function scrapeUntil(what: string, ok: (s: Sample[]) => boolean): Promise<Sample[]> {
  let last: Sample[] = [];
  try {
    return await eventually(
      what,
      async () => {
        last = await scrape(address);
        return ok(last) ? last : undefined;
      },
      30_000,
    );
  } catch (err) {
    const ours = last
      .filter((s) => s.name.startsWith('vup_'))
      .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`);
    throw new Error(`${(err as Error).message}; vup_ samples seen:\n${ours.join('\n')}`);
  }
}

it('counts an upgrade from start to end: gate, steps, chain wait, activities; a replay counts nothing', async () => {
  const queue = `metrics-${randomUUID()}`;
  const handle = await start(queue, {
    identity: identity('metrics.near'),
    manualApproval: true,
    waitEpochs: 2,
    minRecheckMs: 100,
  });
  const seen = await withWorker(queue, async (chain) => {
    // Held at the gate: the wait is counted, and the gauge (from visibility) says one run waits.
    const holding = await scrapeUntil(
      'the run holding at its gate',
      (s) =>
        valueOf(s, METRIC.gateWaits, { ...tags, gate: 'switch' }) === 1 &&
        valueOf(s, WORKER_METRIC.awaitingApproval, { namespace: 'default' }) === 1,
    );
    expect(valueOf(holding, METRIC.started, tags)).toBe(1);
    expect(valueOf(holding, `${METRIC.stepDuration}_count`, { ...tags, step: 'prepare', outcome: 'done' })).toBe(1);
    expect(valueOf(holding, METRIC.completed, tags)).toBe(0);

    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'switch', by: 'alice' }] });
    await handle.result();
    return { heights: [...chain.lookHeights], status: await handle.query(statusQuery) };
  });

  const s = await scrapeUntil('the completed run', (x) => valueOf(x, METRIC.completed, tags) === 1);
  expect(valueOf(s, METRIC.started, tags)).toBe(1);
  expect(valueOf(s, METRIC.failed, tags)).toBe(0);
  // The SDK adds its own labels (camelCase, unlike its own metrics' task_queue) to every workflow metric.
  expect(samplesOf(s, METRIC.completed, tags)[0]!.labels).toMatchObject({
    namespace: 'default',
    taskQueue: queue,
    workflowType: 'rehearsalUpgrade',
  });
  for (const step of ['prepare', 'switch', 'wait-epochs', 'finish'])
    expect(valueOf(s, `${METRIC.stepDuration}_count`, { ...tags, step, outcome: 'done' })).toBe(1);
  // Two epochs of 1.5 s: the wait step took real time, and the histogram's buckets are seconds.
  expect(valueOf(s, `${METRIC.stepDuration}_sum`, { ...tags, step: 'wait-epochs' })).toBeGreaterThan(1.5);
  expect(valueOf(s, `${METRIC.stepDuration}_bucket`, { ...tags, step: 'wait-epochs', le: '1' })).toBe(0);
  expect(valueOf(s, `${METRIC.stepDuration}_bucket`, { ...tags, step: 'wait-epochs', le: '60' })).toBe(1);
  expect(valueOf(s, `${METRIC.gateWaitDuration}_count`, { ...tags, gate: 'switch', outcome: 'approved' })).toBe(1);
  expect(valueOf(s, METRIC.chainLooks, { ...tags, wait: 'epochs', reached: 'true' })).toBe(1);
  expect(valueOf(s, METRIC.chainLooks, { ...tags, wait: 'epochs', reached: 'false' })).toBeGreaterThanOrEqual(1);
  expect(valueOf(s, `${METRIC.chainWaitLateness}_count`, { ...tags, wait: 'epochs' })).toBe(1);
  expect(valueOf(s, `${METRIC.upgradeDuration}_count`, { ...tags, outcome: 'completed' })).toBe(1);
  // Activities: prepare, switch and finish recorded; the chain looked at (one look before the wait, then each look).
  expect(valueOf(s, WORKER_METRIC.activityAttempts, { activityType: 'record', outcome: 'ok', taskQueue: queue })).toBe(
    3,
  );
  expect(valueOf(s, WORKER_METRIC.activityAttempts, { activityType: 'lookAtChain', outcome: 'ok' })).toBe(
    valueOf(s, METRIC.chainLooks, { ...tags, wait: 'epochs' }) + 1,
  );
  // What the chain counted between the run's first and last look at it: the heights the validator missed a
  // block or a chunk of and its double signs, as the rehearsal chain defines them, not as the workflow says.
  const first = seen.heights[0]!;
  const last = seen.heights.at(-1)!;
  const epochs = seen.heights.map((h) => Math.floor(h / 30));
  expect(epochs.every((e, i) => i === 0 || e - epochs[i - 1]! <= 1)).toBe(true); // no epoch went unseen
  const chainSays = {
    blocks: heightsIn(first + 1, last, missesBlock),
    chunks: heightsIn(first + 1, last, missesChunk),
    doubleSigns: doubleSignsUpTo(last) - doubleSignsUpTo(first),
  };
  expect(chainSays.blocks).toBeGreaterThan(0);
  expect(chainSays.doubleSigns).toBeGreaterThan(0);
  expect(valueOf(s, METRIC.missedObserved, { ...tags, kind: 'blocks' })).toBe(chainSays.blocks);
  expect(valueOf(s, METRIC.missedObserved, { ...tags, kind: 'chunks' })).toBe(chainSays.chunks);
  expect(valueOf(s, METRIC.doubleSignsObserved, tags)).toBe(chainSays.doubleSigns);
  expect(seen.status.observed).toMatchObject({
    missed: { blocks: chainSays.blocks, chunks: chainSays.chunks },
    doubleSigns: chainSays.doubleSigns,
  });
  expect(seen.status.observed?.unseenPeriods).toBeUndefined();
  // Approved and ended: the gauge is back to 0.
  await scrapeUntil('the gauge back at 0', (x) => valueOf(x, WORKER_METRIC.awaitingApproval) === 0);

  // Replaying the whole history (as a restarted worker does) emits nothing: the SDK drops workflow metrics
  // while replaying.
  const before = (await scrape(address)).filter(
    (x) => x.name.startsWith('vup_') && !Object.values(WORKER_METRIC).includes(x.name as never),
  );
  await Worker.runReplayHistory({ workflowBundle: bundle }, await handle.fetchHistory(), handle.workflowId);
  await new Promise((r) => setTimeout(r, 1500));
  const after = (await scrape(address)).filter(
    (x) => x.name.startsWith('vup_') && !Object.values(WORKER_METRIC).includes(x.name as never),
  );
  expect(after).toEqual(before);
});

it('counts a failed upgrade with its error type, the failed step and its undo, and the failed activity', async () => {
  const queue = `metrics-fail-${randomUUID()}`;
  // Started already past its deadline: behind from its first look.
  const deadline = new Date(Date.now() - 60_000).toISOString();
  const handle = await start(queue, {
    identity: identity('broken.near'),
    waitEpochs: 1,
    failAfter: 'switch',
    deadline,
  });
  await withWorker(queue, async () => {
    await expect(handle.result()).rejects.toThrow(WorkflowFailedError);
    const status = await handle.query(statusQuery);
    expect(status.state).toBe('failed');
  });
  const s = await scrapeUntil('the failed run', (x) => valueOf(x, METRIC.failed, tags) === 1);
  expect(samplesOf(s, METRIC.failed, tags)[0]!.labels).toMatchObject({
    outcome: 'failed',
    error_type: 'RehearsalFailure',
  });
  expect(valueOf(s, `${METRIC.stepDuration}_count`, { ...tags, step: 'switch', outcome: 'failed' })).toBe(1);
  expect(valueOf(s, `${METRIC.stepDuration}_count`, { ...tags, step: 'undo-prepare', outcome: 'failed' })).toBe(1);
  expect(valueOf(s, `${METRIC.upgradeDuration}_count`, { ...tags, outcome: 'failed' })).toBe(1);
  expect(valueOf(s, METRIC.deadlineAtRisk, tags)).toBe(1);
  expect(
    samplesOf(s, WORKER_METRIC.activityAttempts, {
      activityType: 'record',
      taskQueue: queue,
      outcome: 'non_retryable',
    }),
  ).toEqual([
    {
      name: WORKER_METRIC.activityAttempts,
      value: 1,
      labels: {
        activityType: 'record',
        namespace: 'default',
        taskQueue: queue,
        outcome: 'non_retryable',
        error_type: 'RehearsalExploded',
      },
    },
  ]);
});

/** Metric names and label names a PromQL expression uses (label names: in `by (...)` and in selectors). */
function promqlNames(expr: string): { metrics: string[]; labels: string[] } {
  const metrics = [...expr.matchAll(/\b((?:vup|temporal)_[a-z_]+)\b/g)].map((m) => m[1]!);
  const labels = [
    ...[...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim())),
    ...[...expr.matchAll(/([a-zA-Z_]+)\s*(?:=~|!=|!~|=)\s*"/g)].map((m) => m[1]!),
  ];
  const labelValues = /label_values\(\s*[a-z_]+\s*,\s*([a-zA-Z_]+)\s*\)/.exec(expr);
  if (labelValues) labels.push(labelValues[1]!);
  return { metrics, labels: labels.filter((l) => l && l !== 'le') };
}

it('the Grafana dashboard queries only metrics and labels the worker served in the runs above', async () => {
  const file = path.join(repoRoot(), 'deploy', 'grafana', 'validator-upgrades.json');
  const dashboard = JSON.parse(await readFile(file, 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
    templating: { list: { query?: unknown }[] };
  };
  const exprs = [
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ...dashboard.templating.list.flatMap((v) =>
      typeof v.query === 'object' && v.query ? [(v.query as { query: string }).query] : [],
    ),
  ];
  expect(exprs.length).toBeGreaterThan(10);
  const served = await scrape(address);
  const problems: string[] = [];
  const used = new Set<string>();
  for (const expr of exprs) {
    const { metrics, labels } = promqlNames(expr);
    if (metrics.length === 0) problems.push(`names no metric: ${expr}`);
    for (const metric of metrics) {
      used.add(metric.replace(/_(bucket|count|sum)$/, ''));
      if (samplesOf(served, metric).length === 0) problems.push(`${metric} was not served (in ${expr})`);
    }
    for (const label of labels)
      if (!metrics.some((m) => samplesOf(served, m).some((sample) => label in sample.labels)))
        problems.push(`no series of ${metrics.join(', ')} has the label ${label} (in ${expr})`);
  }
  expect(problems).toEqual([]);
  // Every product metric has a panel.
  expect([...Object.values(METRIC), ...Object.values(WORKER_METRIC)].filter((m) => !used.has(m))).toEqual([]);
});
