/**
 * A completed run against its strategy's plan (src/api/plans.ts): the steps its status reports, in order,
 * are the plan's steps for its input, each done or skipped. Fails when the workflow code leaves a planned
 * step out (it stays pending), or the plan lists a step in another place than the code runs it. (A step the
 * code runs outside the plan fails the workflow task already.)
 */
import { plannedSteps, type PlanInput } from '../../src/api/plans.js';
import type { StrategyName } from '../../src/api/strategies.js';
import type { UpgradeStatus } from '../../src/api/status.js';

export function expectRunFollowedPlan(status: UpgradeStatus, strategy: StrategyName, input: PlanInput): void {
  const ran = (state: string) => (state === 'done' || state === 'skipped' ? 'ran' : state);
  expect(status.steps.map((s) => `${s.id}: ${ran(s.state)}`)).toEqual(
    plannedSteps(strategy, input).map((s) => `${s.id}: ran`),
  );
  // In the order the code ran them: each step started after the one before it ended.
  const started = status.steps.filter((s) => s.state === 'done').map((s) => s.startedAt!);
  expect(started).toEqual([...started].sort());
}
