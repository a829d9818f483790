/**
 * Heartbeats on an interval while a long host step runs, so the worker learns about cancellation (an activity
 * that does not heartbeat never does) and the history shows progress.
 */
import { heartbeat } from '@temporalio/activity';

export async function withHeartbeats<T>(
  intervalMs: number,
  progress: () => unknown,
  work: () => Promise<T>,
): Promise<T> {
  heartbeat(progress());
  const timer = setInterval(() => heartbeat(progress()), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
