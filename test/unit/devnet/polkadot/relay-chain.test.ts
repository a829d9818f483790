import '@polkadot/api-augment';
import type { ApiPromise } from '@polkadot/api';
import { u8aToHex, u8aToString } from '@polkadot/util';
import { Chain } from '../../../../devnet/polkadot/chain.js';
import { chainRpc } from '../../../../devnet/polkadot/chain-rpc.js';
import { startPolkadotDevnet, type PolkadotDevnet } from '../../../../devnet/polkadot/index.js';
import { loadRuntime } from '../../../../devnet/polkadot/metadata.js';
import { RelayRuntime } from '../../../../devnet/polkadot/relay-runtime.js';
import { storageKey } from '../../../../devnet/polkadot/storage.js';
import { connect, waitFor } from '../../../helpers/polkadot-devnet.js';

describe('simulated relay chain: connect, storage, blocks', () => {
  let devnet: PolkadotDevnet;
  let api: ApiPromise;

  beforeAll(async () => {
    devnet = await startPolkadotDevnet({ sessionLength: 6, blockTimeMs: 150, validators: ['Alice', 'Bob'] });
    api = await connect(devnet.relayUrl);
  });

  afterAll(async () => {
    await api?.disconnect();
    await devnet?.stop();
  });

  it('serves the real Polkadot runtime metadata to ApiPromise', () => {
    expect(api.runtimeVersion.specName.toString()).toBe('polkadot');
    expect(api.runtimeMetadata.version).toBe(15);
    expect(api.genesisHash.toHex()).toBe(devnet.relay.genesisHash);
    // Timing constants follow the simulated chain, so slot arithmetic predicts session ends.
    expect(api.consts.babe.epochDuration.toNumber()).toBe(6);
    expect(api.consts.babe.expectedBlockTime.toNumber()).toBe(150);
    expect(typeof api.tx.session.setKeys).toBe('function');
  });

  it('answers session and babe queries from chain state', async () => {
    const validators = await api.query.session.validators();
    expect(validators.map((v) => u8aToHex(v.toU8a()))).toEqual(
      ['Alice', 'Bob'].map((n) => u8aToHex(devnet.stash(n).publicKey)),
    );
    const nextKeys = await api.query.session.nextKeys(devnet.stash('Alice').address);
    expect(nextKeys.isSome).toBe(true);
    const [genesisSlot, currentSlot] = await Promise.all([api.query.babe.genesisSlot(), api.query.babe.currentSlot()]);
    expect(currentSlot.toNumber()).toBeGreaterThanOrEqual(genesisSlot.toNumber());
  });

  it('produces blocks, rotates sessions and finalizes behind the head', async () => {
    const start = (await api.query.session.currentIndex()).toNumber();
    await waitFor(
      'two session rotations',
      async () => (await api.query.session.currentIndex()).toNumber() >= start + 2,
    );
    const [header, finalizedHash] = await Promise.all([api.rpc.chain.getHeader(), api.rpc.chain.getFinalizedHead()]);
    const finalized = await api.rpc.chain.getHeader(finalizedHash);
    expect(finalized.number.toNumber()).toBeLessThan(header.number.toNumber());
    const epochIndex = await api.query.babe.epochIndex();
    expect(epochIndex.toNumber()).toBe((await api.query.session.currentIndex()).toNumber());
  });

  it('supports api.derive.session.progress()', async () => {
    const progress = await api.derive.session.progress();
    expect(progress.sessionLength.toNumber()).toBe(6);
    expect(progress.sessionProgress.toNumber()).toBeGreaterThanOrEqual(0);
    expect(progress.sessionProgress.toNumber()).toBeLessThan(6);
    expect(progress.currentIndex.toNumber()).toBeGreaterThanOrEqual(0);
  });

  it('serves the runtime APIs tools use: BABE epochs and SessionKeys decoding', async () => {
    const view = await api.at(await api.rpc.chain.getBlockHash());
    const [current, next, slot] = await Promise.all([
      view.call.babeApi.currentEpoch(),
      view.call.babeApi.nextEpoch(),
      view.query.babe.currentSlot(),
    ]);
    expect(current.duration.toNumber()).toBe(6);
    expect(next.epochIndex.toNumber()).toBe(current.epochIndex.toNumber() + 1);
    expect(next.startSlot.toNumber()).toBe(current.startSlot.toNumber() + 6);
    expect(slot.toNumber()).toBeGreaterThanOrEqual(current.startSlot.toNumber());
    expect(slot.toNumber()).toBeLessThan(next.startSlot.toNumber());

    const keys = (await view.query.session.nextKeys(devnet.stash('Alice').address)).unwrap().toHex();
    const decoded = await view.call.sessionKeys.decodeSessionKeys(keys);
    expect(decoded.unwrap().map(([, type]) => u8aToString(type.toU8a()))).toEqual([
      'gran',
      'babe',
      'para',
      'asgn',
      'audi',
      'beef',
    ]);
  });

  it('decodes new heads with the BABE author of each block', async () => {
    const header = await new Promise<{ author?: { toString(): string } }>((resolve) => {
      void api.derive.chain.subscribeNewHeads((h) => resolve(h)).then((unsub) => setTimeout(unsub, 0));
    });
    const stashes = ['Alice', 'Bob'].map((n) => devnet.stash(n).address);
    expect(stashes).toContain(header.author?.toString());
  });
});

describe('simulated Kusama relay chain', () => {
  it('serves the Kusama runtime with its own session key layout and address format', async () => {
    const devnet = await startPolkadotDevnet({ chain: 'kusama', sessionLength: 6, blockTimeMs: 150 });
    const api = await connect(devnet.relayUrl);
    try {
      expect(api.runtimeVersion.specName.toString()).toBe('kusama');
      expect(api.registry.chainSS58).toBe(2);
      const nextKeys = await api.query.session.nextKeys(devnet.stash('Alice').address);
      expect(nextKeys.unwrap().toU8a()).toHaveLength(193);
    } finally {
      await api.disconnect();
      await devnet.stop();
    }
  });
});

describe('state retention', () => {
  it('answers state queries at recent blocks and refuses discarded state like a pruned node', () => {
    const runtime = loadRuntime('polkadot', { timing: { sessionLength: 4, blockTimeMs: 100 } });
    const logic = new RelayRuntime(
      runtime,
      { sessionLength: 4, requireProof: true, ahm: false, validatorIdFromStaking: true },
      { accounts: [], validators: [], proxies: [] },
    );
    const chain = new Chain(logic, { blockTimeMs: 100, finalityLag: 1, stateRetention: 3 });
    const rpc = chainRpc(chain);
    const getStorage = rpc.methods.state_getStorage!;
    const numberKey = storageKey(runtime, 'system', 'number');
    const first = chain.produceBlock();
    for (let i = 0; i < 5; i += 1) chain.produceBlock();
    const recent = chain.blockAt(chain.best.number - 1)!;
    expect(getStorage([numberKey, recent.hash], { id: 0, onClose: () => {} })).toBe(
      u8aToHex(runtime.registry.createType('u32', recent.number).toU8a()),
    );
    expect(() => getStorage([numberKey, first.hash], { id: 0, onClose: () => {} })).toThrow(/State already discarded/);
  });
});
