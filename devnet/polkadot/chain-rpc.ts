/**
 * The JSON-RPC surface of a simulated chain, as a Substrate full node serves it (names, params and result
 * shapes from sc-rpc-api and polkadot-js 16.5.6 definitions). Enough for `ApiPromise.create`, queries,
 * derives and `signAndSend`.
 */
import { compactAddLength, hexToU8a, isHex, u8aConcat, u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import type { Block, Chain } from './chain.js';
import { RpcError } from './rpc-error.js';
import { StorageOverlay } from './storage.js';
import type { MethodHandler, RpcParams, SubscriptionHandler } from './rpc-server.js';
import { keyTypeHex, sessionKeyLayout, splitSessionKeys } from './session-keys.js';
import { queryInfo } from './transaction-payment.js';

export interface ChainRpcOptions {
  nodeName?: string;
  nodeVersion?: string;
}

export function headerJson(block: Block) {
  const h = block.header;
  return {
    parentHash: h.parentHash.toHex(),
    number: `0x${block.number.toString(16)}`,
    stateRoot: h.stateRoot.toHex(),
    extrinsicsRoot: h.extrinsicsRoot.toHex(),
    digest: { logs: h.digest.logs.map((log) => u8aToHex(log.toU8a())) },
  };
}

function atBlock(chain: Chain, at: unknown): Block {
  if (at === undefined || at === null) return chain.best;
  const block = typeof at === 'string' ? chain.blockAt(at) : undefined;
  if (!block)
    throw new RpcError(4003, `Client error: UnknownBlock: Header was not found in the database: ${JSON.stringify(at)}`);
  return block;
}

/** A block whose state can still be read (as a pruned Substrate node answers for discarded state). */
function stateAt(chain: Chain, at: unknown): Block {
  const block = atBlock(chain, at);
  if (block.pruned) throw new RpcError(4003, `Client error: State already discarded for ${block.hash}`);
  return block;
}

function storageValue(block: Block, key: unknown): string | null {
  const raw = typeof key === 'string' ? block.storage.get(key.toLowerCase()) : undefined;
  return raw === undefined ? null : u8aToHex(raw);
}

function blockNumberParam(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return isHex(value) ? parseInt(value, 16) : Number(value);
  return undefined;
}

/**
 * SCALE bytes as hex. Never `codec.toHex()` for wire values: numbers give big-endian hex and an Option
 * drops its Some/None byte there.
 */
function encoded(codec: { toU8a(): Uint8Array }): string {
  return u8aToHex(codec.toU8a());
}

/** Runtime APIs called through `state_call` by polkadot-js and by validator tooling. */
function stateCall(chain: Chain, method: string, data: Uint8Array, block: Block): string {
  const { runtime } = chain;
  const { registry } = runtime;
  switch (method) {
    case 'Metadata_metadata_versions':
      return encoded(registry.createType('Vec<u32>', [14, 15]));
    case 'Metadata_metadata_at_version': {
      const version = registry.createType('u32', data).toNumber();
      if (version !== 15) return '0x00';
      return u8aToHex(u8aConcat(new Uint8Array([1]), compactAddLength(runtime.metadataBytes)));
    }
    case 'Metadata_metadata':
      return u8aToHex(compactAddLength(runtime.metadataBytes));
    case 'Core_version':
      return encoded(registry.createType('RuntimeVersion', runtime.version));
    case 'AccountNonceApi_account_nonce':
      return encoded(registry.createType('u32', chain.accountNonce(data.subarray(0, 32), block)));
    case 'TransactionPaymentApi_query_info':
      return queryInfo(runtime);
    case 'SessionKeys_decode_session_keys': {
      const keys = registry.createType('Bytes', data).toU8a(true);
      const parts = splitSessionKeys(sessionKeyLayout(runtime), keys);
      const decoded = parts?.map(({ field, publicKey }) => [u8aToHex(publicKey), keyTypeHex(field.keyType)]);
      return encodeApiResult(chain, method, decoded ?? null);
    }
    default: {
      const value = chain.logic.runtimeApi?.(method, new StorageOverlay(runtime, block.storage));
      if (value === undefined) {
        throw new RpcError(4003, `Client error: Execution failed: Other: Exported method ${method} is not found`);
      }
      return encodeApiResult(chain, method, value);
    }
  }
}

/** Encodes a runtime API result with the output type the metadata declares for `Api_method`. */
function encodeApiResult(chain: Chain, method: string, value: unknown): string {
  const { runtime } = chain;
  const split = method.indexOf('_');
  const api = runtime.metadata.asLatest.apis.find((a) => a.name.toString() === method.slice(0, split));
  const output = api?.methods.find((m) => m.name.toString() === method.slice(split + 1))?.output;
  if (!output)
    throw new RpcError(4003, `Client error: Execution failed: Other: Exported method ${method} is not found`);
  return encoded(runtime.registry.createType(runtime.registry.createLookupType(output), value));
}

export function chainRpc(chain: Chain, opts: ChainRpcOptions = {}) {
  const { runtime } = chain;
  const blockHash = (n: unknown) => {
    const number = blockNumberParam(n);
    return (number === undefined ? chain.best : chain.blockAt(number))?.hash ?? null;
  };
  const methods: Record<string, MethodHandler> = {
    system_chain: () => runtime.chainName,
    system_name: () => opts.nodeName ?? 'Parity Polkadot (simulated)',
    system_version: () => opts.nodeVersion ?? '1.0.0-devnet',
    system_properties: () => runtime.properties,
    system_chainType: () => 'Live',
    system_health: () => ({ peers: 8, isSyncing: false, shouldHavePeers: true }),
    system_nodeRoles: () => ['Full'],
    system_syncState: () => ({ startingBlock: 0, currentBlock: chain.best.number, highestBlock: chain.best.number }),
    system_accountNextIndex: ([address]) => chain.nextIndex(decodeAddress(String(address))),
    chain_getBlockHash: ([n]) => (Array.isArray(n) ? n.map(blockHash) : blockHash(n)),
    chain_getHeader: ([at]) => headerJson(atBlock(chain, at)),
    chain_getBlock: ([at]) => {
      const block = atBlock(chain, at);
      return { block: { header: headerJson(block), extrinsics: block.extrinsics }, justifications: null };
    },
    chain_getFinalizedHead: () => chain.finalized.hash,
    state_getRuntimeVersion: ([at]) => (atBlock(chain, at), runtime.version),
    state_getMetadata: ([at]) => (atBlock(chain, at), u8aToHex(runtime.metadataBytes)),
    state_call: ([method, data, at]: RpcParams) =>
      stateCall(chain, String(method), hexToU8a(typeof data === 'string' ? data : '0x'), stateAt(chain, at)),
    state_getStorage: ([key, at]) => storageValue(stateAt(chain, at), key),
    state_queryStorageAt: ([keys, at]) => {
      const block = stateAt(chain, at);
      const list = Array.isArray(keys) ? (keys as unknown[]) : [];
      return [{ block: block.hash, changes: list.map((k) => [k, storageValue(block, k)]) }];
    },
    state_getKeysPaged: ([prefix, count, startKey, at]) => {
      const block = stateAt(chain, at);
      const p = typeof prefix === 'string' ? prefix.toLowerCase() : '0x';
      const start = typeof startKey === 'string' ? startKey.toLowerCase() : '';
      return [...block.storage.keys()]
        .filter((k) => k.startsWith(p) && k > start)
        .sort()
        .slice(0, Number(count ?? 1000));
    },
    author_submitExtrinsic: ([xt]) => chain.submit(xt),
    author_pendingExtrinsics: () => chain.pendingExtrinsics(),
  };
  methods.chain_getHead = methods.chain_getBlockHash!;
  methods.chain_getFinalisedHead = methods.chain_getFinalizedHead!;
  methods.state_getStorageAt = methods.state_getStorage!;
  methods.chain_getRuntimeVersion = methods.state_getRuntimeVersion!;

  const onBlocks = (event: 'block' | 'finalized', emit: (result: unknown) => void) => {
    const listener = (block: Block) => emit(headerJson(block));
    chain.on(event, listener);
    return () => chain.off(event, listener);
  };

  const subscriptions: SubscriptionHandler[] = [
    {
      subscribe: ['chain_subscribeNewHead', 'chain_subscribeNewHeads', 'subscribe_newHead'],
      unsubscribe: ['chain_unsubscribeNewHead', 'chain_unsubscribeNewHeads', 'unsubscribe_newHead'],
      notification: 'chain_newHead',
      start: (_params, emit) => (emit(headerJson(chain.best)), onBlocks('block', emit)),
    },
    {
      subscribe: ['chain_subscribeAllHeads'],
      unsubscribe: ['chain_unsubscribeAllHeads'],
      notification: 'chain_allHead',
      start: (_params, emit) => (emit(headerJson(chain.best)), onBlocks('block', emit)),
    },
    {
      subscribe: ['chain_subscribeFinalizedHeads', 'chain_subscribeFinalisedHeads'],
      unsubscribe: ['chain_unsubscribeFinalizedHeads', 'chain_unsubscribeFinalisedHeads'],
      notification: 'chain_finalizedHead',
      start: (_params, emit) => (emit(headerJson(chain.finalized)), onBlocks('finalized', emit)),
    },
    {
      subscribe: ['state_subscribeRuntimeVersion', 'chain_subscribeRuntimeVersion'],
      unsubscribe: ['state_unsubscribeRuntimeVersion', 'chain_unsubscribeRuntimeVersion'],
      notification: 'state_runtimeVersion',
      start: (_params, emit) => (emit(runtime.version), () => {}),
    },
    {
      subscribe: ['state_subscribeStorage'],
      unsubscribe: ['state_unsubscribeStorage'],
      notification: 'state_storage',
      start: ([keys], emit) => {
        const list = (Array.isArray(keys) ? (keys as unknown[]) : []).map((k) => String(k).toLowerCase());
        let last = new Map(list.map((k) => [k, storageValue(chain.best, k)]));
        emit({ block: chain.best.hash, changes: [...last] });
        const listener = (block: Block) => {
          const next = new Map(list.map((k) => [k, storageValue(block, k)]));
          const changes = [...next].filter(([k, v]) => last.get(k) !== v);
          last = next;
          if (changes.length > 0) emit({ block: block.hash, changes });
        };
        chain.on('block', listener);
        return () => chain.off('block', listener);
      },
    },
    {
      subscribe: ['author_submitAndWatchExtrinsic'],
      unsubscribe: ['author_unwatchExtrinsic'],
      notification: 'author_extrinsicUpdate',
      start: ([xt], emit) => {
        let watching = true;
        chain.submit(xt, (status) => {
          if (watching) emit(status);
        });
        return () => {
          watching = false;
        };
      },
    },
  ];
  return { methods, subscriptions };
}
