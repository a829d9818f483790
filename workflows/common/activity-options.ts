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
] satisfies (HostFailureType | InventoryFailureType | typeof UNSAFE_ERROR_TYPE)[];

/** Reads: RPC calls and quick host checks. Retried a few times, then the step fails. */
export const readOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes },
};

/** One look at a node that may be down: a refused connection is an answer, not something to retry. */
export const probeOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
};

/** Changes on a host (services, files, binaries, keys). Idempotent, so retried; long ones heartbeat. */
export const changeOptions: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes },
};

/** A transaction that checks the chain before it submits, so a retry never submits twice. */
export const transactionOptions = (startToCloseTimeout: ActivityOptions['startToCloseTimeout']): ActivityOptions => ({
  startToCloseTimeout,
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 20, nonRetryableErrorTypes },
});
