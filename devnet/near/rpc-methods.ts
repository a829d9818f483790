/**
 * The JSON-RPC methods of the devnet's RPC node, with nearcore's request forms and response shapes (the
 * near-api-js 7.2.0 generated types and the near/docs examples). Queries read the current state whatever block
 * they name: the devnet keeps no historical state, only historical blocks and validator sets.
 */
import { baseEncode } from 'near-api-js';
import type { AccessKey, AccountState, Block, NearChain } from './chain.js';
import type { Epoch, ValidatorStake } from './epochs.js';
import { ZERO_HASH, base58Sha256 } from './hashing.js';
import { handlerError, internalError, parseError } from './rpc-errors.js';
import { MethodNotFound, ProhibitedInView, STAKING_POOL_CODE_HASH, viewPool } from './staking-pool.js';
import {
  decodeSignedTransaction,
  executeTransaction,
  transactionHash,
  type FinalExecutionOutcome,
} from './transactions.js';

export type RpcHandler = (params: unknown) => unknown;

export interface DevnetIdentity {
  /** The version banner the devnet's RPC node reports in `status`. */
  version: string;
  build: string;
  rpcAddr: string;
  startedAtMs: number;
}

type Params = Record<string, unknown>;

export function createRpcMethods(chain: NearChain, identity: DevnetIdentity): Record<string, RpcHandler> {
  const outcomes = new Map<string, FinalExecutionOutcome>();

  const submit = (base64: unknown): FinalExecutionOutcome => {
    if (typeof base64 !== 'string') throw parseError('signed_tx_base64 must be a base64 string');
    const stx = decodeSignedTransaction(base64);
    const hash = transactionHash(stx);
    const known = outcomes.get(hash);
    if (known) return known;
    const outcome = executeTransaction(chain, stx);
    outcomes.set(hash, outcome);
    return outcome;
  };

  const txStatus = (params: unknown): FinalExecutionOutcome => {
    const [hash, sender]: unknown[] = Array.isArray(params)
      ? (params as unknown[])
      : [(params as Params | null)?.tx_hash, (params as Params | null)?.sender_account_id];
    const outcome = typeof hash === 'string' ? outcomes.get(hash) : undefined;
    if (!outcome || outcome.transaction.signer_id !== sender) {
      throw handlerError('UNKNOWN_TRANSACTION', { requested_transaction_hash: hash });
    }
    return outcome;
  };

  return {
    status: () => statusView(chain, identity),
    validators: (params) => validatorsView(chain, epochFor(chain, params)),
    EXPERIMENTAL_protocol_config: (params) => protocolConfig(chain, blockFor(chain, params)),
    block: (params) => blockView(chain, blockFor(chain, params)),
    gas_price: () => ({ gas_price: '100000000' }),
    query: (params) => query(chain, params),
    send_tx: (params) => {
      const p = (params ?? {}) as Params;
      const waitUntil = typeof p.wait_until === 'string' ? p.wait_until : 'EXECUTED_OPTIMISTIC';
      const outcome = submit(p.signed_tx_base64);
      if (waitUntil === 'NONE') return { final_execution_status: 'NONE' };
      return { ...outcome, final_execution_status: waitUntil === 'INCLUDED' ? 'INCLUDED' : waitUntil };
    },
    broadcast_tx_commit: (params) => submit(Array.isArray(params) ? (params as unknown[])[0] : undefined),
    broadcast_tx_async: (params) => {
      const outcome = submit(Array.isArray(params) ? (params as unknown[])[0] : undefined);
      return outcome.transaction.hash;
    },
    tx: txStatus,
    EXPERIMENTAL_tx_status: txStatus,
    devnet_counters: (params) => {
      const accountId: unknown = Array.isArray(params)
        ? (params as unknown[])[0]
        : (params as Params | null)?.account_id;
      if (typeof accountId !== 'string') throw parseError('devnet_counters needs an account_id');
      return chain.ledger.counters(accountId);
    },
  };
}

