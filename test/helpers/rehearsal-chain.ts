/**
 * A chain that moves with the Temporal server's clock, for the rehearsal runbook's waits: height is the
 * time since genesis over the block time, epochs are `epochLength` blocks. With the time-skipping server
 * its clock is the skipped time, so a month of blocks passes in seconds.
 */
import type { RehearsalActivities } from '../workflows/fixtures/activities.js';

export interface RehearsalChainOptions {
  epochLength: number;
  blockTimeMs: number;
  now: () => Promise<number>;
}

export function rehearsalActivities(opts: RehearsalChainOptions) {
  const log: string[] = [];
  let genesisMs: number | undefined;
  let looks = 0;
  let lastNow: number | undefined;
  const activities: RehearsalActivities = {
    record(what) {
      log.push(what);
      return Promise.resolve(what);
    },
    async lookAtChain({ targetEpoch }) {
      looks++;
      const now = await opts.now();
      genesisMs ??= now;
      lastNow = now;
      const height = Math.floor((now - genesisMs) / opts.blockTimeMs);
      const epoch = Math.floor(height / opts.epochLength);
      const blocksLeft = (epoch + 1) * opts.epochLength - height;
      return {
        reached: epoch >= targetEpoch,
        detail: `epoch ${epoch} at height ${height}, waiting for epoch ${targetEpoch}`,
        etaMs: blocksLeft * opts.blockTimeMs,
        value: epoch,
      };
    },
  };
  /** Hours of chain time between the first and the last look. */
  const chainHours = () => ((lastNow ?? 0) - (genesisMs ?? 0)) / 3_600_000;
  return { activities, log, looks: () => looks, chainHours };
}
