/**
 * JSON-RPC clients for NEAR nodes (near-api-js's JsonRpcProvider) and how their failures are reported: the
 * activity's own retry policy does the retrying, so the client gives up quickly, and any failure to get an
 * answer is a retryable RpcUnavailable naming the endpoint and what was asked.
 */
import { JsonRpcProvider } from 'near-api-js';
import { AccountDoesNotExistError, ContractCodeDoesNotExistError } from 'near-api-js/rpc-errors';
import { NearError } from './errors.js';
import { errorText } from '../api/error-text.js';

export function nearRpc(url: string): JsonRpcProvider {
  return new JsonRpcProvider({ url }, { retries: 2, wait: 200, backoff: 2 });
}

/**
 * Runs one read against an RPC; failures become NearErrors (NearErrors pass through). An account or contract
 * the chain does not have is a wrong input (the pool id, the account id), which no retry fixes.
 */
export async function reading<T>(url: string, what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await readRetryingDroppedConnections(read);
  } catch (err) {
    if (err instanceof NearError) throw err;
    if (err instanceof AccountDoesNotExistError || err instanceof ContractCodeDoesNotExistError) {
      throw new NearError('UnknownAccount', `${what} from ${url}: ${err.message}`, { cause: err });
    }
    throw new NearError('RpcUnavailable', `${what} from ${url} failed: ${messageOf(err)}`, { cause: err });
  }
}

/** The words of a thrown value (never "[object Object]"). */
export const messageOf = errorText;

/** Socket errors of a connection the server closed under a request (a keep-alive race), not a refused one. */
const DROPPED_CONNECTION_CODES = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNRESET', 'EPIPE']);
const READ_ATTEMPTS = 3;

/**
 * A read is safe to repeat, and a connection dropped under it is a routine race with the server's keep-alive
 * timeout, which near-api-js does not retry (it retries only HTTP 500/503/408): try it again at once.
 */
async function readRetryingDroppedConnections<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= READ_ATTEMPTS || !isDroppedConnection(err)) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

function isDroppedConnection(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  // By name: fetch's TypeError may come from another realm (a test VM), failing instanceof.
  return (
    (err as Error | undefined)?.name === 'TypeError' && typeof code === 'string' && DROPPED_CONNECTION_CODES.has(code)
  );
}
