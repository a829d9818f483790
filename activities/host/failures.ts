/**
 * How host failures reach workflows: a HostError becomes an ApplicationFailure of the same type, marked
 * non-retryable when no retry can fix it (bad input, host key mismatch, auth, checksum, unsafe state).
 * Cancellation and anything else pass through unchanged.
 */
import { ApplicationFailure } from '@temporalio/common';
import { HostError } from '../../src/ssh/errors.js';

export function toActivityFailure(err: unknown): unknown {
  if (err instanceof HostError) {
    return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: err.nonRetryable });
  }
  return err;
}

export async function reportingHostErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toActivityFailure(err);
  }
}
