/**
 * Failures of NEAR chain operations, each with a type the activities turn into an ApplicationFailure type and
 * a flag saying whether a retry could help. Transient RPC trouble is retryable; a wrong owner, a signer that
 * cannot sign for the account or a bad key is not.
 */
export type NearErrorType =
  | 'BadInput'
  | 'RpcUnavailable'
  | 'RpcError'
  | 'WrongOwner'
  | 'SignerNotAuthorized'
  | 'NotStaking'
  | 'StakeFailed'
  | 'ValidatorKeyConflict'
  | 'UnknownAccount'
  | 'KeyNotStaged'
  | 'PrimaryStillRunning'
  | 'TwoKeyHolders'
  /** Whether a node signs cannot be told yet (it neither answers nor is shown stopped): refused, retryably. */
  | 'SignerStateUnknown';

const nonRetryableTypes: ReadonlySet<NearErrorType> = new Set([
  'BadInput',
  'WrongOwner',
  'SignerNotAuthorized',
  'NotStaking',
  'ValidatorKeyConflict',
  'UnknownAccount',
  'KeyNotStaged',
  'PrimaryStillRunning',
  'TwoKeyHolders',
]);

export class NearError extends Error {
  readonly nonRetryable: boolean;

  constructor(
    readonly type: NearErrorType,
    message: string,
    options?: { nonRetryable?: boolean; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NearError';
    this.nonRetryable = options?.nonRetryable ?? nonRetryableTypes.has(type);
  }
}
