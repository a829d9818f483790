/**
 * The host activities under the SDK's activity test harness (MockActivityEnvironment), against a real sshd:
 * heartbeats, cancellation that kills the remote command, failure types and retryability, and service control
 * through the testbed's `commands` manager (service-ctl.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { createHostActivities, type RunCommandProgress } from '../../../activities/host/index.js';
import type { HostSpec } from '../../../src/config/host.js';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import { serviceCtlManager, writeServiceDefinition } from '../../../devnet/hosts/service-manager.js';
import { serviceFiles, stopService as stopLocalService } from '../../../devnet/hosts/service-ctl.js';
import { fingerprintOfKeyLine, startSshHost, type SshHost } from '../../../devnet/hosts/sshd.js';
import { runningPids } from '../../helpers/remote-processes.js';
import { makeTree, snapshot } from '../../helpers/trees.js';
import { MockActivityEnvironment, failureOf } from '../../helpers/activity-environment.js';

/** The SDK's activity harness, logging only errors (failed activities are expected here). */
let host: SshHost;
let pool: SshConnectionPool;
let activities: ReturnType<typeof createHostActivities>;

beforeAll(async () => {
  host = await startSshHost({ name: 'activities' });
  pool = new SshConnectionPool();
  activities = createHostActivities({ connections: pool, heartbeatIntervalMs: 200 });
});

afterAll(async () => {
  await pool?.closeAll();
  await host?.stop();
});

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('runCommand', () => {
  it('returns the exit code and output tails, and heartbeats progress while running', async () => {
    const env = new MockActivityEnvironment();
    const beats: RunCommandProgress[] = [];
    env.on('heartbeat', (d: RunCommandProgress) => beats.push(d));
    const gate = path.join(host.rootDir, 'run-gate');
    const running = env.execute(activities.runCommand, {
      host: host.spec,
      argv: ['sh', '-c', 'seq 1 2000; echo warn >&2; while [ ! -e "$1" ]; do sleep 0.1; done; exit 4', 'run', gate],
      tailBytes: 10,
    });
    // A heartbeat that reports the output proves progress is reported while the command still runs.
    await waitFor(() => beats.find((b) => b.stdoutBytes > 0 && b.lastLine === '2000'), 'a progress heartbeat');
    await writeFile(gate, '');
    const result = await running;
    expect(result).toEqual({
      exitCode: 4,
      stdoutTail: '1999\n2000\n',
      stderrTail: 'warn\n',
      stdoutBytes: Buffer.byteLength(Array.from({ length: 2000 }, (_, i) => `${i + 1}\n`).join('')),
      stderrBytes: 5,
    });
  });

  it('kills the remote command and its children when the activity is cancelled', async () => {
    const env = new MockActivityEnvironment();
    const pidFile = path.join(host.rootDir, 'cancel.pids');
    const running = env
      .execute(activities.runCommand, {
        host: host.spec,
        argv: [
          'sh',
          '-c',
          'sleep 100000 & a=$!; sleep 100000 & b=$!; echo "$$ $a $b" > "$1.tmp"; mv "$1.tmp" "$1"; wait',
          'cancel',
          pidFile,
        ],
      })
      .catch((err: unknown) => err);
    const pids = await waitFor(
      async () => (existsSync(pidFile) ? (await readFile(pidFile, 'utf8')).trim().split(' ').map(Number) : undefined),
      'the command to start',
    );
    expect(await runningPids(pool, host.spec, pids)).toEqual(pids);
    env.cancel();
    expect(await running).toBeInstanceOf(CancelledFailure);
    expect(await runningPids(pool, host.spec, pids)).toEqual([]);
  });

  it('fails retryably on timeout, and without retry on bad input', async () => {
    const timeout = await failureOf(
      new MockActivityEnvironment().execute(activities.runCommand, {
        host: host.spec,
        argv: ['sleep', '100000'],
        timeoutMs: 1_000,
      }),
    );
    expect(timeout).toMatchObject({ type: 'CommandTimeout', nonRetryable: false });

    const bad = await failureOf(
      new MockActivityEnvironment().execute(activities.runCommand, { host: host.spec, argv: [] }),
    );
    expect(bad).toMatchObject({ type: 'BadInput', nonRetryable: true });
  });

  it('refuses an unpinned host key without retry and runs nothing', async () => {
    const canary = path.join(host.rootDir, 'activity-canary');
    const other = (await readFile(path.join(path.dirname(host.rootDir), 'client_ed25519.pub'), 'utf8')).trim();
    const spec: HostSpec = { ...host.spec, hostKey: fingerprintOfKeyLine(other) };
    const failure = await failureOf(
      new MockActivityEnvironment().execute(activities.runCommand, { host: spec, argv: ['touch', canary] }),
    );
    expect(failure).toMatchObject({ type: 'HostKeyMismatch', nonRetryable: true });
    expect(failure.message).toContain(host.hostKeyFingerprint);
    expect(existsSync(canary)).toBe(false);
  });
});

