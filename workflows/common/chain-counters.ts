/**
 * What the run observed of the chain's own counters for its validator (missed blocks, chunks or slots;
 * double signs): activities return the counters beside what they were asked (src/api/validator-counters.ts),
 * and every reading the workflow gets goes through `observeCounters`, which adds what grew since the previous
 * reading to the metrics and keeps the totals for the status. Kept across continue-as-new; nothing here
 * schedules anything, so histories recorded before it replay unchanged.
 */
import type { ObservedStatus } from '../../src/api/status.js';
import { advanceObserved, type ObservedOnChain, type ValidatorCounters } from '../../src/api/validator-counters.js';
import type { UpgradeRun } from './upgrade-run.js';

const OBSERVED_KEY = 'observed-on-chain';

/** Takes one reading of the chain's counters (none: nothing to take). */
export function observeCounters(run: UpgradeRun, counters: ValidatorCounters | undefined): void {
  if (!counters) return;
  const holder = run.remember<{ observed?: ObservedOnChain }>(OBSERVED_KEY, () => ({}));
  const { state, delta } = advanceObserved(holder.observed, counters, new Date().toISOString());
  holder.observed = state;
  run.metrics.chainCountersGrew(delta);
}

/** The totals for the status query, once the run has read the counters at least once. */
export function observedStatus(run: UpgradeRun): ObservedStatus | undefined {
  const observed = run.recalled<{ observed?: ObservedOnChain }>(OBSERVED_KEY)?.observed;
  if (!observed) return undefined;
  const { last: _, ...shown } = observed;
  return shown;
}
