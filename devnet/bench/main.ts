/**
 * `npm run bench`: measures on this machine what one worker holds and what an epoch boundary costs, and
 * writes BENCHMARKS.md (date, machine, load, commit, then the figures, each against its target):
 *
 * - N waiting upgrades on one worker (waiting-upgrades.ts): RSS, CPU while waiting, start time,
 *   schedule-to-start p50/p99, a status round, the epoch-boundary round;
 * - the RPC calls of an epoch boundary for N validators of one network, shared reads against each look
 *   reading on its own (rpc-round.ts);
 * - history events per run of each strategy, from the recorded histories (test/histories);
 * - a fleet of BENCH_FLEET_N validators (default 500) through fleetUpgrade (fleet-round.ts);
 * - the downtime of the stopping strategies against a bare restart (downtime.ts, BENCH_DOWNTIME_RUNS each).
 *
 *   npm run bench                                  # N = 100, 500, 1000, 5000 (5000 with a cache of 5000; about an hour)
 *   BENCH_N=100,500 npm run bench                  # a quick one
 *   BENCH_PARTS=rpc,histories BENCH_OUT=/tmp/b.md npm run bench
 *   BENCH_PARTS=fleet BENCH_FLEET_N=100 BENCH_OUT=/tmp/f.md npm run bench
 *   BENCH_N=1000 BENCH_PARTS=cache BENCH_CACHE_ROWS=1000:300 npm run bench   # 1000 runs, 300 of them cached
 *   BENCH_N=1000 BENCH_PARTS=waiting,glibc npm run bench   # 1000 runs on jemalloc (as the image), then on glibc
 *
 * BENCH_EPOCH_S sets the shared chain's epoch (default: long enough for N runs to start and be measured
 * before the boundary wakes them all). Ratios and targets are read from one run; a figure that misses its
 * target says so in the file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { DEFAULT_MAX_CACHED_RUNS } from '../../worker/create-worker.js';
import { measureDowntime, type DowntimeReport } from './downtime.js';
import { measureFleet, type FleetFigures } from './fleet-round.js';
import { measurePolkadotRpcRound, type PolkadotRpcRoundFigures } from './polkadot-rpc-round.js';
import { measureRpcRound, type RpcRoundFigures } from './rpc-round.js';
import { measureWaitingUpgrades, type WaitingFigures } from './waiting-upgrades.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ns = (process.env.BENCH_N ?? '100,500,1000,5000').split(',').map(Number);
/** Extra waiting rows with another cache size, `N:cache,...` (a worker of 1 GiB holds about 300). */
const cacheRows = (process.env.BENCH_CACHE_ROWS ?? '1000:300')
  .split(',')
  .filter(Boolean)
  .map((row) => row.split(':').map(Number) as [number, number]);
const parts = new Set((process.env.BENCH_PARTS ?? 'waiting,cache,glibc,rpc,fleet,downtime,histories').split(','));
/** Waiting rows measured again on glibc malloc (the `glibc` part), beside the same N on jemalloc. */
const glibcRows = (process.env.BENCH_GLIBC_N ?? '1000').split(',').filter(Boolean).map(Number);
const downtimeRuns = Number(process.env.BENCH_DOWNTIME_RUNS ?? 3);
const fleetN = Number(process.env.BENCH_FLEET_N ?? 500);
/** Low enough that a fleet of 500 continues as new a few times, to show its history stays bounded. */
const FLEET_HISTORY_LIMIT = 2000;
const out = process.env.BENCH_OUT ?? path.join(root, 'BENCHMARKS.md');
const log = (line: string) => console.log(line);
/**
 * Runs reached their wait 0.08 to 0.16 s apart on a quiet 2-core machine (0.57 s at load 11): the epoch leaves
 * room for about twice the quiet pace and the measurements. On a busy machine raise BENCH_EPOCH_S.
 */
const epochSecondsFor = (n: number) => Number(process.env.BENCH_EPOCH_S ?? Math.ceil(120 + n * 0.3));

const f0 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(0));
const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(1));

const commit = () => {
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  // BENCHMARKS.md itself is rewritten row by row as the bench goes: not a change of what is measured.
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md'], {
    cwd: root,
    encoding: 'utf8',
  });
  return `${head}${dirty.trim() ? ' (with uncommitted changes)' : ''}`;
};
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

