/**
 * File operations on a real sshd: atomic writes with modes, hashes, free space and checked installs.
 */
import { randomBytes, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import { HostError } from '../../../src/ssh/errors.js';
import { freeDisk, installBinary, sha256OfFile, writeFileAtomic } from '../../../src/ssh/files.js';
import { startSshHost, type SshHost } from '../../../devnet/hosts/sshd.js';

let host: SshHost;
let pool: SshConnectionPool;
let dir: string;

beforeAll(async () => {
  host = await startSshHost({ name: 'files' });
  pool = new SshConnectionPool();
});

afterAll(async () => {
  await pool?.closeAll();
  await host?.stop();
});

let counter = 0;
beforeEach(async () => {
  dir = path.join(host.rootDir, `case-${++counter}`);
  await mkdir(dir);
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const modeOf = async (file: string) => (await stat(file)).mode & 0o7777;

async function waitUntil(condition: () => Promise<boolean> | boolean, what: string) {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('writeFileAtomic', () => {
  it('writes exact binary content with mode 0600 by default, replacing an existing file', async () => {
    const connection = await pool.get(host.spec);
    const file = path.join(dir, 'validator_key.json');
    await writeFile(file, 'old content', { mode: 0o644 });
    const content = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(100_000)]);

    const result = await writeFileAtomic(connection, file, content);

    expect(result).toEqual({ sha256: sha(content), bytes: content.length });
    expect((await readFile(file)).equals(content)).toBe(true);
    expect(await modeOf(file)).toBe(0o600);
    expect(await readdir(dir)).toEqual(['validator_key.json']);
  });

  it('applies the requested mode and handles empty content and awkward file names', async () => {
    const connection = await pool.get(host.spec);
    const file = path.join(dir, "config 'with' $(quotes).toml");
    await writeFileAtomic(connection, file, '', { mode: 0o640 });
    expect(await readFile(file, 'utf8')).toBe('');
    expect(await modeOf(file)).toBe(0o640);
  });

  it('refuses a missing directory or a directory at the destination, without retry', async () => {
    const connection = await pool.get(host.spec);
    await expect(writeFileAtomic(connection, path.join(dir, 'missing', 'f'), 'x')).rejects.toMatchObject({
      type: 'RemoteFileMissing',
      nonRetryable: true,
    });
    await mkdir(path.join(dir, 'sub'));
    await expect(writeFileAtomic(connection, path.join(dir, 'sub'), 'x')).rejects.toMatchObject({
      type: 'BadInput',
      nonRetryable: true,
    });
  });

  it('leaves the old file (never a partial one) when the connection is cut mid-transfer', async () => {
    const file = path.join(dir, 'node_key.json');
    const old = Buffer.from('the old key file');
    await writeFile(file, old, { mode: 0o600 });
    let interrupted = false;
    // Cut the connection once the remote temp file exists; a write that already finished by then is retried
    // with more data, so the test does see an interrupted transfer.
    for (let size = 32 << 20; !interrupted && size <= 256 << 20; size *= 2) {
      const connection = await pool.get(host.spec);
      const content = randomBytes(size);
      const outcome = writeFileAtomic(connection, file, content).then(
        () => 'done',
        (err: unknown) => err,
      );
      let finished = false;
      void outcome.then(() => (finished = true));
      await waitUntil(
        async () => finished || (await readdir(dir)).some((f) => f.startsWith('.vup-write.')),
        'the remote temp file',
      );
      if (!finished) connection.destroy();
      const result = await outcome;
      if (result === 'done') {
        expect((await readFile(file)).equals(content)).toBe(true);
        await writeFile(file, old);
        continue;
      }
      interrupted = true;
      expect(result).toBeInstanceOf(HostError);
      expect((await readFile(file)).equals(old)).toBe(true);
      // The remote script notices the short content or is killed, and removes its temp file.
      await waitUntil(async () => (await readdir(dir)).length === 1, 'the temp file to be removed');
      expect(await readdir(dir)).toEqual(['node_key.json']);
    }
    expect(interrupted).toBe(true);
  });
});

describe('sha256OfFile and freeDisk', () => {
  it('hashes a remote file', async () => {
    const connection = await pool.get(host.spec);
    const content = randomBytes(10_000);
    await writeFile(path.join(dir, 'blob'), content);
    expect(await sha256OfFile(connection, path.join(dir, 'blob'))).toBe(sha(content));
    await expect(sha256OfFile(connection, path.join(dir, 'nope'))).rejects.toMatchObject({
      type: 'RemoteFileMissing',
    });
  });

  it('reports the size of the filesystem holding a path', async () => {
    const connection = await pool.get(host.spec);
    const disk = await freeDisk(connection, dir);
    const local = await statfs(dir);
    // Total size is stable while the test runs; free space is not, so only its bounds are checked.
    expect(Math.abs(disk.totalBytes - local.blocks * local.bsize)).toBeLessThanOrEqual(1024);
    expect(disk.availableBytes).toBeGreaterThan(0);
    expect(disk.availableBytes).toBeLessThanOrEqual(disk.totalBytes);
    expect(disk.mountPoint.startsWith('/')).toBe(true);
    await expect(freeDisk(connection, path.join(dir, 'nope'))).rejects.toMatchObject({ type: 'RemoteFileMissing' });
  });
});

describe('installBinary', () => {
  it('installs a verified binary with mode 0755, and does nothing when it is already there', async () => {
    const connection = await pool.get(host.spec);
    const binary = randomBytes(50_000);
    const source = path.join(dir, 'neard.staged');
    const destination = path.join(dir, 'neard');
    await writeFile(source, binary, { mode: 0o600 });
    await writeFile(destination, 'old binary', { mode: 0o755 });

    expect(await installBinary(connection, { source, destination, sha256: sha(binary) })).toEqual({ changed: true });
    expect((await readFile(destination)).equals(binary)).toBe(true);
    expect(await modeOf(destination)).toBe(0o755);
    expect(await installBinary(connection, { source, destination, sha256: sha(binary) })).toEqual({ changed: false });
    expect((await readdir(dir)).sort()).toEqual(['neard', 'neard.staged']);
  });

  it('refuses a checksum mismatch without retry and leaves the destination untouched', async () => {
    const connection = await pool.get(host.spec);
    const source = path.join(dir, 'neard.staged');
    const destination = path.join(dir, 'neard');
    await writeFile(source, 'tampered binary');
    await writeFile(destination, 'old binary');
    await chmod(destination, 0o751);
    const before = await stat(destination);

    const error = await installBinary(connection, {
      source,
      destination,
      sha256: sha(Buffer.from('expected binary')),
    }).catch((err: unknown) => err);

    expect(error).toMatchObject({ type: 'ChecksumMismatch', nonRetryable: true });
    expect((error as Error).message).toContain(sha(Buffer.from('tampered binary')));
    expect(await readFile(destination, 'utf8')).toBe('old binary');
    const after = await stat(destination);
    expect([after.ino, after.mode, after.mtimeMs]).toEqual([before.ino, before.mode, before.mtimeMs]);
    expect((await readdir(dir)).sort()).toEqual(['neard', 'neard.staged']);
  });

  it('refuses a missing source and a malformed digest', async () => {
    const connection = await pool.get(host.spec);
    const destination = path.join(dir, 'neard');
    await expect(
      installBinary(connection, { source: path.join(dir, 'nope'), destination, sha256: 'a'.repeat(64) }),
    ).rejects.toMatchObject({ type: 'RemoteFileMissing', nonRetryable: true });
    await expect(
      installBinary(connection, { source: destination, destination, sha256: 'not-a-digest' }),
    ).rejects.toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(existsSync(destination)).toBe(false);
  });
});
