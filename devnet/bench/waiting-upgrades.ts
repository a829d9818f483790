/**
 * N upgrades waiting on one worker: a fresh dev server, the worker in its own process (waiting-worker.ts),
 * N nearZeroDowntimeUpgrade runs started and left in their wait for the key to become active. Measures the
 * worker's RSS and CPU while they wait, how long starting them took, the tasks' schedule-to-start latency
 * (from the histories), a status round (every run queried) and the epoch-boundary round (every run wakes at
 * the same boundary, looks, and sleeps again).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { WorkflowClient } from '@temporalio/client';
import { upgradeIdPolicy } from '../../src/api/identity.js';
import { statusQuery } from '../../src/api/messages.js';
import { upgradeSearchAttributes } from '../../src/api/search-attributes.js';
import { findJemalloc } from '../../worker/allocator.js';
import { bundleUpgradeWorkflows } from '../../worker/create-worker.js';
import { resolveTemporalCli, toSdkExecutable } from '../servers/temporal-servers.js';
import { benchInput, benchWorkflowId, type SharedChain } from './waiting-fleet.js';
import type { WorkerFigures, WorkerRequest } from './waiting-worker.js';

export interface WaitingFigures {
  n: number;
  /** The worker's memory allocator, as it reported it (worker/allocator.ts). */
  allocator: string;
  /** The worker's maxCachedWorkflows when the bench set one other than the factory's. */
  maxCached?: number;
  epochSeconds: number;
  idleRssMiB: number;
  rssMiB: number;
  perRunKiB: number;
  heapUsedMiB: number;
  idleHeapUsedMiB: number;
  heapTotalMiB: number;
  nativeContexts: number;
  cachedWorkflows: number;
  cpuWhileWaitingPercent: number;
  startSeconds: number;
  allWaitingSeconds: number;
  workflowTaskScheduleToStartMs: { p50: number; p99: number; samples: number };
  activityScheduleToStartMs: { p50: number; p99: number; samples: number };
  statusRoundSeconds: number;
  epochRoundSeconds: number | undefined;
  epochRoundCpuSeconds: number | undefined;
  note?: string;
}

const MiB = 1024 * 1024;
const here = path.dirname(fileURLToPath(import.meta.url));

