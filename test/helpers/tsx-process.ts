/**
 * Runs one of the project's TypeScript entry points (the vup CLI, the SDK example) with tsx as a child
 * process against a test server, collecting what it prints while it runs.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { repoRoot } from '../../src/repo-root.js';

export interface TsxProcess {
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  kill(): void;
}

/** `script` relative to the repository root; the process connects to `env` through TEMPORAL_ADDRESS. */
export function runTsx(env: TestWorkflowEnvironment, script: string, args: string[]): TsxProcess {
  const child = spawn(path.join(repoRoot(), 'node_modules', '.bin', 'tsx'), [script, ...args], {
    cwd: repoRoot(),
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { output: () => ({ stdout, stderr }), exited, kill: () => child.kill('SIGKILL') };
}
