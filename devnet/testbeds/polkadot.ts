/**
 * One call that stands up a Polkadot testbed for activity and end-to-end tests, and one that tears it all
 * down: the local Substrate network (devnet/polkadot, relay or AHM mode, short sessions), one real OpenSSH
 * sshd per simulated machine with the testbed's `commands` service manager, simulated polkadot "binaries" (an
 * old and a new release, with their sha256) staged on every machine, a base path and a service per node so the
 * host activities' startService/stopService run the simulated node, and signer references for the stash and
 * its proxy.
 *
 *   const bed = await startPolkadotTestbed({ mode: 'relay', sessionLength: 10, blockTimeMs: 200 });
 *   // defaults: hosts val-a and val-b; validator Alice<random> (stash //Alice<random>//stash) active at genesis with keys
 *   // from val-a's keystore; val-a's node started, val-b's node not started (empty keystore).
 *   const a = bed.nodes['val-a']!;          // { ref: PolkadotNodeRef, host, basePath, service, rpcUrl, binary }
 *   bed.routes.stash / bed.routes.proxy;    // SetKeysRoute signed by the stash / by its Staking(Operator) proxy
 *   bed.binaries.new.staged('val-b');       // where the new binary waits on val-b; .sha256 its checksum
 *   bed.counters();                         // the validator's missed slots and equivocations
 *   await bed.stop();                       // services, sshd, devnet, env vars and temp folders
 *
 * `sshUser: 'vup-test'`: a root test process logs in to the machines as that unprivileged account instead of
 * root (devnet/hosts/sshd.ts), which then owns everything the testbed wrote there (base paths, keystores,
 * staged binaries, service definitions), so the services started over SSH run as it, as docs/host-access.md
 * sets up a host. Ignored when the tests do not run as root (they log in as themselves).
 *
 * Signer references: the stash is a secret URI in an environment variable of this process (the worker in
 * tests), the proxy a polkadot-js JSON keystore file whose password is in another environment variable.
 */
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { encodeAddress, randomAsHex } from '@polkadot/util-crypto';
import type { PolkadotNodeRef, SetKeysRoute } from '../../src/api/contracts/polkadot.js';
import type { PolkadotValidatorSwapTargets } from '../../src/api/polkadot-inputs.js';
import { inventoryForTargets, type InventoryAndInput } from './targets-inventory.js';
import type { SignerSpec } from '../../src/config/inventory.js';
import { ss58PrefixOfNetwork } from '../../src/config/ss58.js';
import type { ValidatorCounters } from '../polkadot/accounting.js';
import { startPolkadotDevnet, type PolkadotDevnet } from '../polkadot/index.js';
import { Keystore } from '../polkadot/keystore.js';
import type { RelayChainName } from '../polkadot/metadata.js';
import { simNodeCommand } from '../polkadot/node-process.js';
import { sessionKeyLayout, devSessionKeys } from '../polkadot/session-keys.js';
import type { SshConnectionPool } from '../../src/ssh/connection.js';
import { freePort } from '../ports.js';
import { u8aToHex } from '@polkadot/util';
import { startMachines, type StagedBinary, type TestbedHost } from './machines.js';

export type { TestbedHost } from './machines.js';

export interface PolkadotTestbedOptions {
  /** 'relay': keys set with relay session.setKeys; 'ahm': through Asset Hub stakingRcClient.setKeys. */
  mode?: 'relay' | 'ahm';
  chain?: RelayChainName;
  sessionLength?: number;
  blockTimeMs?: number;
  finalityLag?: number;
  hosts?: string[];
  /** The validator (dev name; stash `//Name//stash`, genesis keys from `//Name` on the first host's node). */
  validator?: string;
  /** The stash's proxy account (dev name), of type Staking (relay) or StakingOperator (AHM). */
  proxy?: string;
  /** A funded account that is no proxy of the stash (for NotProxy). */
  stranger?: string;
  /** How long a started node reports syncing (default 1 s). */
  syncDelayMs?: number;
  /** Start the first host's node (the active validator) before returning (default true). */
  startActive?: boolean;
  /** Stop grace of the services (TERM → KILL), default 5 s. */
  stopGraceMs?: number;
  binaries?: { old?: string; new?: string };
  /** The machines' SSH user when the tests run as root (default: the test process's own user); see the header. */
  sshUser?: string;
  /** The hosts hold commands' answers when a crash test asks (devnet/hosts/sshd.ts `holdAnswers`). */
  holdAnswers?: boolean;
}

