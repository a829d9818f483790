/**
 * Every activity call carries a one-line summary for the Temporal UI and the history ("stop neard on
 * val-a"), so on-call engineers read what happened without opening payloads.
 */
import type { ActivityFunctionWithOptions } from '@temporalio/workflow';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyActivity = (...args: any[]) => Promise<any>;

export function summarized<F extends AnyActivity>(activity: ActivityFunctionWithOptions<F>, summary: string) {
  return (...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> => activity.executeWithOptions({ summary }, args);
}
