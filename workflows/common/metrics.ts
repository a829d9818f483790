/**
 * The product's metrics from the workflows, emitted in one place each (the frame, the step book, the gates
 * and the chain wait call these; no strategy does). They go through `workflow.metricMeter`, which the SDK
 * skips while a worker replays a history, so a worker that picks up a run after a restart does not count
 * its past steps again. They create no history events. Names and labels: docs/metrics.md.
 *
 * Every metric carries `chain`, `network` and `strategy`; the SDK adds `namespace`, `taskQueue` and
 * `workflowType`. Durations are in seconds.
 */
import { metricMeter } from '@temporalio/workflow';
import type { ValidatorIdentity } from '../../src/api/identity.js';
import type { ObservedDelta } from '../../src/api/validator-counters.js';

export const METRIC = {
  started: 'vup_upgrades_started',
  completed: 'vup_upgrades_completed',
  failed: 'vup_upgrades_failed',
  upgradeDuration: 'vup_upgrade_duration_seconds',
  stepDuration: 'vup_step_duration_seconds',
  gateWaits: 'vup_gate_waits',
  gateWaitDuration: 'vup_gate_wait_seconds',
  chainLooks: 'vup_chain_wait_looks',
  chainWaitLateness: 'vup_chain_wait_lateness_seconds',
  missedObserved: 'vup_missed_blocks_observed',
  doubleSignsObserved: 'vup_double_signs_observed',
  deadlineAtRisk: 'vup_deadline_at_risk',
} as const;

type Tags = Record<string, string>;

/** The metrics of one upgrade run, tagged with its chain, network and strategy. */
export class UpgradeMetrics {
  private readonly tags: Tags;

  constructor(strategy: string, identity: ValidatorIdentity) {
    this.tags = { chain: identity.chain, network: identity.network, strategy };
  }

  private count(name: string, description: string, extra: Tags = {}, by = 1): void {
    metricMeter.createCounter(name, undefined, description).add(by, { ...this.tags, ...extra });
  }

  private seconds(name: string, description: string, ms: number, extra: Tags = {}): void {
    metricMeter
      .createHistogram(name, 'float', 's', description)
      .record(Math.max(0, ms) / 1000, { ...this.tags, ...extra });
  }

  upgradeStarted(): void {
    this.count(METRIC.started, 'Upgrades started (not counting continue-as-new)');
  }

  /** outcome: completed, or failed / aborted. */
  upgradeEnded(outcome: 'completed' | 'failed' | 'aborted', startedAt: string, errorType?: string): void {
    if (outcome === 'completed') this.count(METRIC.completed, 'Upgrades that completed');
    else this.count(METRIC.failed, 'Upgrades that failed or were aborted', { outcome, error_type: errorType ?? '' });
    this.seconds(METRIC.upgradeDuration, 'Wall time of an upgrade, start to end', elapsedSince(startedAt), {
      outcome,
    });
  }

  /** A step (or an undo) ended: outcome is its final state (done, failed, compensated). */
  stepEnded(step: string, outcome: string, startedAt: string | undefined): void {
    if (!startedAt) return;
    this.seconds(METRIC.stepDuration, 'Time a runbook step took', elapsedSince(startedAt), { step, outcome });
  }

  gateWaitStarted(gate: string): void {
    this.count(METRIC.gateWaits, 'Times a run began to hold at an approval gate', { gate });
  }

  gateWaitEnded(gate: string, outcome: 'approved' | 'aborted', waitedMs: number): void {
    this.seconds(METRIC.gateWaitDuration, 'Time a run held at an approval gate', waitedMs, { gate, outcome });
  }

  chainLook(wait: string, reached: boolean): void {
    this.count(METRIC.chainLooks, 'Looks at the chain during waits', { wait, reached: String(reached) });
  }

  /**
   * What the chain's counters for the validator grew by since the run's previous reading of them (see
   * src/api/validator-counters.ts). The first reading adds 0, so the series exist from the run's start.
   */
  chainCountersGrew(delta: ObservedDelta): void {
    for (const [kind, n] of Object.entries(delta.missed))
      this.count(
        METRIC.missedObserved,
        "Blocks, chunks or slots the validator was expected to produce and did not, by the chain's counters, while a run looked",
        { kind },
        n,
      );
    if (delta.doubleSigns !== undefined)
      this.count(
        METRIC.doubleSignsObserved,
        'Double signs (equivocations) of the validator the chain recorded while a run looked',
        {},
        delta.doubleSigns,
      );
  }

  /** The run fell behind its deadline (past it, or projected past it): once per upgrade. */
  fellBehindDeadline(): void {
    this.count(METRIC.deadlineAtRisk, 'Upgrades that fell behind their deadline (past it or projected past it)');
  }

  /** The wait was reached this long after the chain's first estimate of when it would be (0 if sooner). */
  chainWaitReached(wait: string, latenessMs: number): void {
    this.seconds(
      METRIC.chainWaitLateness,
      "Time a chain wait ended after its first estimate of the boundary (the chain's or the estimate's lateness)",
      latenessMs,
      { wait },
    );
  }
}

const elapsedSince = (iso: string) => Date.now() - Date.parse(iso);
