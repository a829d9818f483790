import type { Kickout, MissedCounts } from './validator-counters.js';
import type { DeadlineStatus } from './deadline.js';

/** What the `status` query returns: the runbook's steps with their states and timestamps. */

export type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'compensating' | 'compensated';

export interface StepStatus {
  id: string;
  title: string;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  /** Last thing said about the step: what it is waiting for, what it found, why it failed. */
  detail?: string;
}

export type RunState = 'running' | 'paused' | 'awaiting-approval' | 'waiting' | 'completed' | 'failed' | 'aborted';

export interface WaitingFor {
  reason: string;
  /** When the workflow next looks at the chain again (ISO time); absent while waiting for a person. */
  until?: string;
}

export interface UpgradeStatus {
  workflowId: string;
  strategy: string;
  state: RunState;
  /** The step running now, if any. */
  currentStep?: string;
  steps: StepStatus[];
  waiting?: WaitingFor;
  /** The gate that awaits an `approve` update, if any. */
  pendingApproval?: { gate: string; description: string };
  pause?: { by?: string; reason?: string; since: string };
  abortRequested?: { by?: string; reason: string; at: string };
  /** What the chain counted for the validator while the run looked (from its first reading of the counters). */
  observed?: ObservedStatus;
  /** The input's deadline: the projected finish and whether the run is behind it (past or projected past). */
  deadline?: DeadlineStatus;
  /** How many times this upgrade continued as new (its history is split over that many runs). */
  continuedAsNew: number;
  startedAt: string;
  updatedAt: string;
}

/** Missed blocks, chunks or slots and double signs, by the chain's counters, between the run's first and latest reading. */
export interface ObservedStatus {
  missed: MissedCounts;
  /** Absent when the chain reports no double-sign count (NEAR's RPC does not; Polkadot's offence reports and the devnets do). */
  doubleSigns?: number;
  since: string;
  lastAt: string;
  /** Periods (or the rest of one) between two readings that no reading covered: not counted. */
  unseenPeriods?: number;
  /** The chain removed the validator from its set (NEAR prev_epoch_kickout), once per period it did. */
  kickouts?: Kickout[];
}
