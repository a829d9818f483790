/**
 * `npm run bench`: measures on this machine what one worker holds and what an epoch boundary costs, and
 * writes BENCHMARKS.md (date, machine, load, commit, then the figures, each against its target):
 *
 * - N waiting upgrades on one worker (waiting-upgrades.ts): RSS, CPU while waiting, start time,
 *   schedule-to-start p50/p99, a status round, the epoch-boundary round;
 * - the RPC calls of an epoch boundary for N validators of one network, shared reads against each look
 *   reading on its own (rpc-round.ts);
 * - history events per run of each strategy, from the recorded histories (test/histories).
 *
 *   npm run bench                                  # N = 100, 500, 1000, 5000 (5000 with a cache of 5000; about an hour)
 *   BENCH_N=100,500 npm run bench                  # a quick one
 *   BENCH_PARTS=rpc,histories BENCH_OUT=/tmp/b.md npm run bench
 *   BENCH_N=1000 BENCH_PARTS=cache BENCH_CACHE_ROWS=1000:300 npm run bench   # 1000 runs, 300 of them cached
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
import { measureRpcRound, type RpcRoundFigures } from './rpc-round.js';
import { measureWaitingUpgrades, type WaitingFigures } from './waiting-upgrades.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ns = (process.env.BENCH_N ?? '100,500,1000,5000').split(',').map(Number);
/** Extra waiting rows with another cache size, `N:cache,...` (a worker of 1 GiB holds about 300). */
const cacheRows = (process.env.BENCH_CACHE_ROWS ?? '1000:300')
  .split(',')
  .filter(Boolean)
  .map((row) => row.split(':').map(Number) as [number, number]);
const parts = new Set((process.env.BENCH_PARTS ?? 'waiting,cache,rpc,histories').split(','));
const out = process.env.BENCH_OUT ?? path.join(root, 'BENCHMARKS.md');
const log = (line: string) => console.log(line);
/** Starting runs took about 0.25 s each on 2 loaded cores; the epoch leaves room for that and the measurements. */
const epochSecondsFor = (n: number) => Number(process.env.BENCH_EPOCH_S ?? Math.ceil(90 + n * 0.35));

const f0 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(0));
const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(1));

function machine(): string[] {
  const cpus = os.cpus();
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    `- load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
    `- Node ${process.version}; commit ${commit}${dirty.trim() ? ' (with uncommitted changes)' : ''}`,
  ];
}

function waitingSection(rows: WaitingFigures[]): string[] {
  const verdicts = rows
    .filter((r) => r.n === 1000)
    .map(
      (r) =>
        `1,000 waiting upgrades, ${r.maxCached ?? DEFAULT_MAX_CACHED_RUNS} cached: ${f0(r.rssMiB)} MiB RSS; ` +
        `target under 1,024 MiB: ${r.rssMiB < 1024 ? 'met' : 'missed'}.`,
    );
  const missed = rows.some((r) => r.n === 1000 && r.rssMiB >= 1024);
  const verdict = [
    verdicts.length ? verdicts.join(' ') : 'N = 1,000 not run this time (BENCH_N).',
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
    '(VUP_MAX_CACHED_RUNS) or the one in brackets after N (a row of more runs caches them all). RSS after a',
    'forced GC; CPU over 10 s while every run waits; schedule-to-start from the histories of up to 200 runs; the',
    'status round queries every run (20 at a time); the epoch round is the time from the boundary until every',
    'run has looked again, all at once.',
    '',
    '| N (cache) | RSS MiB (idle) | per run KiB | runs cached | CPU waiting | start s (all waiting) | WFT sched→start p50/p99 ms | activity p50/p99 ms | status round s | epoch round s (CPU s) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.n}${r.maxCached === undefined ? '' : ` (${r.maxCached})`} | ${f0(r.rssMiB)} (${f0(r.idleRssMiB)}) | ${f0(r.perRunKiB)} | ${r.cachedWorkflows} | ${f1(r.cpuWhileWaitingPercent)} % | ` +
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

function rpcSection(rows: RpcRoundFigures[]): string[] {
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
    `Target: a number of calls that does not grow with N: ${
      rows.length > 1 && Math.max(...rows.map((r) => r.sharedCalls)) <= 2 * Math.min(...rows.map((r) => r.sharedCalls))
        ? 'met'
        : rows.length > 1
          ? 'missed'
          : 'one N only'
    }.`,
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
    'From the recorded runs that replay on every change (test/histories: the NEAR ones from the end-to-end runs on',
    'the devnet, Polkadot’s 4h-sessions one at mainnet-like sessions on the time-skipping server; the NEAR runs at',
    'mainnet timing are below, from test/workflows/near-upgrades.test.ts). A wait costs per look about one activity (scheduled, started, completed), one timer',
    '(started, fired) and a workflow task (scheduled, started, completed): ~8 events, and more with the status',
    'side effects; the waits continue as new after 150 looks or when the server suggests it.',
    '',
    '| recorded run | strategy | events | activities | of which looks | timers |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.file} | ${r.strategy} | ${r.events} | ${r.activities} | ${r.looks} | ${r.timers} |`),
    '',
  ];
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (devnet/bench/main.ts); do not edit by hand.',
    '',
    ...machine(),
    '',
  ];
  if (parts.has('waiting') || parts.has('cache')) {
    const rows: WaitingFigures[] = [];
    const notes: string[] = [];
    for (const n of parts.has('waiting') ? ns : []) {
      // More runs than the default cache would be evicted and replay at every wake (the replay storm): such a row
      // runs with the cache docs/operating.md says to choose for it, all N runs on the one worker.
      const workerOptions = n > DEFAULT_MAX_CACHED_RUNS ? { maxCachedWorkflows: n } : undefined;
      log(`waiting upgrades: N = ${n}${workerOptions ? `, cache ${n}` : ''} (epoch ${epochSecondsFor(n)} s)`);
      rows.push(
        await measureWaitingUpgrades(n, {
          epochSeconds: epochSecondsFor(n),
          log,
          ...(workerOptions ? { workerOptions } : {}),
        }),
      );
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
    lines.push(...waitingSection(rows), ...notes, '');
    writeFileSync(out, lines.join('\n'));
  }
  if (parts.has('rpc')) {
    const rows: RpcRoundFigures[] = [];
    for (const n of ns) {
      log(`epoch boundary RPC calls: N = ${n}`);
      rows.push(await measureRpcRound(n));
    }
    lines.push(...rpcSection(rows));
    writeFileSync(out, lines.join('\n'));
  }
  if (parts.has('histories')) lines.push(...historiesSection());
  lines.push(
    `- load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
    '',
  );
  writeFileSync(out, lines.join('\n'));
  log(`wrote ${out}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
