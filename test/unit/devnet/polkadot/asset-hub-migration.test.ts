import '@polkadot/api-augment';
import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import { startPolkadotDevnet, type PolkadotDevnet } from '../../../../devnet/polkadot/index.js';
import {
  connect,
  failure,
  newSessionKeys,
  proxyResult,
  submitUntilFinalized,
  waitFor,
} from '../../../helpers/polkadot-devnet.js';

describe('AHM mode: session keys go through Asset Hub', () => {
  let devnet: PolkadotDevnet;
  let relay: ApiPromise;
  let assetHub: ApiPromise;

  /** `stakingRcClient.setKeys`, which the shipped metadata lacks and the devnet registers (see metadata.ts). */
  const setKeysOnAssetHub = (keys: string, proof: string): SubmittableExtrinsic<'promise'> => {
    const setKeys = assetHub.tx['stakingRcClient']?.['setKeys'];
    if (!setKeys) throw new Error('Asset Hub has no stakingRcClient.setKeys');
    return setKeys(keys, proof, null);
  };
  /** proxy.proxy with the runtime's own ProxyType names (the static typings know no `StakingOperator`). */
  const proxyOnAssetHub = (real: string, proxyType: string, call: SubmittableExtrinsic<'promise'>) =>
    (assetHub.tx.proxy.proxy as unknown as (...args: unknown[]) => SubmittableExtrinsic<'promise'>)(
      real,
      proxyType,
      call,
    );
  const relayNextKeys = async (name: string) =>
    (await relay.query.session.nextKeys(devnet.stash(name).address)).unwrapOr(undefined)?.toHex();

  beforeAll(async () => {
    devnet = await startPolkadotDevnet({
      mode: 'ahm',
      sessionLength: 8,
      blockTimeMs: 100,
      validators: ['Alice', 'Bob'],
      accounts: ['Ferdie'],
      proxies: [{ real: 'Bob', delegate: 'Dave', type: 'StakingOperator' }],
    });
    [relay, assetHub] = await Promise.all([connect(devnet.relayUrl), connect(devnet.assetHubUrl!)]);
  });

  afterAll(async () => {
    await Promise.all([relay?.disconnect(), assetHub?.disconnect()]);
    await devnet?.stop();
  });

  it('serves a post-2.3.2 relay and an Asset Hub whose metadata has stakingRcClient.setKeys', () => {
    expect(relay.runtimeVersion.specVersion.toNumber()).toBe(2_003_002);
    expect(assetHub.runtimeVersion.specName.toString()).toBe('statemint');
    const setKeys = assetHub.tx['stakingRcClient']?.['setKeys'];
    expect(setKeys?.meta.args.map((a) => a.name.toString())).toEqual([
      'keys',
      'proof',
      'maxDeliveryAndRemoteExecutionFee',
    ]);
  });

  it('relay session.setKeys is filtered (System.CallFiltered)', async () => {
    const stash = devnet.stash('Alice');
    const { keys, proof } = newSessionKeys(devnet.relay.runtime, stash);
    const { finalized } = await submitUntilFinalized(relay.tx.session.setKeys(keys, proof), stash);
    expect(failure(relay, finalized.events)).toBe('system.CallFiltered');
  });

  it('stakingRcClient.setKeys by the stash reaches relay NextKeys and is queued at the next session', async () => {
    const stash = devnet.stash('Alice');
    const { keys, proof } = newSessionKeys(devnet.relay.runtime, stash);
    const { finalized } = await submitUntilFinalized(setKeysOnAssetHub(keys, proof), stash);
    expect(failure(assetHub, finalized.events)).toBeUndefined();
    await waitFor('keys on the relay', async () => (await relayNextKeys('Alice')) === keys);
    const session = (await relay.query.session.currentIndex()).toNumber();
    await waitFor('next session', async () => (await relay.query.session.currentIndex()).toNumber() > session);
    const queued = await relay.query.session.queuedKeys();
    expect(queued.some(([who, k]) => who.eq(stash.address) && k.toHex() === keys)).toBe(true);
  });

  it('a StakingOperator proxy sets keys for its stash', async () => {
    const real = devnet.stash('Bob');
    const { keys, proof } = newSessionKeys(devnet.relay.runtime, real);
    const call = proxyOnAssetHub(real.address, 'StakingOperator', setKeysOnAssetHub(keys, proof));
    const { finalized } = await submitUntilFinalized(call, devnet.account('Dave'));
    expect(proxyResult(assetHub, finalized.events)).toBe('Ok');
    await waitFor('keys on the relay', async () => (await relayNextKeys('Bob')) === keys);
  });

  it('a StakingOperator proxy cannot transfer (CallFiltered)', async () => {
    const transfer = assetHub.tx.balances.transferKeepAlive(devnet.account('Ferdie').address, 1_000_000_000n);
    const call = proxyOnAssetHub(devnet.stash('Bob').address, 'StakingOperator', transfer);
    const { finalized } = await submitUntilFinalized(call, devnet.account('Dave'));
    expect(proxyResult(assetHub, finalized.events)).toBe('system.CallFiltered');
  });

  it('refuses accounts that are not validators and proofs for another owner', async () => {
    const ferdie = devnet.account('Ferdie');
    const notValidator = newSessionKeys(devnet.relay.runtime, ferdie);
    const first = await submitUntilFinalized(setKeysOnAssetHub(notValidator.keys, notValidator.proof), ferdie);
    expect(failure(assetHub, first.finalized.events)).toBe('stakingRcClient.NotValidator');

    const stash = devnet.stash('Alice');
    const before = await relayNextKeys('Alice');
    const wrongOwner = newSessionKeys(devnet.relay.runtime, ferdie);
    const second = await submitUntilFinalized(setKeysOnAssetHub(wrongOwner.keys, wrongOwner.proof), stash);
    expect(failure(assetHub, second.finalized.events)).toBe('stakingRcClient.InvalidProof');
    expect(await relayNextKeys('Alice')).toBe(before);
  });
});