function statusView(chain: NearChain, identity: DevnetIdentity) {
  const head = chain.head();
  const genesis = chain.genesisBlock();
  const epoch = chain.epochs.current();
  return {
    chain_id: chain.options.chainId,
    genesis_hash: genesis.hash,
    latest_protocol_version: Math.max(chain.options.devnetProtocolVersion, epoch.protocolVersion),
    protocol_version: epoch.protocolVersion,
    node_key: null,
    node_public_key: `ed25519:${base58Sha256('devnet rpc node')}`,
    rpc_addr: identity.rpcAddr,
    uptime_sec: Math.floor((Date.now() - identity.startedAtMs) / 1000),
    validator_account_id: null,
    validator_public_key: null,
    validators: epoch.validators.map((v) => ({ account_id: v.accountId, is_slashed: false })),
    version: { version: identity.version, build: identity.build, commit: identity.build, rustc_version: '1.86.0' },
    sync_info: {
      latest_block_hash: head.hash,
      latest_block_height: head.height,
      latest_block_time: rfc3339(head.timestampNs),
      latest_state_root: base58Sha256('state', head.hash),
      syncing: false,
      earliest_block_hash: genesis.hash,
      earliest_block_height: genesis.height,
      earliest_block_time: rfc3339(genesis.timestampNs),
      epoch_id: epoch.id,
      epoch_start_height: epoch.startHeight,
    },
  };
}

/** `validators` accepts [null], null, "latest", [epoch_id], [height], {block_id}, {epoch_id}. */
/** The epoch a `validators` request names, and the block it names if any (counts then stop at that block). */
function epochFor(chain: NearChain, params: unknown): Epoch & { upToHeight?: number } {
  const unknown = () => handlerError('UNKNOWN_EPOCH', {});
  let ref: unknown = params;
  if (Array.isArray(params)) ref = (params as unknown[])[0] ?? null;
  if (ref === null || ref === undefined || ref === 'latest') return chain.epochs.current();
  if (typeof ref === 'object' && ref !== null && 'latest' in ref) return chain.epochs.current();
  if (typeof ref === 'object' && ref !== null && 'epoch_id' in ref) {
    const id = (ref as Params).epoch_id;
    return (typeof id === 'string' && chain.epochs.byId(id)) || throwIt(unknown());
  }
  const blockId = typeof ref === 'object' && ref !== null && 'block_id' in ref ? (ref as Params).block_id : ref;
  if (typeof blockId === 'string') {
    const byId = chain.epochs.byId(blockId);
    if (byId) return byId;
  }
  const block = findBlock(chain, blockId);
  const epoch = (block && chain.epochs.byIndex(block.epochIndex)) || throwIt(unknown());
  return { ...epoch, upToHeight: block!.height };
}

/** nearcore counts a block-addressed request up to that block (the epoch's aggregator up to it). */
function validatorsView(chain: NearChain, epoch: Epoch & { upToHeight?: number }) {
  const stake = (v: ValidatorStake) => ({
    account_id: v.accountId,
    public_key: v.publicKey,
    stake: v.stake.toString(),
  });
  return {
    current_validators: epoch.validators.map((v) => {
      const s = chain.ledger.epochStats(epoch.index, v.accountId, epoch.upToHeight);
      return {
        ...stake(v),
        is_slashed: false,
        shards: [0],
        num_produced_blocks: s.producedBlocks,
        num_expected_blocks: s.expectedBlocks,
        num_produced_chunks: s.producedChunks,
        num_expected_chunks: s.expectedChunks,
        num_produced_chunks_per_shard: [s.producedChunks],
        num_expected_chunks_per_shard: [s.expectedChunks],
      };
    }),
    next_validators: chain.epochs.validatorsAfter(epoch).map((v) => ({ ...stake(v), shards: [0] })),
    current_proposals: [...epoch.proposals.values()].map((v) => ({
      ...stake(v),
      validator_stake_struct_version: 'V1',
    })),
    current_fishermen: [],
    next_fishermen: [],
    prev_epoch_kickout: epoch.kickouts,
    epoch_start_height: epoch.startHeight,
    epoch_height: epoch.index + 1,
  };
}

/** Block references: {finality}, {block_id: height | hash}, {sync_checkpoint}, or a bare [height | hash]. */
function blockFor(chain: NearChain, params: unknown): Block {
  if (Array.isArray(params)) params = { block_id: (params as unknown[])[0] };
  const p = (params ?? {}) as Params;
  if (p.block_id !== undefined && p.block_id !== null) {
    const block = findBlock(chain, p.block_id);
    if (!block) throw handlerError('UNKNOWN_BLOCK', { block_reference: { block_id: p.block_id } });
    return block;
  }
  if (p.sync_checkpoint === 'genesis' || p.sync_checkpoint === 'earliest_available') return chain.genesisBlock();
  switch (p.finality ?? 'optimistic') {
    case 'final':
      return chain.finalBlock();
    case 'near-final':
      return chain.blockAt(Math.max(chain.genesisBlock().height, chain.head().height - 1))!;
    case 'optimistic':
      return chain.head();
  }
  throw parseError(`unknown finality ${JSON.stringify(p.finality)}`);
}

