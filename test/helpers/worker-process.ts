/**
 * The production worker (worker/main.ts) as a child process of a test: started in a process group of its
 * own, so a test can SIGKILL it and everything it spawned at once, as a crashed machine or an OOM kill
 * would, and then start a fresh one on the same task queue.
 *
 *   const worker = await startWorkerProcess({ address: env.address, namespace: 'default', taskQueue });
 *   await worker.kill();          // SIGKILL to the whole group; resolves once the process has exited
 *   await worker.stop();          // the same, and a no-op when it has already exited (for afterEach)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '../../src/repo-root.js';

export interface WorkerProcessOptions {
  /** The Temporal frontend, host:port. */
  address: string;
  namespace: string;
  taskQueue: string;
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
  const child = spawn(
    process.execPath,
    ['--import', tsx, path.join(root, 'worker', 'main.ts'), '--task-queue', options.taskQueue],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: options.address,
        TEMPORAL_NAMESPACE: options.namespace,
        VUP_LOG_LEVEL: 'WARN',
      },
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode);
    else child.once('exit', (_code, signal) => resolve(signal));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the worker process did not start');

  const kill = async () => {
    if (isRunning(child)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    }
    return exited;
  };
  const worker: WorkerProcess = { pid, output: () => output, kill, stop: async () => void (await kill()) };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 180_000);
  while (!READY.test(output)) {
    if (!isRunning(child)) throw new Error(`the worker process exited before polling:\n${output}`);
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`the worker process did not start polling in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return worker;
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
