/**
 * src/polkadot against the local network with the real @polkadot/api: session maths from the runtime's own
 * constants (a different timing gives different answers), key standings, and a dispatch error that hides
 * inside a ProxyExecuted result (CallFiltered from a proxy type that may not touch Session) is named and
 * refused.
 */
import { startPolkadotDevnet, type PolkadotDevnet } from '../../../devnet/polkadot/index.js';
import { withApi } from '../../../src/polkadot/connection.js';
import { PolkadotError } from '../../../src/polkadot/errors.js';
import { keysStanding, nextKeysOf, sessionInfo, stashKeys } from '../../../src/polkadot/session.js';
import { buildSetKeysCall, submitAndFinalize } from '../../../src/polkadot/set-keys.js';
import { newSessionKeys } from '../../helpers/polkadot-devnet.js';

let devnet: PolkadotDevnet;

beforeAll(async () => {
  devnet = await startPolkadotDevnet({
    mode: 'relay',
    sessionLength: 6,
    blockTimeMs: 150,
    validators: ['Alice'],
    proxies: [{ real: 'Alice', delegate: 'Charlie', type: 'Governance' }],
  });
}, 60_000);

afterAll(async () => {
  await devnet?.stop();
}, 30_000);

it('takes session length and slot duration from the runtime, and the ETA from BABE slots', async () => {
  const info = await withApi(devnet.relayUrl, sessionInfo);
  expect(info.sessionLengthSlots).toBe(6);
  expect(info.slotDurationMs).toBe(150);
  expect(info.slotInSession).toBeGreaterThanOrEqual(0);
  expect(info.slotInSession).toBeLessThan(6);
  expect(info.nextSessionEtaMs).toBe((6 - info.slotInSession) * 150);
  expect(info.epochIndex).toBe(info.currentIndex);
}, 30_000);

it('keys nobody set stand "unset"; malformed keys are bad input', async () => {
  const stash = devnet.stash('Alice');
  const { keys } = newSessionKeys(devnet.relay.runtime, stash);
  const standing = await withApi(devnet.relayUrl, (api) => keysStanding(api, stash.address, keys));
  expect(standing).toMatchObject({ stage: 'unset' });
  const error = await withApi(devnet.relayUrl, (api) => keysStanding(api, stash.address, '0x1234')).catch(
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(PolkadotError);
  expect(error).toMatchObject({ type: 'BadInput', nonRetryable: true });
}, 30_000);

it('the genesis keys are active at the finalized head', async () => {
  const stash = devnet.stash('Alice');
  const onChain = await withApi(devnet.relayUrl, (api) => stashKeys(api, stash.address));
  expect(onChain.nextKeys).toMatch(/^0x/);
  const standing = await withApi(devnet.relayUrl, (api) => keysStanding(api, stash.address, onChain.nextKeys!));
  expect(standing.stage).toBe('active');
  expect(standing.activeSince).toBeGreaterThanOrEqual(0);
}, 30_000);

it('a proxy whose type may not call Session gets ProxyExecuted(CallFiltered): named, non-retryable, NextKeys unchanged', async () => {
  const stash = devnet.stash('Alice');
  const { keys, proof } = newSessionKeys(devnet.relay.runtime, stash);
  await withApi(devnet.relayUrl, async (api) => {
    const before = await nextKeysOf(api, stash.address);
    const tx = buildSetKeysCall(api, { submitTo: 'relay', stash: stash.address, keys, proof, proxyType: 'Governance' });
    const error = await submitAndFinalize(api, tx, devnet.account('Charlie')).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PolkadotError);
    expect(error).toMatchObject({ type: 'SetKeysRejected', dispatchError: 'system.CallFiltered', nonRetryable: true });
    expect(await nextKeysOf(api, stash.address)).toBe(before);
  });
}, 60_000);

it('Asset Hub calls are refused on a chain without stakingRcClient.setKeys', async () => {
  const stash = devnet.stash('Alice');
  const { keys } = newSessionKeys(devnet.relay.runtime, stash);
  await withApi(devnet.relayUrl, (api) => {
    expect(() => buildSetKeysCall(api, { submitTo: 'asset-hub', stash: stash.address, keys })).toThrow(
      /no stakingRcClient.setKeys/,
    );
    return Promise.resolve();
  });
}, 30_000);

it('reaches a node given by its http:// RPC address over WebSocket on the same port', async () => {
  const httpUrl = devnet.relayUrl.replace(/^ws:/, 'http:');
  const info = await withApi(httpUrl, sessionInfo);
  expect(info.sessionLengthSlots).toBe(6);
}, 30_000);
