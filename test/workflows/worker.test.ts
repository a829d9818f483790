/**
 * The worker process, as operators run it: it finds the server through Temporal's environment
 * configuration (TEMPORAL_ADDRESS, or a temporal.toml profile) like the `temporal` CLI does, polls the
 * configured task queue, and stops gracefully on SIGTERM and SIGINT. It refuses a cluster it cannot serve
 * (no namespace, no search attributes) in one line, serves metrics on VUP_METRICS_ADDRESS, and polls as a
 * Worker Deployment version when VUP_DEPLOYMENT_NAME is set.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { upgradeSearchAttributes } from '../../src/api/search-attributes.js';
import { checkUpgradeInput } from '../../src/client/index.js';
import { loadInventory } from '../../src/config/load-inventory.js';
import { repoRoot } from '../../src/repo-root.js';
import { WORKER_METRIC } from '../../worker/metrics.js';
import { defaultBuildId } from '../../worker/versioning.js';
import { eventually } from '../helpers/eventually.js';
import { freePort, samplesOf, scrape, valueOf } from '../helpers/prometheus.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';

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

/** Every worker needs an inventory; the example's hosts are never reached by these tests. */
const EXAMPLE_INVENTORY = path.join(repoRoot(), 'examples', 'inventory.yaml');

function startWorker(taskQueue: string, extraEnv: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts', '--task-queue', taskQueue], {
    env: { ...clean, VUP_INVENTORY: EXAMPLE_INVENTORY, ...extraEnv, VUP_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const temporalCli = (args: string[]) =>
  run(process.env.TEMPORAL_CLI_PATH ?? 'temporal', [...args, '--address', env!.address]);

/** Asks the server (through the temporal CLI) until a worker polls the queue for workflow tasks. */
async function waitForPoller(
  taskQueue: string,
  worker: { child: ChildProcess; output: () => string },
  namespace = 'default',
) {
  for (let i = 0; i < 240; i++) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited early:\n${worker.output()}`);
    const { stdout } = await temporalCli([
      'task-queue',
      'describe',
      '--task-queue',
      taskQueue,
      '--namespace',
      namespace,
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

/** `vup <args>` in `namespace`: its exit code and what it wrote on stderr. */
async function vup(namespace: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  try {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...clean, TEMPORAL_ADDRESS: env!.address, TEMPORAL_NAMESPACE: namespace },
    });
    return { code: 0, stderr };
  } catch (err) {
    const failed = err as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe('a cluster the worker cannot serve', () => {
  it('refuses a namespace without the search attributes in one line naming them and the command; that command makes it start', async () => {
    const namespace = `bare-${randomUUID().slice(0, 8)}`;
    await temporalCli(['operator', 'namespace', 'create', '--namespace', namespace]);
    const address = { TEMPORAL_ADDRESS: env!.address, TEMPORAL_NAMESPACE: namespace };

    const refused = startWorker('worker-bare', address);
    expect(await refused.exited).toBe(1);
    const lines = refused.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    const names = upgradeSearchAttributes.map((k) => k.name).join(', ');
    const match = new RegExp(
      `^worker failed: namespace "${namespace}" lacks the search attributes ${names}; create them with: (temporal operator search-attribute create .*)$`,
    ).exec(lines[0]!);
    expect(match).not.toBeNull();

    // vup says why the server refused, not just "Failed to start Workflow" / "Failed to list workflows".
    const started = await vup(namespace, [
      'start',
      '--strategy',
      'nearZeroDowntimeUpgrade',
      '--input-file',
      'examples/near-zero-downtime.input.json',
    ]);
    expect(started.code).toBe(1);
    expect(started.stderr).toMatch(
      /^vup: Failed to start Workflow: .*search attribute Upgrade\w+.*; .*temporal operator search-attribute create --name UpgradeChain --type Keyword/,
    );
    const listed = await vup(namespace, ['list', '--chain', 'near']);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(/^vup: Failed to list workflows: .*Upgrade\w+.* is not a valid search attribute/);

    // The command it names, run as printed (with this server's address), registers them.
    await temporalCli(match![1]!.split(' ').slice(1));
    const worker = startWorker('worker-bare', address);
    await waitForPoller('worker-bare', worker, namespace);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });

  it('refuses a namespace that does not exist, with the command that creates it', async () => {
    const worker = startWorker('worker-nowhere', { TEMPORAL_ADDRESS: env!.address, TEMPORAL_NAMESPACE: 'nowhere' });
    expect(await worker.exited).toBe(1);
    expect(worker.output().trim()).toBe(
      'worker failed: namespace "nowhere" does not exist; create it with: temporal operator namespace create --namespace nowhere',
    );
  });
});

it('serves Prometheus metrics on VUP_METRICS_ADDRESS (a real strategy counted with its labels), and refuses an address that is not host:port', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  // The example inventory with validator mypool's primary node, its host and the network RPC on a closed local
  // port: a real strategy starts on this worker (counted, with its chain, network and strategy) and its first
  // activity that reaches out fails, retryably (counted with its error type).
  const closed = await freePort();
  const inventory = structuredClone(await loadInventory(EXAMPLE_INVENTORY));
  const pool = inventory.validators.find((v) => v.id === 'mypool')!;
  const node = inventory.nodes.find((n) => n.id === pool.nodes.primary)!;
  const host = inventory.hosts.find((h) => h.id === node.host)!;
  Object.assign(host, { address: '127.0.0.1', port: closed });
  node.rpc = pool.networkRpc = `http://127.0.0.1:${closed}`;
  const inventoryFile = path.join(await mkdtemp(path.join(tmpdir(), 'vup-worker-metrics-')), 'inventory.json');
  await writeFile(inventoryFile, JSON.stringify(inventory));
  const worker = startWorker('worker-metrics', {
    TEMPORAL_ADDRESS: env!.address,
    VUP_METRICS_ADDRESS: address,
    VUP_INVENTORY: inventoryFile,
  });
  await waitForPoller('worker-metrics', worker);
  expect(worker.output()).toContain(`metrics on http://${address}/metrics`);
  const samples = await scrape(address);
  expect(
    valueOf(samples, 'temporal_num_pollers', { task_queue: 'worker-metrics', poller_type: 'workflow_task' }),
  ).toBeGreaterThan(0);
  expect(samples.filter((s) => s.name === WORKER_METRIC.awaitingApproval)).toEqual([
    { name: WORKER_METRIC.awaitingApproval, labels: { namespace: 'default' }, value: 0 },
  ]);

  const example = JSON.parse(
    await readFile(path.join(repoRoot(), 'examples', 'near-stop-and-restart.input.json'), 'utf8'),
  ) as unknown;
  const { workflowId } = checkUpgradeInput('nearStopAndRestartUpgrade', example);
  const handle = await env!.client.workflow.start('nearStopAndRestartUpgrade', {
    args: [example],
    taskQueue: 'worker-metrics',
    workflowId,
  });
  const seen = await eventually('the upgrade and its failing activity on /metrics', async () => {
    const now = await scrape(address);
    const started = samplesOf(now, 'vup_upgrades_started', { strategy: 'nearStopAndRestartUpgrade' });
    const failed = samplesOf(now, WORKER_METRIC.activityAttempts, { outcome: 'failed', taskQueue: 'worker-metrics' });
    return started.length > 0 && failed.length > 0 ? { started, failed } : undefined;
  });
  await handle.terminate('metrics seen');
  expect(seen.started).toEqual([
    {
      name: 'vup_upgrades_started',
      labels: {
        chain: 'near',
        network: 'mainnet',
        strategy: 'nearStopAndRestartUpgrade',
        namespace: 'default',
        taskQueue: 'worker-metrics',
        workflowType: 'nearStopAndRestartUpgrade',
      },
      value: 1,
    },
  ]);
  expect(seen.failed[0]!.labels.error_type).not.toBe('');
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);

  const bad = startWorker('worker-metrics', { TEMPORAL_ADDRESS: env!.address, VUP_METRICS_ADDRESS: '9464' });
  expect(await bad.exited).toBe(1);
  expect(bad.output().trim()).toBe(
    'worker failed: VUP_METRICS_ADDRESS must be host:port (such as 0.0.0.0:9464), not "9464"',
  );
});

