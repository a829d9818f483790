import '@polkadot/api-augment';
import type { ApiPromise } from '@polkadot/api';
import type { DispatchError } from '@polkadot/types/interfaces';
import { u8aConcat, u8aToHex } from '@polkadot/util';
import { startPolkadotDevnet, type PolkadotDevnet } from '../../../../devnet/polkadot/index.js';
import {
  createOwnershipProof,
  keyPair,
  keyTypeHex,
  sessionKeyLayout,
} from '../../../../devnet/polkadot/session-keys.js';
import {
  connect,
  eventNames,
  failure,
  newSessionKeys,
  proxyResult,
  submitUntilFinalized,
  waitFor,
} from '../../../helpers/polkadot-devnet.js';

const SESSION_LENGTH = 8;

describe('simulated relay chain: session.setKeys, proxies and the ownership proof', () => {
  let devnet: PolkadotDevnet;
  let api: ApiPromise;

  beforeAll(async () => {
    devnet = await startPolkadotDevnet({
      sessionLength: SESSION_LENGTH,
      blockTimeMs: 100,
      validators: ['Alice', 'Bob', 'Charlie'],
      accounts: ['Ferdie'],
      proxies: [{ real: 'Bob', delegate: 'Dave', type: 'Staking' }],
    });
    api = await connect(devnet.relayUrl);
  });

  afterAll(async () => {
    await api?.disconnect();
    await devnet?.stop();
  });

  it('setKeys by the stash: Ready -> InBlock -> Finalized; NextKeys at S, QueuedKeys at S+1, active at S+2', async () => {
    const stash = devnet.stash('Alice');
    const { keys, babe, proof } = newSessionKeys(devnet.relay.runtime, stash);
    const { statuses, finalized } = await submitUntilFinalized(api.tx.session.setKeys(keys, proof), stash);
    // The chain sends Ready, InBlock, Finalized. polkadot-js reads a block's events before it reports InBlock and
    // drops that report (switchMap) when Finalized arrives first, as it can on a loaded machine with finality
    // close behind the head (a run saw it): the callback sees InBlock at most once, between the two.
    expect(statuses.join(' ')).toMatch(/^Ready (InBlock )?Finalized$/);
    expect(eventNames(finalized.events)).toContain('system.ExtrinsicSuccess');
    expect(failure(api, finalized.events)).toBeUndefined();

    const inBlock = await api.at(finalized.status.asFinalized);
    const s = (await inBlock.query.session.currentIndex()).toNumber();
    expect((await inBlock.query.session.nextKeys(stash.address)).unwrap().toHex()).toBe(keys);
    const queuedHas = async (at: ApiPromise | Awaited<ReturnType<ApiPromise['at']>>) =>
      (await at.query.session.queuedKeys()).some(([who, k]) => who.eq(stash.address) && k.toHex() === keys);
    const activeHas = async (at: Awaited<ReturnType<ApiPromise['at']>>) =>
      (await at.query.babe.authorities()).some(([id]) => id.toHex() === babe);
    expect(await queuedHas(inBlock)).toBe(false);
    expect(await activeHas(inBlock)).toBe(false);

    // Sessions start at multiples of the session length; read each stage at the block where it begins.
    const at = async (session: number) => {
      const number = session * SESSION_LENGTH;
      await waitFor(`block ${number}`, async () => (await api.rpc.chain.getHeader()).number.toNumber() >= number);
      const view = await api.at(await api.rpc.chain.getBlockHash(number));
      expect((await view.query.session.currentIndex()).toNumber()).toBe(session);
      return view;
    };
    const s1 = await at(s + 1);
    expect(await queuedHas(s1)).toBe(true);
    expect(await activeHas(s1)).toBe(false);
    const s2 = await at(s + 2);
    expect(await activeHas(s2)).toBe(true);
    expect((await s2.query.session.validators()).map((v) => v.toString())).toContain(stash.address);
  });

  it('proxy.proxy by a Staking proxy sets the keys of the real account', async () => {
    const real = devnet.stash('Bob');
    const { keys, proof } = newSessionKeys(devnet.relay.runtime, real);
    const call = api.tx.proxy.proxy(real.address, 'Staking', api.tx.session.setKeys(keys, proof));
    const { finalized } = await submitUntilFinalized(call, devnet.account('Dave'));
    expect(eventNames(finalized.events)).toEqual(
      expect.arrayContaining(['proxy.ProxyExecuted', 'system.ExtrinsicSuccess']),
    );
    expect(proxyResult(api, finalized.events)).toBe('Ok');
    // The proxy, not the real account, pays the transaction fee.
    const feePaid = finalized.events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
    expect(feePaid?.event.data[0]?.toString()).toBe(devnet.account('Dave').address);
    const stored = await (await api.at(finalized.status.asFinalized)).query.session.nextKeys(real.address);
    expect(stored.unwrap().toHex()).toBe(keys);
  });

  it('a signer that is not a proxy of the real account gets Proxy.NotProxy', async () => {
    const real = devnet.stash('Bob');
    const { keys, proof } = newSessionKeys(devnet.relay.runtime, real);
    const call = api.tx.proxy.proxy(real.address, null, api.tx.session.setKeys(keys, proof));
    const { finalized } = await submitUntilFinalized(call, devnet.account('Ferdie'));
    expect(failure(api, finalized.events)).toBe('proxy.NotProxy');
  });

  it("a call outside the proxy type's filter gets CallFiltered inside ProxyExecuted", async () => {
    const real = devnet.stash('Bob');
    const transfer = api.tx.balances.transferKeepAlive(devnet.account('Ferdie').address, 1_000_000_000n);
    const { finalized } = await submitUntilFinalized(
      api.tx.proxy.proxy(real.address, 'Staking', transfer),
      devnet.account('Dave'),
    );
    expect(failure(api, finalized.events)).toBeUndefined();
    expect(proxyResult(api, finalized.events)).toBe('system.CallFiltered');
  });

  it('a proof made for another owner gets Session.InvalidProof and leaves NextKeys unchanged', async () => {
    const stash = devnet.stash('Charlie');
    const before = (await api.query.session.nextKeys(stash.address)).unwrap().toHex();
    const { keys, proof } = newSessionKeys(devnet.relay.runtime, devnet.stash('Alice'));
    const { finalized } = await submitUntilFinalized(api.tx.session.setKeys(keys, proof), stash);
    expect(failure(api, finalized.events)).toBe('session.InvalidProof');
    const after = await (await api.at(finalized.status.asFinalized)).query.session.nextKeys(stash.address);
    expect(after.unwrap().toHex()).toBe(before);
  });

  it('keys owned by another validator get Session.DuplicatedKey; KeyOwner points at the owner', async () => {
    // Charlie's genesis session keys derive from //Charlie (dev chain). Bob's stash proves it holds them too.
    const layout = sessionKeyLayout(devnet.relay.runtime);
    const charliePairs = layout.map((field) => keyPair(field.crypto, '//Charlie'));
    const babe = charliePairs[layout.findIndex((f) => f.keyType === 'babe')]!;
    const owner = await api.query.session.keyOwner([keyTypeHex('babe'), u8aToHex(babe.publicKey)]);
    expect(owner.unwrap().toString()).toBe(devnet.stash('Charlie').address);

    const bob = devnet.stash('Bob');
    const keys = u8aToHex(u8aConcat(...charliePairs.map((p) => p.publicKey)));
    const proof = u8aToHex(createOwnershipProof(charliePairs, bob.publicKey));
    const { finalized } = await submitUntilFinalized(api.tx.session.setKeys(keys, proof), bob);
    expect(failure(api, finalized.events)).toBe('session.DuplicatedKey');
  });

  it('setKeys from an account staking does not know gets Session.NoAssociatedValidatorId (StashOf)', async () => {
    // Ferdie is funded and proves he holds the keys, but he is no bonded stash or controller.
    const ferdie = devnet.account('Ferdie');
    const { keys, proof } = newSessionKeys(devnet.relay.runtime, ferdie);
    const { finalized } = await submitUntilFinalized(api.tx.session.setKeys(keys, proof), ferdie);
    const failed = finalized.events.find(({ event }) => api.events.system.ExtrinsicFailed.is(event))!;
    expect(api.events.system.ExtrinsicFailed.is(failed.event)).toBe(true);
    const dispatchError = (failed.event as typeof failed.event & { data: { dispatchError: DispatchError } }).data
      .dispatchError;
    // A module error at the Session pallet's index and the error's index in this runtime's metadata.
    expect(dispatchError.isModule).toBe(true);
    const decoded = api.registry.findMetaError(dispatchError.asModule);
    expect(decoded).toMatchObject({ section: 'session', name: 'NoAssociatedValidatorId' });
    const pallet = api.runtimeMetadata.asLatest.pallets.find((p) => p.name.toString() === 'Session')!;
    expect(dispatchError.asModule.index.toNumber()).toBe(pallet.index.toNumber());
    expect(failure(api, finalized.events)).toBe('session.NoAssociatedValidatorId');
    const at = await api.at(finalized.status.asFinalized);
    expect((await at.query.session.nextKeys(ferdie.address)).isNone).toBe(true);
  });

  it('rejects a bad signature with 1010 Invalid Transaction', async () => {
    const signer = devnet.account('Ferdie');
    const tx = api.tx.system.remark('0x01');
    await tx.signAsync(signer);
    const signature = tx.signature.toHex().slice(2);
    const tampered = signature.slice(0, 10) + (signature[10] === '0' ? '1' : '0') + signature.slice(11);
    const hex = tx.toHex().replace(signature, tampered);
    await expect(api.rpc.author.submitExtrinsic(hex)).rejects.toThrow(
      /1010: Invalid Transaction: Transaction has a bad signature/,
    );
  });

  it('charges a fee that paymentInfo reports, and refuses signers who cannot pay it', async () => {
    const ferdie = devnet.account('Ferdie');
    const { partialFee } = await api.tx.system.remark('0x04').paymentInfo(ferdie);
    expect(partialFee.toBigInt()).toBeGreaterThan(0n);
    const before = (await api.query.system.account(ferdie.address)).data.free.toBigInt();
    const { finalized } = await submitUntilFinalized(api.tx.system.remark('0x04'), ferdie);
    const after = (await (await api.at(finalized.status.asFinalized)).query.system.account(ferdie.address)).data.free;
    expect(before - after.toBigInt()).toBe(partialFee.toBigInt());

    const unfunded = devnet.account('Nobody');
    await expect(api.tx.system.remark('0x05').signAndSend(unfunded)).rejects.toThrow(
      /1010: Invalid Transaction: Inability to pay some fees/,
    );
  });

  it('rejects a stale nonce with 1010 Invalid Transaction', async () => {
    const signer = devnet.account('Ferdie');
    await submitUntilFinalized(api.tx.system.remark('0x02'), signer);
    const nonce = (await api.query.system.account(signer.address)).nonce.toNumber();
    expect(nonce).toBeGreaterThan(0);
    expect((await api.call.accountNonceApi.accountNonce(signer.address)).toNumber()).toBe(nonce);
    expect((await api.rpc.system.accountNextIndex(signer.address)).toNumber()).toBe(nonce);
    await expect(submitUntilFinalized(api.tx.system.remark('0x03'), signer, { nonce: 0 })).rejects.toThrow(
      /1010: Invalid Transaction: Transaction is outdated/,
    );
  });
});

