/**
 * Failures of host operations, each with a type the activities turn into an ApplicationFailure type and a
 * flag saying whether a retry could help. Messages name the host and the path, never a secret.
 */
import { finalFailures, hostFailures, type HostFailureType } from '../api/contracts/failures.js';

const nonRetryableTypes = finalFailures(hostFailures);

export class HostError extends Error {
  readonly nonRetryable: boolean;

  constructor(
    readonly type: HostFailureType,
    message: string,
    options?: { nonRetryable?: boolean; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HostError';
    this.nonRetryable = options?.nonRetryable ?? nonRetryableTypes.has(type);
  }
}
