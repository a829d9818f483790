/**
 * The devnet's RPC node over node:http (JSON-RPC 2.0, POST), plus the WebSocket at NODE_SOCKET_PATH through which
 * the simulated neard processes receive blocks and hand in their signatures.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Block, NearChain } from './chain.js';
import { NODE_SOCKET_PATH, type BlockAnnouncement, type NodeToDevnet } from './node-wire.js';
import { NearRpcError, internalError, methodNotFound, parseError } from './rpc-errors.js';
import type { RpcHandler } from './rpc-methods.js';

export interface RpcServerEvents {
  log?: (line: string) => void;
}

export interface RunningRpcServer {
  url: string;
  nodeSocketUrl: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function startRpcServer(
  chain: NearChain,
  methods: Record<string, RpcHandler>,
  opts: { host: string; port: number } & RpcServerEvents,
): Promise<RunningRpcServer> {
  const log = opts.log ?? (() => {});
  const server = createServer((req, res) => {
    void handleHttp(methods, req, res);
  });
  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== NODE_SOCKET_PATH) {
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });
  sockets.on('connection', (ws: WebSocket) => {
    ws.send(JSON.stringify(announcement(chain, chain.head())));
    ws.on('message', (data) => {
      let msg: NodeToDevnet;
      try {
        msg = JSON.parse((data as Buffer).toString('utf8')) as NodeToDevnet;
      } catch {
        return;
      }
      if (msg.type !== 'sign') return;
      const verdict = chain.acceptSignature(msg);
      if (!verdict.accepted) log(`rejected signature of ${msg.accountId} at #${msg.height}: ${verdict.reason}`);
      else if (verdict.doubleSign) {
        log(
          `DOUBLE SIGN by ${msg.accountId} at #${msg.height} with ${msg.publicKey} (nodes ${verdict.doubleSign.nodes.join(', ')})`,
        );
      }
    });
  });
  const onBlock = (block: Block) => {
    const text = JSON.stringify(announcement(chain, block));
    for (const ws of sockets.clients) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  chain.on('block', onBlock);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${hostPart}:${port}`,
    nodeSocketUrl: `ws://${hostPart}:${port}${NODE_SOCKET_PATH}`,
    close: async () => {
      chain.off('block', onBlock);
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function announcement(chain: NearChain, block: Block): BlockAnnouncement {
  const epoch = chain.epochs.byIndex(block.epochIndex) ?? chain.epochs.current();
  return {
    type: 'block',
    chainId: chain.options.chainId,
    protocolVersion: epoch.protocolVersion,
    height: block.height,
    hash: block.hash,
    timestampNanosec: block.timestampNs.toString(),
    epochId: epoch.id,
    epochStartHeight: epoch.startHeight,
    validators: epoch.validators.map((v) => ({ account_id: v.accountId, public_key: v.publicKey })),
  };
}

async function handleHttp(methods: Record<string, RpcHandler>, req: IncomingMessage, res: ServerResponse) {
  if (req.method !== 'POST') {
    res.writeHead(405, { Allow: 'POST' }).end();
    return;
  }
  let id: unknown = null;
  let reply: Record<string, unknown>;
  try {
    const body = await readBody(req);
    let request: { id?: unknown; method?: unknown; params?: unknown };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      throw parseError('request body is not valid JSON');
    }
    id = request.id ?? null;
    const handler = typeof request.method === 'string' ? methods[request.method] : undefined;
    if (!handler) throw methodNotFound(String(request.method));
    reply = { result: await handler(request.params) };
  } catch (err) {
    const rpcError = err instanceof NearRpcError ? err : internalError((err as Error).message);
    reply = { error: rpcError.body };
  }
  const text = JSON.stringify({ jsonrpc: '2.0', id, ...reply });
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw parseError('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
