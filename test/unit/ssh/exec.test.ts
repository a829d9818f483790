/**
 * exec() on a real sshd: exit codes, streamed stdout/stderr, stdin, and that timeouts and aborts kill the
 * remote command together with its children.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import { exec, execCapture } from '../../../src/ssh/exec.js';
import { HostError } from '../../../src/ssh/errors.js';
import { startSshHost, type SshHost } from '../../../devnet/hosts/sshd.js';
import { runningPids } from '../../helpers/remote-processes.js';

let host: SshHost;
let pool: SshConnectionPool;

beforeAll(async () => {
  host = await startSshHost({ name: 'exec' });
  pool = new SshConnectionPool();
});

afterAll(async () => {
  await pool?.closeAll();
  await host?.stop();
});

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A shell that starts two sleeping children, records all three pids, then waits. */
function treeScript(pidFile: string, ignoreTerm: boolean) {
  return [
    'sh',
    '-c',
    `${ignoreTerm ? 'trap "" TERM; ' : ''}sleep 100000 & a=$!; sleep 100000 & b=$!; echo "$$ $a $b" > "$1.tmp"; mv "$1.tmp" "$1"; wait`,
    'tree',
    pidFile,
  ];
}

async function pidsFrom(pidFile: string): Promise<number[]> {
  return waitFor(async () => {
    if (!existsSync(pidFile)) return undefined;
    return (await readFile(pidFile, 'utf8')).trim().split(' ').map(Number);
  }, 'the remote command to record its pids');
}

describe('exec', () => {
  it('returns the exit code', async () => {
    const connection = await pool.get(host.spec);
    expect((await exec(connection, ['sh', '-c', 'exit 7'])).exitCode).toBe(7);
    expect((await exec(connection, ['true'])).exitCode).toBe(0);
    expect((await exec(connection, ['/nonexistent/program'])).exitCode).toBe(127);
    // A command killed by a signal reports 128 + the signal number, as shells do.
    expect((await exec(connection, ['sh', '-c', 'kill -KILL $$'])).exitCode).toBe(137);
  });

  it('separates stdout and stderr and passes stdin through byte for byte', async () => {
    const connection = await pool.get(host.spec);
    const result = await execCapture(connection, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    expect(result).toMatchObject({ exitCode: 3, stderr: 'to-err\n' });
    expect(result.stdout.toString()).toBe('to-out\n');

    const binary = randomBytes(300_000);
    const echoed = await execCapture(connection, ['cat'], { stdin: binary });
    expect(echoed.stdout.equals(binary)).toBe(true);
  });

  it('streams output while the command still runs', async () => {
    const connection = await pool.get(host.spec);
    const gate = path.join(host.rootDir, 'stream-gate');
    const chunks: string[] = [];
    let sawFirstBeforeGate = false;
    const running = exec(
      connection,
      ['sh', '-c', 'echo first; while [ ! -e "$1" ]; do sleep 0.1; done; echo second >&2', 'stream', gate],
      {
        onStdout: (chunk) => {
          chunks.push(chunk.toString());
          // The command cannot finish before the gate exists, so this output was streamed, not buffered.
          sawFirstBeforeGate = !existsSync(gate);
          void writeFile(gate, '');
        },
        onStderr: (chunk) => chunks.push(chunk.toString()),
      },
    );
    expect((await running).exitCode).toBe(0);
    expect(sawFirstBeforeGate).toBe(true);
    expect(chunks.join('')).toBe('first\nsecond\n');
  });

  it('kills the command and its children on timeout', async () => {
    const connection = await pool.get(host.spec);
    const pidFile = path.join(host.rootDir, 'timeout.pids');
    // Long enough for a loaded machine to start the tree before the timeout kills it.
    const running = exec(connection, treeScript(pidFile, false), { timeoutMs: 8_000 });
    const outcome = running.catch((err: unknown) => err);
    const pids = await pidsFrom(pidFile);
    const error = await outcome;
    expect(error).toBeInstanceOf(HostError);
    expect(error).toMatchObject({ type: 'CommandTimeout', nonRetryable: false });
    expect(await runningPids(pool, host.spec, pids)).toEqual([]);
  });

  it('kills the command and its children when aborted, with KILL for those ignoring TERM', async () => {
    const connection = await pool.get(host.spec);
    const pidFile = path.join(host.rootDir, 'abort.pids');
    const controller = new AbortController();
    const outcome = exec(connection, treeScript(pidFile, true), {
      signal: controller.signal,
      killGraceMs: 1_000,
    }).catch((err: unknown) => err);
    const pids = await pidsFrom(pidFile);
    expect(await runningPids(pool, host.spec, pids)).toEqual(pids);
    controller.abort(new Error('operator cancelled'));
    expect(await outcome).toMatchObject({ message: 'operator cancelled' });
    expect(await runningPids(pool, host.spec, pids)).toEqual([]);
  });

  it('kills the command when the connection that runs it is lost', async () => {
    const connection = await pool.get(host.spec);
    const pidFile = path.join(host.rootDir, 'lost.pids');
    const outcome = exec(connection, treeScript(pidFile, false)).catch((err: unknown) => err);
    const pids = await pidsFrom(pidFile);
    connection.destroy();
    expect(await outcome).toMatchObject({ type: 'ConnectionLost', nonRetryable: false });
    expect(await runningPids(pool, host.spec, pids)).toEqual([]);
  });

  it('refuses to start when already aborted', async () => {
    const connection = await pool.get(host.spec);
    const canary = path.join(host.rootDir, 'aborted-canary');
    await expect(
      exec(connection, ['touch', canary], { signal: AbortSignal.abort(new Error('too late')) }),
    ).rejects.toThrow('too late');
    expect(existsSync(canary)).toBe(false);
  });
});
