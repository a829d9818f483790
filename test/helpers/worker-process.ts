/**
 * The production worker (worker/main.ts) as a child process of a test: started in a process group of its
 * own (devnet/stack/processes.ts), so a test can SIGKILL it and everything it spawned at once, as a
 * crashed machine or an OOM kill would, and then start a fresh one on the same task queue.
 *
 *   const worker = await startWorkerProcess({ address: env.address, namespace: 'default', taskQueue });
 *   await worker.kill();          // SIGKILL to the whole group; resolves once the process has exited
 *   await worker.stop();          // the same, and a no-op when it has already exited (for afterEach)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Inventory } from '../../src/config/inventory.js';
import { startProcess } from '../../devnet/stack/processes.js';
import { repoRoot } from '../../src/repo-root.js';
import { workerLogFile } from './secret-scan.js';
import { createDevServerEnv } from './temporal.js';

export interface WorkerProcessOptions {
  /** The Temporal frontend, host:port. */
  address: string;
  namespace: string;
  taskQueue: string;
  /** The worker's inventory file (VUP_INVENTORY): the hosts, nodes, validators and signers it may touch. */
  inventoryFile: string;
  /** How long bundling the workflows and connecting may take (default 180 s). */
  readyTimeoutMs?: number;
}

export interface WorkerProcess {
  pid: number;
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /** SIGKILL to the process group; resolves with the exit signal once the process is gone. */
  kill(): Promise<NodeJS.Signals | null>;
  stop(): Promise<void>;
}

/** worker/main.ts prints this once its Worker exists and is about to poll. */
const READY = /worker polling task queue/;

export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const root = repoRoot();
  const tsx = createRequire(path.join(root, 'package.json')).resolve('tsx');
  const child = startProcess(
    'worker',
    process.execPath,
    ['--import', tsx, path.join(root, 'worker', 'main.ts'), '--task-queue', options.taskQueue],
    {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: options.address,
        TEMPORAL_NAMESPACE: options.namespace,
        VUP_INVENTORY: options.inventoryFile,
        // INFO, so the run's secret scan reads what the activities log too (test/helpers/secret-scan.ts).
        VUP_LOG_LEVEL: 'INFO',
      },
      logFile: workerLogFile('worker-process'),
    },
  );
  const worker: WorkerProcess = {
    pid: child.pid,
    output: () => child.output(),
    kill: () => child.kill(),
    stop: async () => void (await child.kill()),
  };
  try {
    await child.waitFor(READY, options.readyTimeoutMs ?? 180_000);
  } catch (err) {
    await child.kill();
    throw err;
  }
  return worker;
}

let inventoryFiles = 0;

/**
 * A worker process whose inventory file (VUP_INVENTORY, written into `dir`) holds this inventory, as a deployed
 * worker's does: the only source of the hosts, nodes, RPC and signers the upgrade touches.
 */
export async function startInventoryWorker(
  options: Omit<WorkerProcessOptions, 'inventoryFile'> & { inventory: Inventory; dir: string },
): Promise<WorkerProcess> {
  const { inventory, dir, ...rest } = options;
  const inventoryFile = path.join(dir, `inventory-${process.pid}-${++inventoryFiles}.json`);
  await writeFile(inventoryFile, JSON.stringify(inventory, null, 2));
  return startWorkerProcess({ ...rest, inventoryFile });
}

export interface WorkerProcesses {
  /** The dev server (set in beforeAll). */
  readonly env: TestWorkflowEnvironment;
  /** A production worker process reading this inventory on the task queue; stopped by stopAll. */
  start(taskQueue: string, inventory: Inventory): Promise<WorkerProcess>;
  /** Stops every worker process started so far (call it first in afterEach). */
  stopAll(): Promise<void>;
}

/**
 * A test file's dev server and production worker processes: the server starts in beforeAll and is torn down
 * in afterAll with the folder of the workers' inventory files.
 */
export function useWorkerProcesses(name: string): WorkerProcesses {
  let env: TestWorkflowEnvironment | undefined;
  let scratch: string | undefined;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), `${name}-`));
    env = await createDevServerEnv();
  }, 180_000);
  afterAll(async () => {
    await env?.teardown();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
  return {
    get env() {
      if (!env) throw new Error('the dev server starts in beforeAll');
      return env;
    },
    async start(taskQueue, inventory) {
      const w = await startInventoryWorker({
        address: this.env.address,
        namespace: this.env.namespace ?? 'default',
        taskQueue,
        inventory,
        dir: scratch!,
      });
      workers.push(w);
      return w;
    },
    async stopAll() {
      for (const w of workers.splice(0)) await w.stop();
    },
  };
}
