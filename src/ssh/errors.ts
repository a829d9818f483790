/**
 * Failures of host operations, each with a type the activities turn into an ApplicationFailure type and a
 * flag saying whether a retry could help. Messages name the host and the path, never a secret.
 */
export type HostErrorType =
  | 'BadInput'
  | 'HostKeyMismatch'
  | 'AuthFailed'
  | 'HostUnreachable'
  | 'ConnectionLost'
  | 'CommandTimeout'
  | 'RemoteCommandFailed'
  | 'RemoteFileMissing'
  | 'ChecksumMismatch'
  | 'CrossDevice'
  | 'UnsafeSwapState'
  | 'ServiceStillActive'
  | 'ServiceStateUnknown'
  | 'NotInInventory';

const nonRetryableTypes: ReadonlySet<HostErrorType> = new Set([
  'BadInput',
  'HostKeyMismatch',
  'AuthFailed',
  'RemoteFileMissing',
  'ChecksumMismatch',
  'CrossDevice',
  'UnsafeSwapState',
  'NotInInventory',
]);

export class HostError extends Error {
  readonly nonRetryable: boolean;

  constructor(
    readonly type: HostErrorType,
    message: string,
    options?: { nonRetryable?: boolean; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HostError';
    this.nonRetryable = options?.nonRetryable ?? nonRetryableTypes.has(type);
  }
}
