/**
 * The data-folder swap on a real sshd. A swap or rollback interrupted after any of its steps is completed by
 * the next run (or undone by a rollback) and every file of both folders survives, compared by content.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import {
  dataSwapPaths,
  rollbackDataFolder,
  swapDataFolder,
  type DataSwapInput,
  type SwapRunOptions,
} from '../../../src/ssh/data-swap.js';
import type { SwapStep } from '../../../src/api/contracts/host.js';
import { startSshHost, type SshHost } from '../../../devnet/hosts/sshd.js';
import { lockFolder } from '../../helpers/folder-lock.js';
import { makeTree, snapshot, snapshotsOf } from '../../helpers/trees.js';

let host: SshHost;
let pool: SshConnectionPool;

beforeAll(async () => {
  host = await startSshHost({ name: 'swap' });
  pool = new SshConnectionPool();
});

afterAll(async () => {
  await pool?.closeAll();
  await host?.stop();
});

interface Case {
  input: DataSwapInput;
  oldTree: string;
  newTree: string;
}

let counter = 0;
async function freshCase(swapId = 'swap-1'): Promise<Case> {
  const home = path.join(host.rootDir, `node-${++counter}`);
  const input = { target: path.join(home, 'data'), staging: path.join(home, 'data.new'), swapId };
  await makeTree(input.target, 'old');
  await makeTree(input.staging, 'new');
  return { input, oldTree: await snapshot(input.target), newTree: await snapshot(input.staging) };
}

/** Every file is still there: the old tree in exactly one folder of the swap, the new tree in exactly one. */
async function expectNothingLost(c: Case) {
  const p = dataSwapPaths(c.input);
  const found = await snapshotsOf([p.target, p.staging, p.backup, p.aside]);
  expect(found.sort()).toEqual([c.oldTree, c.newTree].sort());
}

async function expectSwapped(c: Case) {
  const p = dataSwapPaths(c.input);
  expect(await snapshot(p.target)).toBe(c.newTree);
  expect(await snapshot(p.backup)).toBe(c.oldTree);
  expect(existsSync(p.staging)).toBe(false);
  expect(JSON.parse(await readFile(p.journal, 'utf8'))).toMatchObject({ swapId: c.input.swapId, state: 'swapped' });
}

async function expectRolledBack(c: Case) {
  const p = dataSwapPaths(c.input);
  expect(await snapshot(p.target)).toBe(c.oldTree);
  expect(existsSync(p.backup)).toBe(false);
  await expectNothingLost(c);
}

/** Options that abort the run right after its k-th step, as a crash there would. */
function crashAfter(k: number): SwapRunOptions & { done: SwapStep[] } {
  const controller = new AbortController();
  const done: SwapStep[] = [];
  return {
    done,
    signal: controller.signal,
    onStep: (step) => {
      done.push(step);
      if (done.length === k) controller.abort(new Error(`crash after step ${k}`));
    },
  };
}

const SWAP_STEPS = 4;