function machine(): string[] {
  const cpus = os.cpus();
  return [
    `- machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    `- Node ${process.version}`,
  ];
}

function waitingSection(rows: WaitingFigures[]): string[] {
  const verdicts = rows
    .filter((r) => r.n === 1000)
    .map(
      (r) =>
        `1,000 waiting upgrades, ${r.maxCached ?? DEFAULT_MAX_CACHED_RUNS} cached, on ${r.allocator}: ${f0(r.rssMiB)} MiB RSS; ` +
        `target under 1,024 MiB: ${r.rssMiB < 1024 ? 'met' : 'missed'}.`,
    );
  const missedOnGlibc = rows.some((r) => r.n === 1000 && r.rssMiB >= 1024 && r.allocator !== 'jemalloc');
  const missed = rows.some((r) => r.n === 1000 && r.rssMiB >= 1024 && r.allocator === 'jemalloc');
  const verdict = [
    verdicts.length ? verdicts.join('\n') : 'N = 1,000 not run this time (BENCH_N).',
    ...(missedOnGlibc
      ? [
          'On glibc malloc the same runs cost more: glibc keeps what the burst of starts freed (the SDK core’s buffers',
          'in its per-thread arenas; a malloc_trim(0) gave back about 390 MiB of 1,094 when measured). So the worker',
          'image and the systemd unit preload jemalloc, and the worker says at start which allocator it runs on.',
        ]
      : []),
    ...(missed
      ? [
          'Why: the libraries and our own schemas are shared by every run (workflows/shared-modules.ts); what a',
          'cached run holds beyond them is its own state in the sandbox and the SDK core’s state of the run. Levers: a',
          'cache sized to the memory (the row with a cache of 300) and more workers (docs/operating.md).',
        ]
      : []),
  ].join('\n');
  return [
    '## Waiting upgrades on one worker',
    '',
    'nearZeroDowntimeUpgrade runs with the real workflow bundle and the worker factory’s settings, their machines',
    'and chain in memory at the activity boundary (devnet/bench/waiting-fleet.ts), each waiting for its key to',
    `become active two epochs after its stake; the worker in its own process, cache size ${DEFAULT_MAX_CACHED_RUNS}`,
    '(VUP_MAX_CACHED_RUNS) or the one in brackets after N (a row of more runs caches them all), on jemalloc as the',
    'worker image runs it, and a row on glibc malloc beside it; the workflow bundle built beforehand, as',
    '`npm run build` makes it for the image (none runs webpack in the worker). RSS after a',
    'forced GC; CPU over 10 s while every run waits; schedule-to-start from the histories of up to 200 runs; the',
    'status round queries every run (20 at a time); the epoch round is the time from the boundary until every',
    'run has looked again, all at once.',
    '',
    '| N (cache) | allocator | RSS MiB (idle) | per run KiB | runs cached | CPU waiting | start s (all waiting) | WFT sched→start p50/p99 ms | activity p50/p99 ms | status round s | epoch round s (CPU s) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.n}${r.maxCached === undefined ? '' : ` (${r.maxCached})`} | ${r.allocator} | ${f0(r.rssMiB)} (${f0(r.idleRssMiB)}) | ${f0(r.perRunKiB)} | ${r.cachedWorkflows} | ${f1(r.cpuWhileWaitingPercent)} % | ` +
        `${f1(r.startSeconds)} (${f1(r.allWaitingSeconds)}) | ${f0(r.workflowTaskScheduleToStartMs.p50)} / ${f0(r.workflowTaskScheduleToStartMs.p99)} | ` +
        `${f0(r.activityScheduleToStartMs.p50)} / ${f0(r.activityScheduleToStartMs.p99)} | ${f1(r.statusRoundSeconds)} | ` +
        `${f1(r.epochRoundSeconds)} (${f1(r.epochRoundCpuSeconds)}) |`,
    ),
    '',
    ...rows.filter((r) => r.note).map((r) => `- N = ${r.n}: ${r.note}`),
    verdict,
    '',
  ];
}

const notGrowing = (calls: number[]) =>
  calls.length > 1 ? (Math.max(...calls) <= 2 * Math.min(...calls) ? 'met' : 'missed') : 'one N only';

