/**
 * Whether an account produced blocks or chunks after a height, from the per-epoch counters of RPC
 * `validators` (num_produced_blocks, num_produced_chunks). Epochs that began after the height count in full.
 * In the epoch holding the height, what was produced up to it comes from `validators` at that block (nearcore
 * counts a block-addressed request up to that block). When that answer is not there, the epoch counts only
 * what cannot have been produced before the height: at most one block and one chunk per tracked shard per
 * height, a lower bound that stays 0 for a validator that owns few heights, until the next epoch.
 */
import type { JsonRpcProvider } from 'near-api-js';
import { nearRpc, reading } from './rpc.js';
import type { ValidatorsView } from './key-standing.js';

/** How many past epochs are walked back at most (each is one RPC). */
const MAX_EPOCHS = 4;

export async function producedSince(
  url: string,
  accountId: string,
  sinceHeight: number,
  provider: JsonRpcProvider = nearRpc(url),
  latest?: ValidatorsView,
): Promise<number> {
  let epoch = latest ?? (await reading(url, 'validators', () => provider.viewValidators()));
  let total = 0;
  for (let walked = 0; walked < MAX_EPOCHS; walked++) {
    const entry = epoch.current_validators.find((v) => v.account_id === accountId);
    const produced = (entry?.num_produced_blocks ?? 0) + (entry?.num_produced_chunks ?? 0);
    if (epoch.epoch_start_height <= sinceHeight) {
      const then = await provider.viewValidators({ blockId: sinceHeight }).catch(() => undefined);
      if (then?.epoch_start_height === epoch.epoch_start_height) {
        const before = then.current_validators.find((v) => v.account_id === accountId);
        const producedBefore = (before?.num_produced_blocks ?? 0) + (before?.num_produced_chunks ?? 0);
        return total + Math.max(0, produced - producedBefore);
      }
      const perHeight = 1 + Math.max(1, entry?.shards?.length ?? 1);
      const possibleBefore = (sinceHeight - epoch.epoch_start_height + 1) * perHeight;
      return total + Math.max(0, produced - possibleBefore);
    }
    total += produced;
    const previousEnd = epoch.epoch_start_height - 1;
    const previous = await provider.viewValidators({ blockId: previousEnd }).catch(() => undefined);
    // An epoch the node no longer knows (garbage collected) only makes the count lower, never higher.
    if (!previous || previous.epoch_start_height >= epoch.epoch_start_height) return total;
    epoch = previous;
  }
  return total;
}
