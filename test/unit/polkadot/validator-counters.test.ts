/**
 * src/polkadot/validator-counters.ts against the local Polkadot network: a validator whose keys are active
 * but that runs no node misses every slot, and the reading from the relay RPC gives the devnet's own count of
 * missed slots (`devnet_counters`) and the chain's offence reports against the stash; an RPC that does not
 * list `devnet_counters` (a real node) is never asked for it, and one that does not answer gives nothing.
 * Offence reports from real equivocations: test/unit/devnet/polkadot/sim-node.test.ts.
 */
import { startPolkadotDevnet, type PolkadotDevnet } from '../../../devnet/polkadot/index.js';
import { polkadotValidatorCounters } from '../../../src/polkadot/validator-counters.js';
import { startRpcFilterProxy } from '../../helpers/rpc-filter-proxy.js';

let devnet: PolkadotDevnet;

beforeAll(async () => {
  devnet = await startPolkadotDevnet({
    mode: 'relay',
    sessionLength: 6,
    blockTimeMs: 100,
    validators: ['Alice'],
    signatureGraceSlots: 2,
  });
}, 60_000);

afterAll(async () => {
  await devnet?.stop();
}, 30_000);

it('reads the missed slots the devnet counted and the offences the chain recorded for a stash', async () => {
  const stash = devnet.stash('Alice').address;
  const deadline = Date.now() + 20_000;
  while (devnet.counters(stash).missed < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  devnet.relay.stop();
  const chain = devnet.counters(stash);
  expect(chain.missed).toBeGreaterThanOrEqual(5);
  const reading = await polkadotValidatorCounters(devnet.relayUrl, stash);
  expect(chain.equivocations).toBe(0);
  expect(reading).toEqual({
    missed: { slots: chain.missed },
    doubleSigns: 0,
    source: 'offences reports, devnet_counters',
  });
}, 30_000);

it('does not ask an RPC that lists no devnet_counters for it, and still reads its offence reports', async () => {
  const realNode = await startRpcFilterProxy(devnet.relayUrl, 'devnet_counters');
  try {
    const reading = await polkadotValidatorCounters(realNode.url, devnet.stash('Alice').address);
    expect(reading).toEqual({ missed: {}, doubleSigns: 0, source: 'offences reports' });
    expect(realNode.refused).toBe(0);
  } finally {
    await realNode.close();
  }
}, 30_000);

it('reads nothing from an RPC that does not answer', async () => {
  expect(await polkadotValidatorCounters('ws://127.0.0.1:9', devnet.stash('Alice').address)).toBeUndefined();
}, 30_000);
