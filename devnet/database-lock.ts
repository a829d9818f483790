/**
 * The simulated nodes keep their database's LOCK file open for as long as they run, as RocksDB does. RocksDB
 * also takes an fcntl lock on it, which Node cannot; the open file is what a host's process scan sees
 * (src/ssh/process-scan.ts looks for both).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

export function holdDatabaseLock(dbDir: string): () => void {
  mkdirSync(dbDir, { recursive: true });
  const fd = openSync(path.join(dbDir, 'LOCK'), 'a');
  let held = true;
  return () => {
    if (held) closeSync(fd);
    held = false;
  };
}
