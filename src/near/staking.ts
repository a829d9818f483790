/**
 * Staking with a new validator key, idempotently: the chain is read first and nothing is submitted when the
 * key is already what the account stakes with (a pool's `get_staking_key`; a direct staker's latest proposal,
 * else its next or current key). A pool's key is changed by its owner with `update_staking_key`; a direct
 * staker restakes its locked balance with a Stake action. A signer that is not the pool owner (or not a key of
 * the staking account) is refused before anything is sent.
 */
import { Account, PublicKey, actions, type JsonRpcProvider, type Signer } from 'near-api-js';
import type { StakeWithKeyResult } from '../api/contracts/near.js';
import { NearError } from './errors.js';
import { normalizePublicKey, standingIn } from './key-standing.js';
import { messageOf, nearRpc, reading } from './rpc.js';

export interface SigningKey {
  signer: Signer;
  publicKey: string;
  /** The account a credentials file names, when it names one. */
  accountId?: string;
}

export type StakeRequest =
  | { type: 'pool'; rpcUrl: string; poolId: string; ownerId: string; newPublicKey: string }
  | { type: 'direct'; rpcUrl: string; accountId: string; newPublicKey: string };

/** update_staking_key runs internal_ping and a restake with a callback: give it room. */
const UPDATE_STAKING_KEY_GAS = 100_000_000_000_000n;

export async function stakeWithKey(
  request: StakeRequest,
  key: SigningKey,
  provider: JsonRpcProvider = nearRpc(request.rpcUrl),
): Promise<StakeWithKeyResult> {
  const newKey = normalizePublicKey(request.newPublicKey);
  return request.type === 'pool'
    ? stakeThroughPool({ ...request, newPublicKey: newKey }, key, provider)
    : stakeDirectly({ ...request, newPublicKey: newKey }, key, provider);
}

async function stakeThroughPool(
  request: Extract<StakeRequest, { type: 'pool' }>,
  key: SigningKey,
  provider: JsonRpcProvider,
): Promise<StakeWithKeyResult> {
  const { rpcUrl, poolId, ownerId, newPublicKey } = request;
  const owner = await reading(rpcUrl, `get_owner_id of ${poolId}`, () =>
    provider.callFunction<string>({ contractId: poolId, method: 'get_owner_id', args: {} }),
  );
  if (owner !== ownerId) {
    throw new NearError('WrongOwner', `the pool ${poolId} is owned by ${String(owner)}, not by ${ownerId}`);
  }
  await checkSignerOf(ownerId, key, provider, rpcUrl, `the owner of ${poolId}`, {
    receiverId: poolId,
    method: 'update_staking_key',
  });
  const staked = await reading(rpcUrl, `get_staking_key of ${poolId}`, () =>
    provider.callFunction<string>({ contractId: poolId, method: 'get_staking_key', args: {} }),
  );
  if (typeof staked === 'string' && normalizePublicKey(staked) === newPublicKey) return { alreadyStaked: true };

  const account = new Account(ownerId, provider, key.signer);
  try {
    const outcome = await account.callFunctionRaw({
      contractId: poolId,
      methodName: 'update_staking_key',
      args: { stake_public_key: newPublicKey },
      gas: UPDATE_STAKING_KEY_GAS,
      deposit: 0n,
    });
    return { alreadyStaked: false, txHash: outcome.transaction.hash };
  } catch (err) {
    if (/Can only be called by the owner/.test(messageOf(err))) {
      throw new NearError('WrongOwner', `${poolId} refused update_staking_key from ${ownerId}: not the owner`, {
        cause: err,
      });
    }
    throw submitFailure(err, `update_staking_key on ${poolId}`, rpcUrl);
  }
}

async function stakeDirectly(
  request: Extract<StakeRequest, { type: 'direct' }>,
  key: SigningKey,
  provider: JsonRpcProvider,
): Promise<StakeWithKeyResult> {
  const { rpcUrl, accountId, newPublicKey } = request;
  await checkSignerOf(accountId, key, provider, rpcUrl, accountId);
  const validators = await reading(rpcUrl, 'validators', () => provider.viewValidators());
  if (standingIn(validators, accountId, newPublicKey).intendedKey === newPublicKey) return { alreadyStaked: true };
  const state = await reading(rpcUrl, `view_account ${accountId}`, () => provider.viewAccount({ accountId }));
  if (state.locked === 0n) {
    throw new NearError('NotStaking', `${accountId} has no locked stake to restake with the new key`);
  }
  const account = new Account(accountId, provider, key.signer);
  try {
    const outcome = await account.signAndSendTransaction({
      receiverId: accountId,
      actions: [actions.stake(state.locked, PublicKey.fromString(newPublicKey))],
    });
    return { alreadyStaked: false, txHash: outcome.transaction.hash };
  } catch (err) {
    throw submitFailure(err, `the Stake action of ${accountId}`, rpcUrl);
  }
}

/** The signer must sign for `accountId`: its file names that account (if it names one) and the key is one of its keys. */
async function checkSignerOf(
  accountId: string,
  key: SigningKey,
  provider: JsonRpcProvider,
  rpcUrl: string,
  role: string,
  /** The function call the key must be allowed; a Stake action (undefined) needs a full-access key. */
  call?: { receiverId: string; method: string },
): Promise<void> {
  if (key.accountId !== undefined && key.accountId !== accountId) {
    throw new NearError(
      'WrongOwner',
      `the signer holds a key of ${key.accountId}, but ${role} is ${accountId}: nothing was submitted`,
    );
  }
  const accessKey = await provider.viewAccessKey({ accountId, publicKey: key.publicKey }).then(
    (found) => found,
    (err: unknown) => {
      if (/does not exist|UNKNOWN_ACCESS_KEY|AccessKeyDoesNotExist/i.test(`${messageOf(err)} ${nameOf(err)}`)) {
        return undefined;
      }
      throw new NearError('RpcUnavailable', `view_access_key of ${accountId} at ${rpcUrl} failed: ${messageOf(err)}`);
    },
  );
  if (!accessKey) {
    throw new NearError(
      'SignerNotAuthorized',
      `the signer's key ${key.publicKey} is not an access key of ${accountId} (${role}): nothing was submitted`,
    );
  }
  if (!allows(accessKey.permission, call)) {
    throw new NearError(
      'SignerNotAuthorized',
      `the signer's key ${key.publicKey} of ${accountId} may not ${call ? `call ${call.method} on ${call.receiverId}` : 'stake'}: nothing was submitted`,
    );
  }
}

/** A full-access key may do anything; a function-call key only calls its methods on its receiver. */
function allows(permission: unknown, call: { receiverId: string; method: string } | undefined): boolean {
  if (permission === 'FullAccess') return true;
  const fc = (permission as { FunctionCall?: { receiver_id: string; method_names: string[] } }).FunctionCall;
  if (!fc || !call) return false;
  return fc.receiver_id === call.receiverId && (fc.method_names.length === 0 || fc.method_names.includes(call.method));
}

function nameOf(err: unknown): string {
  return err instanceof Error ? err.constructor.name : '';
}

function submitFailure(err: unknown, what: string, rpcUrl: string): NearError {
  // An answer from the chain that the transaction failed is final; a lost answer is retried, and the retry's
  // check finds a key that did get staked.
  const failedOnChain = typeof (err as { txHash?: unknown }).txHash === 'string';
  return new NearError(
    failedOnChain ? 'StakeFailed' : 'RpcUnavailable',
    `${what} via ${rpcUrl} failed: ${messageOf(err)}`,
    { nonRetryable: failedOnChain, cause: err },
  );
}
