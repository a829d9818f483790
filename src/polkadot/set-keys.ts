/**
 * Setting a stash's session keys through the route the runtime accepts: relay `session.setKeys(keys, proof)`
 * or Asset Hub `stakingRcClient.setKeys(keys, proof, None)`, signed by the stash itself or wrapped in
 * `proxy.proxy(stash, Some(type), call)` and signed by the proxy. Waits for inclusion and finality, and names
 * a dispatch error from the metadata, including one inside a ProxyExecuted result (e.g. CallFiltered).
 */
import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { EventRecord } from '@polkadot/types/interfaces';
import type { SpRuntimeDispatchError } from '@polkadot/types/lookup';
import { PolkadotError, messageOf } from './errors.js';

export interface SetKeysCall {
  submitTo: 'relay' | 'asset-hub';
  stash: string;
  keys: string;
  proof?: string;
  /** Wrap in proxy.proxy(stash, Some(proxyType), …): the runtime's ProxyType name ("Staking", "StakingOperator"…). */
  proxyType?: string;
}

export interface Submitted {
  txHash: string;
  blockHash: string;
  finalizedHash: string;
}

type AnyCall = (...args: unknown[]) => SubmittableExtrinsic<'promise'>;

export function buildSetKeysCall(api: ApiPromise, call: SetKeysCall): SubmittableExtrinsic<'promise'> {
  const proof = call.proof ?? '0x';
  let inner: SubmittableExtrinsic<'promise'>;
  if (call.submitTo === 'relay') {
    if (!api.tx.session?.setKeys) throw new PolkadotError('UnsupportedRuntime', 'this chain has no session.setKeys');
    inner = api.tx.session.setKeys(call.keys, proof);
  } else {
    // Not in the static typings (and not in every shipped metadata): look it up in the runtime's metadata.
    const setKeys = api.tx['stakingRcClient']?.['setKeys'] as AnyCall | undefined;
    if (!setKeys) throw new PolkadotError('UnsupportedRuntime', 'this chain has no stakingRcClient.setKeys');
    inner = setKeys(call.keys, proof, null);
  }
  if (call.proxyType === undefined) return inner;
  return (api.tx.proxy.proxy as unknown as AnyCall)(call.stash, call.proxyType, inner);
}

/** `pallet.Error` of a dispatch error, from the metadata. */
export function dispatchErrorName(api: ApiPromise, error: SpRuntimeDispatchError): string {
  if (error.isModule) {
    const meta = api.registry.findMetaError(error.asModule);
    return `${meta.section}.${meta.name}`;
  }
  return error.type;
}

/** Why the call failed, from the events of its extrinsic: ExtrinsicFailed, or a failed ProxyExecuted result. */
export function failureOf(api: ApiPromise, events: EventRecord[]): string | undefined {
  for (const { event } of events) {
    if (api.events.system.ExtrinsicFailed.is(event)) return dispatchErrorName(api, event.data.dispatchError);
    if (api.events.proxy?.ProxyExecuted.is(event) && event.data.result.isErr) {
      return dispatchErrorName(api, event.data.result.asErr);
    }
  }
  return undefined;
}

/** What an operator can do about the refusals we expect. */
const HINTS: Record<string, string> = {
  'session.InvalidProof':
    'the ownership proof is not for this stash: generate keys with author_rotateKeysWithOwner(stash)',
  'proxy.NotProxy': 'the signer is not a proxy of the stash with this proxy type',
  'system.CallFiltered':
    'the runtime does not allow this call here: relay session.setKeys is disabled after the Asset Hub migration (use the asset-hub route), or the proxy type does not cover it',
  'session.NoAssociatedValidatorId': 'the signer is not a validator (sign with the stash, or through its proxy)',
  'stakingRcClient.NotValidator': 'the stash is not a registered validator on Asset Hub (staking.validate first)',
};

/** The pool's refusals that a later attempt can get past (stale nonce, a copy already in the pool). */
const TRANSIENT_POOL_ERROR = /1010.*(Outdated|Stale|Future)|1012|1013|1014|already imported|priority is too low/i;

/**
 * Signs and submits, and resolves once the block holding it is finalized. `onTxHash` receives the hash as
 * soon as the transaction is signed, before anything is sent.
 */
export function submitAndFinalize(
  api: ApiPromise,
  tx: SubmittableExtrinsic<'promise'>,
  signer: KeyringPair,
  options: { timeoutMs?: number; onTxHash?: (hash: string) => void; onStatus?: (status: string) => void } = {},
): Promise<Submitted> {
  return new Promise<Submitted>((resolve, reject) => {
    let unsubscribe: (() => void) | undefined;
    let blockHash: string | undefined;
    let txHash = '';
    let done = false;
    const finish = (error?: unknown, value?: Submitted) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe?.();
      if (error) reject(error instanceof PolkadotError ? error : new PolkadotError('RpcError', messageOf(error)));
      else resolve(value!);
    };
    const timer = setTimeout(
      () => finish(new PolkadotError('TransactionLost', `transaction ${txHash} not finalized in time`)),
      options.timeoutMs ?? 300_000,
    );
    tx.signAndSend(signer, (result) => {
      if (!txHash) {
        txHash = result.txHash.toHex();
        options.onTxHash?.(txHash);
      }
      options.onStatus?.(result.status.type);
      if (result.status.isInBlock) blockHash = result.status.asInBlock.toHex();
      if (result.status.isFinalized) {
        const finalizedHash = result.status.asFinalized.toHex();
        const failure = failureOf(api, result.events);
        if (failure) {
          finish(
            new PolkadotError(
              'SetKeysRejected',
              `the chain refused the call: ${failure}${HINTS[failure] ? ` (${HINTS[failure]})` : ''}; transaction ${txHash} in block ${finalizedHash}`,
              { dispatchError: failure },
            ),
          );
        } else finish(undefined, { txHash, blockHash: blockHash ?? finalizedHash, finalizedHash });
      } else if (result.isError) {
        finish(new PolkadotError('TransactionLost', `transaction ${txHash} ${result.status.type}`));
      }
    })
      .then((unsub) => {
        if (done) unsub();
        else unsubscribe = unsub;
      })
      .catch((err: unknown) => {
        const message = messageOf(err);
        finish(
          new PolkadotError(
            TRANSIENT_POOL_ERROR.test(message) ? 'RpcError' : 'TransactionInvalid',
            `the pool refused the transaction: ${message}`,
          ),
        );
      });
  });
}
