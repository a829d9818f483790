/**
 * How long activities may take and how they are retried, by kind of call. Every runbook proxies its
 * activities through these groups, so a retry policy means the same thing on every chain.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import type { HostFailureType, InventoryFailureType } from '../../src/api/contracts/failures.js';

/** A step found the validator in a state where going on could double-sign or lose data. */
export const UNSAFE_ERROR_TYPE = 'UnsafeToProceed';

/** Errors no retry can fix: wrong input, an unsafe state, a host that is not the pinned one, a bad binary. */
export const nonRetryableErrorTypes = [
  'BadInput',
  'InvalidInput',
  UNSAFE_ERROR_TYPE,
  'HostKeyMismatch',
  'AuthFailed',
  'ChecksumMismatch',
  'CrossDevice',
  'UnsafeSwapState',
  'RemoteFileMissing',
  'NotInInventory',
  'OtherNodeRunning',
] satisfies (HostFailureType | InventoryFailureType | typeof UNSAFE_ERROR_TYPE)[];

/**
 * How fast a lost worker is noticed. Every activity that changes something heartbeats (activities/host/heartbeat.ts,
 * every 5 s, which the SDK sends at most every 80% of this timeout), so a killed worker's step is given to a fresh
 * worker about this long after the kill, plus the first retry interval: about 12 s, instead of the whole
 * start-to-close timeout.
 */
const LOST_WORKER_AFTER = '10 seconds';
/** The first retry comes quickly (a lost worker is the commonest reason for one); later ones back off. */
const QUICK_FIRST_RETRY = { initialInterval: '1 second', backoffCoefficient: 2 } as const;

/**
 * Reads: RPC calls and quick host checks. Retried a few times, then the step fails. They change nothing and do
 * not heartbeat, so a read lost with its worker is retried after this timeout.
 */
export const readOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { ...QUICK_FIRST_RETRY, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes },
};

/**
 * A look inside a chain wait (common/chain-wait.ts): a blip is retried here, a longer outage is the wait's to
 * ride out (it keeps looking until its own deadline and says so in the status), so this gives up soon.
 */
export const lookOptions: ActivityOptions = {
  startToCloseTimeout: '20 seconds',
  retry: { ...QUICK_FIRST_RETRY, maximumInterval: '5 seconds', maximumAttempts: 3, nonRetryableErrorTypes },
};

/** One look at a node that may be down: a refused connection is an answer, not something to retry. */
export const probeOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
};

/** Changes on a host (services, files, binaries, keys). Idempotent, so retried; all of them heartbeat. */
export const changeOptions: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: LOST_WORKER_AFTER,
  retry: { ...QUICK_FIRST_RETRY, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes },
};

/** Moving a data folder: renames on one filesystem, journaled (a retry finishes or undoes the journal). */
export const dataSwapOptions: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: LOST_WORKER_AFTER,
  retry: { ...QUICK_FIRST_RETRY, maximumInterval: '2 minutes', maximumAttempts: 10, nonRetryableErrorTypes },
};

/**
 * A transaction that checks the chain before it submits, so a retry never submits twice. It heartbeats while it
 * waits for the chain, so a worker that dies mid-transaction is noticed in seconds, not at the end of
 * `startToCloseTimeout`.
 */
export const transactionOptions = (startToCloseTimeout: ActivityOptions['startToCloseTimeout']): ActivityOptions => ({
  startToCloseTimeout,
  heartbeatTimeout: LOST_WORKER_AFTER,
  retry: { ...QUICK_FIRST_RETRY, maximumInterval: '1 minute', maximumAttempts: 20, nonRetryableErrorTypes },
});
