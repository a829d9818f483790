/**
 * A node's own RPC: health and sync, and the keystore methods (author_*) that only the node itself serves.
 * Session keys come back as public keys (SCALE-encoded SessionKeys) and a proof; their secrets stay in the
 * node's keystore.
 */
import { isHex, u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import type { WsProvider } from '@polkadot/api';
import type { NodeHealth, RotatedKeys } from '../api/contracts/polkadot.js';
import { withProvider, withSharedProvider, type ConnectionOptions } from './connection.js';
import { PolkadotError, isMethodNotFound, messageOf } from './errors.js';

/** The node's health as its RPC reports it, and whether it expects peers (a lone dev node does not). */
export type NodeHealthSeen = NodeHealth & { shouldHavePeers: boolean; genesisHash: string };

interface HealthJson {
  peers: number;
  isSyncing: boolean;
  shouldHavePeers: boolean;
}
interface SyncStateJson {
  currentBlock: number;
  highestBlock?: number | null;
}

/** One node's health, over its own socket: a node restarted since the last look is seen as it is now. */
export async function nodeHealth(url: string, options?: ConnectionOptions): Promise<NodeHealthSeen> {
  return withProvider(url, readHealth, options).catch(rpcFailure(url));
}

/** The health of a network's RPC (its best block, its chain), over the endpoint's shared connection. */
export async function networkHealth(url: string, options?: ConnectionOptions): Promise<NodeHealthSeen> {
  return withSharedProvider(url, readHealth, options).catch(rpcFailure(url));
}

async function readHealth(provider: WsProvider): Promise<NodeHealthSeen> {
  const [health, sync, chain, version, header, genesisHash] = await Promise.all([
    provider.send<HealthJson>('system_health', []),
    provider.send<SyncStateJson>('system_syncState', []),
    provider.send<string>('system_chain', []),
    provider.send<string>('system_version', []),
    provider.send<{ number: string }>('chain_getHeader', []),
    provider.send<string>('chain_getBlockHash', [0]),
  ]);
  const best = Math.max(Number(header.number), Number(sync.currentBlock));
  return {
    chain,
    genesisHash,
    version,
    peers: Number(health.peers),
    isSyncing: health.isSyncing,
    shouldHavePeers: health.shouldHavePeers,
    bestBlock: best,
    ...(sync.highestBlock === undefined || sync.highestBlock === null
      ? {}
      : { highestBlock: Number(sync.highestBlock) }),
  };
}

/** Keys the node has just generated (not reused: that is the activity's to tell). */
export type GeneratedKeys = Omit<RotatedKeys, 'reused'>;

/**
 * `author_rotateKeysWithOwner(owner)` (owner = the stash's 32 raw bytes, not SS58), falling back to
 * `author_rotateKeys` on nodes that do not know it (no proof then).
 */
export async function rotateKeys(url: string, owner: string, options?: ConnectionOptions): Promise<GeneratedKeys> {
  const ownerHex = u8aToHex(decodeAddress(owner));
  return withProvider(
    url,
    async (provider) => {
      try {
        const generated = await provider.send<{ keys: string; proof?: string | null }>('author_rotateKeysWithOwner', [
          ownerHex,
        ]);
        if (!isHex(generated.keys)) throw new PolkadotError('RpcError', `${url} returned no session keys`);
        return {
          keys: generated.keys,
          ...(typeof generated.proof === 'string' && generated.proof !== '0x' ? { proof: generated.proof } : {}),
          method: 'author_rotateKeysWithOwner' as const,
        };
      } catch (err) {
        if (!isMethodNotFound(err)) throw err;
      }
      const keys = await provider.send<string>('author_rotateKeys', []);
      if (!isHex(keys)) throw new PolkadotError('RpcError', `${url} returned no session keys`);
      return { keys, method: 'author_rotateKeys' as const };
    },
    options,
  ).catch(rpcFailure(url));
}

/** `author_hasSessionKeys`: the node's keystore holds every key of these SessionKeys. */
export async function hasSessionKeys(url: string, keys: string, options?: ConnectionOptions): Promise<boolean> {
  return withProvider(url, (provider) => provider.send<boolean>('author_hasSessionKeys', [keys]), options).catch(
    rpcFailure(url),
  );
}

function rpcFailure(url: string) {
  return (err: unknown): never => {
    if (err instanceof PolkadotError) throw err;
    throw new PolkadotError('RpcError', `RPC ${url}: ${messageOf(err)}`, { cause: err });
  };
}
