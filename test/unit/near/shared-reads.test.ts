/**
 * An epoch boundary for many validators of one network costs a number of RPC calls that does not grow with
 * the validators: the chain waits' looks (lookKeyStage, lookNodeSynced's network side) read the network RPC
 * through one shared provider per endpoint (src/near/rpc.ts sharedNearRpc), which joins identical reads in
 * flight and keeps an answer for a block's time. Counted at the wire, by an HTTP relay in front of the local
 * NEAR network's JSON-RPC.
 */
import { KeyPair } from 'near-api-js';
import { createActivities, type Activities } from '../../../activities/index.js';
import { startNearDevnet, type NearDevnet } from '../../../devnet/near/index.js';
import { startCountingRelay, type CountingRelay } from '../../../devnet/near/counting-relay.js';
import { SshConnectionPool } from '../../../src/ssh/connection.js';
import { MockActivityEnvironment } from '../../helpers/activity-environment.js';

let devnet: NearDevnet;
let relay: CountingRelay;
let activities: Activities;

beforeAll(async () => {
  devnet = await startNearDevnet({ epochLength: 20, blockTimeMs: 100 });
  await devnet.waitForHeight(25);
  relay = await startCountingRelay(devnet.rpcUrl);
  activities = createActivities({ connections: new SshConnectionPool() });
}, 60_000);

afterAll(async () => {
  await relay?.close();
  await devnet?.stop();
});

/** `n` validators' looks at the same moment, as at an epoch boundary; the RPC methods they cost at the wire. */
async function boundary(n: number): Promise<string[]> {
  // Past the answers the previous round left (a block's time).
  await new Promise((r) => setTimeout(r, 1_100));
  relay.calls.length = 0;
  const looks = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new MockActivityEnvironment().execute(activities.lookKeyStage, {
        rpcUrl: relay.url,
        accountId: `validator-${i}.poolv1.near`,
        publicKey: KeyPair.fromRandom('ed25519').getPublicKey().toString(),
        want: 'current',
      }),
    ),
  );
  expect(looks.every((l) => !l.reached && l.value!.stage === 'absent')).toBe(true);
  // devnet_counters (double signs by account) is the devnet's own method, which a real node does not have.
  return relay.calls.filter((m) => m !== 'devnet_counters');
}

it('answers 300 looks at one boundary with the reads of one', async () => {
  const one = await boundary(1);
  const many = await boundary(300);
  console.log(
    `RPC calls (nearcore methods) for 1 look: ${one.length} (${one.join(', ')}); for 300 looks: ${many.length}`,
  );
  // One look: validators, the protocol config, the head, a block 20 back, validators at the previous epoch's end.
  expect(one.filter((m) => m === 'validators')).toHaveLength(2);
  expect(many.length).toBeLessThanOrEqual(one.length * 2);
}, 60_000);

it('reads the head again after a block', async () => {
  await boundary(1);
  const again = await boundary(1);
  expect(again).toContain('block');
  expect(again).toContain('validators');
}, 30_000);
