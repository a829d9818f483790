/** `vup history <id>`: the run's timeline from its Temporal history (no worker needed). */
import { describeUpgrade, fetchUpgradeHistory } from '../../client/inspect.js';
import type { Connected } from '../connect.js';
import { CliError, EXIT } from '../errors.js';
import { renderHistory } from '../render-history.js';

export async function history(workflowId: string, connect: () => Promise<Connected>, options: { run?: string }) {
  const { client, close } = await connect();
  try {
    const runId = options.run ?? (await describeUpgrade(client, workflowId))?.runId;
    if (runId === undefined) throw new CliError(`no upgrade with id ${workflowId}`, EXIT.notFound);
    const events = await fetchUpgradeHistory(client, workflowId, runId);
    process.stdout.write(renderHistory(workflowId, runId, events));
    return EXIT.ok;
  } finally {
    await close();
  }
}