it('polls as a Worker Deployment version named by VUP_DEPLOYMENT_NAME, its build id from the workflow bundle', async () => {
  const deployment = `vup-${randomUUID().slice(0, 8)}`;
  const worker = startWorker('worker-versioned', { TEMPORAL_ADDRESS: env!.address, VUP_DEPLOYMENT_NAME: deployment });
  // The same workflow code gives the same build id: the test's own bundle of workflows/ hashes the same.
  const buildId = defaultBuildId((await bundleUpgradeWorkflows()).code);
  expect(buildId).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
  // The server knows the version once its pollers arrive (a versioned poller is not listed by task-queue describe).
  const described = await eventually('the version on the server', () =>
    temporalCli([
      'worker',
      'deployment',
      'describe-version',
      '--deployment-name',
      deployment,
      '--build-id',
      buildId,
    ]).then(
      ({ stdout }) => (stdout.includes('worker-versioned') ? stdout : undefined),
      () => (worker.child.exitCode !== null ? Promise.reject(new Error(worker.output())) : undefined),
    ),
  );
  expect(described).toContain(buildId);
  expect(worker.output()).toContain(`in namespace "default" as ${deployment}.${buildId}`);
  // A new deployment has no current version: its first build says so, then makes itself current, so that
  // new upgrades reach it (a fresh compose stack has nobody to run set-current-version).
  expect(worker.output()).toContain(
    `worker: deployment ${deployment} has no current version yet: build ${buildId} becomes it once this worker polls`,
  );
  await eventually('the build made current', () =>
    worker
      .output()
      .includes(`worker: build ${buildId} is now the current version of deployment ${deployment} (it had none)`)
      ? true
      : undefined,
  );
  const { stdout: current } = await temporalCli([
    'worker',
    'deployment',
    'describe',
    '--name',
    deployment,
    '-o',
    'json',
  ]);
  expect(JSON.parse(current)).toMatchObject({ routingConfig: { currentVersionBuildID: buildId } });

  // A second build of it starts beside: it says where new upgrades go and does not take over by itself.
  const next = startWorker('worker-versioned', {
    TEMPORAL_ADDRESS: env!.address,
    VUP_DEPLOYMENT_NAME: deployment,
    VUP_BUILD_ID: 'next',
  });
  await eventually('the second build polling', () => (next.output().includes('worker polling') ? true : undefined));
  expect(next.output()).toContain(
    `worker: build next is not the current version of deployment ${deployment}: new upgrades go to its current version ${deployment}.${buildId}; ` +
      `make this build current with: temporal worker deployment set-current-version --deployment-name ${deployment} --build-id next`,
  );
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const { stdout: after } = await temporalCli(['worker', 'deployment', 'describe', '--name', deployment, '-o', 'json']);
  expect(JSON.parse(after)).toMatchObject({ routingConfig: { currentVersionBuildID: buildId } });
  next.child.kill('SIGTERM');
  expect(await next.exited).toBe(0);
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
});
