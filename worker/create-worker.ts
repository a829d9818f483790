/**
 * The one worker factory: the upgrade workflows (workflows/index.ts) and every activity (createActivities)
 * on one task queue, with the activity metrics interceptor and, when asked, as a Worker Deployment version
 * and with the payload codec.
 * worker/main.ts runs it as the product's worker process; the demo and the tests build their workers here
 * too, so they run what production runs.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  Worker,
  bundleWorkflowCode,
  type ActivityInterceptorsFactory,
  type Logger,
  type NativeConnection,
  type WorkerDeploymentOptions,
  type WorkflowBundle,
} from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import type { InventorySource } from '../src/config/inventory-source.js';
import { activityMetricsInterceptor } from './metrics.js';
import { deploymentOptions, type VersioningSettings } from './versioning.js';

export interface UpgradeWorkerOptions {
  connection: NativeConnection;
  /** Default: `default`. */
  namespace?: string;
  taskQueue: string;
  /** What createActivities takes: the SSH connections, the inventory every target resolves from, ... */
  activities: ActivityDeps & { inventory: InventorySource };
  /** The bundled workflows; default: bundled now (seconds), so a caller starting several workers passes one. */
  workflowBundle?: WorkflowBundle;
  /** Poll as a Worker Deployment version (versioning.ts); unversioned without a deployment name. */
  versioning?: VersioningSettings;
  /** Interceptors after the metrics one (tests that watch or fail activity calls). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** How long running activities may finish after shutdown (the SDK's default when absent). */
  shutdownGraceTime?: string | number;
  /** 0 in tests that hand a run from one worker to the next (no sticky queue to time out). */
  maxCachedWorkflows?: number;
  /** The payload codec when payloads are encrypted (src/codec: `codecDataConverter(await payloadCodecFromEnv())`). */
  dataConverter?: DataConverter;
}

export interface UpgradeWorker {
  worker: Worker;
  /** The version it polls as, when versioned. */
  deployment: WorkerDeploymentOptions | undefined;
}

export async function createUpgradeWorker(options: UpgradeWorkerOptions): Promise<UpgradeWorker> {
  const bundle = options.workflowBundle ?? (await bundleUpgradeWorkflows());
  const deployment = deploymentOptions(options.versioning ?? {}, () => bundle.code);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    workflowBundle: bundle,
    activities: createActivities(options.activities),
    interceptors: { activity: [activityMetricsInterceptor, ...(options.activityInterceptors ?? [])] },
    ...workflowWorkerSettings(),
    workerDeploymentOptions: deployment,
    ...(options.shutdownGraceTime !== undefined ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
  return { worker, deployment };
}

/** Runs a worker keeps in memory by default (docs/operating.md, "How many upgrades one worker holds"). */
export const DEFAULT_MAX_CACHED_RUNS = 1_000;

/**
 * How the worker holds the runs it serves: every run in one reused V8 context (the SDK's default, stated so it
 * stays), up to VUP_MAX_CACHED_RUNS of them cached (default DEFAULT_MAX_CACHED_RUNS) rather than the SDK's
 * default, which it derives from the heap limit and which let a worker grow past its memory. A run beyond the
 * cache is evicted and replays its history at its next task; more open upgrades than this want more workers.
 */
export function workflowWorkerSettings(env: NodeJS.ProcessEnv = process.env): {
  maxCachedWorkflows: number;
  reuseV8Context: true;
} {
  const raw = env.VUP_MAX_CACHED_RUNS;
  const maxCachedWorkflows = raw === undefined ? DEFAULT_MAX_CACHED_RUNS : Number(raw);
  if (!Number.isInteger(maxCachedWorkflows) || maxCachedWorkflows < 0)
    throw new Error(`VUP_MAX_CACHED_RUNS=${raw}: want a whole number of runs (0 or more)`);
  return { maxCachedWorkflows, reuseV8Context: true };
}

/**
 * dist/workflow-bundle.js: the workflows bundled by `npm run build` (worker/write-workflow-bundle.ts) from the
 * dist/ they sit in. Only a worker run from dist/ finds it; one run from source bundles its source.
 */
export const PREBUILT_WORKFLOW_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

/**
 * The workflows a worker process runs: the bundle `npm run build` wrote, when there is one, else bundled now.
 * Bundling in the worker costs it webpack's memory for its whole life (about 120 MiB more RSS, measured in
 * devnet/bench), and seconds at each start.
 */
export async function upgradeWorkflowBundle(logger?: Logger): Promise<{ bundle: WorkflowBundle; from: string }> {
  // From source (tsx, jest) never: a bundle beside the source would be of code older than the source.
  if (import.meta.url.endsWith('.js') && existsSync(PREBUILT_WORKFLOW_BUNDLE))
    return { bundle: { code: await readFile(PREBUILT_WORKFLOW_BUNDLE, 'utf8') }, from: PREBUILT_WORKFLOW_BUNDLE };
  return { bundle: await bundleUpgradeWorkflows(logger), from: 'bundled at start from the source' };
}

/** Bundles workflows/index.ts (from source under tsx and jest) or workflows/index.js (from dist/), the same for shared-modules. */
export function bundleUpgradeWorkflows(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath('index'),
    // Evaluated once per workflow thread and shared by every run (workflows/shared-modules.ts says what and why).
    preloadModules: [workflowsPath('shared-modules')],
    ...(logger ? { logger } : {}),
  });
}

function workflowsPath(module: string): string {
  const candidates = [`../workflows/${module}.ts`, `../workflows/${module}.js`].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  return candidates.find((p) => existsSync(p)) ?? candidates[1]!;
}
