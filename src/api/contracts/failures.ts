/**
 * How an activity failure reaches a workflow: an ApplicationFailure whose type names what went wrong, marked
 * non-retryable ('final') when no retry can fix it. The libraries throw errors of these types; the activities
 * turn them into ApplicationFailures; the workflows read the types.
 */
export type Retry = 'retryable' | 'final';

/** The failure types of a table that no retry fixes. */
export function finalFailures<T extends string>(table: Record<T, Retry>): ReadonlySet<T> {
  return new Set((Object.keys(table) as T[]).filter((type) => table[type] === 'final'));
}

/** An error of one failure table: its `type`, and whether a retry could help. */
export interface TypedFailure<T extends string> extends Error {
  readonly type: T;
  readonly nonRetryable: boolean;
}

export interface TypedFailureClass<T extends string> {
  new (type: T, message: string, options?: { nonRetryable?: boolean; cause?: unknown }): TypedFailure<T>;
  readonly prototype: TypedFailure<T>;
}

/**
 * The error class the libraries throw for one failure table; a retry is judged by the table unless the thrower
 * knows better.
 */
export function failureClass<T extends string>(name: string, table: Record<T, Retry>): TypedFailureClass<T> {
  const final = finalFailures(table);
  return class extends Error {
    readonly nonRetryable: boolean;

    constructor(
      readonly type: T,
      message: string,
      options?: { nonRetryable?: boolean; cause?: unknown },
    ) {
      super(message, options?.cause === undefined ? undefined : { cause: options.cause });
      this.name = name;
      this.nonRetryable = options?.nonRetryable ?? final.has(type);
    }
  };
}

/** A malformed activity input, refused against the activity's contract: a bug in the caller. */
export const BAD_INPUT_FAILURE = 'BadInput';

/** Host activities (SSH, services, files). Messages name the host and the path, never a secret. */
export const hostFailures = {
  BadInput: 'final',
  HostKeyMismatch: 'final',
  AuthFailed: 'final',
  HostUnreachable: 'retryable',
  ConnectionLost: 'retryable',
  CommandTimeout: 'retryable',
  RemoteCommandFailed: 'retryable',
  RemoteFileMissing: 'final',
  ChecksumMismatch: 'final',
  CrossDevice: 'final',
  UnsafeSwapState: 'final',
  ServiceStillActive: 'retryable',
  ServiceStateUnknown: 'retryable',
  NotInInventory: 'final',
  /** A node that must not run while another starts (a sync node beside its validator) is running. */
  OtherNodeRunning: 'final',
} as const satisfies Record<string, Retry>;
export type HostFailureType = keyof typeof hostFailures;

/**
 * NEAR chain operations. Transient RPC trouble is retryable; a wrong owner, a signer that cannot sign for the
 * account or a bad key is not.
 */
export const nearFailures = {
  BadInput: 'final',
  RpcUnavailable: 'retryable',
  RpcError: 'retryable',
  WrongOwner: 'final',
  SignerNotAuthorized: 'final',
  NotStaking: 'final',
  StakeFailed: 'retryable',
  ValidatorKeyConflict: 'final',
  UnknownAccount: 'final',
  KeyNotStaged: 'final',
  PrimaryStillRunning: 'final',
  TwoKeyHolders: 'final',
  /** Whether a node signs cannot be told yet (it neither answers nor is shown stopped): refused, retryably. */
  SignerStateUnknown: 'retryable',
  /** A node or network RPC answers for another chain than the inventory's network (status.chain_id). */
  WrongChain: 'final',
} as const satisfies Record<string, Retry>;
export type NearFailureType = keyof typeof nearFailures;

/**
 * Polkadot chain and node operations. Transient RPC trouble is retryable; a dispatch error (InvalidProof,
 * NotProxy, CallFiltered…), an invalid transaction or bad input is not. A refused setKeys carries the
 * dispatch error's name (`pallet.Error`) in its details.
 */
export const polkadotFailures = {
  BadInput: 'final',
  RpcUnavailable: 'retryable',
  RpcError: 'retryable',
  UnsupportedRuntime: 'final',
  /** The chain included the call and refused it; `dispatchError` names why. */
  SetKeysRejected: 'final',
  /** The pool refused the transaction (bad signature, no funds, …). */
  TransactionInvalid: 'final',
  /** The transaction left the pool without being finalized (dropped, usurped, finality timeout). */
  TransactionLost: 'retryable',
  /** A node or relay RPC answers for another chain than the inventory's (its genesis hash differs). */
  WrongChain: 'final',
} as const satisfies Record<string, Retry>;
export type PolkadotFailureType = keyof typeof polkadotFailures;

/** Resolving a workflow input's targets in the worker's inventory. */
export const inventoryFailures = {
  BadInput: 'final',
  /** The workflow input does not parse against its strategy's schema. */
  InvalidInput: 'final',
  /** The inventory holds no such validator or node (or the worker has no inventory). */
  NotInInventory: 'final',
} as const satisfies Record<string, Retry>;
export type InventoryFailureType = keyof typeof inventoryFailures;

/**
 * Resolving a signer reference. Messages name the reference (the variable, the file), never its value. No
 * retry can fix any of them.
 */
export const signerFailures = {
  SignerMissing: 'final',
  SignerInvalid: 'final',
  SignerAccountMismatch: 'final',
  SignerUnsupported: 'final',
  NotInInventory: 'final',
} as const satisfies Record<string, Retry>;
export type SignerFailureType = keyof typeof signerFailures;
