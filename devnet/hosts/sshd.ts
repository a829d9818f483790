/**
 * Real OpenSSH sshd instances on loopback, one per simulated machine.
 *
 * Each host gets a fresh ed25519 host key, a client key pair allowed to log in, and a root folder that stands
 * for the machine's disk (node homes live below it). As root, sshd logs in as root; as any other user it can
 * only log in as that same user (no privilege separation), so the spec names whoever runs the tests.
 *
 * `user: 'vup-test'` makes a root test process run the host the way docs/host-access.md sets up a validator
 * host: sshd runs as that unprivileged account (created if missing, a system user with a home and /bin/sh),
 * so every remote command, and every service started over SSH, runs as it. Its folder (host keys,
 * authorized_keys, the machine's disk) belongs to that account; whatever the test writes into the machine
 * later is handed over with `chownToUser()`. A process that is not root cannot switch users: there the
 * option is ignored and the host logs in as the current user, as without it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { freePort } from '../ports.js';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HostSpec, ServiceManagerSpec } from '../../src/config/host.js';
import { repoRoot } from '../../src/repo-root.js';

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
  /** The account sshd runs as and logs in as (`spec.user`), and its ids. */
  account: HostAccount;
  /** Present when the host was started with `holdAnswers`. */
  answerHold?: AnswerHoldDir;
  /**
   * Hands `target` (default: the whole machine, `rootDir`) and everything under it to the host's account, so
   * what the test wrote there is the account's own, as on a host set up for it. Nothing to do when the host
   * runs as the test's own user.
   */
  chownToUser(target?: string): Promise<void>;
  stop(): Promise<void>;
}

export interface HostAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** sshd runs as this account rather than as the test process's user (a root test process, `user` given). */
  switched: boolean;
}

export interface StartSshHostOptions {
  name: string;
  /** Listen on this port (for example the port of a stopped host, to present a changed host key there). */
  port?: number;
  serviceManager?: ServiceManagerSpec;
  /**
   * When the test process is root: run sshd as this unprivileged account (created if missing) and log in as
   * it. Ignored otherwise (sshd can only log in as the user it runs as). Default: the test process's user.
   */
  user?: string;
  /**
   * The host holds each command's answer while a crash test asks it to (`SshHost.answerHold`): sshd runs
   * every command through a wrapper (ForceCommand) that, after the command has run and while `<dir>/armed`
   * exists, writes the command's argv to `<dir>/held.<pid>` and waits until that file is gone before it
   * exits. The command's effect is on the machine; the client has not heard its exit status.
   */
  holdAnswers?: boolean;
}

/** Where a host holding answers (`holdAnswers`) parks them; see StartSshHostOptions.holdAnswers. */
export interface AnswerHoldDir {
  dir: string;
}

/**
 * The ForceCommand of a host holding answers. The client's command line (exec.ts quotes it for sh) is
 * parsed into argv by the shell itself, so the held file names the command the way the client built it.
 */
