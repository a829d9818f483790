/**
 * The worker's metrics, served for Prometheus at http://<VUP_METRICS_ADDRESS>/metrics (off when unset):
 *
 * - the SDK's own (temporal_*: task latencies, pollers, slots, sticky cache, activity and workflow outcomes);
 * - the product's, from the workflows (workflows/common/metrics.ts: upgrades started/completed/failed, step
 *   durations, gate waits, chain-wait looks and lateness);
 * - from the activities, through one interceptor (every attempt with its outcome and error type);
 * - from the worker itself: runs holding at an approval gate and runs behind their deadline, counted in the
 *   namespace's visibility store.
 *
 * Names and labels: docs/metrics.md.
 */
import type { MetricMeter } from '@temporalio/common';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  DefaultLogger,
  Runtime,
  type ActivityInterceptorsFactory,
  type LogLevel,
  type NativeConnection,
} from '@temporalio/worker';
import {
  AWAITING_APPROVAL_STAGE,
  DEADLINE_BEHIND,
  UpgradeDeadline,
  UpgradeStage,
} from '../src/api/search-attributes.js';

export const WORKER_METRIC = {
  activityAttempts: 'vup_activity_attempts',
  activityAttemptDuration: 'vup_activity_attempt_seconds',
  awaitingApproval: 'vup_upgrades_awaiting_approval',
  behindDeadline: 'vup_upgrades_behind_deadline',
} as const;

/** The worker's gauges: each a count of the namespace's running workflows that match a visibility query. */
const VISIBILITY_GAUGES = [
  {
    name: WORKER_METRIC.awaitingApproval,
    description: 'Running upgrades holding at an approval gate (from visibility)',
    query: `${UpgradeStage.name}="${AWAITING_APPROVAL_STAGE}" AND ExecutionStatus="Running"`,
  },
  {
    name: WORKER_METRIC.behindDeadline,
    description: 'Running upgrades and fleets past or projected past their deadline (from visibility)',
    query: `${UpgradeDeadline.name}="${DEADLINE_BEHIND}" AND ExecutionStatus="Running"`,
  },
];

/** Seconds: a step or a wait lasts from a second to days. */
const SECONDS_BUCKETS = [0.1, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 345_600];

/** Every histogram the product records, in seconds (the SDK's default buckets are milliseconds). */
export const SECONDS_HISTOGRAMS = [
  'vup_upgrade_duration_seconds',
  'vup_step_duration_seconds',
  'vup_gate_wait_seconds',
  'vup_chain_wait_lateness_seconds',
  WORKER_METRIC.activityAttemptDuration,
];

/**
 * Installs the SDK runtime (once per process, before any connection): logging, and the Prometheus endpoint
 * when `metricsAddress` (host:port) is given.
 */
export function installRuntime(options: { logLevel?: LogLevel; metricsAddress?: string }): void {
  const { metricsAddress } = options;
  Runtime.install({
    logger: new DefaultLogger(options.logLevel ?? 'INFO'),
    ...(metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: metricsAddress,
                histogramBucketOverrides: Object.fromEntries(SECONDS_HISTOGRAMS.map((n) => [n, SECONDS_BUCKETS])),
              },
            },
          },
        }
      : {}),
  });
}

/** VUP_METRICS_ADDRESS as host:port, or undefined (metrics off). A bad value stops the worker. */
export function metricsAddressFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.VUP_METRICS_ADDRESS?.trim();
  if (!value) return undefined;
  if (!/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(value))
    throw new Error(`VUP_METRICS_ADDRESS must be host:port (such as 0.0.0.0:9464), not "${value}"`);
  return value;
}

/** What went wrong in an activity attempt, for the metric's labels. */
function failureLabels(err: unknown): { outcome: string; error_type: string } {
  if (err instanceof CancelledFailure) return { outcome: 'cancelled', error_type: 'Cancelled' };
  if (err instanceof ApplicationFailure)
    return { outcome: err.nonRetryable ? 'non_retryable' : 'failed', error_type: err.type ?? 'ApplicationFailure' };
  return { outcome: 'failed', error_type: err instanceof Error ? err.name : 'unknown' };
}

/**
 * Counts every activity attempt with its outcome (ok, failed, non_retryable, cancelled) and error type
 * (RpcUnavailable, UnsafeToProceed, ...), and times it. The SDK adds activityType, namespace and taskQueue.
 */
export const activityMetricsInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const started = Date.now();
      let labels = { outcome: 'ok', error_type: '' };
      try {
        return await next(input);
      } catch (err) {
        labels = failureLabels(err);
        throw err;
      } finally {
        const meter = ctx.metricMeter;
        meter.createCounter(WORKER_METRIC.activityAttempts, undefined, 'Activity attempts by outcome').add(1, labels);
        meter
          .createHistogram(WORKER_METRIC.activityAttemptDuration, 'float', 's', 'Time an activity attempt took')
          .record((Date.now() - started) / 1000, { outcome: labels.outcome });
      }
    },
  },
});

/**
 * Every `intervalMs`, counts the namespace's running upgrades that hold at an approval gate (the UpgradeStage
 * search attribute) and those behind their deadline (UpgradeDeadline), and sets the gauges. Counted from
 * visibility, not from the workflows: a gauge set by each run would go stale when a run moves to another
 * worker. Every worker reports the same numbers; take max() over them. Returns a function that stops it.
 */
export function startVisibilityGauges(
  connection: NativeConnection,
  namespace: string,
  intervalMs = 15_000,
  meter: MetricMeter = Runtime.instance().metricMeter,
): () => void {
  const gauges = VISIBILITY_GAUGES.map((g) => ({
    ...g,
    gauge: meter.createGauge(g.name, 'int', undefined, g.description),
  }));
  let stopped = false;
  const tick = () =>
    Promise.all(
      gauges.map(async ({ gauge, query }) => {
        try {
          const { count } = await connection.workflowService.countWorkflowExecutions({ namespace, query });
          if (!stopped) gauge.set(Number(count ?? 0), { namespace });
        } catch {
          // A visibility hiccup: keep the last value; the next tick tries again.
        }
      }),
    );
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
