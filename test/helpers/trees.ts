/**
 * Folder trees with real content for the data-swap tests: build one, and snapshot one (every path, its type
 * and its content hash) so "no file lost" is a comparison of snapshots.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function makeTree(root: string, label: string): Promise<void> {
  await mkdir(path.join(root, 'db', 'col-0'), { recursive: true });
  await mkdir(path.join(root, 'empty-dir'));
  await writeFile(path.join(root, 'db', 'CURRENT'), `MANIFEST-${label}\n`);
  await writeFile(path.join(root, 'db', 'col-0', '000001.sst'), randomBytes(4096));
  await writeFile(path.join(root, 'db', 'col-0', `${label}.log`), `log of ${label}\n`);
  await writeFile(path.join(root, '.hidden'), label);
  await writeFile(path.join(root, 'name with spaces & $signs'), `${label}\n`);
  await symlink('db/CURRENT', path.join(root, 'current-link'));
}

/** One line per entry below root: relative path, type and content hash (symlinks: their target). */
export async function snapshot(root: string): Promise<string> {
  const lines: string[] = [];
  async function walk(dir: string, rel: string) {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const relative = rel ? `${rel}/${name}` : name;
      const info = await lstat(full);
      if (info.isSymbolicLink()) lines.push(`${relative} link ${await readlink(full)}`);
      else if (info.isDirectory()) {
        lines.push(`${relative} dir`);
        await walk(full, relative);
      } else {
        lines.push(
          `${relative} file ${createHash('sha256')
            .update(await readFile(full))
            .digest('hex')}`,
        );
      }
    }
  }
  await walk(root, '');
  return lines.join('\n');
}

/** Snapshots of those of the given folders that exist. */
export async function snapshotsOf(folders: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const folder of folders) if (existsSync(folder)) found.push(await snapshot(folder));
  return found;
}

/** A data folder's snapshot without the marker the running node rewrites with its head height. */
export const withoutLiveMarker = (tree: string) =>
  tree
    .split('\n')
    .filter((line) => !line.startsWith('DB_MARKER.json '))
    .join('\n');
