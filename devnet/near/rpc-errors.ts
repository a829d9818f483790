/**
 * NEAR's JSON-RPC error shapes (verror style), so that near-api-js maps them to its typed errors exactly as
 * it does for a real node. Every hard failure travels as HTTP 200 with an `error` body: near-api-js retries
 * 500/503/408 for a long time and would hide the error.
 */

/** An InvalidTxError value as nearcore serializes it, e.g. `{ InvalidNonce: { ak_nonce, tx_nonce } }` or `"Expired"`. */
export type InvalidTxError = string | Record<string, unknown>;

export interface RpcErrorBody {
  name: 'REQUEST_VALIDATION_ERROR' | 'HANDLER_ERROR' | 'INTERNAL_ERROR';
  cause: { name: string; info: Record<string, unknown> };
  code: number;
  message: string;
  data: unknown;
}

/** Thrown by handlers; the server turns it into the `error` member of the response. */
export class NearRpcError extends Error {
  constructor(readonly body: RpcErrorBody) {
    super(`${body.name}/${body.cause.name}`);
  }
}

export function handlerError(causeName: string, info: Record<string, unknown>, data?: unknown): NearRpcError {
  return new NearRpcError({
    name: 'HANDLER_ERROR',
    cause: { name: causeName, info },
    code: -32000,
    message: 'Server error',
    data: data ?? describe(causeName, info),
  });
}

/** A transaction refused before execution (bad nonce, signature, block hash, key): nearcore's INVALID_TRANSACTION. */
export function invalidTransaction(error: InvalidTxError): NearRpcError {
  const detail = { TxExecutionError: { InvalidTxError: error } };
  return handlerError('INVALID_TRANSACTION', detail, detail);
}

export function methodNotFound(method: string): NearRpcError {
  return new NearRpcError({
    name: 'REQUEST_VALIDATION_ERROR',
    cause: { name: 'METHOD_NOT_FOUND', info: { method_name: method } },
    code: -32601,
    message: 'Method not found',
    data: method,
  });
}

export function parseError(message: string): NearRpcError {
  return new NearRpcError({
    name: 'REQUEST_VALIDATION_ERROR',
    cause: { name: 'PARSE_ERROR', info: { error_message: message } },
    code: -32700,
    message: 'Parse error',
    data: message,
  });
}

export function internalError(message: string): NearRpcError {
  return new NearRpcError({
    name: 'INTERNAL_ERROR',
    cause: { name: 'INTERNAL_ERROR', info: { error_message: message } },
    code: -32000,
    message: 'Server error',
    data: message,
  });
}

function describe(causeName: string, info: Record<string, unknown>): string {
  const details = Object.entries(info)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return details ? `${causeName} (${details})` : causeName;
}
