/**
 * `npm run demo` as a user runs it: a child process that starts the Temporal dev server with its UI, the worker,
 * a testbed, runs one strategy end to end and prints the table. Its temporary folders go to a TMPDIR of this
 * test, so every process it started (sshd hosts, simulated nodes, the dev server on its port) can be looked
 * for by its command line once it has ended.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../devnet/ports.js';
import { repoRoot } from '../../src/repo-root.js';

const STRATEGY = 'near-hot-swap';

interface Demo {
  child: ChildProcess;
  output: () => string;
  /** When npm and everything holding its output have ended: npm's exit code, or the signal that ended it. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port: number;
  uiPort: number;
  tmp: string;
}

const started: Demo[] = [];
afterEach(() => {
  for (const demo of started.splice(0)) {
    try {
      // Whatever of its process group is left (npm may have ended before the demo under it).
      if (demo.child.pid) process.kill(-demo.child.pid, 'SIGKILL');
    } catch {
      // The group has ended.
    }
    rmSync(demo.tmp, { recursive: true, force: true });
  }
});

async function startDemo(...extra: string[]): Promise<Demo> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'vup-demo-test-'));
  const [port, uiPort] = [await freePort(), await freePort()];
  const args = ['run', '--silent', 'demo', '--', '--strategy', STRATEGY, '--port', `${port}`, '--ui-port', `${uiPort}`];
  // Its own process group, as a terminal would start it, so Ctrl-C (SIGINT) can go to the whole group.
  const child = spawn('npm', [...args, ...extra], {
    cwd: repoRoot(),
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const demo = { child, output: () => output, exit, port, uiPort, tmp };
  started.push(demo);
  return demo;
}

async function until(what: string, look: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!look()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The table row of a strategy, as cells. */
function tableRow(output: string, strategy: string): string[] | undefined {
  return output
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .find((cells) => cells[1] === strategy)
    ?.slice(1, -1);
}

/** Processes whose command line names the demo's temporary folder or its dev server's port. */
function leftovers(demo: Demo): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter((line) => line.includes(demo.tmp) || line.includes(`--port ${demo.port} `))
    .filter((line) => !line.includes('ps -eo'));
}

function expectTheRun(demo: Demo) {
  const output = demo.output();
  expect(output).toContain(`Temporal UI: http://localhost:${demo.uiPort}`);
  const row = tableRow(output, STRATEGY);
  expect(row).toBeDefined();
  const [, result, wall, , doubleSigns, events] = row!;
  expect(result).toBe('completed');
  expect(wall).toMatch(/^\d+\.\d s$/);
  expect(doubleSigns).toBe('0');
  expect(Number(events)).toBeGreaterThan(0);
}

describe('npm run demo', () => {
  it(`runs ${STRATEGY} end to end, prints the UI and the table, exits 0 and leaves no process behind`, async () => {
    const demo = await startDemo();
    const { code } = await demo.exit;
    if (code !== 0) console.log(demo.output());
    expect(code).toBe(0);
    expectTheRun(demo);
    await until('the demo processes to be gone', () => leftovers(demo).length === 0, 15_000).catch(() => undefined);
    expect(leftovers(demo)).toEqual([]);
  }, 600_000);

  it('with --keep serves the UI until Ctrl-C, then stops everything and exits 0', async () => {
    const demo = await startDemo('--keep');
    await until('the demo to keep running', () => demo.output().includes('--keep: everything keeps running'), 540_000);
    expectTheRun(demo);
    const ui = await fetch(`http://localhost:${demo.uiPort}/`);
    expect(ui.status).toBe(200);
    expect(leftovers(demo).some((line) => line.includes('sshd'))).toBe(true);
    // Ctrl-C: SIGINT to the whole process group, npm and its shell included.
    process.kill(-demo.child.pid!, 'SIGINT');
    const { code, signal } = await demo.exit;
    // npm ends the way its script's shell did, which may be by the SIGINT itself; the demo under it, which
    // holds the output open until it exits, tears everything down and says so last.
    expect(code === 0 || signal === 'SIGINT').toBe(true);
    expect(demo.output().trimEnd()).toMatch(/\[demo\] everything stopped$/);
    await until('the demo processes to be gone', () => leftovers(demo).length === 0, 15_000).catch(() => undefined);
    expect(leftovers(demo)).toEqual([]);
  }, 600_000);
});