describe('file activities', () => {
  it('writes a file with mode 0600, and refuses a binary whose checksum does not match', async () => {
    const env = new MockActivityEnvironment();
    const dir = path.join(host.rootDir, 'files');
    await mkdir(dir);
    const content = randomBytes(1000);
    const file = path.join(dir, 'config.bin');
    await env.execute(activities.writeFileAtomic, {
      host: host.spec,
      path: file,
      content: content.toString('base64'),
      encoding: 'base64' as const,
    });
    expect((await readFile(file)).equals(content)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await env.execute(activities.sha256OfFile, { host: host.spec, path: file })).toBe(
      createHash('sha256').update(content).digest('hex'),
    );

    await writeFile(path.join(dir, 'neard'), 'old');
    const mismatch = await failureOf(
      env.execute(activities.installBinary, {
        host: host.spec,
        source: file,
        destination: path.join(dir, 'neard'),
        sha256: 'b'.repeat(64),
      }),
    );
    expect(mismatch).toMatchObject({ type: 'ChecksumMismatch', nonRetryable: true });
    expect(await readFile(path.join(dir, 'neard'), 'utf8')).toBe('old');
    expect((await env.execute(activities.freeDisk, { host: host.spec, path: dir })).availableBytes).toBeGreaterThan(0);
  });

  it('swaps a data folder and rolls it back, heartbeating the steps', async () => {
    const env = new MockActivityEnvironment();
    const beats: { steps: unknown[] }[] = [];
    env.on('heartbeat', (d: { steps: unknown[] }) => beats.push(structuredClone(d)));
    const home = path.join(host.rootDir, 'node-home');
    const input = { host: host.spec, target: `${home}/data`, staging: `${home}/data.new`, swapId: 'upgrade-1' };
    await makeTree(input.target, 'old');
    await makeTree(input.staging, 'new');
    const [oldTree, newTree] = [await snapshot(input.target), await snapshot(input.staging)];

    const swapped = await env.execute(activities.swapDataFolder, input);
    expect(swapped.steps).toHaveLength(4);
    expect(beats[0]).toEqual({ swapId: 'upgrade-1', steps: [] });
    expect(await snapshot(input.target)).toBe(newTree);
    expect(await snapshot(swapped.paths.backup)).toBe(oldTree);

    const rolledBack = await env.execute(activities.rollbackDataFolder, input);
    expect(rolledBack).toMatchObject({ state: 'rolled-back', newFolder: swapped.paths.aside });
    expect(await snapshot(input.target)).toBe(oldTree);
    expect(await snapshot(swapped.paths.aside)).toBe(newTree);

    const again = await failureOf(env.execute(activities.swapDataFolder, input));
    expect(again).toMatchObject({ type: 'UnsafeSwapState', nonRetryable: true });
  });
});

