/**
 * `npm run demo`: the Temporal dev server with its UI, the production worker, and every upgrade strategy run
 * end to end on local NEAR and Polkadot networks with real sshd hosts, ending with a table of what the
 * networks counted. Exits non-zero if a strategy failed or a key signed twice.
 *
 *   npm run demo -- [--strategy <workflow type or alias>] [--keep] [--port 7233] [--ui-port 8233]
 */
import { parseArgs } from 'node:util';
import { teardownStack } from '../teardown.js';
import { InventoryBook } from '../testbeds/targets-inventory.js';
import { runDemoStrategy } from './run-strategy.js';
import { demoStrategies, selectStrategies } from './strategies.js';
import { formatTable, type RunRow } from './table.js';
import { startDemoTemporal, startDemoWorker } from './temporal-server.js';

const { values: args } = parseArgs({
  options: {
    strategy: { type: 'string' },
    keep: { type: 'boolean', default: false },
    port: { type: 'string', default: '7233' },
    'ui-port': { type: 'string', default: '8233' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('npm run demo -- [--strategy <name>] [--keep] [--port 7233] [--ui-port 8233]');
  console.log(`strategies: ${demoStrategies.map((s) => `${s.alias} (${s.workflowType})`).join(', ')}`);
  process.exit(0);
}

const began = Date.now();
const stamp = () => `${((Date.now() - began) / 1000).toFixed(1).padStart(6)}s`;
const sayAs = (who: string) => (line: string) => console.log(`${stamp()} [${who}] ${line}`);
const say = sayAs('demo');
const cleanups = teardownStack();

/** Once every strategy ran: 0 when all completed without a double sign, else 1 (Ctrl-C then ends --keep). */
let outcome: number | undefined;
let stopping: Promise<never> | undefined;
const shutdown = (code: number) =>
  (stopping ??= (async () => {
    say('stopping the worker, the testbeds, their sshd hosts and the Temporal server');
    await cleanups.runAll();
    say('everything stopped');
    process.exit(code);
  })());
process.on('SIGINT', () => void shutdown(outcome ?? 130));
process.on('SIGTERM', () => void shutdown(outcome ?? 143));

try {
  const strategies = selectStrategies(args.strategy);
  const temporal = await startDemoTemporal({ server: Number(args.port), ui: Number(args['ui-port']) }, say);
  cleanups.push(temporal.stop);
  say(`Temporal UI: ${temporal.uiUrl} (server ${temporal.address}, namespace default)`);
  const inventory = new InventoryBook();
  const worker = await startDemoWorker(temporal, inventory);
  cleanups.push(worker.stop);
  say(`worker polling task queue ${temporal.taskQueue}`);

  const rows: RunRow[] = [];
  for (const strategy of strategies) {
    rows.push(
      await runDemoStrategy(strategy, {
        client: temporal.env.client,
        taskQueue: temporal.taskQueue,
        timing: { epochLength: 12, blockTimeMs: 150 },
        say: sayAs(strategy.alias),
        inventory,
        keepTestbed: args.keep ? (stop) => cleanups.push(stop) : undefined,
      }),
    );
  }
  console.log(`\n${formatTable(rows)}\n`);
  say(`total wall time ${((Date.now() - began) / 1000).toFixed(1)} s; every run is in the UI: ${temporal.uiUrl}`);
  outcome = rows.every((r) => r.result === 'completed' && r.doubleSigns === 0) ? 0 : 1;
  if (args.keep) {
    say('--keep: everything keeps running; press Ctrl-C to stop it all');
    await new Promise(() => {});
  }
  await shutdown(outcome);
} catch (err) {
  say(`failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(2);
}
