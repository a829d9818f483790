/**
 * What the chain counts for a validator (missed blocks, chunks or slots; double signs), as activities return
 * it beside what they were asked, and how a run turns successive readings into what it observed. Pure and
 * deterministic: the workflows run `advanceObserved` in the sandbox on activity results, so the figures are
 * the chain's counters, never the workflow's own judgement.
 */

/** `blocks` and `chunks` (NEAR), `slots` (Polkadot). */
export type MissedKind = 'blocks' | 'chunks' | 'slots';
export type MissedCounts = Partial<Record<MissedKind, number>>;

export interface ValidatorCounters {
  /**
   * The period the `missed` counts restart in (NEAR: the epoch height of RPC `validators`). Absent when the
   * chain's counts run on across periods.
   */
  period?: number;
  /** What the validator was expected to produce in the period so far and did not (expected − produced). */
  missed: MissedCounts;
  /** The previous period's final counts, when the chain still has them: they close the gap since a look in it. */
  previous?: { period: number; missed: MissedCounts };
  /** Double signs (equivocations) the chain has recorded for the validator, a running count; absent when it reports none. */
  doubleSigns?: number;
  /**
   * The chain removed the validator from the set at the end of `period` (NEAR: the account in
   * `prev_epoch_kickout`), for `reason` (nearcore's: NotEnoughBlocks, NotEnoughChunks, ProtocolVersionTooOld…).
   */
  kickedOut?: Kickout;
  /** Where the figures come from, in words ("RPC validators", "devnet_counters"). */
  source: string;
}

export interface Kickout {
  period: number;
  reason: string;
}

/** What a run has observed so far: carried across continue-as-new, shown in its status. */
export interface ObservedOnChain {
  /** Missed by kind since the run's first reading (the chain's counters, deltas between readings). */
  missed: MissedCounts;
  /** Double signs since the first reading; absent while the chain has reported no count. */
  doubleSigns?: number;
  /** When the first and the latest reading were taken. */
  since: string;
  lastAt: string;
  /** The latest reading (the base of the next delta). */
  last: { period?: number; missed: MissedCounts; doubleSigns?: number };
  /** Periods (or the rest of one) between two readings that no reading covered: their misses are not counted. */
  unseenPeriods?: number;
  /** Every kickout a reading reported, once each; absent while there was none. */
  kickouts?: Kickout[];
}

export interface ObservedDelta {
  missed: MissedCounts;
  /** Absent when the chain gave no double-sign count in this reading or the one before. */
  doubleSigns?: number;
}

const kindsOf = (...counts: (MissedCounts | undefined)[]): MissedKind[] => [
  ...new Set(counts.flatMap((c) => Object.keys(c ?? {}) as MissedKind[])),
];
const n = (value: number | undefined) => (Number.isFinite(value) ? Math.max(0, value!) : 0);

/**
 * Takes one reading. The first is the baseline (nothing counted before it). Within a period a count only
 * grows, so a lower reading (another RPC a block behind) counts nothing and is not the new base. A reading in
 * a later period counts the rest of the period last seen (from `previous`, when it is that period) and the new
 * period from its start. Returns the new state and what this reading added.
 */
