/**
 * A simulated Polkadot validator node: its own keystore in its base path, its own WebSocket RPC (the author
 * key RPCs and system_* answered locally, chain RPCs forwarded to the relay chain like a full node would
 * answer them from its database), a sync delay after start, and per-slot BABE/GRANDPA signing with those
 * keystore keys that are active on chain for some validator.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WsProvider } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { bnToU8a, hexToU8a, isHex, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';
import WebSocket from 'ws';
import { holdDatabaseLock } from '../database-lock.js';
import { DUTY_KEY_TYPES, type SlotSignature } from './accounting.js';
import { Keystore } from './keystore.js';
import { type RelayChainName, loadRuntime } from './metadata.js';
import type { NetworkInfo, SlotAnnouncement } from './network.js';
import { RpcError } from './rpc-error.js';
import { RpcServer, type RpcConnection } from './rpc-server.js';
import { type SessionKeyField, sessionKeyLayout, splitSessionKeys } from './session-keys.js';

export interface SimNodeOptions {
  basePath: string;
  /** 0 picks a free port. */
  rpcPort: number;
  networkUrl: string;
  version: string;
  /** The node reports syncing (and does not sign) for this long after start. */
  syncDelayMs: number;
  host?: string;
  log?: (line: string) => void;
}

async function persistentNodeId(basePath: string): Promise<string> {
  const file = path.join(basePath, 'network', 'node_id');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(path.dirname(file), { recursive: true });
  const id = `12D3KooSim${randomBytes(16).toString('hex')}`;
  await writeFile(file, id);
  return id;
}

/** Forwards raw JSON-RPC of one client connection to the chain over its own upstream socket. */
function forwardTo(upstreamUrl: string) {
  const upstreams = new Map<number, WebSocket>();
  return (request: string, conn: RpcConnection, reply: (response: string) => void) => {
    let upstream = upstreams.get(conn.id);
    if (!upstream) {
      const socket = new WebSocket(upstreamUrl);
      upstream = socket;
      upstreams.set(conn.id, socket);
      socket.on('message', (data) => reply((data as Buffer).toString('utf8')));
      socket.on('error', () => socket.terminate());
      conn.onClose(() => {
        upstreams.delete(conn.id);
        socket.terminate();
      });
    }
    const socket = upstream;
    if (socket.readyState === WebSocket.OPEN) socket.send(request);
    else socket.once('open', () => socket.send(request));
  };
}

export class SimNode {
  private server: RpcServer | undefined;
  private network: WsProvider | undefined;
  private releaseDatabase: (() => void) | undefined;
  private readonly startedAt = Date.now();
  private latest: SlotAnnouncement | undefined;
  private startingBlock: number | undefined;
  private readonly pairs = new Map<string, KeyringPair>();
  private readonly signingFor = new Set<string>();
  /** Distinguishes this process's blocks and votes from any other process signing with the same key. */
  private readonly instance = randomBytes(16);
  url = '';

  private constructor(
    private readonly opts: SimNodeOptions,
    private readonly nodeId: string,
    private readonly keystore: Keystore,
    private readonly layout: SessionKeyField[],
    private readonly info: NetworkInfo,
  ) {}

