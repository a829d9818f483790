/**
 * A deadline an upgrade (or a fleet) must be done by: since nearcore 2.7 a validator still on the old version
 * when protocol voting ends is kicked out for the epoch in which the new version takes effect, so the date an
 * operator must meet is the voting date. Written once here: the field every input carries, the status it
 * shows, and the projection `vup plan` and a running upgrade share (from the network's observed pace and the
 * strategy's assumed length, src/api/fleet.ts).
 */
import { z } from 'zod';
import type { Chain } from './identity.js';
import type { StrategyName } from './strategies.js';

export const deadlineField = z.iso
  .datetime({ offset: true })
  .optional()
  .describe(
    'When the upgrade must be done (ISO time, e.g. the end of NEAR protocol voting): plan refuses a projected finish past it; a run past or projected past it says so (status, UpgradeDeadline=behind, a deadline-at-risk notification).',
  );

/** How long a chain's periods are now, as read from its RPC. */
export interface ChainPace {
  chain: Chain;
  network: string;
  /** One NEAR epoch or one Polkadot session, ms (observed block time × length). */
  periodMs: number;
  source: string;
}

/**
 * Chain periods one upgrade of each strategy waits, by its runbook, plus the minutes of its host work. These
 * are assumptions (a sync's length depends on the node), said as such by `vup fleet plan`; `perUpgrade` in
 * the input replaces them.
 */
export const assumedUpgradeLength: Record<StrategyName, { periods: number; extraMs: number; why: string }> = {
  nearZeroDowntimeUpgrade: { periods: 3, extraMs: 0, why: 'stake in epoch T, key current from T+2, a partial epoch' },
  nearSyncAndSwapUpgrade: { periods: 1, extraMs: 20 * 60_000, why: 'a sync of about an epoch, then the swap' },
  nearStopAndRestartUpgrade: { periods: 0, extraMs: 15 * 60_000, why: 'a restart and catching up, no migration' },
  nearValidatorKeyHotSwap: { periods: 0, extraMs: 10 * 60_000, why: 'a hand-over on synced nodes' },
  polkadotValidatorSwapUpgrade: { periods: 4, extraMs: 0, why: 'keys active after two sessions, there and back' },
};

/** One upgrade's expected length: the input's figure, else the strategy's periods at the chain's pace. */
export function upgradeLengthMs(
  strategy: StrategyName,
  pace: ChainPace | undefined,
  perUpgrade: Partial<Record<StrategyName, number>> | undefined,
): number | undefined {
  const given = perUpgrade?.[strategy];
  if (given !== undefined) return given;
  const assumed = assumedUpgradeLength[strategy];
  if (assumed.periods === 0) return assumed.extraMs;
  return pace ? assumed.periods * pace.periodMs + assumed.extraMs : undefined;
}

/** What the status says of a run's deadline. */
export interface DeadlineStatus {
  at: string;
  /** Past the deadline, or projected to finish past it, and not done. */
  behind: boolean;
  /** When the run is projected to be done (undefined when the network's pace could not be read). */
  projectedFinish?: string;
  /** How the projection was made: the network's pace and the strategy's assumed length. */
  basis?: string;
}

/**
 * When an upgrade of `strategy` started at `startedMs` is projected to be done, seen at `nowMs`: its start
 * plus the strategy's expected length at the network's pace, and never earlier than now while it runs.
 */
export function projectUpgrade(
  strategy: StrategyName,
  pace: ChainPace | undefined,
  deadline: string,
  startedMs: number,
  nowMs: number,
): DeadlineStatus {
  const lengthMs = upgradeLengthMs(strategy, pace, undefined);
  const finishMs = lengthMs === undefined ? undefined : Math.max(startedMs + lengthMs, nowMs);
  const deadlineMs = Date.parse(deadline);
  return {
    at: deadline,
    behind: nowMs > deadlineMs || (finishMs !== undefined && finishMs > deadlineMs),
    ...(finishMs === undefined ? {} : { projectedFinish: new Date(finishMs).toISOString() }),
    basis:
      lengthMs === undefined
        ? "the network's pace could not be read"
        : `about ${Math.round(lengthMs / 60_000)} min for ${strategy}${pace ? ` (${pace.source})` : ''}`,
  };
}
