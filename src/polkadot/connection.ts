/**
 * Short-lived connections: every operation opens its own socket and closes it when done, so an activity
 * never leaks a connection and a node restarted between two calls is simply reached again.
 */
import '@polkadot/api-augment';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { PolkadotError, messageOf } from './errors.js';

export interface ConnectionOptions {
  /** How long connecting (and fetching metadata) may take; default 30 s. */
  connectTimeoutMs?: number;
  /** How long one RPC request may take; default 60 s. */
  requestTimeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PolkadotError('RpcUnavailable', `${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A polkadot node serves HTTP and WebSocket JSON-RPC on one port; polkadot-js needs the WebSocket scheme. */
export function webSocketUrl(url: string): string {
  return url.replace(/^http(s?):\/\//i, 'ws$1://');
}

function unavailable(url: string, err: unknown): PolkadotError {
  if (err instanceof PolkadotError) return err;
  return new PolkadotError('RpcUnavailable', `RPC ${url} cannot be reached: ${messageOf(err)}`, { cause: err });
}

/** Raw JSON-RPC over one WebSocket (the node's own methods: author_*, system_*). */
export async function withProvider<T>(
  url: string,
  work: (provider: WsProvider) => Promise<T>,
  options: ConnectionOptions = {},
): Promise<T> {
  const provider = new WsProvider(webSocketUrl(url), false, undefined, options.requestTimeoutMs ?? 60_000);
  try {
    let stopListening: (() => void) | undefined;
    try {
      // Without auto-reconnect a refused connection only emits 'error'; isReady would wait for ever.
      const refused = new Promise<never>((_, reject) => {
        stopListening = provider.on('error', (err: unknown) =>
          reject(err instanceof Error ? err : new Error(messageOf(err))),
        );
      });
      refused.catch(() => undefined);
      await provider.connect();
      await withTimeout(
        Promise.race([provider.isReady, refused]),
        options.connectTimeoutMs ?? 30_000,
        `connecting to ${url}`,
      );
    } catch (err) {
      throw unavailable(url, err);
    } finally {
      stopListening?.();
    }
    return await work(provider);
  } finally {
    await closed(provider, () => provider.disconnect());
  }
}

/** An ApiPromise (metadata, storage, transactions) over one WebSocket, disconnected when `work` ends. */
export async function withApi<T>(
  url: string,
  work: (api: ApiPromise) => Promise<T>,
  options: ConnectionOptions = {},
): Promise<T> {
  const provider = new WsProvider(webSocketUrl(url), false, undefined, options.requestTimeoutMs ?? 60_000);
  let api: ApiPromise | undefined;
  try {
    try {
      await provider.connect();
      const created = ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
      // A late rejection after a timeout must not go unhandled.
      created.catch(() => undefined);
      api = await withTimeout(created, options.connectTimeoutMs ?? 30_000, `connecting to ${url}`);
    } catch (err) {
      throw unavailable(url, err);
    }
    return await work(api);
  } finally {
    await closed(provider, () => (api ?? provider).disconnect());
  }
}

/** Disconnects and waits (briefly) until the socket has closed, so no socket outlives the operation. */
async function closed(provider: WsProvider, disconnect: () => Promise<void>): Promise<void> {
  if (!provider.isConnected) {
    await disconnect().catch(() => undefined);
    return;
  }
  let stop: (() => void) | undefined;
  const gone = new Promise<void>((resolve) => {
    stop = provider.on('disconnected', () => resolve());
  });
  await disconnect().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
  clearTimeout(timer);
  stop?.();
}
