/**
 * The simulated neard as a real child process started from an installed wrapper binary: its status, sync
 * delay, signing only with the current validator key, key hot swap on SIGHUP, and its database versions.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { KeyPair } from 'near-api-js';
import { NO_PERFORMANCE_KICKOUTS, ONE_NEAR, startNearDevnet, type NearDevnet } from '../../../../devnet/near/index.js';
import { MIGRATION_SNAPSHOT_DIR } from '../../../../devnet/near/node-db.js';
import { initNodeHome, writeValidatorKey, type DbMarker } from '../../../../devnet/near/node-home.js';
import { freePort } from '../../../../devnet/ports.js';
import { scratch, startNeard, waitUntil, type NeardProcess, type Scratch } from '../../../helpers/neard-process.js';

const BINARY = { version: '2.4.0', build: 'sim-a', protocolVersion: 73, dbVersion: 42 };

describe('simulated neard process', () => {
  let devnet: NearDevnet;
  let dir: Scratch;
  const running: NeardProcess[] = [];
  const currentKey = KeyPair.fromRandom('ed25519');
  let neard: string;

  beforeAll(async () => {
    // Made here, not at collection: hooks do not run for describes whose tests are all filtered out.
    dir = scratch('neard-sim-');
    devnet = await startNearDevnet({
      epochLength: 50,
      blockTimeMs: 100,
      // Its validators run no node for some epochs on purpose; nearcore would kick them out.
      ...NO_PERFORMANCE_KICKOUTS,
      validators: [
        { accountId: 'v.near', stakePublicKey: currentKey.getPublicKey().toString(), stake: 10n * ONE_NEAR },
      ],
    });
    neard = dir.installBinary('2.4.0', BINARY);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  });
  afterAll(async () => {
    await devnet.stop();
    dir.remove();
  });

  async function home(
    name: string,
    opts: { validator?: KeyPair; dbVersion?: number; syncDelayMs?: number; migrationStepMs?: number } = {},
  ) {
    const rpcAddr = `127.0.0.1:${await freePort()}`;
    const homeDir = dir.path(name);
    initNodeHome({
      home: homeDir,
      chainId: devnet.chainId,
      networkRpcUrl: devnet.rpcUrl,
      rpcAddr,
      syncDelayMs: opts.syncDelayMs ?? 1_500,
      migrationStepMs: opts.migrationStepMs ?? 300,
      validator: opts.validator ? { accountId: 'v.near', keyPair: opts.validator } : undefined,
      dbVersion: opts.dbVersion,
    });
    return { homeDir, rpcAddr };
  }

  function start(homeDir: string, rpcAddr: string, binary = neard) {
    const p = startNeard(binary, homeDir, rpcAddr);
    running.push(p);
    return p;
  }

  const signedBy = (key: KeyPair) => devnet.counters('v.near').blocksSignedByKey[key.getPublicKey().toString()] ?? 0;

  it('reports its key and version, syncs after the delay, signs only with the current key and hot-swaps on SIGHUP', async () => {
    const standbyKey = KeyPair.fromRandom('ed25519');
    const { homeDir, rpcAddr } = await home('hot-swap', { validator: standbyKey, syncDelayMs: 2_000 });
    const node = start(homeDir, rpcAddr);

    const first = await waitUntil('the node RPC', () => node.status());
    expect(first.sync_info.syncing).toBe(true);
    expect(first.validator_account_id).toBe('v.near');
    expect(first.validator_public_key).toBe(standbyKey.getPublicKey().toString());
    expect(first.version).toMatchObject({ version: '2.4.0', build: 'sim-a' });
    expect(first.latest_protocol_version).toBe(73);
    expect(signedBy(currentKey)).toBe(0);

    await waitUntil('sync', async () => !(await node.status()).sync_info.syncing);
    // Synced, but its key is not the account's current key: it must not sign.
    await node.waitForLog(/is not the current validator key of v\.near; not signing/);
    const head = (await node.status()).sync_info.latest_block_height;
    await devnet.waitForHeight(head + 10);
    expect(signedBy(standbyKey)).toBe(0);
    expect(signedBy(currentKey)).toBe(0);

    writeValidatorKey(homeDir, 'v.near', currentKey);
    node.child.kill('SIGHUP');
    await waitUntil('the swapped key in status', async () =>
      (await node.status()).validator_public_key === currentKey.getPublicKey().toString() ? true : undefined,
    );
    await waitUntil('signatures with the current key', () => signedBy(currentKey) >= 5);
    expect(signedBy(standbyKey)).toBe(0);

    rmSync(path.join(homeDir, 'validator_key.json'));
    node.child.kill('SIGHUP');
    await waitUntil('no validator key in status', async () =>
      (await node.status()).validator_public_key === null ? true : undefined,
    );
    await node.waitForLog(/Validator key removed/);
    const afterRemoval = signedBy(currentKey);
    const now = devnet.chain.head().height;
    await devnet.waitForHeight(now + 10);
    expect(signedBy(currentKey)).toBeLessThanOrEqual(afterRemoval + 1);
  });

  it('prints the version banner of its binary', () => {
    const banner = execFileSync(neard, ['--version'], { encoding: 'utf8' });
    expect(banner.trim()).toBe('neard (release 2.4.0) (build sim-a) (rustc 1.86.0) (protocol 73) (db 42)');
  });

  it('does not sync or sign on a binary older than the network protocol', async () => {
    const old = dir.installBinary('2.3.0', { version: '2.3.0', build: 'sim-old', protocolVersion: 72, dbVersion: 42 });
    const { homeDir, rpcAddr } = await home('old-protocol', { validator: currentKey, syncDelayMs: 0 });
    const signedBefore = signedBy(currentKey);
    const node = start(homeDir, rpcAddr, old);
    await node.waitForLog(/network runs protocol version 73 but this binary supports up to 72/);
    await devnet.waitForHeight(devnet.chain.head().height + 10);
    const status = await node.status();
    expect(status.sync_info.syncing).toBe(true);
    expect(status.latest_protocol_version).toBe(72);
    expect(signedBy(currentKey)).toBe(signedBefore);
  });

  it('forwards other RPC methods to the network', async () => {
    const { homeDir, rpcAddr } = await home('proxy');
    const node = start(homeDir, rpcAddr);
    const res = await waitUntil('validators through the node', async () => {
      const r = await fetch(node.rpcUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: '1', method: 'validators', params: [null] }),
      });
      return (await r.json()) as { result: { current_validators: { public_key: string }[] } };
    });
    expect(res.result.current_validators.map((v) => v.public_key)).toEqual([currentKey.getPublicKey().toString()]);
    expect((await node.status()).validator_public_key).toBeNull();
  });

  const marker = (homeDir: string) =>
    JSON.parse(readFileSync(path.join(homeDir, 'data', 'DB_MARKER.json'), 'utf8')) as DbMarker;

  it('migrates an older database step by step before serving RPC', async () => {
    const { homeDir, rpcAddr } = await home('migrate', { dbVersion: 40 });
    const node = start(homeDir, rpcAddr);
    await node.waitForLog(/Migrating the database from version 40 to 41/);
    await node.waitForLog(/Migrating the database from version 41 to 42/);
    await waitUntil('the node RPC after the migration', () => node.status());
    expect(marker(homeDir)).toMatchObject({ db_version: 42, state: 'ok' });
    expect(existsSync(path.join(homeDir, 'data', MIGRATION_SNAPSHOT_DIR))).toBe(false);
  });

  it('leaves the database refused when killed mid-migration', async () => {
    const { homeDir, rpcAddr } = await home('killed', { dbVersion: 40, migrationStepMs: 60_000 });
    const node = start(homeDir, rpcAddr);
    await node.waitForLog(/Migrating the database from version 40 to 41/);
    await node.stop('SIGKILL');
    expect(marker(homeDir).state).toBe('migrating');

    const again = start(homeDir, rpcAddr);
    expect(await again.exit).toBe(1);
    expect(again.logs.join('\n')).toMatch(/ERROR neard: Detected an existing database migration snapshot/);
  });

  it('refuses a database newer than the binary', async () => {
    const { homeDir, rpcAddr } = await home('newer', { dbVersion: 43 });
    const node = start(homeDir, rpcAddr);
    expect(await node.exit).toBe(1);
    expect(node.logs.join('\n')).toMatch(
      /Database version 43 is higher than the expected version 42\. It was likely created by newer version of neard/,
    );
    expect(marker(homeDir)).toMatchObject({ db_version: 43, state: 'ok' });
  });

  it('runs on a data folder synced by a newer binary only with that binary', async () => {
    const newer = dir.installBinary('2.5.0', { version: '2.5.0', build: 'sim-b', protocolVersion: 74, dbVersion: 43 });
    const fresh = await home('fresh-sync');
    const syncing = start(fresh.homeDir, fresh.rpcAddr, newer);
    await waitUntil('the fresh node synced', async () => !(await syncing.status()).sync_info.syncing);
    expect(await syncing.stop('SIGTERM')).toBe(0);
    const synced = marker(fresh.homeDir);
    expect(synced).toMatchObject({ db_version: 43, state: 'ok' });
    expect(synced.head_height).toBeGreaterThan(0);

    const validator = await home('swap-target', { dbVersion: 42 });
    rmSync(path.join(validator.homeDir, 'data'), { recursive: true });
    renameSync(path.join(fresh.homeDir, 'data'), path.join(validator.homeDir, 'data'));

    const onOldBinary = start(validator.homeDir, validator.rpcAddr);
    expect(await onOldBinary.exit).toBe(1);
    expect(onOldBinary.logs.join('\n')).toMatch(/Database version 43 is higher than the expected version 42/);

    const onNewBinary = start(validator.homeDir, validator.rpcAddr, newer);
    const status = await waitUntil('the node RPC on the new binary', () => onNewBinary.status());
    expect(status.version.version).toBe('2.5.0');
    expect(status.sync_info.latest_block_height).toBeGreaterThanOrEqual(synced.head_height);
    expect(onNewBinary.logs.join('\n')).not.toMatch(/Migrating the database/);
  });
});
