/**
 * A fleet: many validators of the worker's inventory upgraded as one plan (workflows/fleet-upgrade.ts). Each
 * member runs its chain's strategy as a child workflow under its own upgrade id, so a separate upgrade of a
 * member is still refused. The fleet goes in waves (a canary first), with at most `maxConcurrent` members at
 * once, a soak and (when asked) an approval of N distinct people between waves, and halts on a failure or a
 * bad observation until an operator resumes, skips a member or aborts.
 *
 * This file is the fleet's one description: its input (zod: the type, the JSON Schema and the field errors
 * come from it), its status, its messages, and the pure arithmetic of waves and projected finish times that
 * the workflow, `vup fleet plan` and the SDK share.
 */
import { z } from 'zod';
import { duration, identifier, sha256Hex } from '../config/primitives.js';
import type { Chain } from './identity.js';
import type { ObservedStatus } from './status.js';
import { strategies, type StrategyName } from './strategies.js';
import { deadlineField, type ChainPace } from './deadline.js';

export { assumedUpgradeLength, upgradeLengthMs, type ChainPace } from './deadline.js';

export const FLEET_WORKFLOW_TYPE = 'fleetUpgrade';

export function fleetWorkflowId(name: string): string {
  return `fleet-${name}`;
}

const strategyName = z.enum(Object.keys(strategies) as [StrategyName, ...StrategyName[]]);

const fleetRelease = z
  .strictObject({
    staged: z.string().startsWith('/').describe('Where the new binary waits on each host that installs it.'),
    sha256: sha256Hex.describe('Its sha256; each install refuses anything else.'),
    version: z.string().min(1).optional().describe('The release, for the operator ("2.4.0").'),
  })
  .describe('The release every member of this chain moves to.');

const chainTarget = z
  .strictObject({
    strategy: strategyName.describe("The strategy (workflow type) each of this chain's members runs."),
    release: fleetRelease.optional(),
    manualApproval: z.boolean().optional().describe("Each member's own approval gates (default: none)."),
  })
  .describe('What the members of one chain run.');

/** A wave's size: a number of validators, or a percentage of the fleet ("25%"). */
const waveSize = z.union([
  z.int().positive(),
  z.string().regex(/^(100|\d{1,2}(\.\d+)?)%$/, 'must be a number of validators or a percentage such as "25%"'),
]);

/** The fleet's fields, without the rules across them (what a contract picks fields from). */
export const fleetInputFields = z
  .strictObject({
    name: identifier.describe('The fleet run; its workflow id is fleet-<name>.'),
    select: z
      .strictObject({
        ids: z.array(identifier).min(1).optional().describe('Validators by their inventory ids.'),
        labels: z.array(z.string().min(1)).min(1).optional().describe('Validators carrying every one of these labels.'),
        chain: z.enum(['near', 'polkadot']).optional(),
        network: z.string().min(1).optional(),
      })
      .describe("Which of the worker's inventory validators; all of them when empty."),
    targets: z
      .strictObject({ near: chainTarget.optional(), polkadot: chainTarget.optional() })
      .refine((t) => t.near || t.polkadot, 'name the strategy (and release) of at least one chain')
      .describe('Per chain, the strategy and release its members run.'),
    canary: z.int().min(0).default(1).describe('Validators upgraded alone first, as wave 1.'),
    waveSize: waveSize.default('25%').describe('Each later wave: a number of validators or a percentage of the fleet.'),
    maxConcurrent: z.int().positive().default(5).describe('Upgrades running at once, across the fleet.'),
    soak: duration.prefault('0s').describe('How long to watch after each wave before the next one starts.'),
    approvalBetweenWaves: z.boolean().default(false).describe('Hold before each wave after the canary for approval.'),
    approvals: z
      .strictObject({
        required: z.int().min(1).default(1).describe('Distinct approvers each gate needs.'),
        forbidStarter: z.boolean().default(false).describe('The one who started the fleet may not approve it.'),
      })
      .prefault({})
      .describe('Four eyes: who must approve a gate.'),
    startedBy: z.string().min(1).optional().describe('Who started the fleet (the CLI and SDK fill it in).'),
    maxFailurePercent: z
      .number()
      .min(0)
      .max(100)
      .default(0)
      .describe('Halt when more than this share of the fleet failed (0: on the first failure).'),
    haltOn: z
      .strictObject({
        missedAbove: z.int().min(0).optional().describe('A member whose chain counted more missed blocks/slots.'),
        doubleSign: z.boolean().default(true).describe('A member the chain saw double sign.'),
        kickout: z.boolean().default(true).describe('A member the chain kicked out.'),
      })
      .prefault({})
      .describe('Observations that halt the fleet.'),
    deadline: deadlineField.describe(
      'When every member must be done (e.g. the end of NEAR protocol voting); each member gets it as its own.',
    ),
    perUpgrade: z
      .partialRecord(strategyName, duration)
      .optional()
      .describe('How long one upgrade takes, per strategy, when you know better than the chain-based estimate.'),
    planOnly: z.boolean().optional().describe('Resolve the members and project the waves, then end (vup fleet plan).'),
    historyLimit: z
      .int()
      .min(200)
      .default(8_000)
      .describe('History events of one run before it continues as new (the server also suggests it).'),
  })
  .describe('Upgrade many validators of the inventory as one plan.');

export const fleetInputSchema = fleetInputFields
  // Four eyes rest on knowing the starter: a fleet started from the Temporal CLI or UI must say who it is.
  .refine((i) => !i.approvals.forbidStarter || i.startedBy !== undefined || i.planOnly === true, {
    message:
      'approvals.forbidStarter needs to know who started the fleet: give startedBy (vup and the SDK fill it in from --by / by)',
    path: ['startedBy'],
  })
  .describe('Upgrade many validators of the inventory as one plan.');

