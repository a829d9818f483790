/**
 * The one worker factory: the upgrade workflows (workflows/index.ts) and every activity (createActivities)
 * on one task queue, with the activity metrics interceptor and, when asked, as a Worker Deployment version
 * and with the payload codec.
 * worker/main.ts runs it as the product's worker process; the demo and the tests build their workers here
 * too, so they run what production runs.
 */
import { existsSync } from 'node:fs';
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
    workerDeploymentOptions: deployment,
    ...(options.shutdownGraceTime !== undefined ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
  return { worker, deployment };
}

/** Bundles workflows/index.ts (from source under tsx and jest) or workflows/index.js (from dist/). */
export function bundleUpgradeWorkflows(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), ...(logger ? { logger } : {}) });
}

function workflowsPath(): string {
  const candidates = ['../workflows/index.ts', '../workflows/index.js'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  return candidates.find((p) => existsSync(p)) ?? candidates[1]!;
}
