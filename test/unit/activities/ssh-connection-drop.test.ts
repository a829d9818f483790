/**
 * An SSH connection dropped in the middle of a remote command (issue 12, faults at the wire). The worker reaches
 * a real sshd through a TCP proxy that resets every connection at once; the host holds each command's exit
 * status (devnet/hosts/sshd.ts `holdAnswers`), so the cut lands after the command did its work and before the
 * worker heard how it ended, or, for the stop, while the command still runs.
 *
 * Defined outcome: the attempt fails with ConnectionLost, which the retry policy retries
 * (src/api/contracts/failures.ts); the retry, on a fresh connection, completes, and the command is idempotent:
 * counted from the host's own records (the binary's inode, the service's start log and pid file), the binary
 * is installed once with the right checksum and the service is started once and stopped once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApplicationFailure } from '@temporalio/common';
import { createHostActivities } from '../../../activities/host/index.js';
import { hostFailures } from '../../../src/api/contracts/failures.js';
import { changeOptions } from '../../../workflows/common/activity-options.js';
import type { HostSpec } from '../../../src/config/host.js';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import { serviceCtlManager, writeServiceDefinition } from '../../../devnet/hosts/service-manager.js';
import { serviceFiles, stopService as stopLocalService } from '../../../devnet/hosts/service-ctl.js';
import { startSshHost, type SshHost } from '../../../devnet/hosts/sshd.js';
import { MockActivityEnvironment, failureOf } from '../../helpers/activity-environment.js';
import { eventually } from '../../helpers/eventually.js';
import { runningPids } from '../../helpers/remote-processes.js';
import { commandName, SshAnswerHold } from '../../helpers/ssh-answer-hold.js';
import { startTcpCutProxy, type TcpCutProxy } from '../../helpers/tcp-cut-proxy.js';

let host: SshHost;
let proxy: TcpCutProxy;
let hold: SshAnswerHold;
let spec: HostSpec;
let pool: SshConnectionPool;
let activities: ReturnType<typeof createHostActivities>;

beforeAll(async () => {
  host = await startSshHost({ name: 'drop', holdAnswers: true });
  proxy = await startTcpCutProxy(host.port);
  hold = new SshAnswerHold({ drop: host.answerHold!.dir });
  spec = { ...host.spec, port: proxy.port, serviceManager: serviceCtlManager(host.rootDir, { graceMs: 3_000 }) };
  pool = new SshConnectionPool();
  activities = createHostActivities({ connections: pool, heartbeatIntervalMs: 200 });
});

afterAll(async () => {
  await hold?.disarm();
  await pool?.closeAll();
  for (const name of ['drop-start', 'drop-stop']) await stopLocalService(host.rootDir, name, 500).catch(() => {});
  await proxy?.close();
  await host?.stop();
});

/**
 * Runs one attempt with the host holding answers: every other command is let through, and when the command
 * named `at` has run, the connection is cut (then the hold is lifted, so the kill of its group and the retry
 * are not held). Returns the attempt's failure.
 */
async function cutAfter(at: string, attempt: () => Promise<unknown>) {
  await hold.arm();
  const settled = failureOf(attempt());
  try {
    await eventually(`${at} to run on the host`, async () => {
      for (const answer of await hold.held()) {
        if (commandName(answer.argv) === at) return true;
        await hold.release(answer);
      }
      return undefined;
    });
    expect(proxy.cut()).toBeGreaterThan(0);
  } finally {
    await hold.disarm();
  }
  return settled;
}

async function servicePid(name: string): Promise<number> {
  return (JSON.parse(await readFile(serviceFiles(host.rootDir, name).pidFile, 'utf8')) as { pid: number }).pid;
}

function expectConnectionLost(failure: ApplicationFailure) {
  expect(failure).toMatchObject({ type: 'ConnectionLost', nonRetryable: false });
  expect(hostFailures.ConnectionLost).toBe('retryable');
  // The options the runbooks start host changes with (install, start, stop) retry it.
  expect(changeOptions.retry?.maximumAttempts).toBeGreaterThan(1);
  expect(changeOptions.retry?.nonRetryableErrorTypes).not.toContain('ConnectionLost');
  expect(failure.message).toContain('connection lost');
}

