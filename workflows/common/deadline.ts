/**
 * Deadlines in the workflows (src/api/deadline.ts): the network's pace read once, and a single upgrade's
 * watch over its deadline. A run that is past its deadline, or projected past it, says so in its status and
 * the UI's details, sets the UpgradeDeadline search attribute to `behind` (so the runs behind are listed
 * without a query to each), counts once in `vup_deadline_at_risk` and tells the webhooks once. Runs from the
 * `deadline` patch on; recorded histories carry no deadline and never reach it.
 */
import { log, patched, proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { ActivityFunctions } from '../../src/api/contracts/activity.js';
import type { nearContracts } from '../../src/api/contracts/near.js';
import type { polkadotContracts } from '../../src/api/contracts/polkadot.js';
import { projectUpgrade, type ChainPace, type DeadlineStatus } from '../../src/api/deadline.js';
import type { Chain } from '../../src/api/identity.js';
import { DEADLINE_BEHIND, DEADLINE_ON_TIME, UpgradeDeadline } from '../../src/api/search-attributes.js';
import type { StrategyName } from '../../src/api/strategies.js';
import { readOptions } from './activity-options.js';

export const DEADLINE_PATCH = 'deadline';

// A pace that cannot be read leaves the projection unknown; it does not stop the run.
const paceReads = proxyActivities<
  ActivityFunctions<typeof nearContracts> & ActivityFunctions<typeof polkadotContracts>
>({ ...readOptions, retry: { ...readOptions.retry, maximumAttempts: 2 } });

/** One NEAR epoch or Polkadot session, as long as the network's RPC says now; undefined if it cannot be read. */
export async function readPace(net: { chain: Chain; network: string; rpcUrl: string }): Promise<ChainPace | undefined> {
  try {
    if (net.chain === 'near') {
      const info = await paceReads.epochInfo({ rpcUrl: net.rpcUrl });
      return {
        ...net,
        periodMs: Math.round(info.epochLength * info.observedBlockTimeMs),
        source: `epoch of ${info.epochLength} blocks at ${info.observedBlockTimeMs.toFixed(0)} ms observed`,
      };
    }
    const info = await paceReads.sessionInfo({ rpcUrl: net.rpcUrl });
    return {
      ...net,
      periodMs: info.sessionLengthSlots * info.slotDurationMs,
      source: `session of ${info.sessionLengthSlots} slots of ${info.slotDurationMs} ms`,
    };
  } catch (err) {
    log.warn('could not read the pace of a network; its projection stays unknown', {
      network: net.network,
      error: String(err),
    });
    return undefined;
  }
}

/** Whether this upgrade runs its deadline watch: decided once, kept across continue-as-new. */
export function deadlineWatched(remembered: Record<string, unknown>): boolean {
  const known = remembered['patch:deadline'];
  const taken = typeof known === 'boolean' ? known : patched(DEADLINE_PATCH);
  remembered['patch:deadline'] = taken;
  return taken;
}

/** What a watch tells when the run falls behind (once per upgrade). */
export type DeadlineAlarm = (status: DeadlineStatus) => void;

/** One upgrade's deadline: its projection now, and the one-time alarm when it is behind. */
export class DeadlineWatch {
  private stage?: string;

  constructor(
    private readonly deadline: string,
    private readonly strategy: StrategyName,
    private readonly pace: ChainPace | undefined,
    private readonly startedAt: string,
    /** Kept across continue-as-new: `deadline-behind` once the alarm went off. */
    private readonly remembered: Record<string, unknown>,
    private readonly alarm: DeadlineAlarm,
  ) {}

  /** The status now; a run that ended is no longer behind (it is done, or it stopped in its safe state). */
  status(open: boolean): DeadlineStatus {
    const s = projectUpgrade(this.strategy, this.pace, this.deadline, Date.parse(this.startedAt), Date.now());
    return open ? s : { ...s, behind: false };
  }

  /** Looks again: sets the search attribute and, the first time the run is behind, sounds the alarm. */
  check(open: boolean): DeadlineStatus {
    const s = this.status(open);
    const behind = s.behind || this.remembered['deadline-behind'] === true;
    const stage = behind ? DEADLINE_BEHIND : DEADLINE_ON_TIME;
    if (stage !== this.stage) {
      this.stage = stage;
      upsertSearchAttributes([{ key: UpgradeDeadline, value: stage }]);
    }
    if (s.behind && this.remembered['deadline-behind'] !== true) {
      this.remembered['deadline-behind'] = true;
      this.alarm(s);
    }
    return s;
  }

  /** Looks again when the deadline passes, even if nothing else happens in the run by then. */
  lookAtDeadline(look: () => void): void {
    const left = Date.parse(this.deadline) - Date.now();
    // The timer ends with the run (or its cancellation); a look after that has nothing to say.
    if (left > 0) void sleep(left + 1).then(look, () => undefined);
  }

  /** The line of the UI's details. */
  static line(s: DeadlineStatus): string {
    return `Deadline ${s.at}: projected finish ${s.projectedFinish ?? 'unknown'} (${s.basis ?? 'no basis'})${s.behind ? ' — **BEHIND**' : ''}`;
  }
}
