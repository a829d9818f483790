/**
 * The host scan behind "this node is not running", on a real sshd and real processes: it finds a process by
 * the home on its command line (both flag forms, a relative one through its working directory), a process that
 * holds the database LOCK open or locked without naming the home, and another node's home holding the key;
 * and it finds nothing once they are gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSshHost, type SshHost } from '../../../devnet/hosts/sshd.js';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import { scanEvidence, scanFolderUsers, type FolderScanSpec } from '../../../src/ssh/process-scan.js';

let host: SshHost;
let pool: SshConnectionPool;
let root: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  host = await startSshHost({ name: 'scan' });
  pool = new SshConnectionPool();
  root = mkdtempSync(path.join(tmpdir(), 'vup-scan-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
});

afterAll(async () => {
  await pool?.closeAll();
  await host?.stop();
  rmSync(root, { recursive: true, force: true });
});

const KEYS_OF = `keys_of() { if [ -f "$1/key" ]; then cat "$1/key"; else echo none; fi; }`;

function home(name: string, key?: string): string {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  writeFileSync(path.join(dir, 'data', 'LOCK'), '');
  if (key) writeFileSync(path.join(dir, 'key'), key);
  return dir;
}

const spec = (folder: string): FolderScanSpec => ({
  folder,
  homeFlags: ['--home'],
  programName: 'fakenode',
  defaultHome: '.fakenode',
  keysOfScript: KEYS_OF,
});

/** A long-running process with the given argv tail (node ignores what follows the script). */
function run(args: string[], opts: { cwd?: string; code?: string } = {}): ChildProcess {
  const child = spawn(process.execPath, ['-e', opts.code ?? 'setInterval(() => {}, 1e6)', '--', ...args], {
    cwd: opts.cwd,
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

async function scan(folder: string) {
  return scanFolderUsers(await pool.get(host.spec), spec(folder), { looks: 2, gapMs: 100 });
}

/** Polls until the scan sees what `seen` wants (a process's command line takes a moment to appear). */
async function scanUntil(folder: string, seen: (s: Awaited<ReturnType<typeof scan>>) => boolean) {
  for (let i = 0; i < 50; i++) {
    const s = await scan(folder);
    if (seen(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the scan never saw it');
}

describe('scanFolderUsers', () => {
  it('sees nothing when nothing runs with the folder', async () => {
    const h = home('idle');
    const s = await scan(h);
    expect(s.looks).toBe(2);
    expect(s.processes.filter((p) => p.sameFolder !== false)).toEqual([]);
    expect(s.lockHolders).toEqual([]);
    expect(s.openers).toEqual([]);
    expect(scanEvidence(s, { holdsKey: (k) => k === 'K' })).toMatchObject({ running: [], otherHolders: [] });
  });

  it.each([
    ['--home <folder>', (h: string) => ['--home', h, 'run'], undefined],
    ['--home=<folder>', (h: string) => [`--home=${h}`, 'run'], undefined],
    ['a home relative to its working directory', () => ['--home', 'rel', 'run'], 'rel'],
  ])('finds a process started with %s', async (_name, argv, relative) => {
    const h = home(relative ?? `flag-${Math.random().toString(36).slice(2)}`);
    const child = run(argv(h), relative ? { cwd: root } : {});
    const s = await scanUntil(h, (x) => x.processes.some((p) => p.pid === child.pid));
    expect(s.processes.find((p) => p.pid === child.pid)).toMatchObject({ sameFolder: true });
    expect(scanEvidence(s).running).toEqual([`pid ${child.pid} runs with this home`]);
  });

  it('finds a process that holds the database LOCK open, and one that holds a lock on it', async () => {
    const h = home('locked');
    const lockFile = path.join(h, 'data', 'LOCK');
    const opener = run([], {
      code: `require('fs').openSync(${JSON.stringify(lockFile)}, 'r'); setInterval(() => {}, 1e6)`,
    });
    const locker = spawn('flock', [lockFile, 'sleep', '1000'], { stdio: 'ignore' });
    children.push(locker);
    const s = await scanUntil(h, (x) => x.openers.includes(opener.pid!) && x.lockHolders.length > 0);
    expect(s.lockHolders).toContain(locker.pid);
    expect(scanEvidence(s).running.join('\n')).toContain(`pid ${opener.pid} has files under its home open`);
  });

  it('finds another process whose home holds the key, unless its home is a known holder', async () => {
    const mine = home('mine');
    const rogueHome = home('rogue', 'K');
    const rogue = run(['--home', rogueHome, 'run']);
    const s = await scanUntil(mine, (x) => x.processes.some((p) => p.pid === rogue.pid));
    expect(s.processes.find((p) => p.pid === rogue.pid)).toMatchObject({ sameFolder: false, keys: 'K' });
    expect(scanEvidence(s, { holdsKey: (k) => k === 'K' }).otherHolders).toEqual([
      `pid ${rogue.pid} runs with home ${rogueHome}, which holds it`,
    ]);
    expect(scanEvidence(s, { holdsKey: (k) => k === 'K', knownHolderHomes: [rogueHome] }).otherHolders).toEqual([]);
    expect(scanEvidence(s, { holdsKey: (k) => k === 'other' }).otherHolders).toEqual([]);
  });

  it('finds a node binary run without a home flag by its default home', async () => {
    const h = path.join(process.env.HOME ?? '/root', '.fakenode');
    // A process whose program name is the node's, started with no home flag (as `neard run` is).
    const fake = path.join(root, 'bin', 'fakenode');
    const byName = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore', argv0: fake });
    children.push(byName);
    const s = await scanUntil(h, (x) => x.processes.some((p) => p.pid === byName.pid));
    expect(s.processes.find((p) => p.pid === byName.pid)).toMatchObject({ sameFolder: true, home: h });
  });
});