function rpcSection(rows: RpcRoundFigures[], dotRows: PolkadotRpcRoundFigures[]): string[] {
  return [
    '## RPC calls of an epoch boundary',
    '',
    'N validators of one NEAR network look at their key at once (lookKeyStage), against the local network behind a',
    'relay that counts nearcore methods. Shared: the worker’s looks now (one provider per endpoint, reads joined',
    'in flight and kept for a block). Unshared: the same reads, each look on its own, as before (up to 500 looks).',
    'The devnet’s own double-sign method (devnet_counters, by account, absent on a real node) is counted apart.',
    '',
    '| N | shared: calls (s) | unshared: looks, calls (s) | calls per look unshared | devnet_counters | looks failed shared / unshared |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.n} | ${r.sharedCalls} (${f1(r.sharedSeconds)}) | ${r.unsharedLooks}, ${r.unsharedCalls} (${f1(r.unsharedSeconds)}) | ` +
        `${f1(r.unsharedCalls / r.unsharedLooks)} | ${r.devnetCountersCalls} | ${r.failedLooks.shared} / ${r.failedLooks.unshared} |`,
    ),
    '',
    `Target: a number of calls that does not grow with N: ${notGrowing(rows.map((r) => r.sharedCalls))}.`,
    '',
    'On Polkadot, N validators of one relay chain look at their keys at once (lookKeysActive, as the keys-active',
    'wait does) against the local relay chain behind a WebSocket relay that counts methods and connections.',
    'Shared: the worker’s looks now (one socket per endpoint opened before the round; polkadot-js batches the',
    'storage reads in flight into one state_queryStorageAt; the counters’ reads that are the same for every stash',
    'joined). Unshared: the keys and session reads, each look on a connection of its own (metadata fetched each',
    'time), as before, up to 100 looks. devnet_counters (by stash, absent on a real node) is counted apart.',
    '',
    '| N | shared: calls (connections, s) | unshared: looks, calls (connections, s) | calls per look unshared | devnet_counters | looks failed shared / unshared |',
    '| --- | --- | --- | --- | --- | --- |',
    ...dotRows.map((r) => {
      const devnet = devnetCounters(r);
      return (
        `| ${r.n} | ${r.shared.calls - devnet} (${r.shared.connections}, ${f1(r.shared.seconds)}) | ` +
        `${r.unshared.looks}, ${r.unshared.calls} (${r.unshared.connections}, ${f1(r.unshared.seconds)}) | ` +
        `${f1(r.unshared.calls / r.unshared.looks)} | ${devnet} | ${r.shared.failed} / ${r.unshared.failed} |`
      );
    }),
    '',
    ...dotRows.map(
      (r) =>
        `Shared calls by method, N = ${r.n}: ${r.sharedByMethod
          .filter(([m]) => m !== 'devnet_counters')
          .map(([m, c]) => `${m} ${c}`)
          .join(', ')}.`,
    ),
    '',
    `Target: connections that do not grow with N: ${dotRows.every((r) => r.shared.connections === 0) ? 'met' : 'missed'} (the`,
    `socket is the one opened before; the unshared looks open one each). Calls that do not grow with N: ${notGrowing(
      dotRows.map((r) => r.shared.calls - devnetCounters(r)),
    )}${dotGrowth(dotRows)}.`,
    '',
  ];
}

/** What grows with N in the shared Polkadot round, and why when it is the stashes' own keys. */
function dotGrowth(rows: PolkadotRpcRoundFigures[]): string {
  const [first, last] = [rows[0], rows.at(-1)];
  if (!first || !last || first === last) return '';
  const calls = (r: PolkadotRpcRoundFigures, m: string) => r.sharedByMethod.find(([x]) => x === m)?.[1] ?? 0;
  const growing = last.sharedByMethod
    .map(([m]) => m)
    .filter((m) => m !== 'devnet_counters' && calls(last, m) > 2 * Math.max(1, calls(first, m)));
  if (growing.length === 0) return '';
  const what = growing.map((m) => `${m} (${calls(first, m)} at ${first.n}, ${calls(last, m)} at ${last.n})`).join(', ');
  return (
    `: what grows is ${what}` +
    (growing.length === 1 && growing[0] === 'state_queryStorageAt'
      ? ': the stashes’ own keys (Session.NextKeys by stash), which polkadot-js batches in flight; a read per' +
        ' stash is in the nature of the look. One read of every NextKeys by prefix per block, shared by the' +
        ' looks, would make it a few pages a boundary'
      : '')
  );
}

const devnetCounters = (r: PolkadotRpcRoundFigures) =>
  r.sharedByMethod.find(([m]) => m === 'devnet_counters')?.[1] ?? 0;

