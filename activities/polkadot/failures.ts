/**
 * How Polkadot failures reach workflows: PolkadotErrors, signer errors and host errors become
 * ApplicationFailures of their type, non-retryable when no retry can fix them (a refused setKeys, a bad
 * signer, bad input). A refused setKeys carries the dispatch error's name in its details.
 */
import { ApplicationFailure } from '@temporalio/common';
import { PolkadotError } from '../../src/polkadot/errors.js';
import { SignerError } from '../../src/secrets/errors.js';
import { toActivityFailure } from '../host/failures.js';

export async function reportingPolkadotErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PolkadotError) {
      throw ApplicationFailure.create({
        message: err.message,
        type: err.type,
        nonRetryable: err.nonRetryable,
        ...(err.dispatchError ? { details: [{ dispatchError: err.dispatchError }] } : {}),
      });
    }
    if (err instanceof SignerError) {
      throw ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: true });
    }
    throw toActivityFailure(err);
  }
}