describe('swapDataFolder', () => {
  it('swaps the new folder in, keeps the old one as backup, and does nothing on a second run', async () => {
    const c = await freshCase();
    const first = await swapDataFolder(await pool.get(host.spec), c.input);
    expect(first.steps).toEqual([
      { kind: 'journal', state: 'swapping' },
      { kind: 'rename', from: 'target', to: 'backup' },
      { kind: 'rename', from: 'staging', to: 'target' },
      { kind: 'journal', state: 'swapped' },
    ]);
    await expectSwapped(c);
    const again = await swapDataFolder(await pool.get(host.spec), c.input);
    expect(again.steps).toEqual([]);
    await expectSwapped(c);
  });

  it('swaps a fresh swap in one remote command, as step by step, and does nothing on a second run', async () => {
    const c = await freshCase();
    const connection = await pool.get(host.spec);
    const seen: SwapStep[] = [];
    const first = await swapDataFolder(connection, c.input, { inOneCommand: true, onStep: (s) => seen.push(s) });
    expect(first.steps).toEqual([
      { kind: 'journal', state: 'swapping' },
      { kind: 'rename', from: 'target', to: 'backup' },
      { kind: 'rename', from: 'staging', to: 'target' },
      { kind: 'journal', state: 'swapped' },
    ]);
    expect(seen).toEqual(first.steps);
    await expectSwapped(c);
    expect((await swapDataFolder(connection, c.input, { inOneCommand: true })).steps).toEqual([]);
    // No temporary journal is left beside the target.
    const left = await readdir(path.dirname(c.input.target));
    expect(left.filter((name) => name.startsWith('.vup-write'))).toEqual([]);
    await rollbackDataFolder(connection, c.input);
    await expectRolledBack(c);
  });

  it('completes a swap in one command that an earlier run left half-way, step by step', async () => {
    const c = await freshCase();
    await swapDataFolder(await pool.get(host.spec), c.input, crashAfter(2)).catch(() => undefined);
    const retry = await swapDataFolder(await pool.get(host.spec), c.input, { inOneCommand: true });
    expect(retry.steps).toEqual([
      { kind: 'rename', from: 'staging', to: 'target' },
      { kind: 'journal', state: 'swapped' },
    ]);
    await expectSwapped(c);
  });

  it.each(Array.from({ length: SWAP_STEPS - 1 }, (_, i) => i + 1))(
    'completes on retry after a crash after step %i, losing no file',
    async (k) => {
      const c = await freshCase();
      const crash = crashAfter(k);
      await expect(swapDataFolder(await pool.get(host.spec), c.input, crash)).rejects.toThrow(`crash after step ${k}`);
      expect(crash.done).toHaveLength(k);
      await expectNothingLost(c);

      const retry = await swapDataFolder(await pool.get(host.spec), c.input);
      expect(retry.steps).toHaveLength(SWAP_STEPS - k);
      await expectSwapped(c);
    },
  );

  it.each(Array.from({ length: SWAP_STEPS + 1 }, (_, i) => i))(
    'rolls back from the state after %i swap steps, keeping the new folder',
    async (k) => {
      const c = await freshCase();
      if (k === SWAP_STEPS) await swapDataFolder(await pool.get(host.spec), c.input);
      else if (k > 0) await swapDataFolder(await pool.get(host.spec), c.input, crashAfter(k)).catch(() => undefined);

      const outcome = await rollbackDataFolder(await pool.get(host.spec), c.input);
      await expectRolledBack(c);
      const p = dataSwapPaths(c.input);
      if (k === 0) expect(outcome.state).toBe('never-swapped');
      else {
        expect(outcome.state).toBe('rolled-back');
        // Once staging was renamed into place (step 3), the rollback moves it aside; before that it stays put.
        expect(outcome.newFolder).toBe(k >= 3 ? p.aside : p.staging);
        expect(await snapshot(outcome.newFolder ?? '')).toBe(c.newTree);
        expect(JSON.parse(await readFile(p.journal, 'utf8'))).toMatchObject({ state: 'rolled-back' });
      }
      expect((await rollbackDataFolder(await pool.get(host.spec), c.input)).steps).toEqual([]);
      await expectRolledBack(c);
    },
  );

  it.each([1, 2, 3])('completes a rollback that crashed after its step %i', async (k) => {
    const c = await freshCase();
    await swapDataFolder(await pool.get(host.spec), c.input);
    await expect(rollbackDataFolder(await pool.get(host.spec), c.input, crashAfter(k))).rejects.toThrow(
      `crash after step ${k}`,
    );
    await expectNothingLost(c);
    await rollbackDataFolder(await pool.get(host.spec), c.input);
    await expectRolledBack(c);
    expect(await snapshot(dataSwapPaths(c.input).aside)).toBe(c.newTree);
  });

  it('completes after the connection dies right after the first rename', async () => {
    const c = await freshCase();
    const connection = await pool.get(host.spec);
    const error = await swapDataFolder(connection, c.input, {
      onStep: (step) => {
        if (step.kind === 'rename') connection.destroy();
      },
    }).catch((err: unknown) => err);
    expect(error).toMatchObject({ nonRetryable: false });
    const p = dataSwapPaths(c.input);
    expect(existsSync(p.target)).toBe(false);
    await expectNothingLost(c);

    await swapDataFolder(await pool.get(host.spec), c.input);
    await expectSwapped(c);
  });

  it('fails without retry when the host refuses a rename, and the rollback restores the old folder', async () => {
    const c = await freshCase();
    // The new folder sits in a folder whose entries cannot change, so it cannot be moved out of it.
    const syncHome = path.join(host.rootDir, `sync-${counter}`);
    await mkdir(syncHome);
    const staging = path.join(syncHome, 'data');
    await rename(c.input.staging, staging);
    const refused: Case = { ...c, input: { ...c.input, staging } };
    const connection = await pool.get(host.spec);
    const lock = await lockFolder(syncHome);
    try {
      // In one command too: the host's refusal stops it short, and the step-by-step run reports it.
      await expect(swapDataFolder(connection, refused.input, { inOneCommand: true })).rejects.toMatchObject({
        type: 'RemoteCommandFailed',
        nonRetryable: true,
        message: expect.stringMatching(/Operation not permitted|Permission denied/) as unknown,
      });
      expect(existsSync(c.input.target)).toBe(false);
      const outcome = await rollbackDataFolder(connection, refused.input);
      expect(outcome).toMatchObject({ state: 'rolled-back', newFolder: staging });
    } finally {
      await lock.unlock();
    }
    await expectRolledBack(refused);
  });
});

