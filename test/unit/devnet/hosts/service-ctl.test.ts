/**
 * service-ctl.ts as the `commands` service manager runs it: the exact argv of serviceCtlManager, as a real
 * process, with systemctl-like exit codes.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serviceCtlManager, writeServiceDefinition } from '../../../../devnet/hosts/service-manager.js';
import { serviceFiles, stopService } from '../../../../devnet/hosts/service-ctl.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'vup-service-ctl-'));
});

afterEach(async () => {
  await stopService(root, 'node', 500);
  await rm(root, { recursive: true, force: true });
});

/** Runs one of the manager's argv templates for a service; resolves to exit code and output. */
function ctl(action: 'start' | 'stop' | 'isActive', service: string, extra: string[] = []) {
  const argv = serviceCtlManager(root, { graceMs: 1_000 })[action].map((a) => a.replaceAll('{service}', service));
  return new Promise<{ code: number; out: string }>((resolve) => {
    execFile(argv[0] ?? '', [...argv.slice(1), ...extra], (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

/** Running, not a zombie: this machine's init may never reap orphans. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('service-ctl', () => {
  it('starts, reports and stops a service with systemctl-like exit codes', async () => {
    await writeServiceDefinition(root, 'node', { argv: ['sleep', '100000'], env: { NODE_ROLE: 'validator' } });
    expect(await ctl('isActive', 'node')).toMatchObject({ code: 3 });
    expect(await ctl('start', 'node')).toMatchObject({ code: 0 });
    expect(await ctl('isActive', 'node')).toMatchObject({ code: 0, out: 'active\n' });
    const { pid } = JSON.parse(await readFile(serviceFiles(root, 'node').pidFile, 'utf8')) as { pid: number };
    expect((await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0')).toContain('NODE_ROLE=validator');
    expect((await ctl('start', 'node')).out).toContain('already active');

    expect(await ctl('stop', 'node')).toMatchObject({ code: 0 });
    expect(alive(pid)).toBe(false);
    expect(await ctl('isActive', 'node')).toMatchObject({ code: 3, out: 'inactive\n' });
  });

  it('does not take a recycled pid for the service, and never signals it', async () => {
    // The pid file names a live process (this test runner) that started at another time than recorded.
    await writeServiceDefinition(root, 'node', { argv: ['sleep', '100000'] });
    await mkdir(path.dirname(serviceFiles(root, 'node').pidFile), { recursive: true });
    await writeFile(serviceFiles(root, 'node').pidFile, JSON.stringify({ pid: process.pid, startTime: '1' }));
    expect(await ctl('isActive', 'node')).toMatchObject({ code: 3 });
    expect(await ctl('stop', 'node')).toMatchObject({ code: 0 });
    expect(alive(process.pid)).toBe(true);
  });

  it('fails clearly for a missing program, a missing definition and bad usage', async () => {
    await writeServiceDefinition(root, 'node', { argv: ['/nonexistent/neard'] });
    const missing = await ctl('start', 'node');
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('ENOENT');
    expect(await ctl('isActive', 'node')).toMatchObject({ code: 3 });
    expect((await ctl('start', 'undefined-service')).code).toBe(1);
    expect((await ctl('start', 'bad;name')).code).toBe(2);
  });
});
