/**
 * `npm run stack`: the production twin (production-twin.ts) for people without Docker: PostgreSQL, the
 * Temporal server with mutual TLS, two workers from dist/ and Prometheus, as processes on loopback. Prints
 * the endpoints, how to connect and where the workers' inventory is (VUP_INVENTORY, empty unless --inventory
 * names one to start from); SIGHUP to this process (or to a worker) reloads it. Ctrl-C stops everything.
 *
 *   npm run stack -- [--workers 2] [--task-queue validator-upgrades] [--inventory fleet.yaml] [--build]
 */
import { parseArgs } from 'node:util';
import { loadInventory } from '../../src/config/load-inventory.js';
import { startProductionTwin } from './production-twin.js';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    'task-queue': { type: 'string' },
    inventory: { type: 'string' },
    build: { type: 'boolean', default: false },
  },
});

const log = (line: string) => console.log(`[stack] ${line}`);
const fail = (err: unknown): never => {
  console.error(`[stack] could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
};
const inventory = args.inventory ? await loadInventory(args.inventory).catch(fail) : undefined;
const twin = await startProductionTwin({
  workers: Number(args.workers),
  ...(args['task-queue'] ? { taskQueue: args['task-queue'] } : {}),
  ...(args.build ? { build: true } : {}),
  ...(inventory ? { inventory } : {}),
  log,
}).catch(fail);

console.log(`
The production twin is up (deploy/ configuration, processes on loopback):
  Temporal frontend   ${twin.address}  (mutual TLS; namespace ${twin.namespace}, task queue ${twin.taskQueue})
  connection profile  ${twin.configFile}  [profile.${twin.profile}]
  PostgreSQL          ${twin.postgres.host}:${twin.postgres.port}  (user ${twin.postgres.user})
  Prometheus          ${twin.prometheusUrl}
  server metrics      ${twin.serverMetricsUrl}
${twin.workers.map((w) => `  ${w.name.padEnd(19)} pid ${w.pid}, metrics http://${w.metricsAddress}/metrics`).join('\n')}
  inventory           ${twin.inventoryFile}  (VUP_INVENTORY of every worker${inventory ? `; from ${args.inventory}` : ', empty'})

Connect as the workers do:
  export TEMPORAL_CONFIG_FILE=${twin.configFile} TEMPORAL_PROFILE=${twin.profile}
  temporal workflow list
  npm run vup -- status <workflow-id>

Add a validator as an operator does: write its hosts, nodes, validator entry and signer references to
${twin.inventoryFile}, then SIGHUP reloads it (an invalid file is refused; the workers keep the previous one):
  kill -HUP ${process.pid}
(this process SIGHUPs every worker, pids ${twin.workers.map((w) => w.pid).join(', ')}, and prints what each said).

Ctrl-C stops everything.`);

// SIGHUP here: every worker reloads the inventory file; each one's answer is printed.
process.on('SIGHUP', () => {
  void twin.reloadInventory().then(
    (answers) => {
      for (const a of answers) log(`${a.worker.name}: ${a.line}`);
      if (answers.length === 0) log('no worker running to reload the inventory');
    },
    (err: unknown) => log(`inventory reload: ${err instanceof Error ? err.message : String(err)}`),
  );
});

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  log('stopping');
  await twin.stop();
  log('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
// A process of the twin that dies on its own is said once.
for (const p of [twin.server(), ...twin.workers]) {
  void p.exited.then(() => {
    if (!stopping) log(`${p.name} (pid ${p.pid}) exited:\n${p.output().split('\n').slice(-15).join('\n')}`);
  });
}
