/**
 * How NEAR failures reach workflows: NearErrors, signer errors and host errors become ApplicationFailures of
 * their type, non-retryable when no retry can fix them (wrong owner, missing signer, bad key, bad input).
 */
import { ApplicationFailure } from '@temporalio/common';
import { NearError } from '../../src/near/errors.js';
import { SignerError } from '../../src/secrets/errors.js';
import { toActivityFailure } from '../host/failures.js';

export async function reportingNearErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof NearError || err instanceof SignerError) {
      throw ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: err.nonRetryable });
    }
    throw toActivityFailure(err);
  }
}
