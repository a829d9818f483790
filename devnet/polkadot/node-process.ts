/**
 * Starts simulated node processes (polkadot-sim.ts) locally, for tests and the devnet; on SSH test hosts
 * the same command line runs as a service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { repoRoot } from '../../src/repo-root.js';

export const SIM_NODE_SCRIPT = fileURLToPath(new URL('./polkadot-sim.ts', import.meta.url));

/** tsx's ESM loader by absolute URL, so the command works from any working directory. */
function tsxLoader(): string {
  const require = createRequire(path.join(repoRoot(), 'package.json'));
  return pathToFileURL(require.resolve('tsx')).href;
}

export interface SimNodeProcessOptions {
  basePath: string;
  networkUrl: string;
  rpcPort?: number;
  version?: string;
  syncDelayMs?: number;
  /** Gives up (and kills the process) if it does not serve RPC within this time; default 120 s. */
  startTimeoutMs?: number;
  /** Receives each output line (the node never prints secrets). */
  onLine?: (line: string) => void;
}

/** The argv that runs a simulated node (what a service definition would hold). */
export function simNodeCommand(opts: SimNodeProcessOptions): string[] {
  return [
    process.execPath,
    '--import',
    tsxLoader(),
    SIM_NODE_SCRIPT,
    '--base-path',
    opts.basePath,
    '--network-url',
    opts.networkUrl,
    '--rpc-port',
    String(opts.rpcPort ?? 0),
    '--version',
    opts.version ?? '1.0.0',
    '--sync-delay-ms',
    String(opts.syncDelayMs ?? 0),
  ];
}

export interface SimNodeProcess {
  url: string;
  pid: number;
  /** SIGTERM, then waits for the process to exit. */
  stop(): Promise<void>;
}

export async function startSimNodeProcess(opts: SimNodeProcessOptions): Promise<SimNodeProcess> {
  const [command, ...args] = simNodeCommand(opts);
  const child: ChildProcess = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`simulated node did not serve RPC in time:\n${output.join('\n')}`));
    }, opts.startTimeoutMs ?? 120_000);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        output.push(line);
        if (output.length > 200) output.shift();
        opts.onLine?.(line);
        const match = /rpc listening on (ws:\/\/\S+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    }
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`simulated node exited before serving:\n${output.join('\n')}`));
    });
  }).catch(async (error: unknown) => {
    await exited;
    throw error;
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