const holdWrapper = (dir: string) => `#!/bin/sh
sh -c "$SSH_ORIGINAL_COMMAND"
rc=$?
if [ -e '${dir}/armed' ]; then
  held='${dir}/held.'$$
  eval "set -- $SSH_ORIGINAL_COMMAND"
  { for arg in "$@"; do printf '%s\\0' "$arg"; done; } > "$held.tmp" && mv "$held.tmp" "$held"
  while [ -e "$held" ]; do sleep 0.05; done
fi
exit "$rc"
`;

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
  const processIsRoot = process.getuid?.() === 0;
  const account =
    processIsRoot && options.user !== undefined && options.user !== 'root'
      ? await ensureSystemUser(options.user)
      : currentAccount();
  const user = account.name;
  // sshd runs as root only when it logs in as root.
  const asRoot = processIsRoot && !account.switched;
  const rootDir = path.join(dir, 'machine');
  await mkdir(rootDir);
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = path.join(dir, 'client_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `host-${options.name}`, '-f', hostKey]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `client-${options.name}`, '-f', clientKey]);
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o600 });
  const hostKeyLine = (await readFile(`${hostKey}.pub`, 'utf8')).trim();
  if (asRoot) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const chownToUser = async (target: string = rootDir) => {
    if (account.switched) await run('chown', ['-R', '-h', '--', `${account.uid}:${account.gid}`, target]);
  };
  if (account.switched) {
    // sshd (not root) reads its host key, which it wants private to its own user, and authorized_keys as
    // that user; the account's session reaches the machine's disk through this folder. The client key stays
    // the test's (the worker side): the account gets the folder, not that file.
    await chownToUser(dir);
    await run('chown', ['--', '0:0', clientKey, `${clientKey}.pub`]);
    await chmod(dir, 0o700);
    await checkReachable(account);
  }

  let answerHold: AnswerHoldDir | undefined;
  const forceCommand: string[] = [];
  if (options.holdAnswers) {
    answerHold = { dir: path.join(dir, 'answer-hold') };
    await mkdir(answerHold.dir, { mode: 0o777 });
    await chmod(answerHold.dir, 0o777);
    const wrapper = path.join(dir, 'hold-answer.sh');
    await writeFile(wrapper, holdWrapper(answerHold.dir), { mode: 0o755 });
    forceCommand.push(`ForceCommand ${wrapper}`);
  }
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
        ...forceCommand,
        '',
      ].join('\n'),
    );
    const sshd = spawn(SSHD, ['-D', '-e', '-f', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(account.switched
        ? {
            uid: account.uid,
            gid: account.gid,
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: account.home, USER: user, LOGNAME: user },
          }
        : {}),
    });
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
      account,
      ...(answerHold ? { answerHold } : {}),
      chownToUser,
      stop: async () => {
        await stopProcess(sshd);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

function currentAccount(): HostAccount {
  const me = userInfo();
  return { name: me.username, uid: me.uid, gid: me.gid, home: me.homedir, switched: false };
}

const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * The unprivileged account `name`, created first if missing (`useradd --system --create-home --shell /bin/sh`).
 * Several tests may start hosts with the same account at once: a useradd that loses the race (the name is
 * taken, or /etc/passwd is locked by the other useradd) is fine as long as the account exists afterwards.
 */
export async function ensureSystemUser(name: string): Promise<HostAccount> {
  if (!ACCOUNT_NAME.test(name)) throw new Error(`not a user name for a test host: ${JSON.stringify(name)}`);
  let lastError = '';
  for (let attempt = 1; attempt <= 20; attempt++) {
    const found = await lookUpAccount(name);
    if (found) {
      if (found.uid === 0) throw new Error(`the account ${name} has uid 0; a test host's user must not be root`);
      return found;
    }
    try {
      await run('useradd', ['--system', '--create-home', '--shell', '/bin/sh', name]);
    } catch (err) {
      // 9: the name is already in use (created meanwhile); 10: the passwd files are locked (a useradd runs).
      lastError = err instanceof Error ? err.message : String(err);
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
  throw new Error(`cannot create the test hosts' user ${name}: ${lastError}`);
}

async function lookUpAccount(name: string): Promise<HostAccount | undefined> {
  let line: string;
  try {
    line = (await run('getent', ['passwd', name])).stdout.trim();
  } catch {
    return undefined; // getent exits 2 when the name is unknown
  }
  const [, , uid, gid, , home] = line.split(':');
  if (uid === undefined || gid === undefined || home === undefined) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), home, switched: true };
}

/**
 * The testbeds' services (service-ctl, the simulated node binaries) run this repository's sources with this
 * Node.js; an account that cannot reach them would fail later and less clearly.
 */
async function checkReachable(account: HostAccount): Promise<void> {
  const files = [process.execPath, path.join(repoRoot(), 'package.json')];
  const child = spawn('/bin/sh', ['-c', 'test -x "$1" && test -r "$2"', 'vup-check', ...files], {
    uid: account.uid,
    gid: account.gid,
    stdio: 'ignore',
    cwd: '/',
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) {
    throw new Error(
      `user ${account.name} cannot run ${files[0]} or read ${files[1]}: the test hosts' services run from ` +
        'this repository, so it must be readable by other users (not under /root, for example)',
    );
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
