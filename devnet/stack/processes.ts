/**
 * Child processes of the production twin and of the tests that run real workers: each in a process group of
 * its own, so one kill stops it and everything it spawned (as a crashed machine or an OOM kill would), with
 * its output kept for failure messages. Every group still alive when this Node process exits is SIGKILLed,
 * so an aborted test or a Ctrl-C leaves nothing behind.
 *
 *   const p = startProcess('temporal-server', server, ['start'], { env });
 *   await p.waitFor(/started/, 60_000);
 *   await p.kill();    // SIGKILL to the group; resolves once the process has exited
 *   await p.stop();    // SIGTERM, then SIGKILL after the grace; a no-op when it has already exited
 *   const mark = p.mark(); p.signal('SIGHUP');
 *   await p.waitFor(/reloaded/, 10_000, mark);   // only what it wrote after the mark counts
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

export interface ProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user and group (e.g. PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Also append everything the process writes to this file (output() keeps only the last megabyte). */
  logFile?: string;
}

export interface ManagedProcess {
  name: string;
  pid: number;
  /** The last megabyte the process wrote on stdout and stderr. */
  output(): string;
  running(): boolean;
  /** Resolves with the exit signal (null after a normal exit) once the process is gone. */
  exited: Promise<NodeJS.Signals | null>;
  /** A position in the output: what the process writes from now on is `outputSince(mark)`. */
  mark(): number;
  /** What the process wrote after the mark (as much of it as the last megabyte holds). */
  outputSince(mark: number): string;
  /**
   * Resolves once the output (after `since`, a mark, when given) matches; rejects with the output when the
   * process exits first or time runs out.
   */
  waitFor(pattern: RegExp, timeoutMs: number, since?: number): Promise<void>;
  /** Sends a signal to the process itself (not its group); false when it has already exited. */
  signal(signal: NodeJS.Signals): boolean;
  /** SIGKILL to the process group. */
  kill(): Promise<NodeJS.Signals | null>;
  /** SIGTERM to the group, SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;
function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

const MAX_OUTPUT = 1024 * 1024;

export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: ProcessOptions = {},
): ManagedProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
    });
  }
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  let output = '';
  let written = 0; // characters written in all, of which output holds the last MAX_OUTPUT
  const append = (chunk: Buffer) => {
    if (options.logFile) appendFileSync(options.logFile, chunk);
    const text = chunk.toString('utf8');
    written += text.length;
    output += text;
    if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let running = true;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => {
    child.once('exit', (_code, signal) => {
      running = false;
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      resolve(signal);
    });
    child.once('error', (err) => {
      running = false;
      append(Buffer.from(`\n${name}: ${err.message}`));
      resolve(null);
    });
  });
  const pid = child.pid ?? -1;
  if (pid > 0) liveGroups.add(pid);

  const outputSince = (mark: number) => output.slice(Math.max(0, output.length - (written - mark)));
  const kill = async () => {
    if (running) killGroup(pid, 'SIGKILL');
    return exited;
  };
  return {
    name,
    pid,
    output: () => output,
    mark: () => written,
    outputSince,
    running: () => running,
    exited,
    kill,
    async stop(graceMs = 10_000) {
      if (!running) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Whatever the process left in its group goes too.
      killGroup(pid, 'SIGKILL');
    },
    signal(signal) {
      if (!running) return false;
      try {
        process.kill(pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    async waitFor(pattern, timeoutMs, since) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(since === undefined ? output : outputSince(since))) {
        if (!running) throw new Error(`${name} exited before ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${name} did not show ${pattern} in time:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
