/**
 * JSON-RPC clients for NEAR nodes (near-api-js's JsonRpcProvider) and how their failures are reported: the
 * activity's own retry policy does the retrying, so the client gives up quickly, and any failure to get an
 * answer is a retryable RpcUnavailable naming the endpoint and what was asked.
 */
import { JsonRpcProvider } from 'near-api-js';
import { AccountDoesNotExistError, ContractCodeDoesNotExistError } from 'near-api-js/rpc-errors';
import { NearError } from './errors.js';
import { errorText } from '../api/error-text.js';
import { SharedReads } from '../shared-reads.js';

export function nearRpc(url: string): JsonRpcProvider {
  return new JsonRpcProvider({ url }, { retries: 2, wait: 200, backoff: 2 });
}

/** Reads of the chain's head (`validators` now, the latest block, `status`, the config): as fresh as a block. */
const HEAD_READ_TTL_MS = 1_000;
/** Reads at a given block or epoch do not change; kept a while for the next look of another run. */
const PINNED_READ_TTL_MS = 10 * 60_000;
/** Methods whose answers are shared; never a transaction, a view call or anything a caller acts on at once. */
const SHARED_METHODS = new Set(['validators', 'block', 'status', 'EXPERIMENTAL_protocol_config']);

const sharedProviders = new Map<string, JsonRpcProvider>();

/**
 * The provider of the chain waits' looks: one per endpoint in this process, whose reads of the chain's state
 * (`validators`, `block`, `status`, the protocol config) are shared by every run the worker serves: a read
 * already in flight is joined, an answer is kept for a block's time (for good when it names a block or an
 * epoch). So an epoch boundary at which a thousand runs of one network look at once costs a few reads of that
 * network's RPC, not a few per run. Steps that act on what they read (staking, the key hand-over) use
 * nearRpc's fresh reads.
 */
export function sharedNearRpc(url: string): JsonRpcProvider {
  let provider = sharedProviders.get(url);
  if (!provider) {
    provider = nearRpc(url);
    const send = provider.sendJsonRpc.bind(provider);
    const reads = new SharedReads();
    provider.sendJsonRpc = (method: string, params: unknown) =>
      SHARED_METHODS.has(method)
        ? reads.get(`${method} ${JSON.stringify(params)}`, pinned(params) ? PINNED_READ_TTL_MS : HEAD_READ_TTL_MS, () =>
            send(method as 'status', params as []),
          )
        : send(method as 'status', params as []);
    sharedProviders.set(url, provider);
  }
  return provider;
}

/** Params that name a block or an epoch (`{ block_id }`, `{ epoch_id }`), not `finality` or the head (`[null]`). */
function pinned(params: unknown): boolean {
  return (
    typeof params === 'object' &&
    params !== null &&
    !Array.isArray(params) &&
    (('block_id' in params && params.block_id != null) || ('epoch_id' in params && params.epoch_id != null))
  );
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
