/**
 * N validators upgraded as one fleet: a fresh dev server, the worker in its own process (waiting-worker.ts with
 * the machines of fleet-members.ts), one `fleetUpgrade` of every member (a canary, then waves of a fifth, 50 at
 * once) run to its end. Measures the wall time, the waves, the halts, the worker's RSS while it runs, and the
 * fleet's history across continue-as-new (every run of the fleet's workflow id, from the server), and judges
 * the outcome from the machines (nodes on the new release, double signs), not from the fleet's word.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { fleetStatusQuery } from '../../src/api/messages.js';
import { fleetWorkflowId, type FleetStatus } from '../../src/api/fleet.js';
import { upgradeSearchAttributes } from '../../src/api/search-attributes.js';
import type { fleetUpgrade } from '../../workflows/fleet-upgrade.js';
import { resolveTemporalCli, toSdkExecutable } from '../servers/temporal-servers.js';
import { benchFleetInput } from './fleet-members.js';
import type { SharedChain } from './waiting-fleet.js';
import { startWorker } from './waiting-upgrades.js';

export interface FleetFigures {
  n: number;
  waves: number[];
  maxConcurrent: number;
  wallSeconds: number;
  completed: number;
  failed: number;
  halts: number;
  /** From the machines: nodes running the new release, double signs. */
  upgradedOnMachines: number;
  doubleSigns: number;
  /** Every run of the fleet's workflow id: how many, and the events of the longest and of all. */
  fleetRuns: number;
  maxEventsPerRun: number;
  totalEvents: number;
  /** The fleet's longest workflow task (started to completed, from its histories), and the event it began at. */
  longestTaskMs: number;
  longestTaskAt: string;
  historyLimit: number;
  idleRssMiB: number;
  peakRssMiB: number;
}

const MiB = 1024 * 1024;

export async function measureFleet(
  n: number,
  opts: { historyLimit: number; log: (line: string) => void; timeoutMs?: number },
): Promise<FleetFigures> {
  const cli = await resolveTemporalCli();
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: toSdkExecutable(cli), ip: '127.0.0.1', searchAttributes: upgradeSearchAttributes },
  });
  const taskQueue = `bench-fleet-${n}`;
  const chain: SharedChain = { genesisMs: Date.now(), epochLength: 600, blockTimeMs: 1000 };
  const worker = await startWorker(env.address, taskQueue, chain, {}, { BENCH_FLEET_N: String(n) });
  try {
    await worker.ask({ type: 'gc' });
    const idle = await worker.figures();
    const input = benchFleetInput(`bench-${n}`, { historyLimit: opts.historyLimit });
    const t0 = Date.now();
    const handle = await env.client.workflow.start<typeof fleetUpgrade>('fleetUpgrade', {
      args: [input],
      taskQueue,
      workflowId: fleetWorkflowId(input.name),
    });
    let peak = idle.rssBytes;
    let last: FleetStatus | undefined;
    let ended = false;
    const result = handle.result().finally(() => (ended = true));
    while (!ended) {
      peak = Math.max(peak, (await worker.figures()).rssBytes);
      last = (await handle.query(fleetStatusQuery).catch(() => undefined)) ?? last;
      if (last) opts.log(`  wave ${last.wave}/${last.waves.length}: ${JSON.stringify(last.totals)}`);
      if (Date.now() - t0 > (opts.timeoutMs ?? 3_600_000)) throw new Error(`the fleet of ${n} did not end in time`);
      await Promise.race([result.catch(() => undefined), delay(5000)]);
    }
    const outcome = await result;
    const wallSeconds = (Date.now() - t0) / 1000;
    const machines = (await worker.figures()).fleet ?? { upgraded: NaN, doubleSigns: NaN };
    const runs: number[] = [];
    let longest = { ms: 0, at: '' };
    for await (const run of env.client.workflow.list({ query: `WorkflowId = "${fleetWorkflowId(input.name)}"` })) {
      runs.push(run.historyLength);
      const history = await env.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
        Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
      const started = new Map<string, number>();
      for (const e of history.events ?? []) {
        if (e.workflowTaskStartedEventAttributes) started.set(String(e.eventId), ms(e.eventTime));
        const done = e.workflowTaskCompletedEventAttributes;
        const begun = done ? started.get(String(done.startedEventId)) : undefined;
        if (done && begun !== undefined && ms(e.eventTime) - begun > longest.ms)
          longest = { ms: ms(e.eventTime) - begun, at: `run ${runs.length}, event ${String(done.startedEventId)}` };
      }
    }
    const final = await handle.query(fleetStatusQuery);
    opts.log(
      `  ${n} members in ${wallSeconds.toFixed(0)} s: ${JSON.stringify(outcome.totals)}; ${runs.length} fleet runs`,
    );
    return {
      n,
      waves: final.waves,
      maxConcurrent: final.maxConcurrent,
      wallSeconds,
      completed: outcome.totals.completed,
      failed: outcome.totals.failed,
      halts: final.events.filter((e) => e.kind === 'halted').length,
      upgradedOnMachines: machines.upgraded,
      doubleSigns: machines.doubleSigns,
      fleetRuns: runs.length,
      maxEventsPerRun: Math.max(...runs),
      totalEvents: runs.reduce((a, b) => a + b, 0),
      longestTaskMs: longest.ms,
      longestTaskAt: longest.at,
      historyLimit: opts.historyLimit,
      idleRssMiB: idle.rssBytes / MiB,
      peakRssMiB: peak / MiB,
    };
  } finally {
    await worker.stop();
    await env.teardown();
  }
}