describe('service control through service-ctl', () => {
  let spec: HostSpec;

  beforeAll(() => {
    spec = { ...host.spec, serviceManager: serviceCtlManager(host.rootDir, { graceMs: 1_500 }) };
  });

  afterAll(async () => {
    // Whatever a failed test left running on this machine.
    for (const name of ['sim-node', 'stubborn', 'liar']) await stopLocalService(host.rootDir, name, 500);
  });

  async function servicePid(name: string): Promise<number> {
    const record = JSON.parse(await readFile(serviceFiles(host.rootDir, name).pidFile, 'utf8')) as { pid: number };
    return record.pid;
  }

  it('starts a service, observes it active, and stops it', async () => {
    const env = new MockActivityEnvironment();
    await writeServiceDefinition(host.rootDir, 'sim-node', {
      argv: ['sh', '-c', 'echo "node up in $PWD"; exec sleep 100000'],
    });
    expect(await env.execute(activities.isServiceActive, { host: spec, service: 'sim-node' })).toBe(false);
    expect(await env.execute(activities.startService, { host: spec, service: 'sim-node' })).toEqual({
      wasActive: false,
    });
    expect(await env.execute(activities.isServiceActive, { host: spec, service: 'sim-node' })).toBe(true);
    const pid = await servicePid('sim-node');
    expect(await runningPids(pool, spec, [pid])).toEqual([pid]);
    expect(await env.execute(activities.startService, { host: spec, service: 'sim-node' })).toEqual({
      wasActive: true,
    });

    const stopped = await env.execute(activities.stopService, { host: spec, service: 'sim-node' });
    expect(stopped).toMatchObject({ wasActive: true });
    expect(await env.execute(activities.isServiceActive, { host: spec, service: 'sim-node' })).toBe(false);
    expect(await runningPids(pool, spec, [pid])).toEqual([]);
    expect(await readFile(serviceFiles(host.rootDir, 'sim-node').log, 'utf8')).toContain(`node up in ${host.rootDir}`);
    expect(await env.execute(activities.stopService, { host: spec, service: 'sim-node' })).toEqual({
      wasActive: false,
    });
  });

  it('ends a service that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const env = new MockActivityEnvironment();
    await writeServiceDefinition(host.rootDir, 'stubborn', {
      argv: ['sh', '-c', 'trap "" TERM; while :; do sleep 1; done'],
    });
    await env.execute(activities.startService, { host: spec, service: 'stubborn' });
    const pid = await servicePid('stubborn');
    expect(await env.execute(activities.stopService, { host: spec, service: 'stubborn' })).toMatchObject({
      wasActive: true,
      stopExitCode: 0,
    });
    expect(await env.execute(activities.isServiceActive, { host: spec, service: 'stubborn' })).toBe(false);
    expect(await runningPids(pool, spec, [pid])).toEqual([]);
  });

  it('does not trust a stop command that exits 0 while the service keeps running', async () => {
    const env = new MockActivityEnvironment();
    await writeServiceDefinition(host.rootDir, 'liar', { argv: ['sleep', '100000'] });
    const manager = serviceCtlManager(host.rootDir);
    const lying: HostSpec = { ...host.spec, serviceManager: { ...manager, stop: ['true'] } };
    await env.execute(activities.startService, { host: lying, service: 'liar' });
    const failure = await failureOf(
      env.execute(activities.stopService, { host: lying, service: 'liar', observeMs: 2_000 }),
    );
    expect(failure).toMatchObject({ type: 'ServiceStillActive', nonRetryable: false });
    expect(await env.execute(activities.isServiceActive, { host: spec, service: 'liar' })).toBe(true);
    await env.execute(activities.stopService, { host: spec, service: 'liar' });
    expect(await env.execute(activities.isServiceActive, { host: spec, service: 'liar' })).toBe(false);
  });

  it('refuses a service name that is not plain', async () => {
    const failure = await failureOf(
      new MockActivityEnvironment().execute(activities.startService, { host: spec, service: 'x; rm -rf /' }),
    );
    expect(failure).toMatchObject({ type: 'BadInput', nonRetryable: true });
  });
});
