/**
 * The bench's worker process: the real workflow bundle and the worker factory's workflow settings
 * (worker/create-worker.ts), with the activities of the waiting fleet (waiting-fleet.ts) instead of SSH and
 * RPC. Its own process, so its RSS and CPU are the worker's alone. The bench asks over IPC for its figures.
 *
 * Env: TEMPORAL_ADDRESS, BENCH_TASK_QUEUE, BENCH_WORKFLOW_BUNDLE (the bundled workflows' file), BENCH_CHAIN (JSON SharedChain), BENCH_WORKER_OPTIONS (JSON, optional
 * overrides of the factory's workflow settings, to compare them), BENCH_FLEET_N (the machines of a fleet of that
 * many members, fleet-members.ts, instead of the waiting upgrades').
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { memoryAllocator } from '../../worker/allocator.js';
import { workflowWorkerSettings } from '../../worker/create-worker.js';
import { benchFleetActivities } from './fleet-members.js';
import { waitingFleetActivities, type SharedChain } from './waiting-fleet.js';

export interface WorkerFigures {
  /** worker/allocator.ts: jemalloc or glibc malloc. */
  allocator: string;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  mallocedBytes: number;
  /** RssAnon of /proc/self/status: what the process allocated, not the files it maps. */
  rssAnonBytes: number;
  nativeContexts: number;
  cpuMicros: number;
  runsWaiting: number;
  runsWokenTwice: number;
  looks: number;
  cachedWorkflows: number;
  /** With BENCH_FLEET_N: what the members' machines say. */
  fleet?: { upgraded: number; doubleSigns: number };
}

export type WorkerRequest =
  { type: 'figures' } | { type: 'gc' } | { type: 'snapshot'; path: string } | { type: 'stop' };

function rssAnon(): number {
  const line = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return line ? Number(line[1]) * 1024 : NaN;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const chain = JSON.parse(process.env.BENCH_CHAIN!) as SharedChain;
  const overrides = JSON.parse(process.env.BENCH_WORKER_OPTIONS ?? '{}') as Record<string, unknown>;
  const fleet = waitingFleetActivities(chain);
  const fleetN = Number(process.env.BENCH_FLEET_N ?? 0);
  const members = fleetN > 0 ? benchFleetActivities(fleetN, chain) : undefined;
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.BENCH_TASK_QUEUE!,
    workflowBundle: { code: readFileSync(process.env.BENCH_WORKFLOW_BUNDLE!, 'utf8') },
    activities: members?.activities ?? fleet.activities,
    ...workflowWorkerSettings(),
    ...overrides,
  });
  const running = worker.run();
  process.on('message', (req: WorkerRequest) => {
    if (req.type === 'figures') {
      const m = process.memoryUsage();
      const cpu = process.cpuUsage();
      const figures: WorkerFigures = {
        allocator: memoryAllocator(),
        rssBytes: m.rss,
        heapUsedBytes: m.heapUsed,
        heapTotalBytes: m.heapTotal,
        externalBytes: m.external,
        arrayBuffersBytes: m.arrayBuffers,
        mallocedBytes: v8.getHeapStatistics().malloced_memory,
        rssAnonBytes: rssAnon(),
        nativeContexts: v8.getHeapStatistics().number_of_native_contexts,
        cpuMicros: cpu.user + cpu.system,
        runsWaiting: fleet.runsWithLooks(1),
        runsWokenTwice: fleet.runsWithLooks(2),
        looks: fleet.looks(),
        cachedWorkflows: worker.getStatus().numCachedWorkflows,
        ...(members ? { fleet: members.figures() } : {}),
      };
      process.send!({ type: 'figures', figures });
    } else if (req.type === 'gc') {
      global.gc?.();
      process.send!({ type: 'done' });
    } else if (req.type === 'snapshot') {
      v8.writeHeapSnapshot(req.path);
      process.send!({ type: 'done' });
    } else {
      worker.shutdown();
    }
  });
  process.send!({ type: 'ready' });
  await running;
  await connection.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`bench worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