export interface TestbedBinary extends StagedBinary {
  version: string;
}

export interface TestbedNode {
  id: string;
  ref: PolkadotNodeRef;
  host: TestbedHost;
  basePath: string;
  service: string;
  rpcUrl: string;
  /** The path the service runs polkadot from (the install destination of an upgrade). */
  binary: string;
}

export interface PolkadotTestbed {
  devnet: PolkadotDevnet;
  mode: 'relay' | 'ahm';
  relayUrl: string;
  /** Asset Hub's RPC in AHM mode. */
  assetHubUrl?: string;
  /** Where staking lives (relay in relay mode, Asset Hub in AHM mode): where setKeys is submitted. */
  stakingUrl: string;
  hosts: Record<string, TestbedHost>;
  nodes: Record<string, TestbedNode>;
  binaries: { old: TestbedBinary; new: TestbedBinary };
  validator: {
    name: string;
    stash: KeyringPair;
    /** SignerSpec of the stash (secret URI in an environment variable). */
    stashSigner: SignerSpec;
    proxy: KeyringPair;
    proxyType: 'Staking' | 'StakingOperator';
    /** SignerSpec of the proxy (encrypted polkadot-js JSON keystore, password in an environment variable). */
    proxySigner: SignerSpec;
    stranger: KeyringPair;
    /** SignerSpec of an account that is no proxy of the stash. */
    strangerSigner: SignerSpec;
    /** The genesis session keys (on the first host's node). */
    genesisKeys: string;
  };
  routes: { stash: SetKeysRoute; proxy: SetKeysRoute; stranger: SetKeysRoute };
  connections: SshConnectionPool;
  workDir: string;
  /** Missed slots and equivocations of the validator over settled slots from `fromSlot`. */
  counters(fromSlot?: number): ValidatorCounters;
  /** The relay's current BABE slot (a starting point for `counters`). */
  currentSlot(): number;
  /**
   * The targets of a polkadotValidatorSwapUpgrade on this testbed: A = val-a (upgraded to the new binary),
   * B = val-b, keys set by the stash's proxy through the mode's route. Override any field with `overrides`.
   */
  swapTargets(overrides?: Partial<PolkadotValidatorSwapTargets>): PolkadotValidatorSwapTargets;
  /** The same upgrade as the worker's inventory and the workflow input that names it. */
  swapUpgrade(overrides?: Partial<PolkadotValidatorSwapTargets>): InventoryAndInput<'polkadotValidatorSwapUpgrade'>;
  isRunning(nodeId: string): boolean;
  startNode(nodeId: string): Promise<void>;
  stop(): Promise<void>;
}

let testbedCount = 0;

