/**
 * A tiny service supervisor for the local testbed, standing in for systemd on simulated machines.
 *
 *   node --import <tsx> service-ctl.ts start|stop|is-active <service> --root <machine root> [--grace-ms <ms>]
 *
 * A service is defined by `<root>/services/<name>.json` (argv, env, cwd, log). `start` spawns it detached in
 * its own process group with output appended to the log, and records pid and start time in
 * `<root>/run/<name>.pid`; `stop` sends TERM to the group and KILL after the grace period, and returns once the
 * process is gone; `is-active` exits 0 while it runs and 3 otherwise, like `systemctl is-active`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { serviceName } from '../../src/config/primitives.js';

export const serviceDefinition = z.strictObject({
  argv: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  /** Defaults to `<root>/logs/<name>.log`. */
  log: z.string().optional(),
  /** Time between TERM and KILL on stop; `--grace-ms` overrides it. */
  stopGraceMs: z.number().int().nonnegative().optional(),
});
export type ServiceDefinition = z.infer<typeof serviceDefinition>;

export const EXIT_INACTIVE = 3;
const DEFAULT_GRACE_MS = 10_000;

export function serviceFiles(root: string, name: string) {
  return {
    definition: path.join(root, 'services', `${name}.json`),
    pidFile: path.join(root, 'run', `${name}.pid`),
    log: path.join(root, 'logs', `${name}.log`),
  };
}

interface PidRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat, so a recycled pid is not mistaken for the service. */
  startTime: string;
}

/** The process's start time, or undefined when it is gone or a zombie. */
function liveStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after it do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

function readPidRecord(pidFile: string): PidRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
    return Number.isInteger(record.pid) && record.pid > 0 ? record : undefined;
  } catch {
    return undefined;
  }
}

function runningPid(pidFile: string): number | undefined {
  const record = readPidRecord(pidFile);
  if (!record) return undefined;
  return liveStartTime(record.pid) === record.startTime ? record.pid : undefined;
}

function writeAtomically(file: string, content: string) {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, file);
}

export async function startService(root: string, name: string): Promise<string> {
  const files = serviceFiles(root, name);
  if (runningPid(files.pidFile) !== undefined) return `${name} is already active`;
  const definition = serviceDefinition.parse(JSON.parse(readFileSync(files.definition, 'utf8')));
  const log = definition.log ?? files.log;
  mkdirSync(path.dirname(log), { recursive: true });
  const out = openSync(log, 'a');
  try {
    const [program = '', ...args] = definition.argv;
    const child = spawn(program, args, {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: definition.cwd ?? root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? root, ...definition.env },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const pid = child.pid ?? 0;
    const startTime = liveStartTime(pid);
    if (startTime === undefined) throw new Error(`${name} exited at once; see ${log}`);
    writeAtomically(files.pidFile, JSON.stringify({ pid, startTime } satisfies PidRecord) + '\n');
    child.unref();
    return `${name} started (pid ${pid})`;
  } finally {
    closeSync(out);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitGone(pid: number, startTime: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (liveStartTime(pid) !== startTime) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export async function stopService(root: string, name: string, graceMs?: number): Promise<string> {
  const files = serviceFiles(root, name);
  const record = readPidRecord(files.pidFile);
  if (!record || liveStartTime(record.pid) !== record.startTime) {
    rmSync(files.pidFile, { force: true });
    return `${name} is not active`;
  }
  let grace = graceMs;
  if (grace === undefined && existsSync(files.definition)) {
    grace = serviceDefinition.parse(JSON.parse(readFileSync(files.definition, 'utf8'))).stopGraceMs;
  }
  signalGroup(record.pid, 'SIGTERM');
  let how = 'TERM';
  if (!(await waitGone(record.pid, record.startTime, grace ?? DEFAULT_GRACE_MS))) {
    how = 'KILL after the grace period';
    signalGroup(record.pid, 'SIGKILL');
    if (!(await waitGone(record.pid, record.startTime, 30_000))) throw new Error(`${name} survived SIGKILL`);
  }
  // Children that outlived the leader belong to the service too.
  signalGroup(record.pid, 'SIGKILL');
  rmSync(files.pidFile, { force: true });
  return `${name} stopped (${how})`;
}

export function isServiceActive(root: string, name: string): boolean {
  return runningPid(serviceFiles(root, name).pidFile) !== undefined;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { root: { type: 'string' }, 'grace-ms': { type: 'string' } },
  });
  const [action, name] = positionals;
  const root = values.root;
  if (!action || !name || !root || !path.isAbsolute(root) || !serviceName.safeParse(name).success) {
    process.stderr.write('usage: service-ctl start|stop|is-active <service> --root <absolute dir> [--grace-ms N]\n');
    return 2;
  }
  switch (action) {
    case 'start':
      process.stdout.write((await startService(root, name)) + '\n');
      return 0;
    case 'stop': {
      const grace = values['grace-ms'] === undefined ? undefined : Number(values['grace-ms']);
      process.stdout.write((await stopService(root, name, grace)) + '\n');
      return 0;
    }
    case 'is-active': {
      const active = isServiceActive(root, name);
      process.stdout.write(active ? 'active\n' : 'inactive\n');
      return active ? 0 : EXIT_INACTIVE;
    }
    default:
      process.stderr.write(`unknown action ${action}\n`);
      return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`service-ctl: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
