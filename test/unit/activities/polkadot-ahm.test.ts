/**
 * The Polkadot activities on the AHM-mode testbed (current Polkadot/Kusama: relay session.setKeys is filtered,
 * keys go through Asset Hub's stakingRcClient.setKeys, proxies live on Asset Hub): setKeys through the
 * StakingOperator proxy lands on the relay and becomes active; the relay route is refused with CallFiltered.
 */
import type { ApiPromise } from '@polkadot/api';
import { createActivities, type Activities } from '../../../activities/index.js';
import type { PolkadotNodeRef, RotatedKeys, SetKeysRoute } from '../../../src/api/contracts/polkadot.js';
import { connect, waitFor } from '../../helpers/polkadot-devnet.js';
import { startPolkadotTestbed, type PolkadotTestbed } from '../../../devnet/testbeds/polkadot.js';
import { MockActivityEnvironment, failureOf } from '../../helpers/activity-environment.js';

let bed: PolkadotTestbed;
let activities: Activities;
let relay: ApiPromise;
let assetHub: ApiPromise;
let nodeB: PolkadotNodeRef;
let stash: string;
let rotated: RotatedKeys;
const env = () => new MockActivityEnvironment();

const nextKeys = async () => (await relay.query.session.nextKeys(stash)).unwrapOr(undefined)?.toHex();

beforeAll(async () => {
  bed = await startPolkadotTestbed({ mode: 'ahm', sessionLength: 10, blockTimeMs: 200, syncDelayMs: 500 });
  activities = createActivities({ connections: bed.connections });
  nodeB = bed.nodes['val-b']!.ref;
  stash = bed.validator.stash.address;
  await bed.startNode('val-b');
  [relay, assetHub] = await Promise.all([connect(bed.relayUrl), connect(bed.assetHubUrl!)]);
  rotated = await new MockActivityEnvironment().run(activities.rotateKeys, { node: nodeB, stash, upgradeId: 'ahm-1' });
}, 180_000);

afterAll(async () => {
  await Promise.all([relay?.disconnect(), assetHub?.disconnect()]);
  await bed?.stop();
}, 60_000);

it('CallFiltered: relay session.setKeys by the stash is refused, non-retryable, and the chain is unchanged', async () => {
  const route: SetKeysRoute = { ...bed.routes.stash, submitTo: 'relay', rpcUrl: bed.relayUrl };
  const before = await nextKeys();
  const failure = await failureOf(
    env().execute(activities.setKeys, { route, stash, keys: rotated.keys, proof: rotated.proof }),
  );
  expect(failure).toMatchObject({ type: 'SetKeysRejected', nonRetryable: true });
  expect(failure.message).toContain('system.CallFiltered');
  expect(await nextKeys()).toBe(before);
}, 90_000);

it('an asset-hub route without the relay RPC is refused as bad input', async () => {
  const { relayRpcUrl: _, ...route } = bed.routes.proxy;
  const failure = await failureOf(env().execute(activities.setKeys, { route, stash, keys: rotated.keys }));
  expect(failure).toMatchObject({ type: 'BadInput', nonRetryable: true });
}, 30_000);

it('through the StakingOperator proxy on Asset Hub: reaches relay NextKeys; a second call submits nothing', async () => {
  const proxy = bed.validator.proxy.address;
  const nonce = async () => (await assetHub.rpc.system.accountNextIndex(proxy)).toNumber();
  const before = await nonce();
  const result = await env().execute(activities.setKeys, {
    route: bed.routes.proxy,
    stash,
    keys: rotated.keys,
    proof: rotated.proof,
  });
  expect(result.alreadySet).toBe(false);
  expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/);
  expect(await nextKeys()).toBe(rotated.keys);
  expect(await nonce()).toBe(before + 1);

  const again = await env().execute(activities.setKeys, {
    route: bed.routes.proxy,
    stash,
    keys: rotated.keys,
    proof: rotated.proof,
  });
  expect(again).toEqual({ alreadySet: true });
  expect(await nonce()).toBe(before + 1);
}, 90_000);

it('the keys become active on the relay and lookKeysActive reaches with the node holding them', async () => {
  const look = await waitFor(
    'keys active',
    async () => {
      const seen = await env().execute(activities.lookKeysActive, {
        rpcUrl: bed.relayUrl,
        nodeRpcUrl: nodeB.rpcUrl,
        stash,
        keys: rotated.keys,
      });
      return seen.reached && seen;
    },
    120_000,
  );
  expect(look.value?.stage).toBe('active');
  expect(look.etaMs).toBeGreaterThan(0);
}, 150_000);
