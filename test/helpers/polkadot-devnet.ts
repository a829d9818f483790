/** Helpers for tests against the simulated Polkadot network (devnet/polkadot). */
import '@polkadot/api-augment';
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { EventRecord } from '@polkadot/types/interfaces';
import type { ISubmittableResult } from '@polkadot/types/types';
import { u8aConcat, u8aToHex } from '@polkadot/util';
import { mnemonicGenerate } from '@polkadot/util-crypto';
import { decodeExtrinsic } from '../../devnet/polkadot/extrinsics.js';
import type { Runtime } from '../../devnet/polkadot/metadata.js';
import type { PolkadotTestbed } from '../../devnet/testbeds/polkadot.js';
import { createOwnershipProof, keyPair, sessionKeyLayout } from '../../devnet/polkadot/session-keys.js';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function connect(url: string): Promise<ApiPromise> {
  return ApiPromise.create({ provider: new WsProvider(url, 1_000), noInitWarn: true, throwOnConnect: true });
}

export interface SubmissionTrace {
  statuses: string[];
  finalized: ISubmittableResult;
}

/** signAndSend and collect every status until Finalized (rejects on RPC errors such as 1010). */
export function submitUntilFinalized(
  tx: SubmittableExtrinsic<'promise'>,
  signer: KeyringPair,
  options: { nonce?: number } = {},
): Promise<SubmissionTrace> {
  return new Promise((resolve, reject) => {
    const statuses: string[] = [];
    tx.signAndSend(signer, options, (result) => {
      statuses.push(result.status.type);
      if (result.status.isFinalized) resolve({ statuses, finalized: result });
      if (result.isError) reject(new Error(`transaction ${result.status.type}`));
    }).catch(reject);
  });
}

/** `Pallet.Error` names of a dispatch error (module errors decoded by polkadot-js from the metadata). */
export function errorName(api: ApiPromise, dispatchError: { isModule: boolean; asModule: unknown }): string {
  if (!dispatchError.isModule) return JSON.stringify(dispatchError);
  const meta = api.registry.findMetaError(
    dispatchError.asModule as Parameters<ApiPromise['registry']['findMetaError']>[0],
  );
  return `${meta.section}.${meta.name}`;
}

/** Fresh session keys as a node would generate them, with the ownership proof for `owner`. */
export function newSessionKeys(relayRuntime: Runtime, owner: KeyringPair) {
  const layout = sessionKeyLayout(relayRuntime);
  const pairs = layout.map((field) => keyPair(field.crypto, mnemonicGenerate()));
  const keys = u8aToHex(u8aConcat(...pairs.map((p) => p.publicKey)));
  const babe = u8aToHex(pairs[layout.findIndex((f) => f.keyType === 'babe')]!.publicKey);
  return { keys, babe, proof: u8aToHex(createOwnershipProof(pairs, owner.publicKey)) };
}

export function eventNames(events: EventRecord[]): string[] {
  return events.map(({ event }) => `${event.section}.${event.method}`);
}

export function failure(api: ApiPromise, events: EventRecord[]): string | undefined {
  const failed = events.find(({ event }) => api.events.system.ExtrinsicFailed.is(event));
  if (!failed || !api.events.system.ExtrinsicFailed.is(failed.event)) return undefined;
  return errorName(api, failed.event.data.dispatchError);
}

export function proxyResult(api: ApiPromise, events: EventRecord[]): string | undefined {
  const executed = events.find(({ event }) => api.events.proxy.ProxyExecuted.is(event));
  if (!executed || !api.events.proxy.ProxyExecuted.is(executed.event)) return undefined;
  const result = executed.event.data.result;
  return result.isOk ? 'Ok' : errorName(api, result.asErr);
}

/** A set-keys transaction in the relay's blocks: the call, the keys it set, its block. */
export interface SetKeysTransaction {
  call: 'session.setKeys' | 'proxy.proxy';
  keys: string;
  block: number;
}

/** Every proxy.proxy / session.setKeys extrinsic in the relay's blocks so far (set-keys transactions). */
export function setKeysTransactions(b: PolkadotTestbed): SetKeysTransaction[] {
  const found: SetKeysTransaction[] = [];
  const chain = b.devnet.relay;
  for (let n = 0; n <= chain.best.number; n++) {
    for (const hex of chain.blockAt(n)?.extrinsics ?? []) {
      const { method } = decodeExtrinsic(chain.runtime, hex);
      const call = `${method.section}.${method.method}`;
      // proxy.proxy(real, forceProxyType, call): the keys are the wrapped session.setKeys' first argument.
      const setKeys = call === 'proxy.proxy' ? (method.args[2] as unknown as typeof method) : method;
      if (call === 'session.setKeys' || call === 'proxy.proxy')
        found.push({ call, keys: setKeys.args[0]!.toHex(), block: n });
    }
  }
  return found;
}
