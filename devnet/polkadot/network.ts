/**
 * The internal endpoint simulated nodes use in place of the p2p network: they learn the relay RPC, follow
 * slots with the active validator set, and gossip their BABE/GRANDPA signatures, which feed the accounting.
 * Tests and the demo read the counters here too (`devnet_counters`).
 */
import { u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import type { Accounting, SlotSignature } from './accounting.js';
import type { Block, Chain } from './chain.js';
import type { RelayRuntime } from './relay-runtime.js';
import { RpcError } from './rpc-error.js';
import { RpcServer } from './rpc-server.js';

export interface NetworkInfo {
  chain: string;
  relayRpcUrl: string;
  genesisHash: string;
  blockTimeMs: number;
}

export interface SlotAnnouncement {
  slot: number;
  number: number;
  hash: string;
  sessionIndex: number;
  active: { stash: string; keys: string }[];
}

export function sessionIndexOf(relay: Chain, block: Block): number {
  const raw = block.storage.get(u8aToHex(relay.runtime.decorated.query.session!.currentIndex!.keyPrefix()));
  return raw ? relay.runtime.registry.createType('u32', raw).toNumber() : 0;
}

export function announcement(relay: Chain, relayRuntime: RelayRuntime, block: Block): SlotAnnouncement {
  const sessionIndex = sessionIndexOf(relay, block);
  return {
    slot: block.slot,
    number: block.number,
    hash: block.hash,
    sessionIndex,
    active: relayRuntime
      .activeValidators(sessionIndex)
      .map((v) => ({ stash: u8aToHex(v.stash), keys: u8aToHex(v.keys) })),
  };
}

function isSignature(value: unknown): value is SlotSignature {
  const s = value as Partial<SlotSignature> | undefined;
  return (
    typeof s?.slot === 'number' &&
    (s.keyType === 'babe' || s.keyType === 'gran') &&
    [s.publicKey, s.payload, s.signature, s.nodeId].every((v) => typeof v === 'string')
  );
}

export function networkServer(opts: {
  relay: Chain;
  relayRuntime: RelayRuntime;
  accounting: Accounting;
  info: () => NetworkInfo;
  host?: string;
}): RpcServer {
  const { relay, relayRuntime, accounting } = opts;
  return new RpcServer({
    host: opts.host,
    methods: {
      network_info: () => opts.info(),
      network_submitSignature: ([sig]) => {
        if (!isSignature(sig)) throw new RpcError(-32602, 'Invalid params: expected a slot signature');
        const refused = accounting.record(sig);
        return refused === undefined ? { accepted: true } : { accepted: false, reason: refused };
      },
      devnet_counters: ([stash, fromSlot]) =>
        accounting.counters(
          decodeAddress(typeof stash === 'string' ? stash : ''),
          typeof fromSlot === 'number' ? fromSlot : 0,
        ),
    },
    subscriptions: [
      {
        subscribe: ['network_subscribeSlots'],
        unsubscribe: ['network_unsubscribeSlots'],
        notification: 'network_slot',
        start: (_params, emit) => {
          const listener = (block: Block) => emit(announcement(relay, relayRuntime, block));
          relay.on('block', listener);
          return () => relay.off('block', listener);
        },
      },
    ],
  });
}
