/**
 * Where a validator key stands for an account (RPC `validators`): a proposal made in epoch T is in
 * current_proposals during T, in next_validators during T+1 and in current_validators from T+2.
 */
import { PublicKey, type JsonRpcProvider } from 'near-api-js';
import { NearError } from './errors.js';
import type { KeyStage, KeyStanding } from '../api/contracts/near.js';
import { nearRpc, reading } from './rpc.js';

/** Later stages rank higher: a key that is current has passed through proposed and next. */
export const KEY_STAGE_RANK: Record<KeyStage, number> = { absent: 0, proposed: 1, next: 2, current: 3 };

export type ValidatorsView = Awaited<ReturnType<JsonRpcProvider['viewValidators']>>;

export async function keyStanding(
  url: string,
  accountId: string,
  publicKey: string,
  provider: JsonRpcProvider = nearRpc(url),
): Promise<KeyStanding> {
  const key = normalizePublicKey(publicKey);
  const validators = await reading(url, 'validators', () => provider.viewValidators());
  return standingIn(validators, accountId, key);
}

export function standingIn(validators: ValidatorsView, accountId: string, publicKey: string): KeyStanding {
  const keyOf = (list: { account_id: string; public_key: string }[]) =>
    list.find((v) => v.account_id === accountId)?.public_key;
  const current = keyOf(validators.current_validators);
  const next = keyOf(validators.next_validators);
  const proposed = keyOf(validators.current_proposals ?? []);
  const stage: KeyStage =
    current === publicKey ? 'current' : next === publicKey ? 'next' : proposed === publicKey ? 'proposed' : 'absent';
  const intendedKey = proposed ?? next ?? current;
  return {
    accountId,
    publicKey,
    stage,
    epochHeight: validators.epoch_height,
    ...(current ? { currentKey: current } : {}),
    ...(intendedKey ? { intendedKey } : {}),
  };
}

/** "ed25519:<base58>" in canonical form; anything else is bad input no retry can fix. */
export function normalizePublicKey(key: string): string {
  try {
    return PublicKey.fromString(key).toString();
  } catch {
    throw new NearError('BadInput', `${JSON.stringify(key)} is not a NEAR public key ("ed25519:<base58>")`);
  }
}
