/**
 * The staking-pool contract (near/core-contracts staking-pool, 0.4.1) as far as validator operations need it:
 * the owner rotates the validator key with `update_staking_key`, which restakes the pool's total stake with the
 * new key (a stake proposal of the pool account); anyone else gets the owner assertion's panic. Views return
 * JSON like the real contract (`get_staking_key` -> "ed25519:...").
 */
import { PublicKey } from 'near-api-js';
import { base58Sha256 } from './hashing.js';

export interface StakingPool {
  ownerId: string;
  stakePublicKey: string;
  totalStakedBalance: bigint;
  paused: boolean;
}

/** A contract panic; the message is what the runtime reports after "Smart contract panicked: ". */
export class ContractPanic extends Error {}

/** The method is not exported by the contract (FunctionCallError MethodResolveError MethodNotFound). */
export class MethodNotFound extends Error {}

/** A change method called from a view call touches predecessor_account_id, which views may not use. */
export class ProhibitedInView extends Error {}

export interface PoolCall {
  predecessorId: string;
  deposit: bigint;
  method: string;
  args: Uint8Array;
}

export interface PoolCallResult {
  /** JSON return value bytes; empty for methods returning nothing. */
  result: Uint8Array;
  /** The Stake action the contract issues from the pool account (internal_restake). */
  stake?: { amount: bigint; publicKey: string };
}

const VIEW_METHODS = ['get_staking_key', 'get_owner_id', 'get_total_staked_balance', 'is_staking_paused'] as const;
const CHANGE_METHODS = ['update_staking_key', 'pause_staking', 'resume_staking', 'ping'] as const;

/** A stable, made-up code hash for accounts running the simulated contract (view_account.code_hash). */
export const STAKING_POOL_CODE_HASH = base58Sha256('staking-pool-0.4.1');

export function viewPool(pool: StakingPool, method: string): Uint8Array {
  if ((CHANGE_METHODS as readonly string[]).includes(method)) throw new ProhibitedInView('predecessor_account_id');
  return json(view(pool, method));
}

/** Executes a function call receipt on the pool; mutates `pool` only when it returns (panics leave it as it was). */
export function callPool(pool: StakingPool, call: PoolCall): PoolCallResult {
  if ((VIEW_METHODS as readonly string[]).includes(call.method)) return { result: json(view(pool, call.method)) };
  if (!(CHANGE_METHODS as readonly string[]).includes(call.method)) throw new MethodNotFound(call.method);
  if (call.deposit !== 0n) throw new ContractPanic(`Method ${call.method} doesn't accept deposit`);
  if (call.method === 'ping') return { result: new Uint8Array() };
  if (call.predecessorId !== pool.ownerId) throw new ContractPanic('Can only be called by the owner');
  switch (call.method) {
    case 'update_staking_key': {
      const key = parseStakePublicKey(call.args);
      pool.stakePublicKey = key;
      return { result: new Uint8Array(), ...restake(pool) };
    }
    case 'pause_staking':
      if (pool.paused) throw new ContractPanic('The staking is already paused');
      pool.paused = true;
      return { result: new Uint8Array(), stake: { amount: 0n, publicKey: pool.stakePublicKey } };
    case 'resume_staking':
      if (!pool.paused) throw new ContractPanic('The staking is not paused');
      pool.paused = false;
      return { result: new Uint8Array(), ...restake(pool) };
  }
  throw new MethodNotFound(call.method);
}

function restake(pool: StakingPool): Pick<PoolCallResult, 'stake'> {
  return pool.paused ? {} : { stake: { amount: pool.totalStakedBalance, publicKey: pool.stakePublicKey } };
}

function view(pool: StakingPool, method: string): unknown {
  switch (method) {
    case 'get_staking_key':
      return pool.stakePublicKey;
    case 'get_owner_id':
      return pool.ownerId;
    case 'get_total_staked_balance':
      return pool.totalStakedBalance.toString();
    case 'is_staking_paused':
      return pool.paused;
  }
  throw new MethodNotFound(method);
}

/** near-sdk's Base58PublicKey: "ed25519:<base58>" or bare base58 (defaults to ed25519), 32 bytes. */
function parseStakePublicKey(args: Uint8Array): string {
  const fail = (why: string) => new ContractPanic(`Failed to deserialize input from JSON.: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(args));
  } catch {
    throw fail('expected a JSON object');
  }
  const value = (parsed as { stake_public_key?: unknown } | null)?.stake_public_key;
  if (typeof value !== 'string') throw fail('missing field `stake_public_key`');
  try {
    const key = PublicKey.fromString(value.includes(':') ? value : `ed25519:${value}`);
    if (key.data.length !== 32 || !key.toString().startsWith('ed25519:')) throw new Error('not an ed25519 key');
    return key.toString();
  } catch {
    throw fail('invalid public key');
  }
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
