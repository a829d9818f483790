/**
 * The node's files read over a real sshd: key files in nearcore's pretty form and near-cli's compact form give
 * only their account and public key; a database in the middle of a migration shows its snapshot.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyPair } from 'near-api-js';
import { writeNeardBinary } from '../../../devnet/near/index.js';
import { readDatabaseVersions, readValidatorKeyOnHost } from '../../../src/near/node-files.js';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import { startSshHost, type SshHost } from '../../../devnet/hosts/sshd.js';

let host: SshHost;
const pool = new SshConnectionPool();

beforeAll(async () => {
  host = await startSshHost({ name: 'near-files' });
});

afterAll(async () => {
  await pool.closeAll();
  await host?.stop();
});

it('reads the account and public key of a compact key file, and nothing of a file without them', async () => {
  const key = KeyPair.fromRandom('ed25519');
  const home = path.join(host.rootDir, 'compact');
  await mkdir(home, { recursive: true });
  await writeFile(
    path.join(home, 'validator_key.json'),
    JSON.stringify({
      account_id: 'pool.poolv1.near',
      public_key: key.getPublicKey().toString(),
      private_key: key.toString(),
    }),
    { mode: 0o600 },
  );
  const connection = await pool.get(host.spec);
  expect(await readValidatorKeyOnHost(connection, home)).toEqual({
    accountId: 'pool.poolv1.near',
    publicKey: key.getPublicKey().toString(),
  });

  await writeFile(path.join(home, 'validator_key.json'), JSON.stringify({ secret_key: key.toString() }));
  const err = await readValidatorKeyOnHost(connection, home).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err?.message).toContain('no readable account_id and public_key');
  expect(err?.message).not.toContain(key.toString().slice(8));
});

it('reads the banners of the installed binary and the one to install, and sees a migration snapshot', async () => {
  const home = path.join(host.rootDir, 'migrating');
  await mkdir(path.join(home, 'data', 'migration-snapshot'), { recursive: true });
  const installed = path.join(host.rootDir, 'bin', 'neard-old');
  const binary = path.join(host.rootDir, 'bin', 'neard');
  writeNeardBinary(installed, { version: '2.3.1', build: 'sim', protocolVersion: 72, dbVersion: 40 });
  writeNeardBinary(binary, { version: '2.4.0', build: 'sim', protocolVersion: 73, dbVersion: 42 });
  const connection = await pool.get(host.spec);
  const versions = await readDatabaseVersions(connection, { home, binary, installedBinary: installed });
  expect(versions).toMatchObject({
    target: { version: '2.4.0', dbVersion: 42 },
    installed: { version: '2.3.1', dbVersion: 40 },
    hasData: true,
    migrationSnapshot: true,
  });
  expect(versions.target.banner).toContain('(db 42)');

  const fresh = path.join(host.rootDir, 'fresh');
  await mkdir(path.join(fresh, 'data'), { recursive: true });
  const none = await readDatabaseVersions(connection, {
    home: fresh,
    binary,
    installedBinary: path.join(host.rootDir, 'bin', 'absent'),
  });
  expect(none).toEqual({ target: versions.target, hasData: false, migrationSnapshot: false });
});