export async function measureWaitingUpgrades(
  n: number,
  opts: {
    epochSeconds: number;
    workerOptions?: Record<string, unknown>;
    /** glibc: the worker on the system's malloc, not the jemalloc the image preloads. */
    allocator?: 'jemalloc' | 'glibc';
    log: (line: string) => void;
  },
): Promise<WaitingFigures> {
  const cli = await resolveTemporalCli();
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: toSdkExecutable(cli), ip: '127.0.0.1', searchAttributes: upgradeSearchAttributes },
  });
  const taskQueue = `bench-${n}`;
  const chain: SharedChain = { genesisMs: Date.now(), epochLength: opts.epochSeconds, blockTimeMs: 1000 };
  const worker = await startWorker(env.address, taskQueue, chain, opts.workerOptions ?? {}, {}, opts.allocator);
  try {
    await worker.ask({ type: 'gc' });
    const idle = await worker.figures();
    const t0 = Date.now();
    await inBatches(n, 50, (i) =>
      env.client.workflow.start('nearZeroDowntimeUpgrade', {
        args: [benchInput(i, chain)],
        taskQueue,
        workflowId: benchWorkflowId(i),
        ...upgradeIdPolicy(),
      }),
    );
    const startSeconds = (Date.now() - t0) / 1000;
    opts.log(`  ${n} started in ${startSeconds.toFixed(1)} s`);
    for (;;) {
      const f = await worker.figures();
      if (f.runsWaiting >= n) break;
      if (Date.now() > chain.genesisMs + opts.epochSeconds * 1000)
        throw new Error(`only ${f.runsWaiting} of ${n} runs reached their wait within the epoch`);
      await delay(500);
    }
    const allWaitingSeconds = (Date.now() - t0) / 1000;
    opts.log(`  all ${n} waiting after ${allWaitingSeconds.toFixed(1)} s`);
    await delay(3000);
    await worker.ask({ type: 'gc' });
    const before = await worker.figures();
    const windowMs = 10_000;
    await delay(windowMs);
    const after = await worker.figures();
    await worker.ask({ type: 'gc' });
    const waiting = await worker.figures();
    if (process.env.BENCH_SNAPSHOT) await worker.ask({ type: 'snapshot', path: process.env.BENCH_SNAPSHOT });
    if (process.env.BENCH_DEBUG) opts.log(`  idle ${JSON.stringify(idle)}\n  waiting ${JSON.stringify(waiting)}`);
    opts.log(`  worker RSS ${(waiting.rssBytes / MiB).toFixed(0)} MiB (idle ${(idle.rssBytes / MiB).toFixed(0)})`);

    const s0 = Date.now();
    await inBatches(n, 20, (i) => env.client.workflow.getHandle(benchWorkflowId(i)).query(statusQuery));
    const statusRoundSeconds = (Date.now() - s0) / 1000;
    opts.log(`  status round ${statusRoundSeconds.toFixed(1)} s`);
    const latencies = await scheduleToStart(env.client.workflow, Math.min(n, 200));

    const boundary = chain.genesisMs + opts.epochSeconds * 1000;
    let epochRoundSeconds: number | undefined;
    let epochRoundCpuSeconds: number | undefined;
    let note: string | undefined;
    if (Date.now() < boundary - 1000) {
      await delay(boundary - 1000 - Date.now());
      const c0 = (await worker.figures()).cpuMicros;
      for (;;) {
        const f = await worker.figures();
        if (f.runsWokenTwice >= n) {
          epochRoundSeconds = (Date.now() - boundary) / 1000;
          epochRoundCpuSeconds = (f.cpuMicros - c0) / 1e6;
          break;
        }
        if (Date.now() > boundary + 600_000) {
          note = `epoch round: only ${f.runsWokenTwice} of ${n} woke within 10 min`;
          break;
        }
        await delay(250);
      }
      opts.log(`  epoch round ${epochRoundSeconds?.toFixed(1) ?? '-'} s`);
    } else {
      note = 'epoch round skipped: the boundary passed before the measurements ended (raise BENCH_EPOCH_S)';
    }
    const maxCached = opts.workerOptions?.maxCachedWorkflows;
    return {
      n,
      allocator: waiting.allocator,
      ...(typeof maxCached === 'number' ? { maxCached } : {}),
      epochSeconds: opts.epochSeconds,
      idleRssMiB: idle.rssBytes / MiB,
      rssMiB: waiting.rssBytes / MiB,
      perRunKiB: (waiting.rssBytes - idle.rssBytes) / n / 1024,
      heapUsedMiB: waiting.heapUsedBytes / MiB,
      idleHeapUsedMiB: idle.heapUsedBytes / MiB,
      heapTotalMiB: waiting.heapTotalBytes / MiB,
      nativeContexts: waiting.nativeContexts,
      cachedWorkflows: waiting.cachedWorkflows,
      cpuWhileWaitingPercent: ((after.cpuMicros - before.cpuMicros) / 1000 / windowMs) * 100,
      startSeconds,
      allWaitingSeconds,
      workflowTaskScheduleToStartMs: latencies.workflowTask,
      activityScheduleToStartMs: latencies.activity,
      statusRoundSeconds,
      epochRoundSeconds,
      epochRoundCpuSeconds,
      ...(note ? { note } : {}),
    };
  } finally {
    await worker.stop();
    await env.teardown();
  }
}

