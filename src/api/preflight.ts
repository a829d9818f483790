/**
 * The dry run behind `vup plan`: a short, read-only workflow (`preflightUpgrade`) that runs on the worker,
 * where the SSH access and the signer references resolve, and reports what it found. It changes nothing.
 */
import type { StrategyName } from './strategies.js';

export interface PreflightRequest {
  strategy: StrategyName;
  /** The upgrade's workflow input, exactly as `start` would send it. */
  input: unknown;
  /** Free space a node's home (NEAR) or base path (Polkadot) must have; default DEFAULT_MIN_FREE_DISK_BYTES. */
  minFreeDiskBytes?: number;
}

/** pass: ready; fail: the upgrade would stop or refuse here; note: worth knowing, not a blocker. */
export type CheckOutcome = 'pass' | 'fail' | 'note';

export interface PreflightCheck {
  /** What was checked, e.g. "val-a: node synced". */
  name: string;
  outcome: CheckOutcome;
  detail: string;
}

export interface PreflightReport {
  strategy: StrategyName;
  checks: PreflightCheck[];
}

export const DEFAULT_MIN_FREE_DISK_BYTES = 2 * 1024 ** 3;

/** One dry run per upgrade id at a time; a second `plan` joins the running one. */
export function preflightWorkflowId(upgradeWorkflowId: string): string {
  return `preflight-${upgradeWorkflowId}`;
}