function fleetSection(f: FleetFigures): string[] {
  return [
    '## A fleet through fleetUpgrade',
    '',
    `${f.n} NEAR validators, ${f.n / 10} hosts of ten (a service each), upgraded by one fleetUpgrade with`,
    'nearStopAndRestartUpgrade members (a release without a migration), their machines and chain in memory at the',
    'activity boundary (devnet/bench/fleet-members.ts), the inventory and notifier activities real; the fleet and',
    `its members on one worker in its own process. historyLimit ${f.historyLimit}: the fleet continues as new when its`,
    'history reaches it. Upgraded and double signs are counted on the machines, not taken from the fleet.',
    '',
    '| validators | waves | max at once | wall s | completed / failed | halts | upgraded on the machines | double signs | fleet runs | events: longest run / all runs | longest fleet task ms | worker RSS MiB peak (idle) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${f.n} | ${f.waves.join(', ')} | ${f.maxConcurrent} | ${f0(f.wallSeconds)} | ${f.completed} / ${f.failed} | ${f.halts} | ` +
      `${f.upgradedOnMachines} | ${f.doubleSigns} | ${f.fleetRuns} | ${f.maxEventsPerRun} / ${f.totalEvents} | ` +
      `${f0(f.longestTaskMs)} (${f.longestTaskAt}) | ` +
      `${f0(f.peakRssMiB)} (${f0(f.idleRssMiB)}) |`,
    '',
    `Every member upgraded with no double sign: ${
      f.upgradedOnMachines === f.n && f.doubleSigns === 0 ? 'yes' : 'NO'
    }. The fleet's history stays bounded (no run above ${f.historyLimit} events plus one wave step): ${
      f.maxEventsPerRun <= f.historyLimit + 200 ? 'yes' : 'NO'
    }.`,
    '',
  ];
}

function downtimeSection(r: DowntimeReport): string[] {
  const ratio = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)}×`);
  return [
    '## Downtime of the stopping strategies',
    '',
    `On the local NEAR network (${r.blockTimeMs} ms blocks), each subject ${r.runs} times, interleaved, a fresh testbed per`,
    'run (devnet/bench/downtime.ts): the longest gap between the pool’s signatures the network received while the run',
    'ran (its signing ledger), against a bare stop and start of the same node. Stop-and-restart’s release needs no',
    'database migration. Target: each strategy ≤ 1.2 × the bare restart.',
    '',
    '| subject | not signing s (each run) | median s | ratio to the bare restart | target |',
    '| --- | --- | --- | --- | --- |',
    ...r.figures.map((f) => {
      const x = r.ratios[f.subject];
      const verdict = f.subject === 'bare-restart' ? '' : x === undefined ? '–' : x <= 1.2 ? 'met' : 'missed';
      return `| ${f.subject} | ${f.notSigningSeconds.map((v) => v.toFixed(2)).join(', ')} | ${f.median.toFixed(2)} | ${
        f.subject === 'bare-restart' ? '1' : ratio(x)
      } | ${verdict} |`;
    }),
    '',
  ];
}

interface HistoryEvent {
  eventType?: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
}

function historiesSection(): string[] {
  const folder = path.join(root, 'test', 'histories');
  const rows = readdirSync(folder)
    .filter((f) => f.endsWith('.json') && !f.startsWith('before-'))
    .map((file) => {
      const events = (JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as { events: HistoryEvent[] }).events;
      const type = (t: string) => events.filter((e) => e.eventType === t || e.eventType === `EVENT_TYPE_${t}`).length;
      const activities = events
        .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
        .filter((n): n is string => !!n);
      const looks = activities.filter((n) => n.startsWith('look')).length;
      return {
        file,
        strategy: events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?',
        events: events.length,
        activities: activities.length,
        looks,
        timers: type('TIMER_STARTED'),
      };
    });
  return [
    '## History events per run',
    '',
    'From the recorded runs that replay on every change (test/histories), each as the code of its day ran it: the',
    'NEAR ones from end-to-end runs on the devnet, the Polkadot 4h-sessions ones at mainnet-like sessions on the',
    'time-skipping server (projected-waits-…: the current code, with waits that sleep to the projected moment). The',
    'current code at mainnet timing is measured and held to its targets by test/workflows/near-upgrades.test.ts and',
    'polkadot-swap.test.ts, which print each run’s events. A look costs about one activity (scheduled, started,',
    'completed), one timer (started, fired) and a workflow task (scheduled, started, completed); the waits continue',
    'as new after 150 looks or when the server suggests it.',
    '',
    '| recorded run | strategy | events | activities | of which looks | timers |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.file} | ${r.strategy} | ${r.events} | ${r.activities} | ${r.looks} | ${r.timers} |`),
    '',
  ];
}

