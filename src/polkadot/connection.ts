/**
 * Connections to Polkadot RPCs, of two kinds:
 *
 * - Short-lived (withApi, withProvider): the operation opens its own socket and closes it when done. For what
 *   must see one node as it is now (its keystore: author_*; its health) and for signing and submitting.
 * - Shared (withSharedApi, withSharedProvider): one socket and one metadata download per endpoint URL in this
 *   process, used by every activity of the worker for reads of the chain's state, so a session boundary at
 *   which hundreds of validators of one network look at once opens one socket, not hundreds. A socket that
 *   drops under reads in flight (a node restarted) is reconnected for them; one that drops while unused, or
 *   fails, is dropped, and the next use opens a fresh one; one nobody used for SHARED_IDLE_CLOSE_MS is closed,
 *   and closeSharedConnections() closes them all at worker shutdown.
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

/** A shared connection nobody used for this long is closed (the next use opens it again). */
export const SHARED_IDLE_CLOSE_MS = 10 * 60_000;
/** How soon a dropped shared socket is tried again (polkadot-js reconnects by itself). */
const SHARED_RECONNECT_MS = 1_000;

interface SharedConnection {
  provider: WsProvider;
  ready: Promise<ApiPromise>;
  users: number;
  idle?: NodeJS.Timeout;
}

const sharedConnections = new Map<string, SharedConnection>();

/** Reads of the chain's state over the endpoint's shared connection (see the top of this file). */
export async function withSharedApi<T>(
  url: string,
  work: (api: ApiPromise) => Promise<T>,
  options: ConnectionOptions = {},
): Promise<T> {
  const shared = sharedConnection(url, options);
  shared.users++;
  clearTimeout(shared.idle);
  try {
    let api: ApiPromise;
    try {
      api = await shared.ready;
      if (!shared.provider.isConnected) await reconnected(shared.provider, options.connectTimeoutMs ?? 30_000, url);
    } catch (err) {
      // Not kept: the next use opens a fresh connection.
      void dropShared(url, shared);
      throw unavailable(url, err);
    }
    return await work(api);
  } finally {
    shared.users--;
    if (shared.users === 0 && sharedConnections.get(url) === shared) {
      shared.idle = setTimeout(() => void dropShared(url, shared), SHARED_IDLE_CLOSE_MS);
      shared.idle.unref();
    }
  }
}

/** Raw JSON-RPC (no metadata needed) over the endpoint's shared connection. */
export function withSharedProvider<T>(
  url: string,
  work: (provider: WsProvider) => Promise<T>,
  options: ConnectionOptions = {},
): Promise<T> {
  return withSharedApi(url, () => work(sharedConnections.get(url)!.provider), options);
}

/** Closes every shared connection (worker shutdown; tests). */
export async function closeSharedConnections(): Promise<void> {
  await Promise.all([...sharedConnections].map(([url, shared]) => dropShared(url, shared)));
}

/** How many shared connections are open in this process (one per endpoint URL). */
export function sharedConnectionCount(): number {
  return sharedConnections.size;
}

function sharedConnection(url: string, options: ConnectionOptions): SharedConnection {
  const held = sharedConnections.get(url);
  if (held) return held;
  const provider = new WsProvider(
    webSocketUrl(url),
    SHARED_RECONNECT_MS,
    undefined,
    options.requestTimeoutMs ?? 60_000,
  );
  // With auto-reconnect a refused first connection only emits 'error' and tries again: fail the first use instead.
  let stopListening: (() => void) | undefined;
  const refused = new Promise<never>((_, reject) => {
    stopListening = provider.on('error', (err: unknown) =>
      reject(err instanceof Error ? err : new Error(messageOf(err))),
    );
  });
  refused.catch(() => undefined);
  const created = ApiPromise.create({ provider, noInitWarn: true });
  created.catch(() => undefined);
  const ready = withTimeout(
    Promise.race([created, refused]),
    options.connectTimeoutMs ?? 30_000,
    `connecting to ${url}`,
  ).finally(() => stopListening?.());
  ready.catch(() => undefined);
  const shared: SharedConnection = { provider, ready, users: 0 };
  sharedConnections.set(url, shared);
  // Reconnecting is for the reads in flight; with none, the next use opens a fresh connection instead.
  provider.on('disconnected', () => {
    if (shared.users === 0) void dropShared(url, shared);
  });
  return shared;
}

/** A shared socket that dropped is being reconnected: wait for it, as long as a first connection may take. */
async function reconnected(provider: WsProvider, timeoutMs: number, url: string): Promise<void> {
  let stop: (() => void) | undefined;
  const connected = new Promise<void>((resolve) => {
    stop = provider.on('connected', () => resolve());
  });
  try {
    if (provider.isConnected) return;
    await withTimeout(connected, timeoutMs, `reconnecting to ${url}`);
  } finally {
    stop?.();
  }
}

async function dropShared(url: string, shared: SharedConnection): Promise<void> {
  clearTimeout(shared.idle);
  if (sharedConnections.get(url) === shared) sharedConnections.delete(url);
  const api = await shared.ready.catch(() => undefined);
  await closed(shared.provider, () => (api ?? shared.provider).disconnect());
}
