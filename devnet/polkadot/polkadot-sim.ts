/**
 * Entry point of a simulated Polkadot node process, as a service on a (simulated) host runs it:
 *   node --import tsx polkadot-sim.ts --base-path <dir> --rpc-port <n> --network-url <ws> --version <v>
 *     [--sync-delay-ms <ms>] [--rpc-host <addr>]
 * Prints `rpc listening on <url>` once serving; stops cleanly on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { SimNode } from './sim-node.js';

const { values } = parseArgs({
  options: {
    'base-path': { type: 'string' },
    'rpc-port': { type: 'string', default: '0' },
    'rpc-host': { type: 'string', default: '127.0.0.1' },
    'network-url': { type: 'string' },
    version: { type: 'string', default: '1.0.0' },
    'sync-delay-ms': { type: 'string', default: '0' },
  },
  strict: true,
});

const basePath = values['base-path'];
const networkUrl = values['network-url'];
if (!basePath || !networkUrl) {
  console.error('usage: polkadot-sim --base-path <dir> --network-url <ws url> [--rpc-port <n>] [--version <v>]');
  process.exit(2);
}

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const node = await SimNode.start({
  basePath,
  networkUrl,
  rpcPort: Number(values['rpc-port']),
  host: values['rpc-host'],
  version: values.version,
  syncDelayMs: Number(values['sync-delay-ms']),
  log,
});
log(`polkadot-sim ${values.version} base path ${basePath}`);
log(`rpc listening on ${node.url}`);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`received ${signal}, stopping`);
  node.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
