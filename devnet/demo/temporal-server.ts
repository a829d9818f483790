/**
 * The demo's Temporal: the dev server of the `temporal` CLI (found or built by devnet/servers/temporal-servers.ts,
 * else the SDK's download) with its web UI on a fixed port and the upgrades' search attributes registered,
 * and the production worker in this process, built by the same factory as worker/main.ts.
 */
import { IllegalStateError } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE } from '../../src/api/identity.js';
import { upgradeSearchAttributes } from '../../src/api/search-attributes.js';
import { resolveTemporalCli, toSdkExecutable } from '../servers/temporal-servers.js';
import type { InventorySource } from '../../src/config/inventory-source.js';
import { SshConnectionPool } from '../../src/ssh/connection.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';

export interface DemoTemporal {
  env: TestWorkflowEnvironment;
  address: string;
  uiUrl: string;
  taskQueue: string;
  stop: () => Promise<void>;
}

export async function startDemoTemporal(
  ports: { server: number; ui: number },
  log: (line: string) => void,
): Promise<DemoTemporal> {
  // Quiet the SDK's own logging before any connection: the demo prints its own story. A caller that installed
  // the runtime already (npm run bench, measuring downtime after other parts) chose its own logger.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch (err) {
    if (!(err instanceof IllegalStateError)) throw err;
  }
  const cli = await resolveTemporalCli({ log });
  log(`Temporal dev server: ${cli.type === 'existing-path' ? `${cli.path} (${cli.origin})` : cli.origin}`);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: toSdkExecutable(cli),
      ip: '127.0.0.1',
      port: ports.server,
      ui: true,
      uiPort: ports.ui,
      searchAttributes: upgradeSearchAttributes,
    },
  });
  return {
    env,
    address: `127.0.0.1:${ports.server}`,
    uiUrl: `http://localhost:${ports.ui}`,
    taskQueue: DEFAULT_TASK_QUEUE,
    stop: () => env.teardown(),
  };
}

export interface RunningWorker {
  stop: () => Promise<void>;
}

/** The production worker (worker/create-worker.ts) on the default task queue, in this process. */
export async function startDemoWorker(temporal: DemoTemporal, inventory: InventorySource): Promise<RunningWorker> {
  const ssh = new SshConnectionPool();
  const { worker } = await createUpgradeWorker({
    connection: temporal.env.nativeConnection,
    namespace: temporal.env.namespace ?? 'default',
    taskQueue: temporal.taskQueue,
    activities: { connections: ssh, inventory },
    shutdownGraceTime: '10s',
  });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await ssh.closeAll();
    },
  };
}
