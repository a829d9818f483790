/**
 * Typed search attributes every upgrade carries, so operators can find runs from the Temporal CLI or UI:
 *   temporal workflow list --query 'UpgradeValidator="pool.poolv1.near" AND ExecutionStatus="Running"'
 * The workflow upserts them itself (upgrade-run.ts), so runs started from any client carry them. They must be
 * registered on the namespace first (`temporal operator search-attribute create`, or the dev server's
 * --search-attribute flag); searchAttributeFlags() gives those flags.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const UpgradeChain = defineSearchAttributeKey('UpgradeChain', SearchAttributeType.KEYWORD);
export const UpgradeNetwork = defineSearchAttributeKey('UpgradeNetwork', SearchAttributeType.KEYWORD);
export const UpgradeValidator = defineSearchAttributeKey('UpgradeValidator', SearchAttributeType.KEYWORD);
export const UpgradeStrategy = defineSearchAttributeKey('UpgradeStrategy', SearchAttributeType.KEYWORD);
/** The step the run is in now (a step id of its runbook), `awaiting-approval` at a gate, or its final outcome. */
export const UpgradeStage = defineSearchAttributeKey('UpgradeStage', SearchAttributeType.KEYWORD);

/** UpgradeStage while a run holds at an approval gate: what operators list to find runs waiting for them. */
export const AWAITING_APPROVAL_STAGE = 'awaiting-approval';
/**
 * A run with a deadline (an upgrade or a fleet): `on-time`, or `behind` once it is past its deadline or
 * projected past it (it stays so). Runs without a deadline do not carry it.
 *   temporal workflow list --query 'UpgradeDeadline="behind" AND ExecutionStatus="Running"'
 */
export const UpgradeDeadline = defineSearchAttributeKey('UpgradeDeadline', SearchAttributeType.KEYWORD);
export const DEADLINE_ON_TIME = 'on-time';
export const DEADLINE_BEHIND = 'behind';

export const upgradeSearchAttributes = [
  UpgradeChain,
  UpgradeNetwork,
  UpgradeValidator,
  UpgradeStrategy,
  UpgradeStage,
  UpgradeDeadline,
];

/** `--search-attribute Name=Keyword` flags for `temporal server start-dev` / `operator search-attribute create`. */
export function searchAttributeFlags(): string[] {
  return upgradeSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}
