/**
 * A WebSocket JSON-RPC relay in front of a node that answers one method with "-32601 Method not found" and
 * leaves it out of `rpc_methods`, as a node without that method does (an older node without
 * author_rotateKeysWithOwner, a real network without the devnet's own methods); every other message passes
 * through unchanged.
 */
import { WebSocket, WebSocketServer } from 'ws';

export interface RpcFilterProxy {
  url: string;
  /** How many requests for the refused method it answered. */
  readonly refused: number;
  close(): Promise<void>;
}

export async function startRotateKeysWithOwnerRefusingProxy(upstreamUrl: string): Promise<RpcFilterProxy> {
  return startRpcFilterProxy(upstreamUrl, 'author_rotateKeysWithOwner');
}

export async function startRpcFilterProxy(upstreamUrl: string, refusedMethod: string): Promise<RpcFilterProxy> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  let refused = 0;
  server.on('connection', (client) => {
    const upstream = new WebSocket(upstreamUrl);
    const pending: string[] = [];
    upstream.on('open', () => pending.splice(0).forEach((m) => upstream.send(m)));
    const methodListRequests = new Set<unknown>();
    upstream.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      const reply = JSON.parse(text) as { id?: unknown; result?: { methods?: string[] } };
      if (!methodListRequests.delete(reply.id) || !Array.isArray(reply.result?.methods)) return client.send(text);
      reply.result.methods = reply.result.methods.filter((m) => m !== refusedMethod);
      client.send(JSON.stringify(reply));
    });
    upstream.on('close', () => client.close());
    upstream.on('error', () => client.terminate());
    client.on('close', () => upstream.terminate());
    client.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      const request = JSON.parse(text) as { id?: number; method?: string };
      if (request.method === 'rpc_methods') methodListRequests.add(request.id);
      if (request.method === refusedMethod) {
        refused++;
        client.send(
          JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32601, message: 'Method not found' } }),
        );
      } else if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else pending.push(text);
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('unexpected server address');
  return {
    url: `ws://127.0.0.1:${address.port}`,
    get refused() {
      return refused;
    },
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
