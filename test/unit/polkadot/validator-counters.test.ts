/**
 * src/polkadot/validator-counters.ts against the local Polkadot network: a validator whose keys are active
 * but that runs no node misses every slot, and the reading from the relay RPC gives the devnet's own count of
 * missed slots and equivocations (`devnet_counters`); an RPC that does not answer gives nothing.
 */
import { startPolkadotDevnet, type PolkadotDevnet } from '../../../devnet/polkadot/index.js';
import { polkadotValidatorCounters } from '../../../src/polkadot/validator-counters.js';

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

it('reads the missed slots and equivocations the chain counted for a stash', async () => {
  const stash = devnet.stash('Alice').address;
  const deadline = Date.now() + 20_000;
  while (devnet.counters(stash).missed < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  devnet.relay.stop();
  const chain = devnet.counters(stash);
  expect(chain.missed).toBeGreaterThanOrEqual(5);
  const reading = await polkadotValidatorCounters(devnet.relayUrl, stash);
  expect(reading).toEqual({
    missed: { slots: chain.missed },
    doubleSigns: chain.equivocations,
    source: 'devnet_counters',
  });
}, 30_000);

it('reads nothing from an RPC that does not answer', async () => {
  expect(await polkadotValidatorCounters('ws://127.0.0.1:9', devnet.stash('Alice').address)).toBeUndefined();
}, 30_000);