  static async start(opts: SimNodeOptions): Promise<SimNode> {
    await cryptoWaitReady();
    const nodeId = await persistentNodeId(opts.basePath);
    const network = new WsProvider(opts.networkUrl, 1_000);
    await network.isReady;
    const info = await network.send<NetworkInfo>('network_info', []);
    const runtime = loadRuntime(info.chain as RelayChainName);
    const node = new SimNode(opts, nodeId, new Keystore(opts.basePath, info.chain), sessionKeyLayout(runtime), info);
    node.network = network;
    node.releaseDatabase = holdDatabaseLock(path.join(opts.basePath, 'chains', info.chain, 'db', 'full'));
    await node.listen();
    await network.subscribe('network_slot', 'network_subscribeSlots', [], (error, announcement: SlotAnnouncement) => {
      if (!error) void node.onSlot(announcement);
    });
    return node;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  get syncing(): boolean {
    return Date.now() - this.startedAt < this.opts.syncDelayMs || this.latest === undefined;
  }

  private async listen(): Promise<void> {
    const upstreamMethods = await this.relayMethods();
    const server = new RpcServer({
      host: this.opts.host ?? '127.0.0.1',
      port: this.opts.rpcPort,
      methods: this.methods(),
      listed: () => upstreamMethods,
      fallback: forwardTo(this.info.relayRpcUrl),
    });
    this.server = server;
    this.url = await server.listen();
  }

  private async relayMethods(): Promise<string[]> {
    const relay = new WsProvider(this.info.relayRpcUrl, false);
    try {
      await relay.connect();
      await relay.isReady;
      return (await relay.send<{ methods: string[] }>('rpc_methods', [])).methods;
    } finally {
      await relay.disconnect();
    }
  }

  private methods() {
    const hexParam = (value: unknown, what: string): string => {
      if (typeof value !== 'string' || !isHex(value)) throw new RpcError(-32602, `Invalid params: ${what} must be hex`);
      return value;
    };
    return {
      author_rotateKeys: async () => (await this.keystore.rotate(this.layout)).keys,
      author_rotateKeysWithOwner: async ([owner]: unknown[]) =>
        this.keystore.rotate(this.layout, hexToU8a(hexParam(owner, 'owner'))),
      author_hasSessionKeys: ([keys]: unknown[]) => this.keystore.hasSessionKeys(this.layout, hexParam(keys, 'keys')),
      author_hasKey: ([publicKey, keyType]: unknown[]) =>
        this.keystore.has(String(keyType), hexToU8a(hexParam(publicKey, 'publicKey'))),
      author_insertKey: async ([keyType, suri, publicKey]: unknown[]) => {
        const field = this.layout.find((f) => f.keyType === keyType);
        if (!field || typeof suri !== 'string') throw new RpcError(-32602, 'Invalid params: unknown key type');
        try {
          await this.keystore.insert(field.keyType, field.crypto, suri, hexToU8a(hexParam(publicKey, 'publicKey')));
        } catch (error) {
          throw new RpcError(5002, (error as Error).message);
        }
        return null;
      },
      system_name: () => 'Parity Polkadot',
      system_version: () => this.opts.version,
      system_localPeerId: () => this.nodeId,
      system_nodeRoles: () => ['Authority'],
      system_health: () => ({ peers: this.latest ? 8 : 0, isSyncing: this.syncing, shouldHavePeers: true }),
      system_syncState: () => this.syncState(),
    };
  }

  private syncState() {
    const highest = this.latest?.number ?? 0;
    if (!this.syncing) return { startingBlock: this.startingBlock ?? 0, currentBlock: highest, highestBlock: highest };
    const remainingMs = Math.max(0, this.opts.syncDelayMs - (Date.now() - this.startedAt));
    const behind = Math.ceil(remainingMs / this.info.blockTimeMs);
    const startingBlock = this.startingBlock ?? 0;
    return { startingBlock, currentBlock: Math.max(startingBlock, highest - behind), highestBlock: highest };
  }

  private async keyPairFor(keyType: string, publicKey: Uint8Array): Promise<KeyringPair | undefined> {
    const id = `${keyType}:${u8aToHex(publicKey)}`;
    const cached = this.pairs.get(id);
    if (cached) return cached;
    const field = this.layout.find((f) => f.keyType === keyType);
    const pair = field && (await this.keystore.pair(keyType, field.crypto, publicKey));
    if (pair) this.pairs.set(id, pair);
    return pair;
  }

  private async onSlot(announcement: SlotAnnouncement): Promise<void> {
    this.startingBlock ??= announcement.number;
    this.latest = announcement;
    if (this.syncing) return;
    const payload = u8aToHex(blake2AsU8a(u8aConcat(bnToU8a(announcement.slot, { bitLength: 64 }), this.instance)));
    for (const { stash, keys } of announcement.active) {
      const parts = splitSessionKeys(this.layout, hexToU8a(keys));
      for (const keyType of DUTY_KEY_TYPES) {
        const publicKey = parts?.find((p) => p.field.keyType === keyType)?.publicKey;
        const pair = publicKey && (await this.keyPairFor(keyType, publicKey));
        if (!pair || !publicKey) continue;
        if (!this.signingFor.has(`${stash}:${keyType}`)) {
          this.signingFor.add(`${stash}:${keyType}`);
          this.log(`signing for validator ${stash} with ${keyType} key ${u8aToHex(publicKey)}`);
        }
        const signature: SlotSignature = {
          slot: announcement.slot,
          keyType,
          publicKey: u8aToHex(publicKey),
          payload,
          signature: u8aToHex(pair.sign(hexToU8a(payload))),
          nodeId: this.nodeId,
        };
        this.network?.send('network_submitSignature', [signature]).catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    this.releaseDatabase?.();
    await this.network?.disconnect();
    await this.server?.close();
  }
}
