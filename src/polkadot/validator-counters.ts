/**
 * What the chain counts for a validator stash: slots it was expected to sign and did not, and equivocations
 * (two different payloads signed with one of its keys for a slot), as running counts.
 *
 * The local devnet serves them as `devnet_counters(stash)` on its relay RPC (and through every node's RPC,
 * which forwards it). Polkadot, Kusama and Westend have no such counter on their RPC (the im-online pallet that
 * counted authored blocks is gone; equivocations become `offences` reports, not read here), so on a real
 * network this returns undefined and the run reports nothing for them.
 *
 * Best effort: a reading that fails returns undefined, never fails the activity that asked for it.
 */
import type { ValidatorCounters } from '../api/validator-counters.js';
import { withProvider } from './connection.js';

interface DevnetCounters {
  expected?: unknown;
  missed?: unknown;
  equivocations?: unknown;
}

export async function polkadotValidatorCounters(url: string, stash: string): Promise<ValidatorCounters | undefined> {
  try {
    const counters = await withProvider(url, (provider) => provider.send<DevnetCounters>('devnet_counters', [stash]), {
      connectTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
    });
    if (typeof counters?.missed !== 'number' || typeof counters.equivocations !== 'number') return undefined;
    return { missed: { slots: counters.missed }, doubleSigns: counters.equivocations, source: 'devnet_counters' };
  } catch {
    return undefined;
  }
}
