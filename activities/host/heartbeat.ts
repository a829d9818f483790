/**
 * Heartbeats on an interval while a step that changes something runs, so a worker that dies is noticed within
 * the step's heartbeat timeout (workflows/common/activity-options.ts), the worker learns about cancellation (an
 * activity that does not heartbeat never does), and the history shows progress. The progress is what a retry
 * finds in `activityInfo().heartbeatDetails`.
 */
import { Context, heartbeat } from '@temporalio/activity';

/** Every change heartbeats this often; the SDK sends at most one per 80% of the heartbeat timeout. */
export const HEARTBEAT_INTERVAL_MS = 3_000;

export async function withHeartbeats<T>(
  intervalMs: number,
  progress: () => unknown,
  work: () => Promise<T>,
): Promise<T> {
  heartbeatIfActivity(progress());
  const timer = setInterval(() => heartbeatIfActivity(progress()), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** What the previous attempt of this activity last reported, if it was retried (undefined outside an activity). */
export function previousAttemptProgress(): unknown {
  try {
    return Context.current().info.heartbeatDetails as unknown;
  } catch {
    return undefined;
  }
}

/** Heartbeats only inside an activity (the libraries are also called from tests and tools). */
function heartbeatIfActivity(details: unknown): void {
  try {
    heartbeat(details);
  } catch {
    // not in an activity context
  }
}
