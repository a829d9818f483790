/**
 * The worker process. Connects like the `temporal` CLI does (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_PROFILE and temporal.toml, through @temporalio/envconfig), refuses a namespace without the
 * project's search attributes (cluster-check.ts), serves the upgrade workflows and their activities on one
 * task queue, optionally as a Worker Deployment version (versioning.ts) and with Prometheus metrics on
 * VUP_METRICS_ADDRESS (metrics.ts), and on SIGINT/SIGTERM stops polling, lets running activities finish for
 * up to the grace time, and exits 0. The inventory (VUP_INVENTORY or --inventory) is the only source of the
 * hosts, nodes, RPCs and signers an upgrade touches; SIGHUP reloads it (inventory-file.ts). With
 * VUP_CODEC_KEYS naming a key file, every payload it sends to Temporal is encrypted (src/codec).
 *
 *   npm run worker -- --inventory /etc/vup/inventory.yaml [--task-queue validator-upgrades]
 *                     [--shutdown-grace 30s] [--deployment-name validator-upgrades --build-id <id>]
 */
import { parseArgs } from 'node:util';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE } from '../src/api/identity.js';
import { codecDataConverter, payloadCodecFromEnv } from '../src/codec/index.js';
import { closeSharedConnections } from '../src/polkadot/connection.js';
import { SshConnectionPool } from '../src/ssh/connection.js';
import { allocatorNote } from './allocator.js';
import { checkCluster } from './cluster-check.js';
import { createUpgradeWorker, upgradeWorkflowBundle } from './create-worker.js';
import { InventoryFile, describe } from './inventory-file.js';
import { installRuntime, metricsAddressFromEnv, startVisibilityGauges } from './metrics.js';
import { becomeCurrentInBackground, routingNote } from './versioning.js';

const { values: args } = parseArgs({
  options: {
    inventory: { type: 'string', default: process.env.VUP_INVENTORY },
    'task-queue': { type: 'string', default: process.env.VUP_TASK_QUEUE ?? DEFAULT_TASK_QUEUE },
    'shutdown-grace': { type: 'string', default: '30s' },
    'deployment-name': { type: 'string', default: process.env.VUP_DEPLOYMENT_NAME },
    'build-id': { type: 'string', default: process.env.VUP_BUILD_ID },
  },
});

async function main(): Promise<void> {
  if (!args.inventory) throw new Error('no inventory: set VUP_INVENTORY (or --inventory) to the inventory file');
  const inventory = await InventoryFile.load(args.inventory);
  const codec = await payloadCodecFromEnv();
  const stopReloading = inventory.reloadOnHangup((line) => console.warn(`worker: ${line}`));
  const metricsAddress = metricsAddressFromEnv();
  installRuntime({ logLevel: process.env.VUP_LOG_LEVEL as LogLevel | undefined, metricsAddress });
  const config = loadClientConnectConfig();
  const namespace = config.namespace ?? 'default';
  const connection = await NativeConnection.connect(config.connectionOptions);
  const ssh = new SshConnectionPool();
  try {
    for (const note of (await checkCluster(connection, namespace)).notes) console.warn(`worker: ${note}`);
    const workflows = await upgradeWorkflowBundle(Runtime.instance().logger);
    const { worker, deployment } = await createUpgradeWorker({
      connection,
      namespace,
      taskQueue: args['task-queue'],
      activities: { connections: ssh, inventory },
      workflowBundle: workflows.bundle,
      versioning: { deploymentName: args['deployment-name'], buildId: args['build-id'] },
      shutdownGraceTime: args['shutdown-grace'],
      dataConverter: codecDataConverter(codec),
    });
    const routing = deployment && (await routingNote(connection, namespace, deployment));
    if (routing) console.warn(`worker: ${routing}`);
    const stopGauge = metricsAddress ? startVisibilityGauges(connection, namespace) : undefined;
    const version = deployment ? ` as ${deployment.version.deploymentName}.${deployment.version.buildId}` : '';
    const metrics = metricsAddress ? `; metrics on http://${metricsAddress}/metrics` : '';
    console.log(`worker polling task queue "${args['task-queue']}" in namespace "${namespace}"${version}${metrics}`);
    console.log(`worker: workflows ${workflows.from}; ${allocatorNote()}`);
    console.log(`worker: inventory ${inventory.path}: ${describe(inventory.current())} (SIGHUP reloads it)`);
    if (codec) console.log(`worker: payloads encrypted (keys from ${process.env.VUP_CODEC_KEYS})`);
    const running = worker.run();
    if (deployment) becomeCurrentInBackground(connection, namespace, deployment);
    await running;
    stopGauge?.();
    console.log('worker stopped');
  } finally {
    stopReloading();
    await ssh.closeAll();
    await closeSharedConnections();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`worker failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
