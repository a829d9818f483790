/**
 * The files of a simulated neard home, in neard's formats where neard has one:
 * - config.json: `rpc.addr` ("host:port") like nearcore's, plus a `simulator` section (the devnet's RPC URL, the
 *   sync delay and the time one DB migration step takes);
 * - genesis.json: chain_id;
 * - node_key.json and validator_key.json: nearcore's KeyFile {account_id, public_key, secret_key}, mode 0600;
 * - data/: the node's database. Here a small marker (data/DB_MARKER.json) with the database version and head
 *   height, so that swapping data folders and migrating databases behave as they do with neard.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KeyPair, type KeyPairString } from 'near-api-js';

export interface NodeConfig {
  rpc: { addr: string };
  genesis_file: string;
  node_key_file: string;
  validator_key_file: string;
  store: { path: string };
  simulator: {
    /** The devnet RPC URL; the node follows blocks and signs over this host's NODE_SOCKET_PATH. */
    network_rpc: string;
    /** How long after start the node reports syncing=true. */
    sync_delay_ms: number;
    /** How long each database migration step (version v -> v+1) takes. */
    migration_step_ms: number;
  };
}

export interface KeyFile {
  account_id: string;
  public_key: string;
  secret_key: string;
}

export interface DbMarker {
  db_version: number;
  head_height: number;
  /** "migrating" while a migration runs: a process killed then leaves the database unusable. */
  state: 'ok' | 'migrating';
  migrating_to?: number;
  /** The last height this database's node signed: it never signs at or below it again. */
  last_signed_height?: number;
}

export const DB_MARKER_FILE = 'DB_MARKER.json';

export interface InitNodeHomeOptions {
  home: string;
  chainId: string;
  networkRpcUrl: string;
  /** "host:port" for the node's own RPC. */
  rpcAddr: string;
  syncDelayMs?: number;
  migrationStepMs?: number;
  /** Write a validator key file for this account. The key pair comes from the caller (never generated here). */
  validator?: { accountId: string; keyPair: KeyPair };
  /** Create data/ with a database of this version (as if an older or newer neard had run here). */
  dbVersion?: number;
}

/** Like `neard init`: config.json, genesis.json, node_key.json, optionally validator_key.json and data/. */
export function initNodeHome(opts: InitNodeHomeOptions): void {
  mkdirSync(opts.home, { recursive: true });
  const config: NodeConfig = {
    rpc: { addr: opts.rpcAddr },
    genesis_file: 'genesis.json',
    node_key_file: 'node_key.json',
    validator_key_file: 'validator_key.json',
    store: { path: 'data' },
    simulator: {
      network_rpc: opts.networkRpcUrl,
      sync_delay_ms: opts.syncDelayMs ?? 3_000,
      migration_step_ms: opts.migrationStepMs ?? 1_000,
    },
  };
  writeJson(path.join(opts.home, 'config.json'), config);
  writeJson(path.join(opts.home, 'genesis.json'), { chain_id: opts.chainId });
  writeKeyFile(path.join(opts.home, 'node_key.json'), '', KeyPair.fromRandom('ed25519'));
  if (opts.validator) writeValidatorKey(opts.home, opts.validator.accountId, opts.validator.keyPair);
  if (opts.dbVersion !== undefined) {
    writeDbMarker(path.join(opts.home, 'data'), { db_version: opts.dbVersion, head_height: 0, state: 'ok' });
  }
}

export function readConfig(home: string): NodeConfig {
  return JSON.parse(readFileSync(path.join(home, 'config.json'), 'utf8')) as NodeConfig;
}

export function readGenesisChainId(home: string, config: NodeConfig): string {
  const genesis = JSON.parse(readFileSync(path.join(home, config.genesis_file), 'utf8')) as { chain_id?: unknown };
  if (typeof genesis.chain_id !== 'string') throw new Error(`${config.genesis_file}: chain_id is missing`);
  return genesis.chain_id;
}

export function writeValidatorKey(home: string, accountId: string, keyPair: KeyPair, config?: NodeConfig): void {
  writeKeyFile(validatorKeyPath(home, config), accountId, keyPair);
}

export function removeValidatorKey(home: string, config?: NodeConfig): void {
  rmSync(validatorKeyPath(home, config), { force: true });
}

export function validatorKeyPath(home: string, config?: NodeConfig): string {
  return path.join(home, config?.validator_key_file ?? 'validator_key.json');
}

export function dataDir(home: string, config?: NodeConfig): string {
  return path.join(home, config?.store.path ?? 'data');
}

/** Reads a KeyFile; `private_key` is accepted as an alias of `secret_key`, as nearcore does. */
export function readKeyFile(file: string): { accountId: string; keyPair: KeyPair } {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeyFile> & { private_key?: string };
  if (raw.secret_key && raw.private_key) throw new Error(`${file}: both secret_key and private_key are set`);
  const secret = raw.secret_key ?? raw.private_key;
  if (typeof secret !== 'string' || typeof raw.public_key !== 'string') {
    throw new Error(`${file}: public_key and secret_key are required`);
  }
  let keyPair: KeyPair;
  try {
    keyPair = KeyPair.fromString(secret as KeyPairString);
  } catch {
    // The parser's message may quote the secret; say only which file is wrong.
    throw new Error(`${file}: secret_key is not a valid key`);
  }
  if (keyPair.getPublicKey().toString() !== raw.public_key) {
    throw new Error(`${file}: public_key does not match the secret key`);
  }
  return { accountId: raw.account_id ?? '', keyPair };
}

export function readDbMarker(dataPath: string): DbMarker | undefined {
  const file = path.join(dataPath, DB_MARKER_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as DbMarker;
}

export function writeDbMarker(dataPath: string, marker: DbMarker): void {
  mkdirSync(dataPath, { recursive: true });
  writeJson(path.join(dataPath, DB_MARKER_FILE), marker);
}

function writeKeyFile(file: string, accountId: string, keyPair: KeyPair): void {
  const content: KeyFile = {
    account_id: accountId,
    public_key: keyPair.getPublicKey().toString(),
    secret_key: keyPair.toString(),
  };
  writeJson(file, content, 0o600);
}

/** Write-then-rename, so a reader (a SIGHUP reload, a crash) never sees half a file. */
function writeJson(file: string, value: unknown, mode = 0o644): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}
