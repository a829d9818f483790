/**
 * `npm run devnet`: the local NEAR and Polkadot networks with their sshd hosts and nodes, on their own, for
 * pointing a worker, the vup CLI or any other tool at them. They are the scenarios the demo and the
 * end-to-end tests run (devnet/scenarios, devnet/testbeds): NEAR laid out for a zero-downtime upgrade (val-a
 * validating, val-b a fresh node), Polkadot for a validator swap (A validating on val-a, B on val-b). Prints
 * the endpoints, accounts, hosts and nodes, writes per network the worker's inventory, the workflow input that
 * names its targets and the signer variables a worker needs, and runs until Ctrl-C (SIGINT or SIGTERM), which
 * stops everything it started.
 *
 *   npm run devnet -- [--near] [--polkadot] [--dir <folder for the files>] [--epoch-length 12]
 *                     [--block-time-ms 150] [--session-length 12]
 *
 * A script of your own that uses these modules: give it the .mts extension when it lies outside this
 * repository (tsx runs a .ts outside a `"type": "module"` package as CommonJS, where top-level await fails).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Inventory } from '../src/config/inventory.js';
import { NEAR_SCENARIO_POOL, startNearScenario } from './scenarios/near.js';
import { startPolkadotScenario } from './scenarios/polkadot.js';
import type { TestbedHost } from './testbeds/machines.js';
import { teardownStack } from './teardown.js';

const { values: args } = parseArgs({
  options: {
    near: { type: 'boolean', default: false },
    polkadot: { type: 'boolean', default: false },
    dir: { type: 'string' },
    'epoch-length': { type: 'string', default: '12' },
    'block-time-ms': { type: 'string', default: '150' },
    'session-length': { type: 'string', default: '12' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('npm run devnet -- [--near] [--polkadot] [--dir <folder>] [--epoch-length 12] [--block-time-ms 150]');
  console.log('                    [--session-length 12]   (neither --near nor --polkadot: both)');
  process.exit(0);
}
const both = !args.near && !args.polkadot;
const blockTimeMs = Number(args['block-time-ms']);

const cleanups = teardownStack();
let stopping: Promise<never> | undefined;
const shutdown = (code: number) =>
  (stopping ??= (async () => {
    console.log('devnet: stopping the nodes, the sshd hosts and the networks');
    await cleanups.runAll();
    console.log('devnet: stopped');
    process.exit(code);
  })());
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

const line = (label: string, value: string) => console.log(`  ${label.padEnd(14)} ${value}`);

function printHosts(hosts: Record<string, TestbedHost>): void {
  for (const host of Object.values(hosts)) {
    const { user, address, port, auth } = host.spec;
    const key = auth.type === 'keyFile' ? ` -i ${auth.path}` : '';
    line(
      `host ${host.name}`,
      `ssh${key} -p ${port} ${user}@${address}  (sshd pid ${host.sshd.pid}, disk ${host.root})`,
    );
  }
}

/** The inventory, the input and the signer variables of one network, as files a worker and the CLI take. */
async function writeFiles(dir: string, name: string, inventory: Inventory, input: unknown): Promise<void> {
  const inventoryFile = path.join(dir, `${name}.inventory.json`);
  const inputFile = path.join(dir, `${name}.input.json`);
  const envFile = path.join(dir, `${name}.worker.env`);
  const variables = inventory.signers.flatMap((s) =>
    [s.type === 'env' ? s.variable : undefined, 'passphraseEnv' in s ? s.passphraseEnv : undefined].filter(
      (v): v is string => v !== undefined,
    ),
  );
  await writeFile(inventoryFile, JSON.stringify(inventory, null, 2) + '\n', { mode: 0o600 });
  await writeFile(inputFile, JSON.stringify(input, null, 2) + '\n');
  await writeFile(envFile, variables.map((v) => `${v}=${process.env[v] ?? ''}\n`).join(''), { mode: 0o600 });
  line('inventory', inventoryFile);
  line('input', inputFile);
  line('worker', `env $(cat ${envFile}) VUP_INVENTORY=${inventoryFile} npm run worker -- --task-queue devnet-${name}`);
}

try {
  const dir = args.dir ? path.resolve(args.dir) : await mkdtemp(path.join(tmpdir(), 'vup-devnet-'));
  await mkdir(dir, { recursive: true });
  if (!args.dir) cleanups.push(() => rm(dir, { recursive: true, force: true }));

  if (both || args.near) {
    const near = await startNearScenario('nearZeroDowntimeUpgrade', {
      epochLength: Number(args['epoch-length']),
      blockTimeMs,
    });
    cleanups.push(() => near.bed.stop());
    const pool = near.bed.validators[NEAR_SCENARIO_POOL]!;
    console.log(`NEAR (chain ${near.bed.chainId}, network id ${near.bed.networkId})`);
    line('NEAR RPC', near.bed.rpcUrl);
    line('validator', `${pool.accountId} (pool of ${pool.ownerId ?? pool.accountId}, signer ${pool.signer.id})`);
    printHosts(near.bed.hosts);
    for (const node of Object.values(near.bed.nodes)) {
      const state = near.bed.isRunning(node.id) ? 'running' : 'stopped';
      line(`node ${node.id}`, `${node.rpcUrl} on ${node.host.name}, service ${node.service}, ${state}`);
    }
    await writeFiles(dir, 'near', near.inventory, near.input);
  }

  if (both || args.polkadot) {
    const dot = await startPolkadotScenario('relay-round-trip', {
      sessionLength: Number(args['session-length']),
      blockTimeMs,
    });
    cleanups.push(() => dot.bed.stop());
    const v = dot.bed.validator;
    console.log(`Polkadot (relay chain, local network)`);
    line('relay RPC', dot.bed.relayUrl);
    line('stash', `${dot.input.validator.stash} (${v.name}//stash)`);
    line('proxy', `${v.proxy.address} (${v.proxyType} proxy of the stash, signer ${v.proxySigner.id})`);
    printHosts(dot.bed.hosts);
    for (const node of Object.values(dot.bed.nodes)) {
      const state = dot.bed.isRunning(node.id) ? 'running' : 'stopped';
      line(`node ${node.id}`, `${node.rpcUrl} on ${node.host.name}, service ${node.service}, ${state}`);
    }
    await writeFiles(dir, 'polkadot', dot.inventory, dot.input);
  }

  console.log(`devnet ready; files in ${dir}${args.dir ? '' : ' (removed on stop)'}; Ctrl-C stops everything`);
} catch (err) {
  console.error(`devnet failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}
