/**
 * The NEAR testbed helper itself: nodes started through each host's service manager over SSH sync and sign
 * with the keys the testbed gave them (a pool and a direct staker), the staged binaries carry the checksums
 * the testbed reports, and stop() leaves no process or folder behind.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { startNearTestbed, type NearTestbed } from '../../../../devnet/testbeds/near.js';
import { waitUntil } from '../../../helpers/neard-process.js';

let bed: NearTestbed;

beforeAll(async () => {
  bed = await startNearTestbed({
    epochLength: 10,
    blockTimeMs: 100,
    validators: [
      { accountId: 'pool.poolv1.near', staking: 'pool' },
      { accountId: 'direct.near', staking: 'direct' },
    ],
    nodes: [
      { id: 'val-a', host: 'val-a', validator: 'pool.poolv1.near', start: true },
      { id: 'val-b', host: 'val-b', validator: 'direct.near', binary: 'new', start: true },
    ],
  });
}, 120_000);

afterAll(async () => {
  await bed?.stop();
}, 60_000);

async function status(rpcUrl: string) {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: '1', method: 'status', params: [] }),
  });
  type Status = { validator_public_key: string | null; version: { version: string }; sync_info: { syncing: boolean } };
  return ((await res.json()) as { result: Status }).result;
}

it('runs each validator node as a service on its host, signing with its genesis key', async () => {
  for (const [nodeId, accountId, version] of [
    ['val-a', 'pool.poolv1.near', '2.3.0'],
    ['val-b', 'direct.near', '2.4.0'],
  ] as const) {
    const node = bed.nodes[nodeId]!;
    expect(bed.isRunning(nodeId)).toBe(true);
    const synced = await waitUntil(`${nodeId} synced`, async () => {
      const s = await status(node.rpcUrl);
      return !s.sync_info.syncing && s;
    });
    expect(synced.validator_public_key).toBe(bed.validators[accountId]!.validatorKey.getPublicKey().toString());
    expect(synced.version.version).toBe(version);
    await waitUntil(`${accountId} produced blocks`, () => bed.counters(accountId).producedBlocks > 0);
  }
}, 120_000);

it('gives each validator a signer of the account that stakes for it', async () => {
  const pool = bed.validators['pool.poolv1.near']!;
  expect(pool.stakingInput).toEqual({ type: 'pool', ownerId: 'owner.near', signer: pool.signer });
  const direct = bed.validators['direct.near']!;
  expect(direct.stakingInput).toEqual({ type: 'direct', signer: direct.signer });
  for (const v of [pool, direct]) {
    if (v.signer.type !== 'file') throw new Error('expected a credentials file');
    const file = JSON.parse(await readFile(v.signer.path, 'utf8')) as { account_id: string; public_key: string };
    expect(file.account_id).toBe(v.signerAccountId);
    expect(bed.devnet.chain.accounts.get(v.signerAccountId)!.keys.has(file.public_key)).toBe(true);
  }
});

it('stages both binaries on every host with the reported checksums', async () => {
  for (const host of Object.keys(bed.hosts)) {
    for (const binary of [bed.binaries.old, bed.binaries.new]) {
      const digest = createHash('sha256')
        .update(await readFile(binary.staged(host)))
        .digest('hex');
      expect(digest).toBe(binary.sha256);
      expect(binary.release(host)).toEqual({ staged: binary.staged(host), sha256: digest, version: binary.version });
    }
  }
  expect(bed.binaries.old.sha256).not.toBe(bed.binaries.new.sha256);
});

it('tears everything down', async () => {
  const roots = Object.values(bed.hosts).map((h) => h.root);
  const pids = Object.values(bed.hosts).map((h) => h.sshd.pid);
  await bed.stop();
  for (const root of roots) expect(existsSync(root)).toBe(false);
  expect(existsSync(bed.workDir)).toBe(false);
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  await expect(status(bed.nodes['val-a']!.rpcUrl)).rejects.toThrow();
  await expect(fetch(bed.rpcUrl)).rejects.toThrow();
}, 60_000);
