/**
 * A folder in which no entry can be created, removed or renamed, as an operator's mistake or a hardened host
 * leaves one: immutable (chattr +i) when the tests run as root, which ignores permissions, and without write
 * permission otherwise. Files below it stay writable.
 */
import { execFile } from 'node:child_process';
import { chmod, stat } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FolderLock {
  /** Makes the folder writable again (safe to call twice). */
  unlock(): Promise<void>;
}

export async function lockFolder(folder: string): Promise<FolderLock> {
  if (process.getuid?.() === 0) {
    await run('chattr', ['+i', folder]);
    return { unlock: async () => void (await run('chattr', ['-i', folder])) };
  }
  const { mode } = await stat(folder);
  await chmod(folder, mode & ~0o222);
  return { unlock: () => chmod(folder, mode) };
}
