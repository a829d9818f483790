/**
 * `vup status <id> [--watch]`: the run's steps from its `status` query. With --watch it looks again every
 * interval and redraws (on a terminal) or prints again when something changed (in a pipe), until the run
 * ends; it then exits 0 if the upgrade completed, 1 if it failed, was aborted or was ended from outside
 * (terminated, timed out). A status query nobody answers (the worker restarting, say) is reported on stderr
 * and looked at again, not a reason to stop watching.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { UpgradeStatus } from '../../api/status.js';
import { describeUpgrade, retryingActivities, type RetryingActivity } from '../../client/inspect.js';
import { getStatus } from '../../client/upgrades.js';
import type { Connected } from '../connect.js';
import { EXIT, describeFailure } from '../errors.js';
import { FINAL_STATES, renderStatus } from '../render-status.js';

export interface StatusOptions {
  watch?: boolean;
  interval: number;
  json?: boolean;
}

export async function status(workflowId: string, connect: () => Promise<Connected>, options: StatusOptions) {
  const { client, close } = await connect();
  try {
    if (!options.watch) {
      const s = await getStatus(client, workflowId);
      const retrying = await retryingOf(client, workflowId, s);
      process.stdout.write(
        options.json
          ? JSON.stringify(withRetrying(s, retrying), null, 2) + '\n'
          : renderStatus(s, Date.now(), retrying),
      );
      return EXIT.ok;
    }
    const redraw = process.stdout.isTTY && !options.json;
    let last = '';
    let lastProblem = '';
    for (;;) {
      let s: UpgradeStatus | undefined;
      try {
        s = await getStatus(client, workflowId);
        lastProblem = '';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw err;
        const problem = `no status from ${workflowId} (${describeFailure(err).message}); looking again`;
        if (problem !== lastProblem) process.stderr.write(`vup: ${problem}\n`);
        lastProblem = problem;
      }
      if (s) {
        const retrying = await retryingOf(client, workflowId, s);
        const seen = JSON.stringify(withRetrying(s, retrying));
        const screen = renderStatus(s, Date.now(), retrying);
        if (redraw) process.stdout.write(`\x1b[2J\x1b[H${screen}`);
        else if (seen !== last) process.stdout.write((options.json ? seen + '\n' : screen) + '\n');
        last = seen;
        if (FINAL_STATES.includes(s.state)) return s.state === 'completed' ? EXIT.ok : EXIT.failed;
      }
      // A run ended from outside (terminated, timed out) never says so in its own status.
      const run = await describeUpgrade(client, workflowId);
      if (run && run.status !== 'RUNNING' && !(s && run.status === 'COMPLETED')) {
        process.stderr.write(`vup: ${workflowId} ended: ${run.status.toLowerCase()}\n`);
        return run.status === 'COMPLETED' ? EXIT.ok : EXIT.failed;
      }
      await sleep(options.interval * 1000);
    }
  } finally {
    await close();
  }
}

/** The activities being retried in a running upgrade; none for one that ended. */
async function retryingOf(
  client: Connected['client'],
  workflowId: string,
  s: UpgradeStatus,
): Promise<RetryingActivity[]> {
  if (FINAL_STATES.includes(s.state)) return [];
  // Retries are an addition to the status: a describe that fails now leaves them out, it does not fail the command.
  return retryingActivities(client, workflowId).catch(() => []);
}

/** The JSON form: the status, with the retried activities when there are any. */
function withRetrying(s: UpgradeStatus, retrying: RetryingActivity[]) {
  return retrying.length > 0 ? { ...s, retrying } : s;
}
