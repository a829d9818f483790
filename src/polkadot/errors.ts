/**
 * Failures of Polkadot chain and node operations, each with a type the activities turn into an
 * ApplicationFailure type and a flag saying whether a retry could help. Transient RPC trouble is retryable; a
 * dispatch error (InvalidProof, NotProxy, CallFiltered…), an invalid transaction or bad input is not.
 */
import { failureClass, polkadotFailures, type PolkadotFailureType } from '../api/contracts/failures.js';
import { errorText } from '../api/error-text.js';

export class PolkadotError extends failureClass('PolkadotError', polkadotFailures) {
  /** `pallet.Error` of a dispatch failure, e.g. "proxy.NotProxy". */
  readonly dispatchError: string | undefined;

  constructor(
    type: PolkadotFailureType,
    message: string,
    options?: { nonRetryable?: boolean; cause?: unknown; dispatchError?: string },
  ) {
    super(type, message, options);
    this.dispatchError = options?.dispatchError;
  }
}

/** The words of a thrown value (never "[object Object]"). */
export const messageOf = errorText;

/** polkadot-js reports JSON-RPC errors as "<code>: <message>". */
export function isMethodNotFound(err: unknown): boolean {
  return /-32601|method not found/i.test(errorText(err));
}