export async function startPolkadotTestbed(options: PolkadotTestbedOptions = {}): Promise<PolkadotTestbed> {
  const mode = options.mode ?? 'relay';
  const hostNames = options.hosts ?? ['val-a', 'val-b'];
  // Its own name by default, so its session keys are its own: the signer checks scan the whole machine, and
  // another testbed running beside this one (a second test run) must not look like a second signer.
  const validatorName = options.validator ?? `Alice${randomAsHex(4).slice(2)}`;
  const proxyName = options.proxy ?? 'Dave';
  const strangerName = options.stranger ?? 'Eve';
  const proxyType = mode === 'ahm' ? 'StakingOperator' : 'Staking';
  const versions = { old: options.binaries?.old ?? '1.16.0', new: options.binaries?.new ?? '1.17.0' };
  const envPrefix = `VUP_TESTBED_${process.pid}_${++testbedCount}`;

  const machines = await startMachines({
    name: 'polkadot',
    hosts: hostNames,
    sshUser: options.sshUser,
    stopGraceMs: options.stopGraceMs,
    holdAnswers: options.holdAnswers,
  });
  const { hosts, workDir, connections, cleanups } = machines;

  try {
    const devnet = await startPolkadotDevnet({
      chain: options.chain,
      mode,
      sessionLength: options.sessionLength ?? 10,
      blockTimeMs: options.blockTimeMs ?? 200,
      finalityLag: options.finalityLag,
      validators: [validatorName],
      accounts: [strangerName],
      proxies: [{ real: validatorName, delegate: proxyName, type: proxyType }],
    });
    cleanups.push(() => devnet.stop());
    // The simulated nodes keep their keystore under chains/<relay chain name> (as `network_info` names it).
    const chainName = options.chain ?? 'polkadot';

    // --- signers: the stash in an env var, the proxy in an encrypted JSON keystore, the stranger in an env var ---
    const setEnv = (name: string, value: string) => {
      process.env[name] = value;
      cleanups.push(() => {
        delete process.env[name];
        return Promise.resolve();
      });
    };
    const stashVar = `${envPrefix}_STASH_SURI`;
    setEnv(stashVar, `//${validatorName}//stash`);
    const strangerVar = `${envPrefix}_STRANGER_SURI`;
    setEnv(strangerVar, `//${strangerName}`);
    const passwordVar = `${envPrefix}_PROXY_PASSWORD`;
    const password = randomAsHex(16);
    setEnv(passwordVar, password);
    // A test run's secret scan looks for this password in every history and worker log (test/helpers/secret-scan.ts).
    const secretScan = process.env.VUP_SECRET_SCAN_DIR;
    if (secretScan) appendFileSync(path.join(secretScan, 'secrets.txt'), `${password}\n`);
    const proxyPair = devnet.account(proxyName);
    const proxyJson = new Keyring({ type: 'sr25519' }).addFromUri(`//${proxyName}`).toJson(password);
    const proxyFile = path.join(workDir, 'signers', `${proxyName.toLowerCase()}.json`);
    await mkdir(path.dirname(proxyFile), { recursive: true });
    await writeFile(proxyFile, JSON.stringify(proxyJson), { mode: 0o600 });
    const stashSigner: SignerSpec = { id: 'stash', type: 'env', variable: stashVar };
    const proxySigner: SignerSpec = { id: 'proxy', type: 'file', path: proxyFile, passphraseEnv: passwordVar };
    const strangerSigner: SignerSpec = { id: 'stranger', type: 'env', variable: strangerVar };

    // --- binaries, staged on every machine ---
    const stagedPath = (root: string, version: string) => path.join(root, 'opt', `polkadot-${version}`, 'polkadot');
    const binaries = {} as { old: TestbedBinary; new: TestbedBinary };
    for (const which of ['old', 'new'] as const) {
      const version = versions[which];
      const staged = await machines.stageBinary(
        (root) => stagedPath(root, version),
        (file) => writePolkadotBinary(file, version),
      );
      binaries[which] = { version, ...staged };
    }

    // --- nodes: one per host, the first holding the validator's genesis keys ---
    const layout = sessionKeyLayout(devnet.relay.runtime);
    const nodes: Record<string, TestbedNode> = {};
    for (const [i, name] of hostNames.entries()) {
      const host = machines.host(name);
      const service = 'polkadot';
      const basePath = path.join(host.root, 'var', 'lib', 'polkadot');
      const binary = path.join(host.root, 'usr', 'local', 'bin', 'polkadot');
      writePolkadotBinary(binary, versions.old);
      await mkdir(basePath, { recursive: true });
      if (i === 0) {
        const keystore = new Keystore(basePath, chainName);
        for (const field of layout) await keystore.insert(field.keyType, field.crypto, `//${validatorName}`);
      }
      const port = await freePort();
      await machines.defineService(name, service, [
        binary,
        '--base-path',
        basePath,
        '--network-url',
        devnet.networkUrl,
        '--rpc-port',
        String(port),
        '--sync-delay-ms',
        String(options.syncDelayMs ?? 1_000),
      ]);
      const rpcUrl = `ws://127.0.0.1:${port}`;
      nodes[name] = {
        id: name,
        ref: { host: host.spec, basePath, service, rpcUrl },
        host,
        basePath,
        service,
        rpcUrl,
        binary,
      };
    }

    await machines.handOver();

    const stakingUrl = mode === 'ahm' ? devnet.assetHubUrl! : devnet.relayUrl;
    const route = (signedBy: SetKeysRoute['signedBy']): SetKeysRoute => ({
      submitTo: mode === 'ahm' ? 'asset-hub' : 'relay',
      rpcUrl: stakingUrl,
      relayRpcUrl: devnet.relayUrl,
      signedBy,
    });
    const stash = devnet.stash(validatorName);
    const bed: PolkadotTestbed = {
      devnet,
      mode,
      relayUrl: devnet.relayUrl,
      assetHubUrl: devnet.assetHubUrl,
      stakingUrl,
      hosts,
      nodes,
      binaries,
      validator: {
        name: validatorName,
        stash,
        stashSigner,
        proxy: proxyPair,
        proxyType,
        proxySigner,
        stranger: devnet.account(strangerName),
        strangerSigner,
        genesisKeys: u8aToHex(devSessionKeys(layout, `//${validatorName}`)),
      },
      // Accounts in the local network's one form (the generic prefix), as the inventory takes them.
      routes: {
        stash: route({ type: 'stash', signer: stashSigner }),
        proxy: route({
          type: 'proxy',
          proxyType,
          account: encodeAddress(proxyPair.publicKey, ss58PrefixOfNetwork.local),
          signer: proxySigner,
        }),
        stranger: route({
          type: 'proxy',
          proxyType,
          account: encodeAddress(devnet.account(strangerName).publicKey, ss58PrefixOfNetwork.local),
          signer: strangerSigner,
        }),
      },
      connections,
      workDir,
      counters: (fromSlot) => devnet.counters(stash.publicKey, fromSlot),
      currentSlot: () => devnet.relay.best.slot,
      swapTargets: (overrides = {}) => {
        const [a, b] = hostNames.map((name) => nodeOf(nodes, name));
        if (!a || !b) throw new Error('swapInput needs two hosts');
        // The workflow input's route has no relayRpcUrl: the workflow passes its relayRpcUrl along. The proxy
        // is written in the local network's form, as the stash is (the inventory refuses another prefix).
        const { relayRpcUrl: _, ...setKeys } = route({
          type: 'proxy',
          proxyType,
          account: encodeAddress(proxyPair.publicKey, ss58PrefixOfNetwork.local),
          signer: proxySigner,
        });
        return {
          // A local network's one form of an account is the generic prefix (src/config/ss58.ts).
          validator: {
            chain: 'polkadot',
            network: 'local',
            stash: encodeAddress(stash.publicKey, ss58PrefixOfNetwork.local),
          },
          relayRpcUrl: devnet.relayUrl,
          // The local chain's own: the inventory names it, as an operator's does for a chain of their own.
          genesisHash: devnet.relay.genesisHash,
          nodeA: a.ref,
          nodeB: b.ref,
          release: {
            staged: binaries.new.staged(a.host.name),
            sha256: binaries.new.sha256,
            installTo: a.binary,
            version: binaries.new.version,
          },
          setKeys,
          ...overrides,
        };
      },
      swapUpgrade: (overrides = {}) => {
        const [a, b] = hostNames.map((name) => nodeOf(nodes, name));
        const nodeIds = { nodeA: a!.id, nodeB: b!.id };
        return inventoryForTargets('polkadotValidatorSwapUpgrade', bed.swapTargets(overrides), {
          nodeIds,
          binaries: { nodeA: a!.binary, nodeB: b!.binary },
        });
      },
      isRunning: (nodeId) => {
        const node = nodeOf(nodes, nodeId);
        return machines.isRunning(node.host.name, node.service);
      },
      startNode: async (nodeId) => {
        const node = nodeOf(nodes, nodeId);
        await machines.startService(node.host.name, node.service);
        await waitForRpc(node.rpcUrl, 60_000);
      },
      stop: () => machines.stop(),
    };
    if ((options.startActive ?? true) && hostNames[0] !== undefined) await bed.startNode(hostNames[0]);
    return bed;
  } catch (err) {
    await machines.stop();
    throw err;
  }
}

/**
 * Writes an executable `polkadot` wrapper running the simulated node with a fixed release version; different
 * versions are different files, so an upgrade replaces one file with another and a checksum means something.
 */
export function writePolkadotBinary(file: string, version: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // simNodeCommand's own flags come first; the service's flags ("$@") follow and override them.
  const argv = simNodeCommand({ basePath: '/nonexistent', networkUrl: 'ws://unset', version }).slice(0, 4);
  const script = [
    '#!/bin/sh',
    `# Simulated polkadot ${version} (see devnet/polkadot/polkadot-sim.ts)`,
    `exec ${[...argv, '--version', version].map(shellQuote).join(' ')} "$@"`,
    '',
  ].join('\n');
  writeFileSync(file, script, { mode: 0o755 });
  chmodSync(file, 0o755);
}

/** Waits until something accepts TCP connections at the node's RPC address (the service has started serving). */
async function waitForRpc(url: string, timeoutMs: number): Promise<void> {
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: hostname, port: Number(port) });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`the node's RPC ${url} did not open in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function nodeOf(nodes: Record<string, TestbedNode>, id: string): TestbedNode {
  const node = nodes[id];
  if (!node) throw new Error(`the testbed has no node ${id}`);
  return node;
}