function findBlock(chain: NearChain, blockId: unknown): Block | undefined {
  if (typeof blockId === 'number') return chain.blockAt(blockId);
  if (typeof blockId === 'string')
    return /^\d+$/.test(blockId) ? chain.blockAt(Number(blockId)) : chain.blockByHash(blockId);
  return undefined;
}

function blockView(chain: NearChain, block: Block) {
  const prev = chain.blockByHash(block.prevHash);
  const final = chain.blockAt(Math.max(chain.genesisBlock().height, block.height - 2))!;
  const chunkHash = base58Sha256('chunk', block.hash);
  return {
    author: block.author,
    header: {
      height: block.height,
      prev_height: prev?.height ?? null,
      epoch_id: block.epochId,
      next_epoch_id: block.nextEpochId,
      hash: block.hash,
      prev_hash: block.prevHash,
      prev_state_root: base58Sha256('state', block.prevHash),
      chunk_receipts_root: ZERO_HASH,
      chunk_headers_root: base58Sha256('chunk headers', block.hash),
      chunk_tx_root: ZERO_HASH,
      outcome_root: ZERO_HASH,
      chunks_included: 1,
      challenges_root: ZERO_HASH,
      timestamp: Number(block.timestampNs),
      timestamp_nanosec: block.timestampNs.toString(),
      random_value: base58Sha256('random', block.hash),
      validator_proposals: [],
      chunk_mask: [true],
      gas_price: '100000000',
      block_ordinal: block.height - chain.genesisBlock().height + 1,
      rent_paid: '0',
      validator_reward: '0',
      total_supply: totalSupply(chain).toString(),
      challenges_result: [],
      last_final_block: final.hash,
      last_ds_final_block: chain.blockAt(Math.max(chain.genesisBlock().height, block.height - 1))!.hash,
      next_bp_hash: base58Sha256('next bp', block.nextEpochId),
      block_merkle_root: base58Sha256('merkle', block.hash),
      epoch_sync_data_hash: null,
      approvals: [],
      signature: `ed25519:${baseEncode(new Uint8Array(64))}`,
      latest_protocol_version: chain.protocolVersionOf(block.height),
    },
    chunks: [
      {
        chunk_hash: chunkHash,
        prev_block_hash: block.prevHash,
        outcome_root: ZERO_HASH,
        prev_state_root: base58Sha256('state', block.prevHash),
        encoded_merkle_root: base58Sha256('encoded', chunkHash),
        encoded_length: 8,
        height_created: block.height,
        height_included: block.height,
        shard_id: 0,
        gas_used: 0,
        gas_limit: 1_000_000_000_000_000,
        rent_paid: '0',
        validator_reward: '0',
        balance_burnt: '0',
        outgoing_receipts_root: ZERO_HASH,
        tx_root: ZERO_HASH,
        validator_proposals: [],
        signature: `ed25519:${baseEncode(new Uint8Array(64))}`,
      },
    ],
  };
}

/** The config is the same at every block but for the protocol version; the reference is checked (UNKNOWN_BLOCK). */
function protocolConfig(chain: NearChain, block: Block) {
  return {
    protocol_version: chain.protocolVersionOf(block.height),
    genesis_time: rfc3339(chain.genesisBlock().timestampNs),
    chain_id: chain.options.chainId,
    genesis_height: chain.genesisBlock().height,
    num_block_producer_seats: 100,
    num_block_producer_seats_per_shard: [100],
    avg_hidden_validator_seats_per_shard: [0],
    dynamic_resharding: false,
    protocol_upgrade_stake_threshold: chain.options.protocolUpgradeStakeThreshold,
    epoch_length: chain.options.epochLength,
    gas_limit: 1_000_000_000_000_000,
    min_gas_price: '100000000',
    max_gas_price: '10000000000000000000000',
    block_producer_kickout_threshold: chain.options.blockProducerKickoutThreshold,
    chunk_producer_kickout_threshold: chain.options.chunkProducerKickoutThreshold,
    online_min_threshold: [90, 100],
    online_max_threshold: [99, 100],
    gas_price_adjustment_rate: [1, 100],
    runtime_config: { storage_amount_per_byte: '10000000000000000000' },
    transaction_validity_period: chain.options.transactionValidityPeriod,
    protocol_reward_rate: [1, 10],
    max_inflation_rate: [1, 20],
    num_blocks_per_year: 31_536_000,
    protocol_treasury_account: 'near',
    fishermen_threshold: '340282366920938463463374607431768211455',
    minimum_stake_divisor: 10,
    shard_layout: { V0: { num_shards: 1, version: 0 } },
    minimum_validators_per_shard: 1,
    max_kickout_stake_perc: 100,
    minimum_stake_ratio: [1, 6250],
  };
}

