/**
 * The NEAR testbed helper itself: a node started through the host's service manager over SSH syncs, signs
 * with the key the testbed gave it, and the staged binaries carry the checksums the testbed reports.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { startNearTestbed, startTestbedService, type NearTestbed } from '../../helpers/near-testbed.js';
import { waitUntil } from '../../helpers/neard-process.js';

let bed: NearTestbed;

beforeAll(async () => {
  bed = await startNearTestbed({ epochLength: 10, blockTimeMs: 100 });
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
  return ((await res.json()) as { result: { validator_public_key: string | null; sync_info: { syncing: boolean } } })
    .result;
}

it('runs the validator node as a service on its host, signing with the genesis key', async () => {
  const node = bed.nodes['val-a']!;
  const validator = bed.validators['pool.poolv1.near']!;
  await startTestbedService(bed, 'val-a');
  expect(bed.isRunning('val-a')).toBe(true);
  expect(bed.isRunning('val-b')).toBe(false);
  const synced = await waitUntil('val-a synced', async () => {
    const s = await status(node.rpcUrl);
    return !s.sync_info.syncing && s;
  });
  expect(synced.validator_public_key).toBe(validator.validatorKey.getPublicKey().toString());
  await waitUntil('val-a produced blocks', () => bed.counters('pool.poolv1.near').producedBlocks > 0);
}, 120_000);

it('stages both binaries on every host with the reported checksums', async () => {
  for (const host of Object.keys(bed.hosts)) {
    for (const binary of [bed.binaries.old, bed.binaries.new]) {
      const digest = createHash('sha256')
        .update(await readFile(binary.staged(host)))
        .digest('hex');
      expect(digest).toBe(binary.sha256);
    }
  }
  expect(bed.binaries.old.sha256).not.toBe(bed.binaries.new.sha256);
});
