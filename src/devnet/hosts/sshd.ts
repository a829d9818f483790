/**
 * Real OpenSSH sshd instances on loopback, one per simulated machine.
 *
 * Each host gets a fresh ed25519 host key, a client key pair allowed to log in, and a root folder that stands
 * for the machine's disk (node homes live below it). As root, sshd logs in as root; as any other user it can
 * only log in as that same user (no privilege separation), so the spec names whoever runs the tests.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { freePort } from '../ports.js';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HostSpec, ServiceManagerSpec } from '../../config/host.js';

const run = promisify(execFile);
const SSHD = process.env.SSHD_PATH ?? '/usr/sbin/sshd';

export interface SshHost {
  spec: HostSpec;
  /** The folder standing for this machine's disk. */
  rootDir: string;
  /** `SHA256:…` of the host key sshd presents. */
  hostKeyFingerprint: string;
  /** The OpenSSH public key line of the host key. */
  hostKeyLine: string;
  port: number;
  /** The sshd process id, so tests can check it is gone. */
  pid: number;
  stop(): Promise<void>;
}

export interface StartSshHostOptions {
  name: string;
  /** Listen on this port (for example the port of a stopped host, to present a changed host key there). */
  port?: number;
  serviceManager?: ServiceManagerSpec;
}

export async function startSshHost(options: StartSshHostOptions): Promise<SshHost> {
  const dir = await mkdtemp(path.join(tmpdir(), `vup-sshd-${options.name}-`));
  try {
    return await startIn(dir, options);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(dir: string, options: StartSshHostOptions): Promise<SshHost> {
  const user = userInfo().username;
  const asRoot = process.getuid?.() === 0;
  const rootDir = path.join(dir, 'machine');
  await mkdir(rootDir);
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = path.join(dir, 'client_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `host-${options.name}`, '-f', hostKey]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `client-${options.name}`, '-f', clientKey]);
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o600 });
  const hostKeyLine = (await readFile(`${hostKey}.pub`, 'utf8')).trim();
  if (asRoot) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const config = path.join(dir, 'sshd_config');
  // A port found free can be taken before sshd binds it; try a few fresh ones unless the port is fixed.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    await writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        `AllowUsers ${user}`,
        asRoot ? 'PermitRootLogin prohibit-password' : 'PermitRootLogin no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PidFile none',
        'MaxSessions 50',
        'MaxStartups 50:30:100',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const sshd = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    sshd.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const ready = await waitForBanner(port, sshd);
    if (!ready) {
      await stopProcess(sshd);
      if (options.port === undefined && attempt < 5 && /Address already in use/.test(stderr)) continue;
      throw new Error(`sshd for ${options.name} did not start on port ${port}: ${stderr.trim()}`);
    }
    const spec: HostSpec = {
      id: options.name,
      address: '127.0.0.1',
      port,
      user,
      hostKey: hostKeyLine,
      auth: { type: 'keyFile', path: clientKey },
      serviceManager: options.serviceManager ?? { type: 'systemd', sudo: false },
    };
    return {
      spec,
      rootDir,
      hostKeyLine,
      hostKeyFingerprint: fingerprintOfKeyLine(hostKeyLine),
      port,
      pid: sshd.pid ?? -1,
      stop: async () => {
        await stopProcess(sshd);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

export function fingerprintOfKeyLine(line: string): string {
  const blob = Buffer.from(line.split(' ')[1] ?? '', 'base64');
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** Ready means a TCP client receives the SSH protocol banner; gives up when sshd exits or after 30 s. */
async function waitForBanner(port: number, sshd: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (sshd.exitCode !== null || sshd.signalCode !== null) return false;
    if (await bannerSeen(port)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function bannerSeen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(5_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('SSH-2.0-')));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