/** The file's sections by heading, in order, and what comes before the first. */
function sectionsOf(text: string): { head: string; sections: Map<string, string> } {
  const [head = '', ...rest] = text.split(/^(?=## )/m);
  return { head, sections: new Map(rest.map((part) => [part.split('\n', 1)[0]!, part])) };
}

/**
 * Writes the sections this run measured into the file, each under its heading with when, where and on which
 * commit it was measured; sections this run did not measure (BENCH_PARTS) stay as they were, with their own
 * lines saying when they were measured.
 */
function writeSections(measured: string[][]): void {
  let existing = '';
  try {
    existing = readFileSync(out, 'utf8');
  } catch {
    // a new file
  }
  const { sections } = sectionsOf(existing);
  for (const section of measured) {
    const [heading = '', ...body] = section;
    const stamp = `_Measured ${new Date().toISOString()} on commit ${commit()}, load average ${load()} at the end._`;
    sections.set(heading, [heading, '', stamp, ...body].join('\n') + '\n');
  }
  const head = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (devnet/bench/main.ts); do not edit by hand. A run with BENCH_PARTS rewrites only',
    'the sections it measures; each section says when and on which commit it was measured.',
    '',
    ...machine(),
    '',
  ].join('\n');
  writeFileSync(out, [head, ...sections.values()].join('\n').replace(/\n{3,}/g, '\n\n'));
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  log(`load average at start: ${load()}`);
  if (parts.has('waiting') || parts.has('cache') || parts.has('glibc')) {
    const rows: WaitingFigures[] = [];
    const notes: string[] = [];
    for (const n of parts.has('waiting') ? ns : []) {
      // More runs than the default cache would be evicted and replay at every wake (the replay storm): such a row
      // runs with the cache docs/operating.md says to choose for it, all N runs on the one worker.
      const workerOptions = n > DEFAULT_MAX_CACHED_RUNS ? { maxCachedWorkflows: n } : undefined;
      log(`waiting upgrades: N = ${n}${workerOptions ? `, cache ${n}` : ''} (epoch ${epochSecondsFor(n)} s)`);
      const row = await measureWaitingUpgrades(n, {
        epochSeconds: epochSecondsFor(n),
        log,
        ...(workerOptions ? { workerOptions } : {}),
      }).catch((err: unknown) => {
        log(`  failed: ${String(err)}`);
        notes.push(`N = ${n} did not finish: ${String(err)}.`);
        return undefined;
      });
      if (row) rows.push(row);
      // Each row as it comes: the large ones take the better part of an hour.
      writeSections([[...waitingSection(rows), ...notes]]);
    }
    for (const [n, cache] of parts.has('cache') ? cacheRows.filter(([n]) => ns.includes(n)) : []) {
      log(`waiting upgrades: N = ${n}, cache ${cache} (epoch ${epochSecondsFor(n)} s)`);
      const workerOptions = { maxCachedWorkflows: cache };
      // A smaller cache makes the start slower (evicted runs replay); a row that cannot finish says why.
      const row = await measureWaitingUpgrades(n, { epochSeconds: epochSecondsFor(n), workerOptions, log }).catch(
        (err: unknown) => {
          log(`  failed: ${String(err)}`);
          return undefined;
        },
      );
      if (row) rows.push(row);
      else notes.push(`N = ${n} with ${cache} cached did not finish: see the bench's output.`);
    }
    for (const n of parts.has('glibc') ? glibcRows.filter((n) => ns.includes(n)) : []) {
      log(`waiting upgrades: N = ${n} on glibc malloc (epoch ${epochSecondsFor(n)} s)`);
      const row = await measureWaitingUpgrades(n, { epochSeconds: epochSecondsFor(n), allocator: 'glibc', log }).catch(
        (err: unknown) => {
          log(`  failed: ${String(err)}`);
          return undefined;
        },
      );
      if (row) rows.push(row);
      else notes.push(`N = ${n} on glibc malloc did not finish: see the bench's output.`);
    }
    writeSections([[...waitingSection(rows), ...notes]]);
  }
  if (parts.has('rpc')) {
    const rows: RpcRoundFigures[] = [];
    for (const n of ns) {
      log(`epoch boundary RPC calls: N = ${n}`);
      rows.push(await measureRpcRound(n));
    }
    const dotRows: PolkadotRpcRoundFigures[] = [];
    for (const n of ns.filter((n) => n <= 1000)) {
      log(`session boundary RPC calls on Polkadot: N = ${n}`);
      dotRows.push(await measurePolkadotRpcRound(n));
    }
    writeSections([rpcSection(rows, dotRows)]);
  }
  if (parts.has('fleet')) {
    log(`a fleet of ${fleetN}`);
    writeSections([fleetSection(await measureFleet(fleetN, { historyLimit: FLEET_HISTORY_LIMIT, log }))]);
  }
  if (parts.has('downtime')) {
    log(`downtime of the stopping strategies: ${downtimeRuns} runs each`);
    writeSections([downtimeSection(await measureDowntime({ runs: downtimeRuns }))]);
  }
  if (parts.has('histories')) writeSections([historiesSection()]);
  log(`wrote ${out}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
