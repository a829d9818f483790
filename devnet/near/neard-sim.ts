/**
 * The simulated neard executable. A "binary" is a wrapper script (neard-binary.ts) that fixes the release,
 * protocol and database versions and passes the rest of its arguments here:
 *
 *   neard-sim.ts --release-version 2.4.0 --db-version 42 --protocol-version 73 [--build sim] --home DIR run
 *   neard-sim.ts ... --home DIR init [--chain-id localnet] [--network-rpc http://127.0.0.1:3030] [--rpc-addr 127.0.0.1:3031]
 *                [--account-id pool.poolv1.near] [--sync-delay-ms 3000] [--migration-step-ms 1000]
 *   neard-sim.ts ... --version
 *
 * `run` logs to stderr in neard's style and exits 1 when its database cannot be opened.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KeyPair } from 'near-api-js';
import { DatabaseRefused } from './node-db.js';
import { initNodeHome } from './node-home.js';
import { SimulatedNeard, neardBanner, type LogLevel, type NeardBinary } from './neard-node.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    home: { type: 'string', default: path.join(homedir(), '.near') },
    'release-version': { type: 'string', default: '0.0.0' },
    build: { type: 'string', default: 'simulated' },
    'protocol-version': { type: 'string', default: '73' },
    'db-version': { type: 'string', default: '1' },
    version: { type: 'boolean', default: false },
    'chain-id': { type: 'string', default: 'localnet' },
    'network-rpc': { type: 'string' },
    'rpc-addr': { type: 'string', default: '127.0.0.1:3030' },
    'account-id': { type: 'string' },
    'sync-delay-ms': { type: 'string' },
    'migration-step-ms': { type: 'string' },
  },
});

const binary: NeardBinary = {
  version: values['release-version'],
  build: values.build,
  protocolVersion: integer(values['protocol-version'], 'protocol-version'),
  dbVersion: integer(values['db-version'], 'db-version'),
};

function log(level: LogLevel, target: string, line: string): void {
  const time = new Date().toISOString().replace('Z', '000Z');
  process.stderr.write(`${time} ${level.padStart(5)} ${target}: ${line}\n`);
}

function integer(text: string, name: string): number {
  if (!/^\d+$/.test(text)) fail(`--${name} must be a non-negative integer`);
  return Number(text);
}

function fail(message: string): never {
  log('ERROR', 'neard', message);
  process.exit(2);
}

if (values.version) {
  process.stdout.write(neardBanner(binary) + '\n');
  process.exit(0);
}

const home = path.resolve(values.home);
switch (positionals[0]) {
  case 'init': {
    // Like neard init, it needs no network: a home made only for its validator_key.json gets the default.
    const networkRpc = values['network-rpc'] ?? 'http://127.0.0.1:3030';
    const accountId = values['account-id'];
    initNodeHome({
      home,
      chainId: values['chain-id'],
      networkRpcUrl: networkRpc,
      rpcAddr: values['rpc-addr'],
      syncDelayMs:
        values['sync-delay-ms'] === undefined ? undefined : integer(values['sync-delay-ms'], 'sync-delay-ms'),
      migrationStepMs:
        values['migration-step-ms'] === undefined
          ? undefined
          : integer(values['migration-step-ms'], 'migration-step-ms'),
      validator: accountId ? { accountId, keyPair: KeyPair.fromRandom('ed25519') } : undefined,
    });
    log('INFO', 'neard', `Initialized the node home at ${home}`);
    break;
  }
  case 'run': {
    const node = new SimulatedNeard(home, binary, log);
    let started = false;
    const shutdown = (signal: string) => {
      log('INFO', 'neard', `Received ${signal}, shutting down`);
      void node.stop().then(() => process.exit(0));
    };
    process.on('SIGHUP', () => {
      if (started) node.reloadValidatorKey();
      else log('WARN', 'neard', 'Received SIGHUP while starting; ignored');
    });
    // Until the database is open, SIGTERM and SIGINT kill the process as they would kill neard mid-migration.
    try {
      await node.start();
    } catch (err) {
      log(
        'ERROR',
        'neard',
        err instanceof DatabaseRefused ? err.message : `Failed to start: ${(err as Error).message}`,
      );
      process.exit(1);
    }
    started = true;
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    break;
  }
  default:
    fail(`unknown command ${JSON.stringify(positionals[0] ?? '')}: expected run or init`);
}
