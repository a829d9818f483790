/**
 * How long the stopping strategies leave a validator not signing, side by side with a bare stop and start
 * of the same node, on the local NEAR network (issue 13 item 6). Counted from the devnet's own records: every
 * signature of the pool's keys the network receives (its signing ledger); a run's not-signing time is the
 * longest gap between two of them while it runs. Each run gets a fresh testbed; the stop-and-restart runs use
 * a release that needs no database migration.
 *
 *   npm run bench:downtime -- [--runs 3]        (prints the figures as JSON; `measureDowntime` for npm run bench)
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { startUpgrade } from '../../src/client/index.js';
import type { StrategyInput } from '../../src/api/strategies.js';
import { startService, stopService } from '../../src/ssh/service-control.js';
import { freePort } from '../ports.js';
import { startDemoTemporal, startDemoWorker } from '../demo/temporal-server.js';
import { InventoryBook } from '../testbeds/targets-inventory.js';
import { NEAR_SCENARIO_POOL, nearBaseline, startNearScenario, type NearScenario } from '../scenarios/near.js';

export type DowntimeSubject = 'bare-restart' | 'nearSyncAndSwapUpgrade' | 'nearStopAndRestartUpgrade';

export interface DowntimeFigures {
  subject: DowntimeSubject;
  /** Seconds without a signature of the validator in each run. */
  notSigningSeconds: number[];
  median: number;
}

export interface DowntimeReport {
  runs: number;
  blockTimeMs: number;
  figures: DowntimeFigures[];
  /** Each strategy's median over the bare restart's median (target ≤ 1.2). */
  ratios: Partial<Record<DowntimeSubject, number>>;
}

const BLOCK_TIME_MS = 150;
const SUBJECTS: DowntimeSubject[] = ['bare-restart', 'nearSyncAndSwapUpgrade', 'nearStopAndRestartUpgrade'];

export async function measureDowntime(
  opts: { runs?: number; say?: (line: string) => void } = {},
): Promise<DowntimeReport> {
  const runs = opts.runs ?? 3;
  const say = opts.say ?? (() => undefined);
  const temporal = await startDemoTemporal({ server: await freePort(), ui: await freePort() }, say);
  const inventory = new InventoryBook();
  const worker = await startDemoWorker(temporal, inventory);
  const seconds = new Map<DowntimeSubject, number[]>(SUBJECTS.map((s) => [s, []]));
  try {
    // Interleaved, so a machine busier in one part of the bench weighs on every subject alike.
    for (let i = 0; i < runs; i++)
      for (const subject of SUBJECTS) {
        const gap = await oneRun(subject);
        say(`${subject} run ${i + 1}: not signing ${gap.toFixed(2)} s`);
        seconds.get(subject)!.push(gap);
      }
  } finally {
    await worker.stop();
    await temporal.stop();
  }
  const figures = SUBJECTS.map((subject) => {
    const values = seconds.get(subject)!;
    return { subject, notSigningSeconds: values, median: median(values) };
  });
  const bare = figures[0]!.median;
  const ratios = Object.fromEntries(figures.slice(1).map((f) => [f.subject, round(f.median / bare)]));
  return { runs, blockTimeMs: BLOCK_TIME_MS, figures, ratios };

  async function oneRun(subject: DowntimeSubject): Promise<number> {
    const strategy = subject === 'bare-restart' ? 'nearStopAndRestartUpgrade' : subject;
    const scenario = await startNearScenario(strategy, {
      blockTimeMs: BLOCK_TIME_MS,
      // No migration: the new release keeps the database version.
      withoutMigration: strategy === 'nearStopAndRestartUpgrade',
    });
    const removeInventory = inventory.add(scenario.inventory);
    try {
      await nearBaseline(scenario.bed);
      const signedAt = recordSignatures(scenario);
      const from = Date.now();
      if (subject === 'bare-restart') await bareRestart(scenario);
      else {
        const { workflowId } = await startUpgrade(
          temporal.env.client,
          strategy,
          scenario.input as StrategyInput<typeof strategy>,
          { taskQueue: temporal.taskQueue },
        );
        await temporal.env.client.workflow.getHandle(workflowId).result();
      }
      // The validator signs again by the end of a run; a few heights more close its gap.
      const until = Date.now();
      await new Promise((r) => setTimeout(r, 10 * BLOCK_TIME_MS));
      return (
        longestGap(
          signedAt.filter((t) => t >= from - 1_000),
          from,
          until,
        ) / 1000
      );
    } finally {
      removeInventory();
      await scenario.bed.stop();
    }
  }
}

/** Stops and starts the validator's service, as an operator would by hand (each observed by the manager). */
async function bareRestart(scenario: { bed: NearScenario<'nearStopAndRestartUpgrade'>['bed'] }): Promise<void> {
  const node = scenario.bed.nodes['val-a']!;
  const connection = await scenario.bed.connections.get(node.ref.host);
  await stopService(connection, node.ref.host.serviceManager, node.service);
  await startService(connection, node.ref.host.serviceManager, node.service);
  await nearBaseline(scenario.bed);
}

/** The times at which the network received a signature of the pool's account (its ledger), from now on. */
function recordSignatures(scenario: NearScenario<'nearStopAndRestartUpgrade' | 'nearSyncAndSwapUpgrade'>): number[] {
  const ledger = scenario.bed.devnet.chain.ledger;
  const times: number[] = [];
  const record = ledger.record.bind(ledger);
  ledger.record = (sig) => {
    if (sig.accountId === NEAR_SCENARIO_POOL) times.push(Date.now());
    return record(sig);
  };
  return times;
}

/** The longest time without a signature that overlaps [from, until]. */
function longestGap(times: number[], from: number, until: number): number {
  let longest = 0;
  for (let i = 1; i < times.length; i++)
    if (times[i]! >= from && times[i - 1]! <= until) longest = Math.max(longest, times[i]! - times[i - 1]!);
  return longest;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return round(sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2);
}

const round = (x: number) => Math.round(x * 100) / 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
  const report = await measureDowntime({ runs: Number(values.runs), say: (line) => console.error(line) });
  console.log(JSON.stringify(report, null, 2));
  process.exit(0);
}
