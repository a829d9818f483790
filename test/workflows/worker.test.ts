/**
 * The worker process, as operators run it: it finds the server through Temporal's environment
 * configuration (TEMPORAL_ADDRESS, or a temporal.toml profile) like the `temporal` CLI does, polls the
 * configured task queue, and stops gracefully on SIGTERM and SIGINT.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDevServerEnv } from '../helpers/temporal.js';

const run = promisify(execFile);
let env: TestWorkflowEnvironment | undefined;
let dir: string;

beforeAll(async () => {
  env = await createDevServerEnv();
  dir = await mkdtemp(path.join(tmpdir(), 'vup-worker-'));
});
afterAll(async () => {
  await env?.teardown();
  await rm(dir, { recursive: true, force: true });
});

function startWorker(taskQueue: string, extraEnv: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts', '--task-queue', taskQueue], {
    env: { ...clean, ...extraEnv, VUP_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Asks the server (through the temporal CLI) until a worker polls the queue for workflow tasks. */
async function waitForPoller(taskQueue: string, worker: { child: ChildProcess; output: () => string }) {
  for (let i = 0; i < 240; i++) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited early:\n${worker.output()}`);
    const { stdout } = await run(process.env.TEMPORAL_CLI_PATH ?? 'temporal', [
      'task-queue',
      'describe',
      '--task-queue',
      taskQueue,
      '--address',
      env!.address,
      '-o',
      'json',
    ]);
    const pollers = (JSON.parse(stdout) as { pollers: { taskQueueType: string }[] | null }).pollers ?? [];
    if (pollers.some((p) => p.taskQueueType === 'workflow')) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no worker polled ${taskQueue}:\n${worker.output()}`);
}

it('connects through TEMPORAL_ADDRESS, polls its task queue, and stops cleanly on SIGTERM', async () => {
  const worker = startWorker('worker-env', { TEMPORAL_ADDRESS: env!.address, TEMPORAL_NAMESPACE: 'default' });
  await waitForPoller('worker-env', worker);
  expect(worker.output()).toContain('worker polling task queue "worker-env" in namespace "default"');
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
  expect(worker.output()).toContain('worker stopped');
});

it('connects through a temporal.toml profile, and stops cleanly on SIGINT', async () => {
  const config = path.join(dir, 'temporal.toml');
  await writeFile(
    config,
    `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.lab]\naddress = "${env!.address}"\nnamespace = "default"\n`,
  );
  const worker = startWorker('worker-profile', { TEMPORAL_CONFIG_FILE: config, TEMPORAL_PROFILE: 'lab' });
  await waitForPoller('worker-profile', worker);
  worker.child.kill('SIGINT');
  expect(await worker.exited).toBe(0);
  expect(worker.output()).toContain('worker stopped');
});

it('fails with one clear line when the named profile does not exist', async () => {
  const config = path.join(dir, 'empty.toml');
  await writeFile(config, `[profile.default]\naddress = "${env!.address}"\n`);
  const worker = startWorker('worker-missing', { TEMPORAL_CONFIG_FILE: config, TEMPORAL_PROFILE: 'nope' });
  expect(await worker.exited).toBe(1);
  expect(worker.output()).toMatch(/worker failed: .*nope/);
});
