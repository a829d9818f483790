/**
 * Waiting on the chain: sleep a durable timer until the estimated boundary (an epoch or a session), then
 * confirm by RPC through an activity, and loop. Never a tight poll: each look costs one activity and one
 * timer, and the sleep is the chain's own estimate of when the answer can change.
 *
 * History stays bounded: the wait continues as new when the server suggests it, and after a fixed number
 * of looks in one run, whichever comes first.
 *
 * An outage is not the end of a wait: a look that fails for a reason a retry can fix (an RPC answering 5xx,
 * hanging, refusing) is looked at again, with backoff, until the wait's own deadline, and the status says so
 * meanwhile ("chain RPC unavailable since …, retrying (attempt n): …"). Only the deadline fails the wait, with
 * the same ChainWaitTimeout as a chain that never got there. A refusal no retry fixes still fails at once.
 *
 * Nor is a halted chain an answer: a look whose network head is older than CHAIN_HALT_AFTER_MS is not taken
 * as reached, whatever it says (a node "synced" to a chain that stopped is not known to be synced), and the
 * status says "no new block since …" until blocks come again or the wait's deadline fails it.
 *
 * Compensation waits the same way, with two differences: the gates would refuse it (an abort is often what
 * started it), so it sleeps on plain timers; and it never continues as new (the undo it runs in would be lost).
 */
import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, log, patched, sleep, workflowInfo } from '@temporalio/workflow';
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
/** Looks that fail with a retryable failure are retried until the deadline. Runs recorded before it failed the wait. */
export const WAIT_RIDES_OUT_OUTAGES_PATCH = 'wait-rides-out-outages';
/** The longest pause between looks while the RPC is out: an outage's end is seen within this. */
const OUTAGE_MAX_BACKOFF_MS = 30_000;
/** Looks that see a halted chain are not taken as reached. Runs recorded before took them. */
export const WAIT_SEES_CHAIN_HALT_PATCH = 'wait-sees-chain-halt';
/** A network head older than this is a halted chain (NEAR makes a block a second, Polkadot one in 6 s). */
export const CHAIN_HALT_AFTER_MS = 60_000;
/** Looks per run before continuing as new, in case the server never suggests it. ~11 events per look. */
export const MAX_LOOKS_PER_RUN = 150;

export async function waitForChain<T>(
  run: UpgradeRun,
  waitId: string,
  what: string,
  look: () => Promise<ChainObservation<T>>,
  opts: ChainWaitOptions,
): Promise<T> {
  const deadline = waitDeadline(run, waitId, opts.timeoutMs);
  /** When the previous look (in this run) expected the answer could change: the base of the lateness metric. */
  let expectedAt: number | undefined;
  for (;;) {
    if (!run.compensating) await run.gates.checkpoint();
    const seen = haltAware(await throughOutages(run, waitId, what, deadline, opts, look));
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
    if (now >= deadline) throw waitTimedOut(what, opts, `last seen: ${seen.detail}`);
    const sleepMs = Math.min(
      Math.max(seen.etaMs ?? opts.minRecheckMs, opts.minRecheckMs),
      opts.maxSleepMs,
      deadline - now,
    );
    await pause(run, `${what}: ${seen.detail}`, sleepMs, what);
  }
}

/** The look as the wait takes it: not reached, and saying so, when its network head is too old. */
function haltAware<T>(seen: ChainObservation<T>): ChainObservation<T> {
  if (!seen.head) return seen;
  const since = Date.parse(seen.head.time);
  if (!(Date.now() - since > CHAIN_HALT_AFTER_MS) || !patched(WAIT_SEES_CHAIN_HALT_PATCH)) return seen;
  const halt = `chain halted? no new block since ${new Date(since).toISOString()} (#${seen.head.height})`;
  return { ...seen, reached: false, detail: `${halt}; ${seen.detail}` };
}

/**
 * A read a wait starts from (the epoch it counts from), made like the wait's looks: through outages, until the
 * wait's deadline, which it fixes.
 */
export function readForWait<T>(
  run: UpgradeRun,
  waitId: string,
  what: string,
  read: () => Promise<T>,
  opts: ChainWaitOptions,
): Promise<T> {
  return throughOutages(run, waitId, what, waitDeadline(run, waitId, opts.timeoutMs), opts, read);
}

function waitDeadline(run: UpgradeRun, waitId: string, timeoutMs: number): number {
  return run.remember(`wait:${waitId}:deadline`, () => Date.now() + timeoutMs);
}

/** Runs `read`; while it fails for a reason a retry can fix, says so in the status and tries again, until `deadline`. */
async function throughOutages<T>(
  run: UpgradeRun,
  waitId: string,
  what: string,
  deadline: number,
  opts: ChainWaitOptions,
  read: () => Promise<T>,
): Promise<T> {
  // Kept across continue-as-new, which a long outage can span: its start and count are the outage's, not the run's.
  const outageOf = run.remember<{ since?: number; attempts?: number }>(`wait:${waitId}:outage`, () => ({}));
  for (;;) {
    try {
      const value = await read();
      delete outageOf.since;
      delete outageOf.attempts;
      return value;
    } catch (err) {
      if (!isOutage(err) || !patched(WAIT_RIDES_OUT_OUTAGES_PATCH)) throw err;
      const since = (outageOf.since ??= Date.now());
      const attempt = (outageOf.attempts = (outageOf.attempts ?? 0) + 1);
      const outage = `chain RPC unavailable since ${new Date(since).toISOString()}, retrying (attempt ${attempt}): ${causeOf(err)}`;
      log.warn("a look inside a wait failed; retrying until the wait's deadline", {
        what,
        attempt,
        error: causeOf(err),
      });
      run.looksThisRun++;
      run.note(outage);
      const now = Date.now();
      if (now >= deadline) throw waitTimedOut(what, opts, outage);
      const backoffMs = Math.min(Math.max(opts.minRecheckMs, 2_000) * 2 ** (attempt - 1), OUTAGE_MAX_BACKOFF_MS);
      await pause(run, `${what}: ${outage}`, Math.min(backoffMs, opts.maxSleepMs, deadline - now), what);
    }
  }
}

/** Sleeps between looks, saying why in the status; continues as new when the history asks for it. */
async function pause(run: UpgradeRun, reason: string, sleepMs: number, what: string): Promise<void> {
  run.steps.waiting = { reason, until: new Date(Date.now() + sleepMs).toISOString() };
  run.steps.publish();
  if (run.compensating) {
    await sleep(sleepMs, { summary: `compensation: wait for ${what}` });
    return;
  }
  await run.gates.sleep(sleepMs, `wait for ${what}`);
  if (workflowInfo().continueAsNewSuggested || run.looksThisRun >= MAX_LOOKS_PER_RUN) await run.continueAsNew();
}

function waitTimedOut(what: string, opts: ChainWaitOptions, last: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `timed out waiting for ${what} after ${Math.round(opts.timeoutMs / 60_000)} min; ${last}`,
    WAIT_TIMEOUT_ERROR_TYPE,
  );
}

/**
 * A look that failed only because its retries ran out or timed out (the RPC answered 5xx, hung, refused): the
 * chain may answer again. A failure the retry policy calls non-retryable (bad input, a wrong chain) is not one.
 */
function isOutage(err: unknown): err is ActivityFailure {
  return (
    err instanceof ActivityFailure &&
    (err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED || err.retryState === RetryState.TIMEOUT)
  );
}

function causeOf(err: ActivityFailure): string {
  return err.cause?.message ?? err.message;
}
