/**
 * The worker's inventory file: loaded at start (an invalid file refuses, every problem named), reloaded on
 * SIGHUP, and a reload that fails keeps the inventory in force and says why.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InventoryError } from '../../../src/config/load-inventory.js';
import { repoRoot } from '../../../src/repo-root.js';
import { InventoryFile } from '../../../worker/inventory-file.js';

let dir: string;
let file: string;
let example: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vup-inventory-file-'));
  file = path.join(dir, 'inventory.yaml');
  example = await readFile(path.join(repoRoot(), 'examples', 'inventory.yaml'), 'utf8');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('refuses to start on an invalid file, naming the field', async () => {
  await writeFile(file, example.replace('accountId: mypool.poolv1.near', 'accountId: Not An Account'));
  await expect(InventoryFile.load(file)).rejects.toThrow(InventoryError);
  await expect(InventoryFile.load(file)).rejects.toThrow(/validators\[0\]\.accountId/);
});

it('reloads on SIGHUP; a file that fails to load keeps the one in force and says why', async () => {
  await writeFile(file, example);
  const inventory = await InventoryFile.load(file);
  expect(inventory.current().validators.map((v) => v.id)).toEqual(['mypool', 'dot-validator']);
  const lines: string[] = [];
  const stop = inventory.reloadOnHangup((line) => lines.push(line));
  const nextLine = async () => {
    const before = lines.length;
    // Delivered by emit: a real signal would reach the test runner, not the test's `process` (test/stack sends
    // real SIGHUPs to worker processes).
    process.emit('SIGHUP', 'SIGHUP');
    for (let i = 0; i < 200 && lines.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    return lines.at(-1);
  };
  try {
    await writeFile(file, example.replace('- id: mypool\n', '- id: mypool-renamed\n'));
    expect(await nextLine()).toBe(`inventory ${file} reloaded: 2 validator(s), 5 node(s), 4 host(s)`);
    expect(inventory.current().validators.map((v) => v.id)).toEqual(['mypool-renamed', 'dot-validator']);

    await writeFile(file, 'version: 1\nhosts: [');
    expect(await nextLine()).toMatch(new RegExp(`^inventory ${file} NOT reloaded, the previous one stays in force: `));
    expect(inventory.current().validators.map((v) => v.id)).toEqual(['mypool-renamed', 'dot-validator']);
  } finally {
    stop();
  }
});
