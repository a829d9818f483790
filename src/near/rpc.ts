/**
 * JSON-RPC clients for NEAR nodes (near-api-js's JsonRpcProvider) and how their failures are reported: the
 * activity's own retry policy does the retrying, so the client gives up quickly, and any failure to get an
 * answer is a retryable RpcUnavailable naming the endpoint and what was asked.
 */
import { JsonRpcProvider } from 'near-api-js';
import { AccountDoesNotExistError, ContractCodeDoesNotExistError } from 'near-api-js/rpc-errors';
import { NearError } from './errors.js';

export function nearRpc(url: string): JsonRpcProvider {
  return new JsonRpcProvider({ url }, { retries: 2, wait: 200, backoff: 2 });
}

/**
 * Runs one read against an RPC; failures become NearErrors (NearErrors pass through). An account or contract
 * the chain does not have is a wrong input (the pool id, the account id), which no retry fixes.
 */
export async function reading<T>(url: string, what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof NearError) throw err;
    if (err instanceof AccountDoesNotExistError || err instanceof ContractCodeDoesNotExistError) {
      throw new NearError('UnknownAccount', `${what} from ${url}: ${err.message}`, { cause: err });
    }
    throw new NearError('RpcUnavailable', `${what} from ${url} failed: ${messageOf(err)}`, { cause: err });
  }
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? ` (${cause.message})` : '';
    return `${err.message}${detail}`;
  }
  return String(err);
}
