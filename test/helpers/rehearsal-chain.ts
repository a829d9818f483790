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
  /**
   * Report the validator's counters with each look, as the NEAR looks do: per epoch, the heights it missed
   * (`missesBlock`, `missesChunk`) with the previous epoch's final counts, and a running count of double signs.
   */
  counters?: boolean;
}

/** The rehearsal validator misses the block of every height ≡ 3 (mod 7) and the chunk of every height ≡ 5 (mod 11). */
export const missesBlock = (height: number) => height % 7 === 3;
export const missesChunk = (height: number) => height % 11 === 5;
/** It double signs every 40th height (its running count at height h is floor(h / 40)). */
export const doubleSignsUpTo = (height: number) => Math.floor(height / 40);

/** How many heights in [from, to] satisfy `pred`. */
export function heightsIn(from: number, to: number, pred: (h: number) => boolean): number {
  let n = 0;
  for (let h = Math.max(0, from); h <= to; h++) if (pred(h)) n++;
  return n;
}

export function rehearsalActivities(opts: RehearsalChainOptions) {
  const log: string[] = [];
  let genesisMs: number | undefined;
  let looks = 0;
  let lastNow: number | undefined;
  /** The height of every look, in order. */
  const lookHeights: number[] = [];
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
      lookHeights.push(height);
      const start = epoch * opts.epochLength;
      const missedIn = (from: number, to: number) => ({
        blocks: heightsIn(from, to, missesBlock),
        chunks: heightsIn(from, to, missesChunk),
      });
      return {
        reached: epoch >= targetEpoch,
        detail: `epoch ${epoch} at height ${height}, waiting for epoch ${targetEpoch}`,
        etaMs: blocksLeft * opts.blockTimeMs,
        value: epoch,
        ...(opts.counters
          ? {
              counters: {
                period: epoch,
                missed: missedIn(start, height),
                ...(epoch > 0
                  ? { previous: { period: epoch - 1, missed: missedIn(start - opts.epochLength, start - 1) } }
                  : {}),
                doubleSigns: doubleSignsUpTo(height),
                source: 'the rehearsal chain',
              },
            }
          : {}),
      };
    },
  };
  /** Hours of chain time between the first and the last look. */
  const chainHours = () => ((lastNow ?? 0) - (genesisMs ?? 0)) / 3_600_000;
  return { activities, log, looks: () => looks, chainHours, lookHeights };
}
