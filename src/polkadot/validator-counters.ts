/**
 * What the chain records against a validator stash: equivocations (two different payloads signed with one of
 * its keys for a slot or a round) and, where the chain counts them, slots it was expected to sign and did not.
 *
 * - Double signs are the relay chain's own record: pallet-offences keeps one `Offences.Reports` entry per
 *   landed equivocation report (BABE or GRANDPA), whose value starts with the offender's stash. The reading
 *   counts the entries naming this stash, on Polkadot, Kusama and Westend as on the local devnet.
 * - Missed slots: Polkadot has no such counter (the im-online pallet that counted authored blocks is gone,
 *   and era reward points mix authored blocks with parachain backing), so a real network reports none. The
 *   local devnet counts them and serves `devnet_counters(stash)`; the reading asks for it only when the RPC
 *   lists the method (`rpc_methods`), so a real node never sees a request it cannot answer.
 *
 * Raw storage reads over the endpoint's shared WebSocket: a look that reads counters stays cheap. The reads
 * that are the same for every stash (the offence reports, the RPC's method list) are joined while in flight, so
 * a session boundary at which hundreds of validators of one network look at once reads them once, not once a
 * validator (devnet/bench/polkadot-rpc-round.ts counts it).
 * Best effort: a reading that fails returns undefined, never fails the activity that asked for it.
 */
import { hexToU8a, u8aEq } from '@polkadot/util';
import { decodeAddress, xxhashAsHex } from '@polkadot/util-crypto';
import type { ValidatorCounters } from '../api/validator-counters.js';
import { SharedReads } from '../shared-reads.js';
import { withSharedProvider } from './connection.js';

/** twox128("Offences") ++ twox128("Reports"): the prefix of every report's key. */
const OFFENCE_REPORTS = xxhashAsHex('Offences', 128) + xxhashAsHex('Reports', 128).slice(2);
const KEYS_PER_PAGE = 1000;

interface DevnetCounters {
  missed?: unknown;
}

/** The counters' requests of every look of this worker: an identical one in flight is joined, not sent again. */
const reads = new SharedReads();

/** A request on the endpoint's shared provider, joined with an identical one in flight (kept no longer). */
type JoinedSend = <T>(method: string, params: unknown[]) => Promise<T>;

/** Offence reports whose offender is `stash` (OffenceDetails: the offender's AccountId32 comes first). */
async function offenceReportsAgainst(send: JoinedSend, stash: Uint8Array): Promise<number> {
  let count = 0;
  for (let startKey: string | undefined; ;) {
    const keys = await send<string[]>('state_getKeysPaged', [OFFENCE_REPORTS, KEYS_PER_PAGE, startKey]);
    if (keys.length > 0) {
      const [result] = await send<{ changes: [string, string | null][] }[]>('state_queryStorageAt', [keys]);
      count += (result?.changes ?? []).filter(
        ([, value]) => value && u8aEq(hexToU8a(value).subarray(0, 32), stash),
      ).length;
    }
    if (keys.length < KEYS_PER_PAGE) return count;
    startKey = keys[keys.length - 1];
  }
}

async function devnetMissedSlots(send: JoinedSend, stash: string): Promise<number | undefined> {
  const { methods } = await send<{ methods: string[] }>('rpc_methods', []);
  if (!methods.includes('devnet_counters')) return undefined;
  const counters = await send<DevnetCounters>('devnet_counters', [stash]);
  return typeof counters?.missed === 'number' ? counters.missed : undefined;
}

export async function polkadotValidatorCounters(url: string, stash: string): Promise<ValidatorCounters | undefined> {
  try {
    const [doubleSigns, missedSlots] = await withSharedProvider(
      url,
      (provider) => {
        const send: JoinedSend = (method, params) =>
          reads.get(`${url} ${method} ${JSON.stringify(params)}`, 0, () => provider.send(method, params));
        return Promise.all([offenceReportsAgainst(send, decodeAddress(stash)), devnetMissedSlots(send, stash)]);
      },
      { connectTimeoutMs: 10_000, requestTimeoutMs: 10_000 },
    );
    return {
      missed: missedSlots === undefined ? {} : { slots: missedSlots },
      doubleSigns,
      source: missedSlots === undefined ? 'offences reports' : 'offences reports, devnet_counters',
    };
  } catch {
    return undefined;
  }
}