describe('simulated relay chain whose validator id is the account itself (ConvertInto)', () => {
  it('accepts session.setKeys from an account staking does not know', async () => {
    const devnet = await startPolkadotDevnet({
      sessionLength: SESSION_LENGTH,
      blockTimeMs: 100,
      accounts: ['Ferdie'],
      validatorIdFromStaking: false,
    });
    const api = await connect(devnet.relayUrl);
    try {
      const ferdie = devnet.account('Ferdie');
      const { keys, proof } = newSessionKeys(devnet.relay.runtime, ferdie);
      const { finalized } = await submitUntilFinalized(api.tx.session.setKeys(keys, proof), ferdie);
      expect(failure(api, finalized.events)).toBeUndefined();
      expect((await api.query.session.nextKeys(ferdie.address)).unwrap().toHex()).toBe(keys);
    } finally {
      await api.disconnect();
      await devnet.stop();
    }
  });
});

describe('simulated relay chain without ownership proofs (older runtimes)', () => {
  it('accepts session.setKeys with an empty proof', async () => {
    const devnet = await startPolkadotDevnet({ sessionLength: SESSION_LENGTH, blockTimeMs: 100, requireProof: false });
    const api = await connect(devnet.relayUrl);
    try {
      const stash = devnet.stash('Alice');
      const { keys } = newSessionKeys(devnet.relay.runtime, stash);
      const { finalized } = await submitUntilFinalized(api.tx.session.setKeys(keys, '0x'), stash);
      expect(failure(api, finalized.events)).toBeUndefined();
      expect((await api.query.session.nextKeys(stash.address)).unwrap().toHex()).toBe(keys);
    } finally {
      await api.disconnect();
      await devnet.stop();
    }
  });
});
