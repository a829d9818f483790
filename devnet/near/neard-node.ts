/**
 * One simulated neard process: opens (and if needed migrates) its database, serves its own RPC `status` and
 * forwards the other methods to the network, follows the devnet's blocks, reports syncing for a configured
 * time after start, and signs blocks and chunks only while synced and while its validator key is the current
 * key of its account. SIGHUP reloads validator_key.json (nearcore's validator key hot swap).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { KeyPair } from 'near-api-js';
import { baseEncode } from 'near-api-js';
import WebSocket from 'ws';
import { holdDatabaseLock } from '../database-lock.js';
import { base58Sha256 } from './hashing.js';
import { openDatabase } from './node-db.js';
import {
  dataDir,
  readConfig,
  readGenesisChainId,
  readKeyFile,
  validatorKeyPath,
  writeDbMarker,
  type DbMarker,
  type NodeConfig,
} from './node-home.js';
import {
  NODE_SOCKET_PATH,
  blockApprovalPayload,
  chunkPayload,
  type BlockAnnouncement,
  type SignMessage,
} from './node-wire.js';

export interface NeardBinary {
  version: string;
  build: string;
  protocolVersion: number;
  dbVersion: number;
}

export type LogLevel = 'INFO' | 'WARN' | 'ERROR';
export type Logger = (level: LogLevel, target: string, line: string) => void;

interface ValidatorSigner {
  accountId: string;
  publicKey: string;
  keyPair: KeyPair;
}

const RECONNECT_MS = 500;
const STATS_PERIOD_MS = 1_000;

export function neardBanner(binary: NeardBinary): string {
  return `neard (release ${binary.version}) (build ${binary.build}) (rustc 1.86.0) (protocol ${binary.protocolVersion}) (db ${binary.dbVersion})`;
}

export class SimulatedNeard {
  private config!: NodeConfig;
  private chainId = '';
  private db!: DbMarker;
  private nodeKey!: KeyPair;
  private signer: ValidatorSigner | undefined;
  private readonly instanceId = randomUUID();
  private readonly startedAtMs = Date.now();
  /** Syncing starts once the database is open (after any migration). */
  private syncClockMs = Date.now();
  private server: Server | undefined;
  private socket: WebSocket | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private networkHead: BlockAnnouncement | undefined;
  private syncStartHeight = 0;
  private syncedAtMs: number | undefined;
  private signingState = '';
  private problem = '';
  private releaseDatabase: (() => void) | undefined;

  constructor(
    private readonly home: string,
    private readonly binary: NeardBinary,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.log('INFO', 'neard', `${neardBanner(this.binary)} home=${this.home}`);
    this.config = readConfig(this.home);
    this.chainId = readGenesisChainId(this.home, this.config);
    this.db = await openDatabase(
      dataDir(this.home, this.config),
      this.binary.dbVersion,
      this.config.simulator.migration_step_ms,
      this.log,
    );
    this.releaseDatabase = holdDatabaseLock(dataDir(this.home, this.config));
    this.syncStartHeight = this.db.head_height;
    this.syncClockMs = Date.now();
    this.nodeKey = readKeyFile(`${this.home}/${this.config.node_key_file}`).keyPair;
    this.loadValidatorKey();
    await this.startRpc();
    this.connect();
    this.statsTimer = setInterval(() => this.reportStats(), STATS_PERIOD_MS);
  }

  /** SIGHUP: re-read validator_key.json; a missing file makes the node a non-validator. */
  reloadValidatorKey(): void {
    this.log('INFO', 'neard', 'Received SIGHUP: reloading the validator key');
    this.loadValidatorKey();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.statsTimer);
    clearTimeout(this.reconnectTimer);
    this.socket?.terminate();
    this.persistHead();
    this.releaseDatabase?.();
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }
  }

  private loadValidatorKey(): void {
    const file = validatorKeyPath(this.home, this.config);
    if (!existsSync(file)) {
      if (this.signer) this.log('INFO', 'neard', 'Validator key removed: the node no longer validates');
      else this.log('INFO', 'neard', 'No validator key: running as a non-validator node');
      this.signer = undefined;
      return;
    }
    try {
      const { accountId, keyPair } = readKeyFile(file);
      this.signer = { accountId, publicKey: keyPair.getPublicKey().toString(), keyPair };
      this.log('INFO', 'neard', `Validator key loaded: account_id=${accountId} public_key=${this.signer.publicKey}`);
    } catch (err) {
      // Keep the previous key, as a failed config reload does in nearcore.
      this.log('ERROR', 'neard', `Failed to load the validator key: ${(err as Error).message}`);
    }
  }

  private syncing(): boolean {
    return this.syncedAtMs === undefined;
  }

  private headHeight(): number {
    const head = this.networkHead;
    if (!head) return this.db.head_height;
    if (!this.syncing()) return head.height;
    const progress = Math.min(1, (Date.now() - this.syncClockMs) / Math.max(1, this.config.simulator.sync_delay_ms));
    return Math.floor(this.syncStartHeight + (head.height - this.syncStartHeight) * progress);
  }

  private connect(): void {
    if (this.stopping) return;
    const url = new URL(NODE_SOCKET_PATH, this.config.simulator.network_rpc);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    this.socket = ws;
    ws.on('message', (data) => {
      let block: BlockAnnouncement;
      try {
        block = JSON.parse((data as Buffer).toString('utf8')) as BlockAnnouncement;
      } catch {
        return;
      }
      this.onBlock(block);
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.stopping) return;
      this.reconnectTimer = setTimeout(() => this.connect(), RECONNECT_MS);
    });
  }

  private onBlock(block: BlockAnnouncement): void {
    if (block.type !== 'block') return;
    this.networkHead = block;
    if (this.syncing()) this.checkSynced(block);
    if (!this.syncing()) this.maybeSign(block);
  }

  private checkSynced(block: BlockAnnouncement): void {
    if (block.chainId !== this.chainId) {
      this.reportOnce(
        `The network's chain id ${block.chainId} differs from genesis.json's ${this.chainId}; not syncing`,
      );
      return;
    }
    if (block.protocolVersion > this.binary.protocolVersion) {
      this.reportOnce(
        `The network runs protocol version ${block.protocolVersion} but this binary supports up to ` +
          `${this.binary.protocolVersion}; upgrade neard`,
      );
      return;
    }
    if (Date.now() - this.syncClockMs < this.config.simulator.sync_delay_ms) return;
    this.syncedAtMs = Date.now();
    this.log('INFO', 'sync', `Sync done: head #${block.height} ${block.hash}`);
  }

  private reportOnce(problem: string): void {
    if (this.problem === problem) return;
    this.problem = problem;
    this.log('ERROR', 'client', problem);
  }

  private maybeSign(block: BlockAnnouncement): void {
    const signer = this.signer;
    const me = signer && block.validators.find((v) => v.account_id === signer.accountId);
    const active = signer !== undefined && me?.public_key === signer.publicKey;
    this.noteSigningState(
      !signer
        ? 'not a validator'
        : active
          ? `validating as ${signer.accountId} with ${signer.publicKey}`
          : `key ${signer.publicKey} is not the current validator key of ${signer.accountId}; not signing`,
    );
    const lastSigned = this.db.last_signed_height ?? 0;
    if (!active || block.height <= lastSigned || this.socket?.readyState !== WebSocket.OPEN) return;
    // Recorded before the signature leaves, so that a restarted node never signs a height twice (as nearcore
    // keeps its largest approval height in the database).
    this.db = { ...this.db, last_signed_height: block.height };
    this.persistHead();
    const message: SignMessage = {
      type: 'sign',
      height: block.height,
      blockHash: block.hash,
      accountId: signer.accountId,
      publicKey: signer.publicKey,
      blockSignature: baseEncode(signer.keyPair.sign(blockApprovalPayload(block.hash)).signature),
      chunkSignature: baseEncode(signer.keyPair.sign(chunkPayload(block.hash)).signature),
      protocolVersion: this.binary.protocolVersion,
      instanceId: this.instanceId,
      nodePublicKey: this.nodeKey.getPublicKey().toString(),
    };
    this.socket.send(JSON.stringify(message));
  }

  private noteSigningState(state: string): void {
    if (state === this.signingState) return;
    this.signingState = state;
    this.log('INFO', 'client', state.charAt(0).toUpperCase() + state.slice(1));
  }

  /** nearcore's periodic stats line, and the head height written to the database marker. */
  private reportStats(): void {
    const head = this.networkHead;
    if (!head) this.log('INFO', 'stats', `#${this.headHeight()} Waiting for peers`);
    else if (this.syncing()) {
      const span = Math.max(1, head.height - this.syncStartHeight);
      const pct = Math.min(99, Math.floor(((this.headHeight() - this.syncStartHeight) / span) * 100));
      this.log('INFO', 'stats', `#${this.headHeight()} Downloading blocks ${pct}%`);
    } else {
      const validating = this.signingState.startsWith('validating') ? 'V' : '-';
      this.log('INFO', 'stats', `#${head.height} ${head.hash} ${validating}/${head.validators.length} validators`);
    }
    this.persistHead();
  }

  private persistHead(): void {
    if (!this.db) return;
    this.db = { ...this.db, head_height: this.headHeight() };
    writeDbMarker(dataDir(this.home, this.config), this.db);
  }

  private async startRpc(): Promise<void> {
    const { host, port } = parseAddr(this.config.rpc.addr);
    const server = createServer((req, res) => void this.handleRpc(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.log('INFO', 'jsonrpc', `Starting http server at addr=${this.config.rpc.addr}`);
  }

  private async handleRpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    let request: { id?: unknown; method?: unknown };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      request = {};
    }
    let text: string;
    if (request.method === 'status') {
      text = JSON.stringify({ jsonrpc: '2.0', id: request.id ?? null, result: this.status() });
    } else {
      try {
        const upstream = await fetch(this.config.simulator.network_rpc, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
        text = await upstream.text();
      } catch (err) {
        const message = `network unreachable: ${(err as Error).message}`;
        const error = {
          name: 'INTERNAL_ERROR',
          cause: { name: 'INTERNAL_ERROR', info: { error_message: message } },
          code: -32000,
          message: 'Server error',
          data: message,
        };
        text = JSON.stringify({ jsonrpc: '2.0', id: request.id ?? null, error });
      }
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(text);
  }

  private status() {
    const head = this.networkHead;
    const height = this.headHeight();
    const blockTime = head ? nsToRfc3339(head.timestampNanosec) : new Date(this.startedAtMs).toISOString();
    const hash = head && !this.syncing() ? head.hash : base58Sha256('local head', String(height));
    return {
      chain_id: this.chainId,
      genesis_hash: base58Sha256('genesis', this.chainId),
      latest_protocol_version: this.binary.protocolVersion,
      protocol_version: head?.protocolVersion ?? this.binary.protocolVersion,
      node_key: null,
      node_public_key: this.nodeKey.getPublicKey().toString(),
      rpc_addr: this.config.rpc.addr,
      uptime_sec: Math.floor((Date.now() - this.startedAtMs) / 1000),
      validator_account_id: this.signer?.accountId ?? null,
      validator_public_key: this.signer?.publicKey ?? null,
      validators: (head?.validators ?? []).map((v) => ({ account_id: v.account_id, is_slashed: false })),
      version: {
        version: this.binary.version,
        build: this.binary.build,
        commit: this.binary.build,
        rustc_version: '1.86.0',
      },
      sync_info: {
        latest_block_hash: hash,
        latest_block_height: height,
        latest_block_time: blockTime,
        latest_state_root: base58Sha256('state', hash),
        syncing: this.syncing(),
        earliest_block_hash: hash,
        earliest_block_height: Math.min(height, this.syncStartHeight),
        earliest_block_time: blockTime,
        epoch_id: head?.epochId ?? null,
        epoch_start_height: head?.epochStartHeight ?? null,
      },
    };
  }
}

function parseAddr(addr: string): { host: string; port: number } {
  const match = /^\[?([^\]]*)\]?:(\d+)$/.exec(addr);
  if (!match) throw new Error(`rpc.addr must be host:port, got ${JSON.stringify(addr)}`);
  return { host: match[1]!, port: Number(match[2]) };
}

function nsToRfc3339(ns: string): string {
  const value = BigInt(ns);
  return new Date(Number(value / 1_000_000n)).toISOString();
}
