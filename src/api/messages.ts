/**
 * The messages every upgrade workflow handles, and those of a fleet (fleetUpgrade). Shared by workflows, the client SDK and the CLI; with the
 * Temporal CLI they are, for example:
 *   temporal workflow update execute -w <id> --name approve --input '{"gate":"stake-new-key","by":"alice"}'
 *   temporal workflow signal -w <id> --name pause --input '{"reason":"incident","by":"bob"}'
 *   temporal workflow query -w <id> --type status
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { FleetApproveRequest, FleetApproveResult, FleetStatus, MemberReport, SkipRequest } from './fleet.js';
import type { UpgradeStatus } from './status.js';

export interface ApproveRequest {
  /** The gate being approved; must be the one the run is waiting at (see status.pendingApproval). */
  gate: string;
  by?: string;
  note?: string;
}
export interface ApproveResult {
  gate: string;
  approvedAt: string;
}

export interface PauseRequest {
  by?: string;
  reason?: string;
}
export interface AbortRequest {
  by?: string;
  reason: string;
}

export const approveUpdate = defineUpdate<ApproveResult, [ApproveRequest]>('approve');
export const pauseSignal = defineSignal<[PauseRequest?]>('pause');
export const resumeSignal = defineSignal<[PauseRequest?]>('resume');
export const abortSignal = defineSignal<[AbortRequest]>('abort');
export const statusQuery = defineQuery<UpgradeStatus>('status');

// A fleet's: pause, resume and abort are the single upgrade's signals above (the same words, the same fields).
// Here rather than in fleet.ts, which holds only schemas and pure code, so that the workflow threads share it
// (workflows/shared-modules.ts); this module imports @temporalio/workflow, which each run holds its own of.
export const fleetStatusQuery = defineQuery<FleetStatus>('status');
export const fleetApproveUpdate = defineUpdate<FleetApproveResult, [FleetApproveRequest]>('approve');
export const fleetSkipUpdate = defineUpdate<{ skipped: string }, [SkipRequest]>('skip');
export const memberDoneSignal = defineSignal<[MemberReport]>('fleetMemberDone');
