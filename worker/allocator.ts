/**
 * The memory allocator the worker runs on. glibc's malloc keeps what a burst of runs freed (the SDK core's
 * buffers, spread over its per-thread arenas) and gives little of it back: 1,000 runs started at once left a
 * worker at about 1.1 GiB on glibc against 0.7 GiB on jemalloc, with the same runs held (BENCHMARKS.md). So the
 * worker image and the systemd unit preload jemalloc (Debian's libjemalloc2), and the worker says at start which
 * allocator it has, so a worker without it is seen, not guessed.
 */
import { existsSync, readFileSync } from 'node:fs';

/** Where Debian's libjemalloc2 puts the library, by architecture; the image links it to the first. */
const JEMALLOC_CANDIDATES = [
  '/usr/local/lib/libjemalloc.so.2',
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
];

/** The jemalloc library to preload (LD_PRELOAD) into a worker process, if this machine has one. */
export function findJemalloc(): string | undefined {
  return JEMALLOC_CANDIDATES.find((file) => existsSync(file));
}

/** `jemalloc` when this process runs on it (preloaded or linked), else `glibc malloc` (Linux) or `system malloc`. */
export function memoryAllocator(): 'jemalloc' | 'glibc malloc' | 'system malloc' {
  let maps = '';
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return 'system malloc';
  }
  return /libjemalloc/.test(maps) ? 'jemalloc' : 'glibc malloc';
}

/** The line the worker prints at start. */
export function allocatorNote(): string {
  const allocator = memoryAllocator();
  return allocator === 'jemalloc'
    ? 'memory allocator: jemalloc'
    : `memory allocator: ${allocator}; a burst of runs leaves it holding freed memory: preload jemalloc ` +
        `(LD_PRELOAD=${findJemalloc() ?? '<path of libjemalloc.so.2>'}, docs/operating.md)`;
}
