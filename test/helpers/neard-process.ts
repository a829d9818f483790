/**
 * Runs simulated neard processes (devnet/near/neard-sim.ts) as real child processes for tests: an
 * installed wrapper "binary", a home made like `neard init`, the process's log lines, and its own RPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeNeardBinary, type NeardBinary } from '../../devnet/near/neard-binary.js';

export interface NeardProcess {
  child: ChildProcess;
  rpcUrl: string;
  logs: string[];
  exit: Promise<number | null>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  status(): Promise<NodeStatus>;
  /** Sends a signal and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface NodeStatus {
  validator_account_id: string | null;
  validator_public_key: string | null;
  version: { version: string; build: string };
  protocol_version: number;
  latest_protocol_version: number;
  sync_info: { syncing: boolean; latest_block_height: number };
}

export type Scratch = ReturnType<typeof scratch>;

/** A scratch folder with installed binaries; remove() deletes everything under it. */
export function scratch(prefix: string) {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    root,
    path: (...parts: string[]) => path.join(root, ...parts),
    installBinary(name: string, binary: NeardBinary): string {
      const file = path.join(root, 'bin', name, 'neard');
      writeNeardBinary(file, binary);
      return file;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export function startNeard(binaryFile: string, home: string, rpcAddr: string): NeardProcess {
  const child = spawn(binaryFile, ['--home', home, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const rpcUrl = `http://${rpcAddr}`;
  return {
    child,
    rpcUrl,
    logs,
    exit,
    waitForLog(pattern, timeoutMs = 60_000) {
      const seen = logs.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no log line ${pattern}; got:\n${logs.join('\n')}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
    async status() {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 'status', method: 'status', params: [] }),
      });
      return ((await res.json()) as { result: NodeStatus }).result;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
  };
}

/**
 * A neard started by hand (outside any service manager) with `home`, stopped with SIGSTOP as soon as its
 * command line shows the home: a node in the middle of starting that never answers on its RPC and never signs,
 * which only the host's own records can reveal.
 */
export async function startFrozenNeard(binaryFile: string, home: string): Promise<NeardProcess> {
  const neard = startNeard(binaryFile, home, '');
  await waitUntil('the neard to show its home', async () =>
    (await readFile(`/proc/${neard.child.pid}/cmdline`, 'utf8')).includes(home),
  );
  neard.child.kill('SIGSTOP');
  return neard;
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch {
      // not ready yet (e.g. the RPC is not listening)
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
