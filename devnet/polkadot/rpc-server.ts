/**
 * A WebSocket JSON-RPC 2.0 server with Substrate-style subscriptions: `x_subscribeY` answers a subscription
 * id, then notifications `{method: <notification>, params: {subscription, result}}` follow until
 * `x_unsubscribeY` or the socket closes.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { RpcError } from './rpc-error.js';

export type RpcParams = unknown[];

export interface RpcConnection {
  readonly id: number;
  /** Called when the socket closes (for per-connection resources such as upstream proxies). */
  onClose(listener: () => void): void;
}

export type MethodHandler = (params: RpcParams, conn: RpcConnection) => unknown;

export interface SubscriptionHandler {
  /** Method names that open the subscription (aliases included). */
  subscribe: string[];
  unsubscribe: string[];
  notification: string;
  /** Starts the feed; `emit` may be called right away (it is delivered after the subscription id). */
  start(params: RpcParams, emit: (result: unknown) => void, conn: RpcConnection): () => void;
}

export interface RpcServerOptions {
  host?: string;
  port?: number;
  methods: Record<string, MethodHandler>;
  subscriptions?: SubscriptionHandler[];
  /** Extra names listed by `rpc_methods` (polkadot-js only decorates listed methods). */
  listed?: () => string[];
  /** Receives requests for methods not served here (raw JSON text) and may answer with raw JSON text. */
  fallback?: (request: string, conn: RpcConnection, reply: (response: string) => void) => void;
}

interface JsonRpcRequest {
  id?: number | string | null;
  method?: unknown;
  params?: unknown;
}

export class RpcServer {
  private wss: WebSocketServer | undefined;
  private nextConnectionId = 1;

  constructor(private readonly opts: RpcServerOptions) {}

  methodNames(): string[] {
    const subs = (this.opts.subscriptions ?? []).flatMap((s) => [...s.subscribe, ...s.unsubscribe]);
    return [
      ...new Set([...Object.keys(this.opts.methods), ...subs, ...(this.opts.listed?.() ?? []), 'rpc_methods']),
    ].sort();
  }

  private serves(method: string): boolean {
    const subs = this.opts.subscriptions ?? [];
    return (
      method === 'rpc_methods' ||
      method in this.opts.methods ||
      subs.some((s) => s.subscribe.includes(method) || s.unsubscribe.includes(method))
    );
  }

  async listen(): Promise<string> {
    const wss = new WebSocketServer({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port ?? 0 });
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    wss.on('connection', (socket) => this.serve(socket));
    const { address, port } = wss.address() as AddressInfo;
    return `ws://${address}:${port}`;
  }

  async close(): Promise<void> {
    const wss = this.wss;
    if (!wss) return;
    this.wss = undefined;
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  private serve(socket: WebSocket): void {
    const closeListeners: (() => void)[] = [];
    const conn: RpcConnection = { id: this.nextConnectionId++, onClose: (l) => closeListeners.push(l) };
    const active = new Map<string, () => void>();
    const sendRaw = (text: string) => {
      if (socket.readyState === socket.OPEN) socket.send(text);
    };
    const send = (message: object) => sendRaw(JSON.stringify({ jsonrpc: '2.0', ...message }));
    socket.on('close', () => {
      for (const stop of active.values()) stop();
      active.clear();
      for (const l of closeListeners) l();
    });
    socket.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      let request: JsonRpcRequest;
      try {
        request = JSON.parse(text) as JsonRpcRequest;
      } catch {
        send({ id: null, error: { code: -32700, message: 'Parse error' } });
        return;
      }
      const method = typeof request.method === 'string' ? request.method : '';
      if (this.opts.fallback && !this.serves(method)) this.opts.fallback(text, conn, sendRaw);
      else void this.handle(request, conn, send, active);
    });
  }

  private async handle(
    request: JsonRpcRequest,
    conn: RpcConnection,
    send: (message: object) => void,
    active: Map<string, () => void>,
  ): Promise<void> {
    const id = request.id ?? null;
    const method = typeof request.method === 'string' ? request.method : '';
    const params = Array.isArray(request.params) ? (request.params as unknown[]) : [];
    try {
      if (method === 'rpc_methods') {
        send({ id, result: { version: 1, methods: this.methodNames() } });
        return;
      }
      const sub = (this.opts.subscriptions ?? []).find((s) => s.subscribe.includes(method));
      if (sub) {
        const subscription = randomBytes(8).toString('hex');
        const queued: unknown[] = [];
        let ready = false;
        const emit = (result: unknown) => {
          if (!active.has(subscription) && ready) return;
          if (!ready) queued.push(result);
          else send({ method: sub.notification, params: { subscription, result } });
        };
        const stop = sub.start(params, emit, conn);
        active.set(subscription, stop);
        send({ id, result: subscription });
        ready = true;
        for (const result of queued) send({ method: sub.notification, params: { subscription, result } });
        return;
      }
      const unsub = (this.opts.subscriptions ?? []).find((s) => s.unsubscribe.includes(method));
      if (unsub) {
        const stop = active.get(String(params[0]));
        active.delete(String(params[0]));
        stop?.();
        send({ id, result: stop !== undefined });
        return;
      }
      const handler = this.opts.methods[method];
      if (!handler) {
        send({ id, error: { code: -32601, message: 'Method not found' } });
        return;
      }
      const result = await handler(params, conn);
      send({ id, result: result === undefined ? null : result });
    } catch (error) {
      if (error instanceof RpcError) {
        send({ id, error: { code: error.code, message: error.message, ...(error.data ? { data: error.data } : {}) } });
      } else {
        send({ id, error: { code: -32603, message: (error as Error).message } });
      }
    }
  }
}
