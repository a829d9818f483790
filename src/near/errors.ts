/**
 * Failures of NEAR chain operations, each with a type the activities turn into an ApplicationFailure type and
 * a flag saying whether a retry could help. Transient RPC trouble is retryable; a wrong owner, a signer that
 * cannot sign for the account or a bad key is not.
 */
import { finalFailures, nearFailures, type NearFailureType } from '../api/contracts/failures.js';

const nonRetryableTypes = finalFailures(nearFailures);

export class NearError extends Error {
  readonly nonRetryable: boolean;

  constructor(
    readonly type: NearFailureType,
    message: string,
    options?: { nonRetryable?: boolean; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NearError';
    this.nonRetryable = options?.nonRetryable ?? nonRetryableTypes.has(type);
  }
}
