/**
 * One call that stands up a NEAR testbed for activity and end-to-end tests, and one that tears it all down:
 * the local NEAR network (devnet/near), one real OpenSSH sshd per simulated machine with the testbed's
 * `commands` service manager, simulated neard "binaries" (an old and a new release, with their sha256) staged
 * on every machine, node homes made as `neard init` would, and service definitions so the host activities'
 * startService/stopService run the simulated neard.
 *
 *   const bed = await startNearTestbed({ epochLength: 10, blockTimeMs: 100 });
 *   // defaults: hosts val-a and val-b; validator pool.poolv1.near (pool, owner owner.near) whose key is on
 *   // val-a's node; val-b's node is a fresh home with no validator key; both run the old binary, not started.
 *   const a = bed.nodes['val-a']!;          // { ref: NearNodeRef, host, service, home, rpcUrl, binary }
 *   await hostActivities.startService({ host: a.ref.host, service: a.ref.service });
 *   bed.binaries.new.staged('val-b');       // where the new binary waits on val-b (source of installBinary)
 *   bed.binaries.new.sha256;                // its checksum
 *   bed.binaries.new.release('val-b');     // { staged, sha256, version } as the workflow inputs take it
 *   bed.validators['pool.poolv1.near']!.signer;   // SignerSpec of the owner (a near-cli credentials file)
 *   bed.validators['pool.poolv1.near']!.stakingInput;   // { type: 'pool', ownerId, signer } for the inputs
 *   bed.counters('pool.poolv1.near');       // missed blocks, double signs
 *   createActivities({ connections: bed.connections });   // the worker's activities against the testbed
 *   await bed.stop();                       // services, sshd, devnet, connections and temp folders
 *
 * The rest of the validator set: `otherValidators: [{ accountId: 'other-1.near', stake: 1900n * ONE_NEAR }]` are
 * run by the devnet itself and sign every height, so the validators under test produce only their share of the
 * heights (default: none, and the validators under test produce every height between them).
 *
 * Other layouts: `validators: [{ accountId: 'direct.near', staking: 'direct' }]` for a direct staker;
 * `nodes: [{ id, host, service?, validator?, binary?: 'old' | 'new', dbVersion?, start? }]` to place nodes
 * (several on one host need different services); `binaries: { old: { dbVersion: 41 }, new: { ... } }`.
 *
 * `sshUser: 'vup-test'`: a root test process logs in to the machines as that unprivileged account instead of
 * root (devnet/hosts/sshd.ts), which then owns everything the testbed wrote there (node homes, keys, staged
 * binaries, service definitions), so the services started over SSH run as it, as docs/host-access.md sets up
 * a host. Ignored when the tests do not run as root (they log in as themselves).
 *
 * Machines are folders on this computer (`bed.hosts[name].root`), so tests may also look at files directly.
 * The testbed generates the keys it needs in the test process; only the activities under test must keep
 * secrets on the hosts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyPair } from 'near-api-js';
import type { NearNodeRef } from '../../src/api/contracts/near.js';
import type { SignerSpec } from '../../src/config/inventory.js';
import {
  ONE_NEAR,
  initNodeHome,
  startNearDevnet,
  writeNeardBinary,
  type KickoutConfig,
  type NearDevnet,
  type NeardBinary,
  type ValidatorCounters,
} from '../near/index.js';
import type { SshConnectionPool } from '../../src/ssh/connection.js';
import { startService } from '../../src/ssh/service-control.js';
import { freePort } from '../ports.js';
import { startMachines, type TestbedHost } from './machines.js';

export type { TestbedHost } from './machines.js';

export interface TestbedValidatorOptions {
  accountId: string;
  /** 'pool' (default): a staking pool owned by `ownerId`; 'direct': the account stakes itself. */
  staking?: 'pool' | 'direct';
  /** The pool owner (default owner.near). */
  ownerId?: string;
  stake?: bigint;
}

