/**
 * Waiting on the chain: sleep a durable timer until the estimated boundary (an epoch or a session), then
 * confirm by RPC through an activity, and loop. Never a tight poll: each look costs one activity and one
 * timer, and the sleep is the chain's own estimate of when the answer can change.
 *
 * History stays bounded: the wait continues as new when the server suggests it, and after a fixed number
 * of looks in one run, whichever comes first.
 *
 * Compensation waits the same way, with two differences: the gates would refuse it (an abort is often what
 * started it), so it sleeps on plain timers; and it never continues as new (the undo it runs in would be lost).
 */
import { ApplicationFailure, sleep, workflowInfo } from '@temporalio/workflow';
import type { ChainObservation } from '../../src/api/chain-observation.js';
import type { UpgradeRun } from './upgrade-run.js';
import { observeCounters } from './chain-counters.js';

export type { ChainObservation };

export interface ChainWaitOptions {
  /** Give up after this long (measured from the first look, across continue-as-new). */
  timeoutMs: number;
  /** Never look again sooner than this, even if the estimate says the boundary is closer. */
  minRecheckMs: number;
  /** Never sleep longer than this in one go, so a wrong estimate is corrected in time. */
  maxSleepMs: number;
}

export const WAIT_TIMEOUT_ERROR_TYPE = 'ChainWaitTimeout';
/** Looks per run before continuing as new, in case the server never suggests it. ~11 events per look. */
export const MAX_LOOKS_PER_RUN = 150;

export async function waitForChain<T>(
  run: UpgradeRun,
  waitId: string,
  what: string,
  look: () => Promise<ChainObservation<T>>,
  opts: ChainWaitOptions,
): Promise<T> {
  const deadline = run.remember(`wait:${waitId}:deadline`, () => Date.now() + opts.timeoutMs);
  /** When the previous look (in this run) expected the answer could change: the base of the lateness metric. */
  let expectedAt: number | undefined;
  for (;;) {
    if (!run.compensating) await run.gates.checkpoint();
    const seen = await look();
    run.looksThisRun++;
    run.note(seen.detail);
    run.metrics.chainLook(waitId, seen.reached);
    observeCounters(run, seen.counters);
    if (seen.reached) {
      if (expectedAt !== undefined) run.metrics.chainWaitReached(waitId, Date.now() - expectedAt);
      run.steps.waiting = undefined;
      return seen.value as T;
    }
    const now = Date.now();
    expectedAt = seen.etaMs === undefined ? undefined : now + seen.etaMs;
    if (now >= deadline)
      throw ApplicationFailure.nonRetryable(
        `timed out waiting for ${what} after ${Math.round(opts.timeoutMs / 60_000)} min; last seen: ${seen.detail}`,
        WAIT_TIMEOUT_ERROR_TYPE,
      );
    const sleepMs = Math.min(
      Math.max(seen.etaMs ?? opts.minRecheckMs, opts.minRecheckMs),
      opts.maxSleepMs,
      deadline - now,
    );
    run.steps.waiting = { reason: `${what}: ${seen.detail}`, until: new Date(now + sleepMs).toISOString() };
    run.steps.publish();
    if (run.compensating) {
      await sleep(sleepMs, { summary: `compensation: wait for ${what}` });
      continue;
    }
    await run.gates.sleep(sleepMs, `wait for ${what}`);
    if (workflowInfo().continueAsNewSuggested || run.looksThisRun >= MAX_LOOKS_PER_RUN) await run.continueAsNew();
  }
}
