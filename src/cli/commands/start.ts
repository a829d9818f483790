/** `vup start`: starts the upgrade under its validator's workflow id (a second one is refused). */
import { startUpgrade } from '../../client/upgrades.js';
import type { Connected } from '../connect.js';
import { EXIT } from '../errors.js';
import type { ResolvedUpgrade } from '../upgrade-request.js';

export async function start(upgrade: ResolvedUpgrade, connect: () => Promise<Connected>, taskQueue: string) {
  const { client, close } = await connect();
  try {
    // The table pairs each strategy with its input type; the input was checked against that schema.
    const started = await startUpgrade(client, upgrade.strategy, upgrade.input as never, { taskQueue });
    process.stdout.write(
      `started ${started.workflowId} (run ${started.runId})\n  ${upgrade.summary}\n` +
        `follow it: vup status ${started.workflowId} --watch\n`,
    );
    return EXIT.ok;
  } finally {
    await close();
  }
}