export interface TestbedNodeOptions {
  /** Node id; also the key of `bed.nodes`. */
  id: string;
  host: string;
  /** The service name on the host (default "neard"; two nodes on one host need different names). */
  service?: string;
  /** Put this validator's current key into the node's validator_key.json. */
  validator?: string;
  /** Which staged binary the service runs (default 'old'). */
  binary?: 'old' | 'new';
  /** Create data/ as if this database version had run here (default: no data folder yet). */
  dbVersion?: number;
  /** Start the service before returning (default false). */
  start?: boolean;
}

export interface NearTestbedOptions {
  epochLength?: number;
  blockTimeMs?: number;
  hosts?: string[];
  validators?: TestbedValidatorOptions[];
  /** Validators the devnet runs itself (no machines): they sign every height. Default none. */
  otherValidators?: { accountId: string; stake: bigint }[];
  nodes?: TestbedNodeOptions[];
  binaries?: { old?: Partial<NeardBinary>; new?: Partial<NeardBinary> };
  /** How long a started node reports syncing (default 1 s). */
  syncDelayMs?: number;
  /** How long one database migration step takes (default 500 ms). */
  migrationStepMs?: number;
  /** Devnet grace for signatures before a height counts missed (default 2 s). */
  signatureGraceMs?: number;
  /** Stop grace of the services (TERM → KILL), default 5 s. */
  stopGraceMs?: number;
  /**
   * nearcore's kickout settings of the network (default nearcore's: 90 % of the expected blocks and chunks).
   * The network launches once the nodes started with it (`start: true`) have had time to sync, so that only a
   * validator whose node stays down is kicked out.
   */
  kickouts?: Partial<KickoutConfig>;
  /** Leave the network paused for the caller to start more nodes first, then `launchNearTestbed(bed)`. */
  paused?: boolean;
  /** The machines' SSH user when the tests run as root (default: the test process's own user); see the header. */
  sshUser?: string;
  /** The hosts hold commands' answers when a crash test asks (devnet/hosts/sshd.ts `holdAnswers`). */
  holdAnswers?: boolean;
}

export interface TestbedBinary extends NeardBinary {
  sha256: string;
  /** Where this binary is staged on a host (a source for installBinary). */
  staged(host: string): string;
  /** The release as the workflow inputs name it: staged on `host`, its sha256 and version. */
  release(host: string): { staged: string; sha256: string; version: string };
}

export interface TestbedNode {
  id: string;
  ref: NearNodeRef;
  host: TestbedHost;
  home: string;
  service: string;
  rpcUrl: string;
  /** The path the service runs neard from (the install destination of an upgrade). */
  binary: string;
}

export interface TestbedValidator {
  accountId: string;
  staking: 'pool' | 'direct';
  ownerId?: string;
  /** The account that signs staking transactions: the owner of a pool, the account itself when direct. */
  signerAccountId: string;
  /** A near-cli credentials file of the signer account. */
  signer: SignerSpec;
  /** The `staking` part of stakeWithKey and of the workflow inputs. */
  stakingInput: { type: 'pool'; ownerId: string; signer: SignerSpec } | { type: 'direct'; signer: SignerSpec };
  /** The genesis validator key (on the node named by `validator` in the nodes' options). */
  validatorKey: KeyPair;
}

export interface NearTestbed {
  devnet: NearDevnet;
  rpcUrl: string;
  chainId: string;
  /** The network id signer references use (keystore-dir layout): "localnet". */
  networkId: string;
  hosts: Record<string, TestbedHost>;
  nodes: Record<string, TestbedNode>;
  validators: Record<string, TestbedValidator>;
  binaries: { old: TestbedBinary; new: TestbedBinary };
  connections: SshConnectionPool;
  /** The testbed's scratch folder on the worker side (signer files). */
  workDir: string;
  counters(accountId: string): ValidatorCounters;
  /** How long a started node reports syncing. */
  syncDelayMs: number;
  /** Is the node's service running (read on the machine's folder, not over SSH)? */
  isRunning(nodeId: string): boolean;
  stop(): Promise<void>;
}