function query(chain: NearChain, params: unknown) {
  const p = (params ?? {}) as Params;
  const block = blockFor(chain, p);
  const at = { block_height: block.height, block_hash: block.hash };
  const accountId = typeof p.account_id === 'string' ? p.account_id : '';
  const account = chain.accounts.get(accountId);
  const unknownAccount = () => handlerError('UNKNOWN_ACCOUNT', { requested_account_id: accountId, ...at });
  switch (p.request_type) {
    case 'view_account': {
      if (!account) throw unknownAccount();
      return {
        amount: account.amount.toString(),
        locked: account.locked.toString(),
        code_hash: account.pool ? STAKING_POOL_CODE_HASH : ZERO_HASH,
        storage_usage: account.pool ? 200_000 : 182 + 100 * account.keys.size,
        storage_paid_at: 0,
        ...at,
      };
    }
    case 'view_access_key': {
      const key = typeof p.public_key === 'string' ? account?.keys.get(p.public_key) : undefined;
      // nearcore answers a missing key in the legacy form, which near-api-js recognises by its wording.
      if (!key) return { error: `access key ${String(p.public_key)} does not exist while viewing`, logs: [], ...at };
      return { ...accessKeyView(key), ...at };
    }
    case 'view_access_key_list': {
      if (!account) throw unknownAccount();
      const keys = [...account.keys].map(([publicKey, key]) => ({
        public_key: publicKey,
        access_key: accessKeyView(key),
      }));
      return { keys, ...at };
    }
    case 'call_function':
      return callFunction(account, accountId, p, at, unknownAccount);
    case 'view_code':
    case 'view_state':
      throw internalError(`the devnet does not simulate ${p.request_type} queries`);
  }
  throw parseError(`unknown request_type ${JSON.stringify(p.request_type)}`);
}

function callFunction(
  account: AccountState | undefined,
  accountId: string,
  p: Params,
  at: { block_height: number; block_hash: string },
  unknownAccount: () => Error,
) {
  if (!account) throw unknownAccount();
  if (!account.pool) throw handlerError('NO_CONTRACT_CODE', { contract_account_id: accountId, ...at });
  const method = typeof p.method_name === 'string' ? p.method_name : '';
  try {
    const result = viewPool(account.pool, method);
    return { result: [...result], logs: [], ...at };
  } catch (err) {
    if (err instanceof MethodNotFound) {
      throw handlerError('CONTRACT_EXECUTION_ERROR', {
        vm_error: 'wasm execution failed with error: MethodResolveError(MethodNotFound)',
        error: { MethodResolveError: 'MethodNotFound' },
        ...at,
      });
    }
    if (err instanceof ProhibitedInView) {
      throw handlerError('CONTRACT_EXECUTION_ERROR', {
        vm_error: `wasm execution failed with error: HostError(ProhibitedInView { method_name: "${err.message}" })`,
        error: { HostError: { ProhibitedInView: { method_name: err.message } } },
        ...at,
      });
    }
    throw err;
  }
}

function accessKeyView(key: AccessKey) {
  return { nonce: Number(key.nonce), permission: key.permission };
}

function totalSupply(chain: NearChain): bigint {
  let total = 0n;
  for (const account of chain.accounts.values()) total += account.amount + account.locked;
  return total;
}

function rfc3339(timestampNs: bigint): string {
  const ms = Number(timestampNs / 1_000_000n);
  const nanos = (timestampNs % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${nanos}Z`);
}

function throwIt(err: Error): never {
  throw err;
}
