/**
 * The worker says which memory allocator it runs on (worker/allocator.ts): a process started with jemalloc
 * preloaded, as the worker image starts it, and one without.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { findJemalloc } from '../../../worker/allocator.js';
import { repoRoot } from '../../../src/repo-root.js';

const run = promisify(execFile);
const tsx = createRequire(import.meta.url).resolve('tsx');

async function allocatorOf(env: NodeJS.ProcessEnv): Promise<string> {
  const { LD_PRELOAD: _, ...inherited } = process.env;
  const script = "import('./worker/allocator.ts').then((m) => console.log(m.allocatorNote()))";
  const { stdout } = await run(process.execPath, ['--import', tsx, '-e', script], {
    cwd: repoRoot(),
    env: { ...inherited, ...env },
  });
  return stdout.trim();
}

const jemalloc = findJemalloc();

(jemalloc ? it : it.skip)(
  'a worker with jemalloc preloaded says so; one without names glibc and how to preload it',
  async () => {
    expect(await allocatorOf({ LD_PRELOAD: jemalloc })).toBe('memory allocator: jemalloc');
    expect(await allocatorOf({})).toBe(
      `memory allocator: glibc malloc; a burst of runs leaves it holding freed memory: preload jemalloc (LD_PRELOAD=${jemalloc}, docs/operating.md)`,
    );
  },
  60_000,
);