export interface BenchWorker {
  figures: () => Promise<WorkerFigures>;
  ask: (req: WorkerRequest) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * The workflow bundle the bench's workers load, bundled once per bench from the source: like a worker from
 * dist/, which loads what `npm run build` bundled (worker/create-worker.ts, upgradeWorkflowBundle), none runs
 * webpack itself.
 */
let benchBundle: Promise<string> | undefined;
function workflowBundleFile(): Promise<string> {
  benchBundle ??= (async () => {
    const file = path.join(os.tmpdir(), `vup-bench-workflows-${process.pid}.js`);
    await writeFile(file, (await bundleUpgradeWorkflows(new DefaultLogger('WARN'))).code);
    process.once('exit', () => rmSync(file, { force: true }));
    return file;
  })();
  return benchBundle;
}

/**
 * The bench's worker in its own process (waiting-worker.ts); `env` adds to its environment. On jemalloc, as the
 * worker image runs (deploy/Dockerfile), where this machine has it, unless `allocator` says glibc.
 * BENCH_WORKER_NODE_ARGS adds node options to it (e.g. `--trace-gc`, to see where its memory goes).
 */
export async function startWorker(
  address: string,
  taskQueue: string,
  chain: SharedChain,
  workerOptions: Record<string, unknown>,
  env: Record<string, string> = {},
  allocator: 'jemalloc' | 'glibc' = 'jemalloc',
): Promise<BenchWorker> {
  const jemalloc = allocator === 'jemalloc' ? findJemalloc() : undefined;
  const { LD_PRELOAD: _, ...inherited } = process.env;
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const child: ChildProcess = fork(path.join(here, 'waiting-worker.ts'), [], {
    execArgv: [
      '--import',
      tsx,
      '--expose-gc',
      ...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
    env: {
      ...inherited,
      ...(jemalloc ? { LD_PRELOAD: jemalloc } : {}),
      BENCH_WORKFLOW_BUNDLE: await workflowBundleFile(),
      TEMPORAL_ADDRESS: address,
      BENCH_TASK_QUEUE: taskQueue,
      BENCH_CHAIN: JSON.stringify(chain),
      BENCH_WORKER_OPTIONS: JSON.stringify(workerOptions),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const next = <T>(type: string) =>
    Promise.race([
      new Promise<T>((resolve) => {
        const on = (msg: { type: string } & T) => {
          if (msg.type !== type) return;
          child.off('message', on);
          resolve(msg);
        };
        child.on('message', on);
      }),
      exited.then((code) => Promise.reject(new Error(`bench worker exited (${code})`))),
    ]);
  await next('ready');
  return {
    figures: async () => {
      const reply = next<{ figures: WorkerFigures }>('figures');
      child.send({ type: 'figures' });
      return (await reply).figures;
    },
    ask: async (req) => {
      const reply = next('done');
      child.send(req);
      await reply;
    },
    stop: async () => {
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function inBatches<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Schedule-to-start of the workflow tasks and activity tasks of `sample` runs, read from their histories. */
async function scheduleToStart(client: WorkflowClient, sample: number) {
  const wft: number[] = [];
  const act: number[] = [];
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
    Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  await inBatches(sample, 10, async (i) => {
    const history = await client.getHandle(benchWorkflowId(i)).fetchHistory();
    const scheduled = new Map<string, number>();
    for (const e of history.events ?? []) {
      const id = String(e.eventId);
      const at = ms(e.eventTime);
      if (e.workflowTaskScheduledEventAttributes || e.activityTaskScheduledEventAttributes) scheduled.set(id, at);
      const w = e.workflowTaskStartedEventAttributes;
      if (w) wft.push(at - scheduled.get(String(w.scheduledEventId))!);
      const a = e.activityTaskStartedEventAttributes;
      if (a) act.push(at - scheduled.get(String(a.scheduledEventId))!);
    }
  });
  const summary = (xs: number[]) => {
    const sorted = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: sorted.length };
  };
  return { workflowTask: summary(wft), activity: summary(act) };
}
