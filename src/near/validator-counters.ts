/**
 * What the chain counts for a validator account: blocks and chunks it was expected to produce in the current
 * epoch and did not (RPC `validators`: num_expected_blocks − num_produced_blocks, and the same for chunks),
 * the previous epoch's final counts (`validators` at its last block, while the node still has that epoch),
 * and double signs where the network reports them.
 *
 * nearcore reports no double signs on its RPC (it dropped double-sign challenges and slashing; `is_slashed`
 * stays false), so on a real network `doubleSigns` is absent. The local devnet answers `devnet_counters`
 * with the double signs it recorded per account; that is read when the RPC serves it.
 *
 * Best effort: a reading that fails returns undefined, never fails the activity that asked for it.
 */
import type { JsonRpcProvider } from 'near-api-js';
import type { Kickout, MissedCounts, ValidatorCounters } from '../api/validator-counters.js';
import type { ValidatorsView } from './key-standing.js';
import { nearRpc } from './rpc.js';

type Entry = ValidatorsView['current_validators'][number];

/** The account's missed blocks and chunks in one `validators` answer (zero when it is not a current validator). */
export function missedIn(view: ValidatorsView, accountId: string): MissedCounts {
  const entry: Entry | undefined = view.current_validators.find((v) => v.account_id === accountId);
  const gap = (expected: number | undefined, produced: number | undefined) =>
    Math.max(0, (expected ?? 0) - (produced ?? 0));
  return {
    blocks: gap(entry?.num_expected_blocks, entry?.num_produced_blocks),
    chunks: gap(entry?.num_expected_chunks, entry?.num_produced_chunks),
  };
}

/**
 * The account's kickout at the end of the previous epoch, if `prev_epoch_kickout` lists it, with nearcore's
 * reason (`"Unstaked"`, or `{ "NotEnoughBlocks": { produced, expected } }` named by its key).
 */
export function kickoutIn(view: ValidatorsView, accountId: string): Kickout | undefined {
  const listed = (view.prev_epoch_kickout as unknown as { account_id: string; reason?: unknown }[]).find(
    (k) => k.account_id === accountId,
  );
  if (!listed) return undefined;
  const reason =
    typeof listed.reason === 'string'
      ? listed.reason
      : listed.reason && typeof listed.reason === 'object'
        ? (Object.keys(listed.reason)[0] ?? 'unknown')
        : 'unknown';
  return { period: view.epoch_height - 1, reason };
}

export async function nearValidatorCounters(
  url: string,
  accountId: string,
  provider: JsonRpcProvider = nearRpc(url),
  latest?: ValidatorsView,
): Promise<ValidatorCounters | undefined> {
  try {
    const current = latest ?? (await provider.viewValidators());
    const [previous, doubleSigns] = await Promise.all([
      current.epoch_start_height > 0
        ? provider.viewValidators({ blockId: current.epoch_start_height - 1 }).catch(() => undefined)
        : Promise.resolve(undefined),
      devnetDoubleSigns(url, accountId),
    ]);
    const kickedOut = kickoutIn(current, accountId);
    return {
      period: current.epoch_height,
      missed: missedIn(current, accountId),
      ...(previous && previous.epoch_height < current.epoch_height
        ? { previous: { period: previous.epoch_height, missed: missedIn(previous, accountId) } }
        : {}),
      ...(doubleSigns === undefined ? {} : { doubleSigns }),
      ...(kickedOut ? { kickedOut } : {}),
      source: doubleSigns === undefined ? 'RPC validators' : 'RPC validators, devnet_counters',
    };
  } catch {
    return undefined;
  }
}

/** RPCs that answered "Method not found" (nearcore): not asked again by this process. */
const withoutDevnetCounters = new Set<string>();

/**
 * The devnet's double signs of the account (`devnet_counters`, a method near-api-js's typed client does not
 * know); undefined where the RPC has no such method. NEAR's RPC lists no methods, so a real node is asked
 * once and then remembered.
 */
async function devnetDoubleSigns(url: string, accountId: string): Promise<number | undefined> {
  if (withoutDevnetCounters.has(url)) return undefined;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'vup', method: 'devnet_counters', params: { account_id: accountId } }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { result?: { doubleSignHeights?: unknown }; error?: { code?: unknown } };
    if (body.error?.code === -32601) withoutDevnetCounters.add(url);
    const heights = body.result?.doubleSignHeights;
    return Array.isArray(heights) ? heights.length : undefined;
  } catch {
    return undefined;
  }
}
