/**
 * `vup approve | pause | resume | abort <id>`: the run's gates. Each is recorded in the run's history with
 * who sent it (--by, default the local user) and why.
 */
import { userInfo } from 'node:os';
import { abort, approve, getStatus, pause, resume } from '../../client/upgrades.js';
import type { Connected } from '../connect.js';
import { CliError, EXIT } from '../errors.js';

export function defaultOperator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export async function approveGate(
  workflowId: string,
  connect: () => Promise<Connected>,
  options: { gate?: string; by: string; note?: string },
) {
  const { client, close } = await connect();
  try {
    let gate = options.gate;
    if (gate === undefined) {
      const pending = (await getStatus(client, workflowId)).pendingApproval;
      if (!pending) throw new CliError(`${workflowId} waits at no gate now`, EXIT.failed);
      gate = pending.gate;
    }
    const result = await approve(client, workflowId, gate, {
      by: options.by,
      ...(options.note ? { note: options.note } : {}),
    });
    process.stdout.write(`approved gate "${result.gate}" of ${workflowId} at ${result.approvedAt}\n`);
    return EXIT.ok;
  } finally {
    await close();
  }
}

export async function sendSignal(
  kind: 'pause' | 'resume' | 'abort',
  workflowId: string,
  connect: () => Promise<Connected>,
  options: { by: string; reason?: string },
) {
  const { client, close } = await connect();
  try {
    const who = { by: options.by, ...(options.reason ? { reason: options.reason } : {}) };
    if (kind === 'pause') await pause(client, workflowId, who);
    else if (kind === 'resume') await resume(client, workflowId, who);
    else await abort(client, workflowId, { ...who, reason: options.reason ?? '' });
    const effect =
      kind === 'resume'
        ? 'it continues'
        : `it takes effect at the next safe point${kind === 'abort' ? ', then finished steps are undone newest first' : ''}`;
    process.stdout.write(`${kind} sent to ${workflowId}: ${effect}\n`);
    return EXIT.ok;
  } finally {
    await close();
  }
}
