/**
 * `npm run stack`: the production twin (production-twin.ts) for people without Docker: PostgreSQL, the
 * Temporal server with mutual TLS, two workers from dist/ and Prometheus, as processes on loopback. Prints
 * the endpoints and how to connect; Ctrl-C stops everything.
 *
 *   npm run stack -- [--workers 2] [--task-queue validator-upgrades] [--build]
 */
import { parseArgs } from 'node:util';
import { startProductionTwin } from './production-twin.js';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    'task-queue': { type: 'string' },
    build: { type: 'boolean', default: false },
  },
});

const log = (line: string) => console.log(`[stack] ${line}`);
const twin = await startProductionTwin({
  workers: Number(args.workers),
  ...(args['task-queue'] ? { taskQueue: args['task-queue'] } : {}),
  ...(args.build ? { build: true } : {}),
  log,
}).catch((err: unknown) => {
  console.error(`[stack] could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

console.log(`
The production twin is up (deploy/ configuration, processes on loopback):
  Temporal frontend   ${twin.address}  (mutual TLS; namespace ${twin.namespace}, task queue ${twin.taskQueue})
  connection profile  ${twin.configFile}  [profile.${twin.profile}]
  PostgreSQL          ${twin.postgres.host}:${twin.postgres.port}  (user ${twin.postgres.user})
  Prometheus          ${twin.prometheusUrl}
  server metrics      ${twin.serverMetricsUrl}
${twin.workers.map((w) => `  ${w.name.padEnd(19)} pid ${w.pid}, metrics http://${w.metricsAddress}/metrics`).join('\n')}

Connect as the workers do:
  export TEMPORAL_CONFIG_FILE=${twin.configFile} TEMPORAL_PROFILE=${twin.profile}
  temporal workflow list
  npm run vup -- status <workflow-id>

Ctrl-C stops everything.`);

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