it('install-release: the retry finds the binary installed and leaves it as it is (installed once, right checksum)', async () => {
  const env = new MockActivityEnvironment();
  const dir = path.join(host.rootDir, 'bin');
  await mkdir(dir);
  const release = randomBytes(4096);
  const sha256 = createHash('sha256').update(release).digest('hex');
  await writeFile(path.join(dir, 'neard.staged'), release);
  await writeFile(path.join(dir, 'neard'), 'old release');
  const input = { host: spec, source: path.join(dir, 'neard.staged'), destination: path.join(dir, 'neard'), sha256 };

  const before = proxy.accepted;
  expectConnectionLost(await cutAfter('vup-install', () => env.execute(activities.installBinary, input)));
  const installed = await stat(input.destination);
  expect(
    createHash('sha256')
      .update(await readFile(input.destination))
      .digest('hex'),
  ).toBe(sha256);

  expect(await env.execute(activities.installBinary, input)).toEqual({ changed: false });
  expect(proxy.accepted).toBeGreaterThan(before + 1);
  // The same file (inode and mtime): the retry did not copy it again; no half-made copy is left beside it.
  const after = await stat(input.destination);
  expect([after.ino, after.mtimeMs]).toEqual([installed.ino, installed.mtimeMs]);
  expect((after.mode & 0o777).toString(8)).toBe('755');
  expect((await readdir(dir)).sort()).toEqual(['neard', 'neard.staged']);
});

it('service start: the retry finds the service running and does not start it again', async () => {
  const env = new MockActivityEnvironment();
  const log = path.join(host.rootDir, 'drop-start.starts');
  await writeServiceDefinition(host.rootDir, 'drop-start', {
    argv: ['sh', '-c', 'echo "$$" >> "$1"; exec sleep 100000', 'node', log],
  });
  const input = { host: spec, service: 'drop-start' };

  expectConnectionLost(
    await cutAfter('service-ctl start drop-start', () => env.execute(activities.startService, input)),
  );
  expect(await env.execute(activities.startService, input)).toEqual({ wasActive: true });

  const starts = (await readFile(log, 'utf8')).trim().split('\n').map(Number);
  expect(starts).toHaveLength(1);
  expect(await servicePid('drop-start')).toBe(starts[0]);
  expect(await runningPids(pool, spec, starts)).toEqual(starts);
  expect(await env.execute(activities.isServiceActive, input)).toBe(true);
});

it('service stop cut while it runs: the interrupted stop is killed, and the retry stops the service', async () => {
  const env = new MockActivityEnvironment();
  const log = path.join(host.rootDir, 'drop-stop.log');
  // Ignores TERM, so the stop runs through its 3 s grace period before KILL: the cut lands inside it.
  await writeServiceDefinition(host.rootDir, 'drop-stop', {
    argv: ['sh', '-c', 'trap "echo TERM >> $1" TERM; echo "up $$" >> "$1"; while :; do sleep 0.1; done', 'node', log],
  });
  const input = { host: spec, service: 'drop-stop' };
  await env.execute(activities.startService, input);
  const pid = await servicePid('drop-stop');

  const stopping = failureOf(env.execute(activities.stopService, input));
  await eventually('the stop to send TERM', async () =>
    (await readFile(log, 'utf8')).includes('TERM') ? true : undefined,
  );
  expect(proxy.cut()).toBeGreaterThan(0);
  expectConnectionLost(await stopping);
  // The interrupted stop's process group was killed before it could KILL the service: the service still runs.
  expect(await runningPids(pool, spec, [pid])).toEqual([pid]);

  expect(await env.execute(activities.stopService, input)).toMatchObject({ wasActive: true });
  expect(await env.execute(activities.isServiceActive, input)).toBe(false);
  expect(await runningPids(pool, spec, [pid])).toEqual([]);
  expect(existsSync(serviceFiles(host.rootDir, 'drop-stop').pidFile)).toBe(false);
  expect((await readFile(log, 'utf8')).match(/^up /gm)).toHaveLength(1);
}, 60_000);
