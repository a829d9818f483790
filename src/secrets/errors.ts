/**
 * Failures to resolve a signer reference. Messages name the reference (the variable, the file), never its
 * value: a key must not reach a log, an error or the workflow history. No retry can fix any of them.
 */
import type { SignerFailureType } from '../api/contracts/failures.js';

export class SignerError extends Error {
  readonly nonRetryable = true;

  constructor(
    readonly type: SignerFailureType,
    message: string,
  ) {
    super(message);
    this.name = 'SignerError';
  }
}
