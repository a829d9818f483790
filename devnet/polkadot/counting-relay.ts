/**
 * A WebSocket relay in front of a Polkadot JSON-RPC that passes every message through and records each
 * request's method and each connection opened, so the bench counts what a set of looks cost at the wire.
 */
import { WebSocket, WebSocketServer } from 'ws';

export interface CountingWsRelay {
  url: string;
  /** Every method passed on, in order (clear it with `calls.length = 0`). */
  calls: string[];
  /** Connections clients opened so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startCountingWsRelay(upstreamUrl: string): Promise<CountingWsRelay> {
  const calls: string[] = [];
  let connections = 0;
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  server.on('connection', (client) => {
    connections++;
    const upstream = new WebSocket(upstreamUrl);
    const pending: string[] = [];
    upstream.on('open', () => pending.splice(0).forEach((m) => upstream.send(m)));
    upstream.on('message', (data) => client.send((data as Buffer).toString('utf8')));
    upstream.on('close', () => client.close());
    upstream.on('error', () => client.terminate());
    client.on('close', () => upstream.terminate());
    client.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      const { method } = JSON.parse(text) as { method?: string };
      if (method) calls.push(method);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else pending.push(text);
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('unexpected server address');
  return {
    url: `ws://127.0.0.1:${address.port}`,
    calls,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