export function advanceObserved(
  state: ObservedOnChain | undefined,
  reading: ValidatorCounters,
  at: string,
): { state: ObservedOnChain; delta: ObservedDelta } {
  if (!state) {
    const missed = Object.fromEntries(kindsOf(reading.missed).map((k) => [k, 0])) as MissedCounts;
    const first: ObservedOnChain = {
      missed,
      ...(reading.doubleSigns === undefined ? {} : { doubleSigns: 0 }),
      since: at,
      lastAt: at,
      last: { period: reading.period, missed: { ...reading.missed }, doubleSigns: reading.doubleSigns },
      ...(reading.kickedOut ? { kickouts: [reading.kickedOut] } : {}),
    };
    return {
      state: first,
      delta: { missed: { ...missed }, ...(reading.doubleSigns === undefined ? {} : { doubleSigns: 0 }) },
    };
  }
  const last = state.last;
  const delta: ObservedDelta = { missed: {} };
  let nextMissed: MissedCounts;
  let unseen = 0;
  if (reading.period === last.period) {
    nextMissed = { ...last.missed };
    for (const k of kindsOf(reading.missed, last.missed)) {
      const now = n(reading.missed[k]);
      const before = n(last.missed[k]);
      delta.missed[k] = Math.max(0, now - before);
      nextMissed[k] = Math.max(now, before);
    }
  } else if (reading.period === undefined || last.period === undefined || reading.period < last.period) {
    // An RPC behind the one read last (still in an earlier period), or counts of another kind: nothing new.
    return { state: withKickout(state, reading.kickedOut), delta: { missed: {} } };
  } else {
    const previous = reading.previous;
    const closing = previous?.period === last.period ? previous : undefined;
    // Periods after the one last seen that the chain gives in full (the previous one), when it is not that one.
    const full = previous && previous.period > last.period ? previous : undefined;
    if (!closing) unseen = (full ? full.period : reading.period) - last.period;
    for (const k of kindsOf(reading.missed, last.missed, previous?.missed)) {
      const rest = closing ? Math.max(0, n(closing.missed[k]) - n(last.missed[k])) : 0;
      delta.missed[k] = rest + n(full?.missed[k]) + n(reading.missed[k]);
    }
    nextMissed = { ...reading.missed };
  }
  if (reading.doubleSigns !== undefined && last.doubleSigns !== undefined)
    delta.doubleSigns = Math.max(0, reading.doubleSigns - last.doubleSigns);
  else if (reading.doubleSigns !== undefined) delta.doubleSigns = 0;
  const missed: MissedCounts = { ...state.missed };
  for (const k of kindsOf(delta.missed)) missed[k] = n(missed[k]) + n(delta.missed[k]);
  const doubleSigns = delta.doubleSigns === undefined ? state.doubleSigns : n(state.doubleSigns) + delta.doubleSigns;
  const doubleSignBase =
    reading.doubleSigns === undefined
      ? last.doubleSigns
      : Math.max(reading.doubleSigns, last.doubleSigns ?? reading.doubleSigns);
  const unseenPeriods = n(state.unseenPeriods) + unseen;
  return {
    state: withKickout(
      {
        missed,
        ...(doubleSigns === undefined ? {} : { doubleSigns }),
        since: state.since,
        lastAt: at,
        last: { period: reading.period ?? last.period, missed: nextMissed, doubleSigns: doubleSignBase },
        ...(unseenPeriods > 0 ? { unseenPeriods } : {}),
        ...(state.kickouts ? { kickouts: state.kickouts } : {}),
      },
      reading.kickedOut,
    ),
    delta,
  };
}

/** Adds a kickout the state does not hold yet (every reading in the following period reports the same one). */
function withKickout(state: ObservedOnChain, kickout: Kickout | undefined): ObservedOnChain {
  if (!kickout || state.kickouts?.some((k) => k.period === kickout.period)) return state;
  return { ...state, kickouts: [...(state.kickouts ?? []), kickout] };
}

/** "2 missed blocks, 2 missed chunks, 0 double signs" for the status. */
export function describeObserved(
  observed: Pick<ObservedOnChain, 'missed' | 'doubleSigns' | 'unseenPeriods' | 'kickouts'>,
): string {
  const parts = (Object.entries(observed.missed) as [MissedKind, number][]).map(
    ([kind, count]) => `${count} missed ${count === 1 ? kind.replace(/s$/, '') : kind}`,
  );
  parts.push(
    observed.doubleSigns === undefined
      ? 'double signs not reported by the chain'
      : `${observed.doubleSigns} double sign${observed.doubleSigns === 1 ? '' : 's'}`,
  );
  if (observed.unseenPeriods) parts.push(`${observed.unseenPeriods} epoch(s) between looks not counted`);
  for (const k of observed.kickouts ?? []) parts.push(`KICKED OUT at the end of epoch ${k.period} (${k.reason})`);
  return parts.join(', ');
}