const DEFAULT_OLD: NeardBinary = { version: '2.3.0', build: 'sim', protocolVersion: 73, dbVersion: 41 };
const DEFAULT_NEW: NeardBinary = { version: '2.4.0', build: 'sim', protocolVersion: 73, dbVersion: 42 };

export async function startNearTestbed(options: NearTestbedOptions = {}): Promise<NearTestbed> {
  const hostNames = options.hosts ?? ['val-a', 'val-b'];
  const validatorOptions = options.validators ?? [{ accountId: 'pool.poolv1.near', staking: 'pool' }];
  const nodeOptions: TestbedNodeOptions[] =
    options.nodes ??
    hostNames.map((host, i) => ({
      id: host,
      host,
      validator: i === 0 ? validatorOptions[0]?.accountId : undefined,
    }));
  const binaries = {
    old: { ...DEFAULT_OLD, ...options.binaries?.old },
    new: { ...DEFAULT_NEW, ...options.binaries?.new },
  };

  const machines = await startMachines({
    name: 'near',
    hosts: hostNames,
    sshUser: options.sshUser,
    stopGraceMs: options.stopGraceMs,
    holdAnswers: options.holdAnswers,
  });
  const { hosts, workDir, connections } = machines;

  try {
    // --- validators: their keys, accounts and signer files ---
    const validators: Record<string, TestbedValidator> = {};
    const accounts = new Map<string, KeyPair>();
    const validatorsUnderTest = [];
    for (const v of validatorOptions) {
      const staking = v.staking ?? 'pool';
      const ownerId = staking === 'pool' ? (v.ownerId ?? 'owner.near') : undefined;
      const signerAccountId = ownerId ?? v.accountId;
      const signerKey = accounts.get(signerAccountId) ?? KeyPair.fromRandom('ed25519');
      accounts.set(signerAccountId, signerKey);
      const validatorKey = KeyPair.fromRandom('ed25519');
      validatorsUnderTest.push({
        accountId: v.accountId,
        stakePublicKey: validatorKey.getPublicKey().toString(),
        stake: v.stake ?? 100n * ONE_NEAR,
        pool: ownerId ? { ownerId } : undefined,
        publicKeys: staking === 'direct' ? [signerKey.getPublicKey().toString()] : [],
      });
      const credentials = path.join(workDir, 'signers', `${signerAccountId}.json`);
      await mkdir(path.dirname(credentials), { recursive: true });
      await writeFile(
        credentials,
        JSON.stringify({
          account_id: signerAccountId,
          public_key: signerKey.getPublicKey().toString(),
          private_key: signerKey.toString(),
        }),
        { mode: 0o600 },
      );
      const signer: SignerSpec = {
        id: `${signerAccountId.replace(/[^A-Za-z0-9_-]/g, '-')}-key`,
        type: 'file',
        path: credentials,
      };
      validators[v.accountId] = {
        accountId: v.accountId,
        staking,
        ownerId,
        signerAccountId,
        signer,
        stakingInput: ownerId ? { type: 'pool', ownerId, signer } : { type: 'direct', signer },
        validatorKey,
      };
    }
    const ownerAccounts = [...accounts.entries()]
      .filter(([id]) => !validatorOptions.some((v) => v.accountId === id))
      .map(([accountId, key]) => ({ accountId, publicKeys: [key.getPublicKey().toString()] }));

    const devnet = await startNearDevnet({
      epochLength: options.epochLength ?? 10,
      blockTimeMs: options.blockTimeMs ?? 100,
      signatureGraceMs: options.signatureGraceMs,
      accounts: ownerAccounts,
      validators: validatorsUnderTest,
      devnetValidators: options.otherValidators,
      ...options.kickouts,
      paused: true,
    });
    machines.cleanups.push(() => devnet.stop());

    // --- binaries, staged on every machine ---
    const stagedPath = (root: string, b: NeardBinary) => path.join(root, 'opt', `neard-${b.version}`, 'neard');
    const testbedBinaries = {} as { old: TestbedBinary; new: TestbedBinary };
    for (const which of ['old', 'new'] as const) {
      const b = binaries[which];
      const { sha256, staged } = await machines.stageBinary(
        (root) => stagedPath(root, b),
        (file) => writeNeardBinary(file, b),
      );
      testbedBinaries[which] = {
        ...b,
        sha256,
        staged,
        release: (host) => ({ staged: staged(host), sha256, version: b.version }),
      };
    }

    // --- nodes ---
    const nodes: Record<string, TestbedNode> = {};
    for (const n of nodeOptions) {
      const host = machines.host(n.host);
      const service = n.service ?? 'neard';
      const home = path.join(host.root, 'home', n.id, '.near');
      const binary = path.join(host.root, 'usr', 'local', 'bin', service, 'neard');
      writeNeardBinary(binary, binaries[n.binary ?? 'old']);
      const rpcAddr = `127.0.0.1:${await freePort()}`;
      const validator = n.validator === undefined ? undefined : validators[n.validator];
      if (n.validator !== undefined && !validator) throw new Error(`node ${n.id}: unknown validator ${n.validator}`);
      initNodeHome({
        home,
        chainId: devnet.chainId,
        networkRpcUrl: devnet.rpcUrl,
        rpcAddr,
        syncDelayMs: options.syncDelayMs ?? 1_000,
        migrationStepMs: options.migrationStepMs ?? 500,
        validator: validator ? { accountId: validator.accountId, keyPair: validator.validatorKey } : undefined,
        dbVersion: n.dbVersion,
      });
      await machines.defineService(host.name, service, [binary, '--home', home, 'run']);
      const rpcUrl = `http://${rpcAddr}`;
      nodes[n.id] = {
        id: n.id,
        ref: { host: host.spec, home, service, rpcUrl, binary },
        host,
        home,
        service,
        rpcUrl,
        binary,
      };
    }

    await machines.handOver();

    const bed: NearTestbed = {
      devnet,
      rpcUrl: devnet.rpcUrl,
      chainId: devnet.chainId,
      networkId: 'localnet',
      hosts,
      nodes,
      validators,
      binaries: testbedBinaries,
      connections,
      workDir,
      counters: (accountId) => devnet.counters(accountId),
      syncDelayMs: options.syncDelayMs ?? 1_000,
      isRunning: (nodeId) => {
        const node = nodes[nodeId];
        if (!node) throw new Error(`no node ${nodeId}`);
        return machines.isRunning(node.host.name, node.service);
      },
      stop: () => machines.stop(),
    };
    for (const n of nodeOptions) {
      if (n.start) await startTestbedService(bed, n.id);
    }
    if (!options.paused) await launchNearTestbed(bed);
    return bed;
  } catch (err) {
    await machines.stop();
    throw err;
  }
}

/**
 * Launches the testbed's network once the running nodes answer on their RPC and their sync delay has passed,
 * so that they sign from the first block, as validators running at a real network's genesis do.
 */
export async function launchNearTestbed(bed: NearTestbed): Promise<void> {
  const running = Object.values(bed.nodes).filter((n) => bed.isRunning(n.id));
  const deadline = Date.now() + 60_000;
  for (const node of running) {
    while (!(await answersStatus(node.rpcUrl))) {
      if (Date.now() > deadline) throw new Error(`node ${node.id} did not answer on ${node.rpcUrl} within 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (running.length > 0) await new Promise((r) => setTimeout(r, bed.syncDelayMs + 500));
  bed.devnet.launch();
}

async function answersStatus(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'launch', method: 'status', params: [] }),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts a node's service the way the host activities would (over SSH, through service-ctl). */
export async function startTestbedService(bed: NearTestbed, nodeId: string): Promise<void> {
  const node = bed.nodes[nodeId];
  if (!node) throw new Error(`no node ${nodeId}`);
  await startService(await bed.connections.get(node.ref.host), node.ref.host.serviceManager, node.service);
}
