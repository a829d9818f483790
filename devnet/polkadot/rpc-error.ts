/** A JSON-RPC error with the code and data a Substrate node would answer with. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** `author_*` pool errors (sc-rpc-api author error codes; data is the InvalidTransaction display text). */
export const invalidTransaction = (reason: string) => new RpcError(1010, 'Invalid Transaction', reason);

export const InvalidTransactionReason = {
  badProof: 'Transaction has a bad signature',
  stale: 'Transaction is outdated',
  ancientBirthBlock: 'Transaction has an ancient birth block',
  call: 'Transaction call is not expected',
  payment: 'Inability to pay some fees (e.g. account balance too low)',
} as const;
