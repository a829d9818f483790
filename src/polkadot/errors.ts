/**
 * Failures of Polkadot chain and node operations, each with a type the activities turn into an
 * ApplicationFailure type and a flag saying whether a retry could help. Transient RPC trouble is retryable; a
 * dispatch error (InvalidProof, NotProxy, CallFiltered…), an invalid transaction or bad input is not.
 */
export type PolkadotErrorType =
  | 'BadInput'
  | 'RpcUnavailable'
  | 'RpcError'
  | 'UnsupportedRuntime'
  /** The chain included the call and refused it; `dispatchError` names why. */
  | 'SetKeysRejected'
  /** The pool refused the transaction (bad signature, no funds, …). */
  | 'TransactionInvalid'
  /** The transaction left the pool without being finalized (dropped, usurped, finality timeout). */
  | 'TransactionLost';

const nonRetryableTypes: ReadonlySet<PolkadotErrorType> = new Set([
  'BadInput',
  'UnsupportedRuntime',
  'SetKeysRejected',
  'TransactionInvalid',
]);

export class PolkadotError extends Error {
  readonly nonRetryable: boolean;

  constructor(
    readonly type: PolkadotErrorType,
    message: string,
    options?: { nonRetryable?: boolean; cause?: unknown; dispatchError?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PolkadotError';
    this.nonRetryable = options?.nonRetryable ?? nonRetryableTypes.has(type);
    this.dispatchError = options?.dispatchError;
  }

  /** `pallet.Error` of a dispatch failure, e.g. "proxy.NotProxy". */
  readonly dispatchError: string | undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** polkadot-js reports JSON-RPC errors as "<code>: <message>". */
export function isMethodNotFound(err: unknown): boolean {
  return /-32601|method not found/i.test(messageOf(err));
}