describe('swap preconditions', () => {
  it('refuses a missing target or staging folder without retry', async () => {
    const c = await freshCase();
    const connection = await pool.get(host.spec);
    for (const input of [
      { ...c.input, target: c.input.target + '-missing' },
      { ...c.input, staging: c.input.staging + '-missing' },
    ]) {
      await expect(swapDataFolder(connection, input)).rejects.toMatchObject({
        type: 'RemoteFileMissing',
        nonRetryable: true,
      });
    }
    await expectNothingLost(c);
  });

  it('refuses folders on different filesystems', async () => {
    const c = await freshCase();
    const elsewhere = await mkdtemp('/dev/shm/vup-swap-');
    try {
      await makeTree(path.join(elsewhere, 'data.new'), 'new');
      const input = { ...c.input, staging: path.join(elsewhere, 'data.new') };
      await expect(swapDataFolder(await pool.get(host.spec), input)).rejects.toMatchObject({
        type: 'CrossDevice',
        nonRetryable: true,
      });
      expect(await snapshot(c.input.target)).toBe(c.oldTree);
      expect(existsSync(dataSwapPaths(input).journal)).toBe(false);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('refuses a symlinked target, a backup without a journal, and bad paths', async () => {
    const connection = await pool.get(host.spec);
    const c = await freshCase();
    const linked = { ...c.input, target: path.join(path.dirname(c.input.target), 'data-link') };
    await symlink(c.input.target, linked.target);
    await expect(swapDataFolder(connection, linked)).rejects.toMatchObject({ type: 'UnsafeSwapState' });

    await mkdir(dataSwapPaths(c.input).backup);
    await expect(swapDataFolder(connection, c.input)).rejects.toMatchObject({
      type: 'UnsafeSwapState',
      nonRetryable: true,
    });
    await expect(swapDataFolder(connection, { ...c.input, swapId: '../x' })).rejects.toMatchObject({
      type: 'BadInput',
    });
    await expect(swapDataFolder(connection, { ...c.input, staging: c.input.target + '/sub' })).rejects.toMatchObject({
      type: 'BadInput',
    });
    expect(await snapshot(c.input.target)).toBe(c.oldTree);
  });

  it('refuses a second swap id while another swap of the folder is unfinished', async () => {
    const c = await freshCase('swap-a');
    await swapDataFolder(await pool.get(host.spec), c.input, crashAfter(2)).catch(() => undefined);
    const other = { ...c.input, swapId: 'swap-b' };
    await expect(swapDataFolder(await pool.get(host.spec), other)).rejects.toThrow(/another swap .*swap-a/);
    await expectNothingLost(c);
    await swapDataFolder(await pool.get(host.spec), c.input);
    await expectSwapped(c);
  });

  it('refuses to redo a swap that was rolled back', async () => {
    const c = await freshCase();
    await swapDataFolder(await pool.get(host.spec), c.input);
    await rollbackDataFolder(await pool.get(host.spec), c.input);
    await expect(swapDataFolder(await pool.get(host.spec), c.input)).rejects.toMatchObject({
      type: 'UnsafeSwapState',
      nonRetryable: true,
    });
    await expectRolledBack(c);
  });
});
