/**
 * Host key pinning and authentication on a real sshd: a key other than the pinned one (unknown, or changed
 * on the same address and port) is refused before anything runs, and auth failures are not retried.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HostSpec } from '../../../src/config/host.js';
import { connectSsh } from '../../../src/ssh/connection.js';
import { HostError } from '../../../src/ssh/errors.js';
import { execCapture } from '../../../src/ssh/exec.js';
import { fingerprintOfKeyLine, startSshHost, type SshHost } from '../../../devnet/hosts/sshd.js';

const run = promisify(execFile);
let host: SshHost;
let scratch: string;

beforeAll(async () => {
  host = await startSshHost({ name: 'hostkeys' });
  scratch = await mkdtemp(path.join(tmpdir(), 'vup-hostkeys-'));
});

afterAll(async () => {
  await host?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function newKeyPair(name: string): Promise<{ privateKey: string; publicLine: string }> {
  const file = path.join(scratch, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  const { stdout } = await run('cat', [`${file}.pub`]);
  return { privateKey: file, publicLine: stdout.trim() };
}

/** Connects and, only if that succeeds, creates the canary file on the host. */
async function connectAndTouch(spec: HostSpec, canary: string): Promise<unknown> {
  try {
    const connection = await connectSsh(spec);
    try {
      await execCapture(connection, ['touch', canary]);
    } finally {
      connection.close();
    }
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('host key pinning', () => {
  it('connects when the pinned key line or its fingerprint matches', async () => {
    for (const hostKey of [host.hostKeyLine, host.hostKeyFingerprint]) {
      const connection = await connectSsh({ ...host.spec, hostKey });
      const result = await execCapture(connection, ['id', '-un']);
      connection.close();
      expect(result.stdout.toString().trim()).toBe(host.spec.user);
    }
  });

  it('refuses an unknown host key, naming the host and the key it saw, and runs nothing', async () => {
    const other = await newKeyPair('other-host-key');
    const canary = path.join(host.rootDir, 'unknown-key-canary');
    for (const hostKey of [other.publicLine, fingerprintOfKeyLine(other.publicLine)]) {
      const error = await connectAndTouch({ ...host.spec, hostKey }, canary);
      expect(error).toBeInstanceOf(HostError);
      expect(error).toMatchObject({ type: 'HostKeyMismatch', nonRetryable: true });
      const message = (error as Error).message;
      expect(message).toContain(host.spec.id);
      expect(message).toContain(`127.0.0.1:${host.port}`);
      expect(message).toContain(host.hostKeyFingerprint);
    }
    expect(existsSync(canary)).toBe(false);
  });

  it('refuses a changed host key on the same address and port', async () => {
    const first = await startSshHost({ name: 'changing' });
    const pinned = first.spec;
    const canary = path.join(scratch, 'changed-key-canary');
    expect(await connectAndTouch(pinned, canary)).toBeUndefined();
    expect(existsSync(canary)).toBe(true);
    await rm(canary);
    await first.stop();

    const replacement = await startSshHost({ name: 'changing', port: first.port });
    try {
      expect(replacement.hostKeyFingerprint).not.toBe(first.hostKeyFingerprint);
      // The pinned spec, with the new machine's client key so only the host key differs.
      const error = await connectAndTouch({ ...pinned, auth: replacement.spec.auth }, canary);
      expect(error).toMatchObject({ type: 'HostKeyMismatch', nonRetryable: true });
      expect((error as Error).message).toContain(replacement.hostKeyFingerprint);
      expect((error as Error).message).toContain(first.hostKeyFingerprint);
      expect(existsSync(canary)).toBe(false);
    } finally {
      await replacement.stop();
    }
  });
});

describe('authentication', () => {
  it('fails without retry when the key is not authorized', async () => {
    const stranger = await newKeyPair('stranger');
    const error = await connectAndTouch(
      { ...host.spec, auth: { type: 'keyFile', path: stranger.privateKey } },
      path.join(host.rootDir, 'auth-canary'),
    );
    expect(error).toMatchObject({ type: 'AuthFailed', nonRetryable: true });
  });

  it('reads a key passphrase from the named environment variable, never from the spec', async () => {
    const file = path.join(scratch, 'encrypted');
    const passphrase = 'correct horse battery staple';
    await run('cp', [host.spec.auth.type === 'keyFile' ? host.spec.auth.path : '', file]);
    await run('ssh-keygen', ['-q', '-p', '-N', passphrase, '-f', file]);
    const spec: HostSpec = {
      ...host.spec,
      auth: { type: 'keyFile', path: file, passphraseEnv: 'VUP_TEST_PASSPHRASE' },
    };

    const unset = await connectAndTouch(spec, path.join(host.rootDir, 'pass-canary'));
    expect(unset).toMatchObject({ type: 'AuthFailed', nonRetryable: true });
    expect((unset as Error).message).toContain('VUP_TEST_PASSPHRASE');

    process.env.VUP_TEST_PASSPHRASE = 'wrong';
    try {
      const wrong = await connectAndTouch(spec, path.join(host.rootDir, 'pass-canary'));
      expect(wrong).toMatchObject({ type: 'AuthFailed', nonRetryable: true });
      expect((wrong as Error).message).not.toContain('wrong');
      process.env.VUP_TEST_PASSPHRASE = passphrase;
      expect(await connectAndTouch(spec, path.join(host.rootDir, 'pass-canary'))).toBeUndefined();
    } finally {
      delete process.env.VUP_TEST_PASSPHRASE;
    }
  });

  it('authenticates with keys held by ssh-agent', async () => {
    const socket = path.join(scratch, 'agent.sock');
    const { stdout } = await run('ssh-agent', ['-a', socket, '-s']);
    const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(stdout)?.[1]);
    const previous = process.env.SSH_AUTH_SOCK;
    try {
      if (host.spec.auth.type !== 'keyFile') throw new Error('harness hosts use key files');
      await run('ssh-add', ['-q', host.spec.auth.path], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      process.env.SSH_AUTH_SOCK = socket;
      expect(await connectAndTouch({ ...host.spec, auth: { type: 'agent' } }, path.join(host.rootDir, 'agent'))).toBe(
        undefined,
      );
      expect(existsSync(path.join(host.rootDir, 'agent'))).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = previous;
      if (agentPid > 0) process.kill(agentPid);
    }
  });
});
