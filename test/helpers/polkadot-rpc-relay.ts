/**
 * A WebSocket JSON-RPC relay in front of a Polkadot RPC (the devnet's relay chain) that misbehaves at the wire
 * as the faults of issue 12 need, every other message passing through unchanged:
 *
 * - another chain: `chain_getBlockHash(0)` is answered with another genesis hash (what polkadot-js and the
 *   activities read to tell which chain an RPC serves);
 * - a held transaction: the next `author_submitExtrinsic` / `author_submitAndWatchExtrinsic` goes to the chain,
 *   and from then on nothing the chain says reaches that connection's client: the transaction is in the pool
 *   and lands, and its sender never learns it. A test kills the sender in that moment.
 */
import { WebSocket, WebSocketServer } from 'ws';

const SUBMIT_METHODS = new Set(['author_submitExtrinsic', 'author_submitAndWatchExtrinsic']);

export interface PolkadotRpcRelayOptions {
  /** Answer chain_getBlockHash(0) with this hash: an RPC of another chain. */
  genesisHash?: string;
}

export interface HeldSubmission {
  method: string;
  /** The chain's answer, kept from the client (the transaction hash, or the subscription id). */
  answer: unknown;
}

export interface PolkadotRpcRelay {
  url: string;
  /** Every transaction submitted through the relay (its method), held or not. */
  readonly submitted: string[];
  /** How many connections clients have opened so far. */
  readonly connections: number;
  /** Drops every connection and refuses new ones for `downMs`, then serves again on the same port. */
  restart(downMs: number): Promise<void>;
  /** Holds the next submission's answer and all after it on its connection; resolves once the chain answered it. */
  holdNextSubmission(): Promise<HeldSubmission>;
  /** Holds no further submission (one armed and not yet sent is let through). */
  disarm(): void;
  close(): Promise<void>;
}

interface Request {
  id?: unknown;
  method?: string;
  params?: unknown[];
}

export async function startPolkadotRpcRelay(
  upstreamUrl: string,
  options: PolkadotRpcRelayOptions = {},
): Promise<PolkadotRpcRelay> {
  const submitted: string[] = [];
  let armed: ((held: HeldSubmission) => void) | undefined;
  let connections = 0;
  const listen = async (port: number) => {
    const listening = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => listening.once('listening', () => resolve()));
    listening.on('connection', serve);
    return listening;
  };
  const stop = async (server: WebSocketServer) => {
    for (const client of server.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  function serve(client: WebSocket) {
    connections++;
    const upstream = new WebSocket(upstreamUrl);
    const pending: string[] = [];
    /** Request ids whose answers are rewritten (genesis) or awaited (the held submission), by id. */
    const genesisRequests = new Set<unknown>();
    let holding: { id: unknown; method: string; resolve: (held: HeldSubmission) => void } | undefined;
    let silenced = false;
    upstream.on('open', () => pending.splice(0).forEach((m) => upstream.send(m)));
    upstream.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      const reply = JSON.parse(text) as { id?: unknown; result?: unknown };
      if (holding && reply.id === holding.id) {
        holding.resolve({ method: holding.method, answer: reply.result });
        holding = undefined;
      }
      if (silenced) return;
      if (genesisRequests.delete(reply.id) && options.genesisHash !== undefined) {
        client.send(JSON.stringify({ ...reply, result: options.genesisHash }));
        return;
      }
      client.send(text);
    });
    upstream.on('close', () => client.close());
    upstream.on('error', () => client.terminate());
    client.on('close', () => upstream.terminate());
    client.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      const request = JSON.parse(text) as Request;
      const params = request.params ?? [];
      if (request.method === 'chain_getBlockHash' && (params[0] === 0 || params[0] === '0x0'))
        genesisRequests.add(request.id);
      if (request.method && SUBMIT_METHODS.has(request.method)) {
        submitted.push(request.method);
        if (armed) {
          holding = { id: request.id, method: request.method, resolve: armed };
          armed = undefined;
          silenced = true;
        }
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else pending.push(text);
    });
  }
  let server = await listen(0);
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('unexpected server address');
  return {
    url: `ws://127.0.0.1:${address.port}`,
    submitted,
    get connections() {
      return connections;
    },
    restart: async (downMs) => {
      await stop(server);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await listen(address.port);
    },
    holdNextSubmission: () => new Promise<HeldSubmission>((resolve) => (armed = resolve)),
    disarm: () => (armed = undefined),
    close: () => stop(server),
  };
}
