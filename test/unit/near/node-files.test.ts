/**
 * The node's files read over a real sshd: key files in nearcore's pretty form and near-cli's compact form give
 * only their account and public key; a database in the middle of a migration shows its snapshot.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyPair } from 'near-api-js';
import { writeNeardBinary } from '../../../src/devnet/near/index.js';
import { readDatabaseVersions, readValidatorKeyOnHost } from '../../../src/near/node-files.js';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import { startSshHost, type SshHost } from '../../../src/devnet/hosts/sshd.js';

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

it('sees the migration snapshot of a database being migrated', async () => {
  const home = path.join(host.rootDir, 'migrating');
  await mkdir(path.join(home, 'data', 'migration-snapshot'), { recursive: true });
  await writeFile(
    path.join(home, 'data', 'DB_MARKER.json'),
    JSON.stringify({ db_version: 40, head_height: 12, state: 'migrating', migrating_to: 42 }),
  );
  const binary = path.join(host.rootDir, 'bin', 'neard');
  writeNeardBinary(binary, { version: '2.4.0', build: 'sim', protocolVersion: 73, dbVersion: 42 });
  const versions = await readDatabaseVersions(await pool.get(host.spec), { home, binary });
  expect(versions).toMatchObject({
    binaryVersion: '2.4.0',
    binaryDbVersion: 42,
    dataDbVersion: 40,
    migrationSnapshot: true,
  });
  expect(versions.banner).toContain('(db 42)');
});