export type FleetInput = z.input<typeof fleetInputSchema>;
export type ParsedFleetInput = z.output<typeof fleetInputSchema>;

/** A validator of the fleet, as the worker resolved it from its inventory. */
export interface FleetMember {
  /** Its inventory id. */
  id: string;
  chain: Chain;
  network: string;
  /** NEAR account or Polkadot stash. */
  validator: string;
  strategy: StrategyName;
  workflowId: string;
  /** The child's workflow input (the validator by identity, the release, options). */
  input: Record<string, unknown>;
  summary: string;
}

// --- waves and projections: pure, shared by the workflow, `vup fleet plan` and the SDK ---

/** Wave sizes: the canary first (if any), then waves of `waveSize` until every member has one. */
export function waveSizes(members: number, canary: number, size: number | string): number[] {
  const each = typeof size === 'number' ? size : Math.max(1, Math.ceil((Number(size.slice(0, -1)) / 100) * members));
  const waves: number[] = [];
  let left = members;
  if (canary > 0 && left > 0) {
    waves.push(Math.min(canary, left));
    left -= waves[0]!;
  }
  while (left > 0) {
    waves.push(Math.min(each, left));
    left -= waves.at(-1)!;
  }
  return waves;
}

/**
 * How long the given waves take: in each, members run `maxConcurrent` at a time (slots free as each ends),
 * each lasting its expected length; a soak follows each wave but the last. Undefined when a length is unknown.
 */
export function projectedLengthMs(
  waves: (number | undefined)[][],
  maxConcurrent: number,
  soakMs: number,
): number | undefined {
  let total = 0;
  for (const [w, lengths] of waves.entries()) {
    if (lengths.some((l) => l === undefined)) return undefined;
    const slots: number[] = Array.from({ length: Math.min(maxConcurrent, lengths.length) }, () => 0);
    for (const length of lengths as number[]) {
      const free = slots.indexOf(Math.min(...slots));
      slots[free]! += length;
    }
    total += Math.max(0, ...slots) + (w < waves.length - 1 ? soakMs : 0);
  }
  return total;
}

// --- status ---

export type MemberState = 'pending' | 'running' | 'completed' | 'failed' | 'aborted' | 'skipped';

/** A member as the status shows it: who, in which wave, how far. */
export interface FleetMemberRow extends Omit<FleetMember, 'input' | 'summary'> {
  /** 1-based; wave 1 is the canary when there is one. */
  wave: number;
  state: MemberState;
  startedAt?: string;
  endedAt?: string;
  /** The child's step now (filled in by clients, which query running children) or why it ended. */
  step?: string;
  detail?: string;
  observed?: ObservedStatus;
}

export type FleetState =
  | 'planned'
  | 'running'
  | 'soaking'
  | 'awaiting-approval'
  | 'paused'
  | 'halted'
  | 'aborting'
  | 'completed'
  | 'failed'
  | 'aborted';

export interface FleetApproval {
  gate: string;
  by: string;
  at: string;
  note?: string;
}

export interface OperatorAction {
  kind: 'pause' | 'resume' | 'skip' | 'abort';
  by?: string;
  reason?: string;
  validator?: string;
  at: string;
}

export interface FleetTotals {
  members: number;
  pending: number;
  running: number;
  completed: number;
  failed: number;
  aborted: number;
  skipped: number;
}

export interface FleetStatus {
  workflowId: string;
  name: string;
  state: FleetState;
  /** The wave running, soaking or waiting now (1-based), and how many there are. */
  wave: number;
  waves: number[];
  maxConcurrent: number;
  totals: FleetTotals;
  members: FleetMemberRow[];
  halt?: { reason: string; at: string; validator?: string };
  pause?: { by?: string; reason?: string; since: string };
  abortRequested?: { by?: string; reason: string; at: string };
  soakUntil?: string;
  pendingApproval?: { gate: string; description: string; required: number; approvedBy: string[] };
  approvals: FleetApproval[];
  operatorActions: OperatorAction[];
  startedBy?: string;
  /** The projected finish from now (undefined when an upgrade's length is unknown), and the deadline if any. */
  projectedFinish?: string;
  deadline?: { at: string; behind: boolean };
  paces: ChainPace[];
  /** The events a notifier would send, newest last (kept short). */
  events: FleetEvent[];
  continuedAsNew: number;
  startedAt: string;
  updatedAt: string;
}

export type FleetEventKind =
  'gate-waiting' | 'wave-done' | 'halted' | 'member-failed' | 'completed' | 'aborted' | 'deadline-at-risk';

export interface FleetEvent {
  kind: FleetEventKind;
  at: string;
  text: string;
  wave?: number;
  validator?: string;
}

// --- messages ---

/** What a child strategy workflow tells the fleet that started it when it ends (workflows/common/upgrade-run.ts). */
export interface MemberReport {
  workflowId: string;
  outcome: 'completed' | 'failed' | 'aborted';
  error?: string;
  /** What the member's looks read of the chain's counters: missed blocks/slots, double signs, kickouts. */
  observed?: ObservedStatus;
}

export interface FleetApproveRequest {
  /** The gate being approved (`wave-<n>`); see status.pendingApproval. */
  gate: string;
  /** Who approves: required; a fleet that needs N approvers counts distinct names. */
  by: string;
  note?: string;
}
export interface FleetApproveResult {
  gate: string;
  approvedBy: string[];
  /** Approvals still needed before the gate opens (0: it opened). */
  remaining: number;
}

export interface SkipRequest {
  /** A member not started yet, by its inventory id. */
  validator: string;
  by?: string;
  reason?: string;
}
