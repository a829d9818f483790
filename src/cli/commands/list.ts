/** `vup list`: upgrades found by their search attributes (chain, network, validator, strategy, stage). */
import { listUpgrades, type UpgradeFilter } from '../../client/upgrades.js';
import type { Connected } from '../connect.js';
import { EXIT } from '../errors.js';
import { dateTime } from '../format.js';

export async function list(
  connect: () => Promise<Connected>,
  filter: UpgradeFilter,
  options: { limit: number; json?: boolean },
) {
  const { client, close } = await connect();
  try {
    const found = await listUpgrades(client, filter, options.limit);
    if (options.json) {
      process.stdout.write(JSON.stringify(found, null, 2) + '\n');
      return EXIT.ok;
    }
    if (found.length === 0) {
      process.stdout.write('no upgrades found\n');
      return EXIT.ok;
    }
    const rows = [
      ['WORKFLOW ID', 'STRATEGY', 'STATUS', 'STAGE', 'STARTED', 'CLOSED'],
      ...found.map((u) => [
        u.workflowId,
        u.strategy ?? '',
        u.status,
        u.stage ?? '',
        dateTime(u.startTime),
        dateTime(u.closeTime),
      ]),
    ];
    const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
    const text = rows.map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    );
    process.stdout.write(text.join('\n') + '\n');
    return EXIT.ok;
  } finally {
    await close();
  }
}
