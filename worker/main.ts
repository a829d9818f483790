/**
 * The worker process. Connects like the `temporal` CLI does (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_PROFILE and temporal.toml, through @temporalio/envconfig), serves the upgrade workflows and
 * their activities on one task queue, and on SIGINT/SIGTERM stops polling, lets running activities finish
 * for up to the grace time, and exits 0.
 *
 *   npm run worker -- [--task-queue validator-upgrades] [--shutdown-grace 30s]
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { DEFAULT_TASK_QUEUE } from '../src/api/identity.js';
import { SshConnectionPool } from '../src/ssh/connection.js';

const { values: args } = parseArgs({
  options: {
    'task-queue': { type: 'string', default: process.env.VUP_TASK_QUEUE ?? DEFAULT_TASK_QUEUE },
    'shutdown-grace': { type: 'string', default: '30s' },
  },
});

/** workflows/index.ts when run from source (tsx), workflows/index.js when run from dist/. */
function workflowsPath(): string {
  const candidates = ['../workflows/index.ts', '../workflows/index.js'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  return candidates.find((p) => existsSync(p)) ?? candidates[1]!;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger((process.env.VUP_LOG_LEVEL as LogLevel | undefined) ?? 'INFO') });
  const config = loadClientConnectConfig();
  const connection = await NativeConnection.connect(config.connectionOptions);
  const ssh = new SshConnectionPool();
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.namespace ?? 'default',
      taskQueue: args['task-queue'],
      workflowsPath: workflowsPath(),
      activities: createActivities({ connections: ssh }),
      shutdownGraceTime: args['shutdown-grace'],
    });
    console.log(`worker polling task queue "${args['task-queue']}" in namespace "${config.namespace ?? 'default'}"`);
    await worker.run();
    console.log('worker stopped');
  } finally {
    await ssh.closeAll();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`worker failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
