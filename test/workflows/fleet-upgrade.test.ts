/**
 * The fleet workflow (workflows/fleet-upgrade.ts) on the dev server: the real fleet, the real inventory
 * activity selecting members from an inventory, and members run as child workflows under their upgrade ids.
 * The members are the rehearsal member of test/workflows/fixtures (the real upgrade frame: id rule, status,
 * abort, the report to its fleet; a durable wait instead of host and chain work, which needs a devnet), under
 * the workflow type of nearStopAndRestartUpgrade. Each validator's plan (how long, fail, the chain's
 * counters) is the test's `memberWork` activity.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { createNotifyActivities } from '../../activities/notify/index.js';
import { createInventoryActivities } from '../../activities/inventory/index.js';
import { fleetWorkflowId, type FleetInput, type FleetStatus } from '../../src/api/fleet.js';
import {
  abortSignal,
  resumeSignal,
  statusQuery,
  fleetApproveUpdate,
  fleetSkipUpdate,
  fleetStatusQuery,
} from '../../src/api/messages.js';
import type { Inventory } from '../../src/config/inventory.js';
import { staticInventory } from '../../src/config/inventory-source.js';
import type { fleetUpgrade } from '../../workflows/fleet-upgrade.js';
import type { MemberPlan } from './fixtures/activities.js';
import { deadlineProblem, planFleet } from '../../src/client/fleet.js';
import { repoRoot } from '../../src/repo-root.js';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { bundleFixtures, createDevServerEnv } from '../helpers/temporal.js';

const EventType = temporal.api.enums.v1.EventType;
let bundle: WorkflowBundle;
let env: TestWorkflowEnvironment | undefined;
beforeAll(async () => {
  [env, bundle] = await Promise.all([createDevServerEnv(), bundleFixtures()]);
});
afterAll(async () => {
  await env?.teardown();
});

/** An inventory of `n` NEAR validators v1..vn (only what selecting them reads). */
function inventoryOf(prefix: string, n: number, labels: (i: number) => string[] = () => []): Inventory {
  const validators = Array.from({ length: n }, (_, k) => ({
    id: `${prefix}-v${k + 1}`,
    chain: 'near' as const,
    network: 'localnet' as const,
    accountId: `${prefix}-v${k + 1}.pool.near`,
    staking: { type: 'pool' as const, owner: 'owner.near' },
    nodes: { primary: `${prefix}-n${k + 1}` },
    networkRpc: 'http://127.0.0.1:3030',
    labels: labels(k + 1),
  }));
  return { version: 1, hosts: [], nodes: [], validators, signers: [] } as unknown as Inventory;
}

const release = { staged: '/var/tmp/neard-2.4.0', sha256: 'ab'.repeat(32), version: '2.4.0' };

interface Fixture {
  worker: Worker;
  plans: Map<string, Partial<MemberPlan>>;
  taskQueue: string;
}

async function fleetWorker(inventory: Inventory, plan: (accountId: string) => Partial<MemberPlan> = () => ({})) {
  const taskQueue = `fleet-${randomUUID()}`;
  const plans = new Map<string, Partial<MemberPlan>>();
  const worker = await Worker.create({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: {
      ...createInventoryActivities({ inventory: staticInventory(inventory) }),
      // No webhooks in the inventory: the fleet is told so with its members and schedules no notify activity.
      ...createNotifyActivities({ inventory: staticInventory(inventory) }),
      epochInfo: () => Promise.resolve({ epochLength: 100, observedBlockTimeMs: 1000 }),
      memberWork: ({ validator, after }: { validator: string; after?: boolean }): Promise<MemberPlan> => {
        const p = { holdMs: 300, ...plan(validator), ...plans.get(validator) };
        const counters =
          p.counters && after ? p.counters : p.counters ? { missed: {}, doubleSigns: 0, source: 'test' } : undefined;
        return Promise.resolve({ ...p, ...(counters ? { counters } : {}) });
      },
    },
  });
  return { worker, plans, taskQueue } satisfies Fixture;
}

/** Every fleet here upgrades its NEAR validators with nearStopAndRestartUpgrade (the rehearsal member). */
function startFleet(
  fixture: Fixture,
  over: Partial<FleetInput> & Pick<FleetInput, 'name'>,
): Promise<WorkflowHandle<typeof fleetUpgrade>> {
  return env!.client.workflow.start<typeof fleetUpgrade>('fleetUpgrade', {
    args: [{ select: {}, targets: { near: { strategy: 'nearStopAndRestartUpgrade', release } }, ...over }],
    taskQueue: fixture.taskQueue,
    workflowId: fleetWorkflowId(over.name),
  });
}

const status = (h: WorkflowHandle) => h.query(fleetStatusQuery);

async function until(h: WorkflowHandle, what: string, test: (s: FleetStatus) => boolean, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(h).catch(() => undefined);
    if (s && test(s)) return s;
    if (Date.now() > end)
      throw new Error(`fleet never reached: ${what}; last status ${JSON.stringify(s?.totals)} ${s?.state}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Start and close times of each member's upgrade run, from the server. */
async function memberRuns(s: FleetStatus) {
  return Promise.all(
    s.members.map(async (m) => {
      const d = await env!.client.workflow.getHandle(m.workflowId).describe();
      return { id: m.id, wave: m.wave, start: d.startTime.getTime(), close: d.closeTime?.getTime() ?? Infinity };
    }),
  );
}

/** The most runs open at once; `graceMs` forgives a run that closes that long after its report freed its slot. */
function maxOverlap(runs: { start: number; close: number }[], graceMs = 0): number {
  const edges = runs.flatMap((r) => [
    [r.start, 1],
    [r.close - graceMs, -1],
  ]);
  // At equal times a close comes before a start: the slot was free.
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let running = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (running += d!));
  return most;
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError) || !(err.cause instanceof ApplicationFailure))
    throw new Error(`expected the fleet to fail, got ${String(err)}`);
  return err.cause;
}

it('runs the canary, then waves, never more than maxConcurrent at once, each member under its upgrade id', async () => {
  const fixture = await fleetWorker(inventoryOf('wv', 8, (i) => (i === 8 ? ['excluded'] : ['eu'])));
  const h = await startFleet(fixture, {
    name: 'waves',
    select: { labels: ['eu'] },
    canary: 1,
    waveSize: 3,
    maxConcurrent: 2,
  });
  const { result, final, child } = await fixture.worker.runUntil(async () => {
    const result = await h.result();
    const final = await status(h);
    const child = await env!.client.workflow.getHandle(final.members[0]!.workflowId).query(statusQuery);
    return { result, final, child };
  });
  expect(result.totals).toMatchObject({ members: 7, completed: 7, failed: 0 });
  expect(final.waves).toEqual([1, 3, 3]);
  expect(final.members.map((m) => [m.id, m.wave, m.workflowId])).toEqual(
    [1, 2, 3, 4, 5, 6, 7].map((i) => [
      `wv-v${i}`,
      i === 1 ? 1 : i <= 4 ? 2 : 3,
      `upgrade-near-localnet-wv-v${i}.pool.near`,
    ]),
  );
  const runs = await memberRuns(final);
  const wave = (w: number) => runs.filter((r) => r.wave === w);
  // Each wave starts after the previous one closed.
  for (const w of [2, 3])
    expect(Math.min(...wave(w).map((r) => r.start))).toBeGreaterThanOrEqual(
      Math.max(...wave(w - 1).map((r) => r.close)),
    );
  expect(maxOverlap(runs)).toBe(2);
  expect(final.events.map((e) => e.kind)).toEqual(['wave-done', 'wave-done', 'wave-done', 'completed']);
  expect(child.state).toBe('completed');
  console.log(`fleet of 7 in waves ${final.waves.join('+')}, at most ${maxOverlap(runs)} at once`);
});

it('halts on a failed member, lets the running one finish, then skip and resume go on', async () => {
  const fixture = await fleetWorker(inventoryOf('ht', 5), (v) =>
    v.startsWith('ht-v2.')
      ? { fail: 'the node does not sign', holdMs: 100 }
      : v.startsWith('ht-v3.')
        ? { holdMs: 1500 }
        : {},
  );
  const h = await startFleet(fixture, {
    name: 'halt',
    canary: 1,
    waveSize: 2,
    maxConcurrent: 2,
  });
  await fixture.worker.runUntil(async () => {
    const halted = await until(h, 'halted with v3 done', (s) => s.state === 'halted' && s.totals.running === 0);
    expect(halted.halt).toMatchObject({ validator: 'ht-v2' });
    expect(halted.halt!.reason).toMatch(/ht-v2 failed; 1 of 5 failed/);
    const byId = Object.fromEntries(halted.members.map((m) => [m.id, m]));
    expect(byId['ht-v2']).toMatchObject({ state: 'failed' });
    expect(byId['ht-v2']!.detail).toMatch(/does not sign/);
    // The member running when the fleet halted went on to its own end.
    expect(byId['ht-v3']).toMatchObject({ state: 'completed' });
    expect([byId['ht-v4']!.state, byId['ht-v5']!.state]).toEqual(['pending', 'pending']);

    await expect(h.executeUpdate(fleetSkipUpdate, { args: [{ validator: 'ht-v2', by: 'op' }] })).rejects.toThrow(
      WorkflowUpdateFailedError,
    );
    await h.executeUpdate(fleetSkipUpdate, {
      args: [{ validator: 'ht-v4', by: 'op', reason: 'its host is in maintenance' }],
    });
    await h.signal(resumeSignal, { by: 'op' });
    const result = await h.result();
    expect(result).toMatchObject({ failed: ['ht-v2'], skipped: ['ht-v4'] });
    expect(result.totals).toMatchObject({ completed: 3, failed: 1, skipped: 1 });
    const final = await status(h);
    expect(final.operatorActions.map((a) => [a.kind, a.validator])).toEqual([
      ['skip', 'ht-v4'],
      ['resume', undefined],
    ]);
    expect(final.events.map((e) => e.kind)).toContain('halted');
  });
});

it('tolerates failures up to maxFailurePercent, halts beyond it, and abort ends the fleet', async () => {
  const fixture = await fleetWorker(inventoryOf('mf', 10), (v) =>
    /^mf-v[123]\./.test(v) ? { fail: 'bad release', holdMs: 50 } : { holdMs: 50 },
  );
  const h = await startFleet(fixture, {
    name: 'max-failure',
    canary: 0,
    waveSize: '100%',
    maxConcurrent: 1,
    maxFailurePercent: 20,
  });
  await fixture.worker.runUntil(async () => {
    const halted = await until(h, 'halted', (s) => s.state === 'halted');
    // 1 and 2 of 10 failed (10%, 20%) were tolerated; the third (30%) halted the fleet.
    expect(halted.halt!.reason).toMatch(/mf-v3 failed; 3 of 10 failed \(30\.0%, more than 20%\)/);
    expect(halted.totals).toMatchObject({ failed: 3, pending: 7, running: 0 });
    await h.signal(abortSignal, { by: 'op', reason: 'bad release' });
    const failure = await failureOf(h.result());
    expect(failure.type).toBe('FleetAborted');
    expect(failure.message).toMatch(/aborted by op: bad release/);
    const final = await status(h);
    expect(final.state).toBe('aborted');
    expect(final.totals).toMatchObject({ failed: 3, skipped: 7 });
  });
});

it('abort asks each running member to abort its own way, and waits for them', async () => {
  const fixture = await fleetWorker(inventoryOf('ab', 3), () => ({ holdMs: 120_000 }));
  const h = await startFleet(fixture, {
    name: 'abort',
    canary: 0,
    waveSize: 3,
    maxConcurrent: 3,
  });
  await fixture.worker.runUntil(async () => {
    const running = await until(h, 'three running', (s) => s.totals.running === 3);
    // Each member is in its durable wait.
    for (const m of running.members) {
      for (;;) {
        const child = await env!.client.workflow.getHandle(m.workflowId).query(statusQuery);
        if (child.currentStep === 'wait-synced') break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await h.signal(abortSignal, { by: 'op', reason: 'incident' });
    const failure = await failureOf(h.result());
    expect(failure.type).toBe('FleetAborted');
    const final = await status(h);
    expect(final.totals).toMatchObject({ aborted: 3, running: 0 });
    for (const m of final.members) {
      const child = await env!.client.workflow.getHandle(m.workflowId).query(statusQuery);
      expect(child.state).toBe('aborted');
      expect(child.abortRequested).toMatchObject({ by: 'op', reason: 'fleet abort aborted: incident' });
    }
    // The fleet's own halts are not triggered by members it aborted.
    expect(final.halt).toBeUndefined();
  });
});

it('four eyes: an approval gate between waves needs two distinct approvers, not the starter; refusals leave no history', async () => {
  const fixture = await fleetWorker(inventoryOf('fe', 3));
  const h = await startFleet(fixture, {
    name: 'four-eyes',
    canary: 1,
    waveSize: 2,
    maxConcurrent: 2,
    approvalBetweenWaves: true,
    approvals: { required: 2, forbidStarter: true },
    startedBy: 'alice',
  });
  await fixture.worker.runUntil(async () => {
    const waiting = await until(h, 'awaiting approval', (s) => s.state === 'awaiting-approval');
    expect(waiting.pendingApproval).toMatchObject({ gate: 'wave-2', required: 2, approvedBy: [] });
    const approve = (by: string) => h.executeUpdate(fleetApproveUpdate, { args: [{ gate: 'wave-2', by }] });
    const refusal = (by: string) =>
      approve(by).then(
        () => 'approved',
        (err: unknown) => (err instanceof WorkflowUpdateFailedError ? String(err.cause?.message) : String(err)),
      );
    expect(await refusal('alice')).toBe('alice started fleet four-eyes and may not approve it (four eyes)');
    await expect(approve('bob')).resolves.toEqual({ gate: 'wave-2', approvedBy: ['bob'], remaining: 1 });
    expect(await refusal('bob')).toBe('bob already approved wave-2; it needs 2 distinct approvers');
    expect((await status(h)).totals.pending).toBe(2);
    await expect(approve('carol')).resolves.toEqual({ gate: 'wave-2', approvedBy: ['bob', 'carol'], remaining: 0 });
    await h.result();
    const final = await status(h);
    expect(final.approvals.map((a) => [a.gate, a.by])).toEqual([
      ['wave-2', 'bob'],
      ['wave-2', 'carol'],
    ]);
    // Wave 2 started only after the second approval.
    const runs = await memberRuns(final);
    const approvedAt = Date.parse(final.approvals[1]!.at);
    for (const r of runs.filter((x) => x.wave === 2)) expect(r.start).toBeGreaterThanOrEqual(approvedAt - 5);
  });
  const events = (await h.fetchHistory()).events ?? [];
  const accepted = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
  expect(accepted).toHaveLength(2);
});

it('four eyes: forbidStarter without a known starter (a start from the Temporal CLI or UI) is refused before anything runs', async () => {
  const fixture = await fleetWorker(inventoryOf('ns', 2));
  const h = await startFleet(fixture, {
    name: 'no-starter',
    approvalBetweenWaves: true,
    approvals: { required: 1, forbidStarter: true },
  });
  const failure = await fixture.worker.runUntil(failureOf(h.result()));
  expect(failure.type).toBe('InvalidInput');
  expect(failure.message).toMatch(
    /approvals\.forbidStarter needs to know who started the fleet: give startedBy.*\n\s*→ at startedBy/,
  );
  const events = (await h.fetchHistory()).events ?? [];
  expect(events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toEqual([]);
  expect(events.filter((e) => e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)).toEqual(
    [],
  );
});

it('halts on a member the chain saw double sign', async () => {
  const fixture = await fleetWorker(inventoryOf('ds', 3), (v) =>
    v.startsWith('ds-v1.') ? { counters: { missed: { blocks: 2 }, doubleSigns: 1, source: 'test' } } : {},
  );
  const h = await startFleet(fixture, {
    name: 'double-sign',
    canary: 1,
    waveSize: 2,
    maxConcurrent: 2,
  });
  await fixture.worker.runUntil(async () => {
    const halted = await until(h, 'halted', (s) => s.state === 'halted');
    expect(halted.halt!.reason).toBe('ds-v1: the chain saw 1 double sign(s)');
    expect(halted.members[0]).toMatchObject({
      state: 'completed',
      observed: { doubleSigns: 1, missed: { blocks: 2 } },
    });
    expect(halted.totals.pending).toBe(2);
    await h.signal(abortSignal, { by: 'op', reason: 'double sign' });
    await failureOf(h.result());
  });
});

it('halts on a member the chain kicked out (its looks read prev_epoch_kickout)', async () => {
  const kickout = { period: 7, reason: 'NotEnoughBlocks' };
  const fixture = await fleetWorker(inventoryOf('ko', 3), (v) =>
    v.startsWith('ko-v1.') ? { counters: { missed: { blocks: 30 }, kickedOut: kickout, source: 'test' } } : {},
  );
  const h = await startFleet(fixture, { name: 'kickout', canary: 1, waveSize: 2, maxConcurrent: 2 });
  await fixture.worker.runUntil(async () => {
    const halted = await until(h, 'halted', (s) => s.state === 'halted');
    expect(halted.halt!.reason).toBe('ko-v1: kicked out by the chain at the end of epoch 7 (NotEnoughBlocks)');
    expect(halted.members[0]!.observed?.kickouts).toEqual([kickout]);
    expect(halted.totals.pending).toBe(2);
    await h.signal(abortSignal, { by: 'op', reason: 'kickout' });
    await failureOf(h.result());
  });
});

it('continues as new to keep the history bounded; members started before are re-attached; status survives', async () => {
  const fixture = await fleetWorker(inventoryOf('cn', 40), () => ({ holdMs: 400 }));
  const historyLimit = 200;
  const h = await startFleet(fixture, {
    name: 'continue-as-new',
    canary: 2,
    waveSize: '50%',
    maxConcurrent: 8,
    historyLimit,
  });
  const { result, final, midway } = await fixture.worker.runUntil(async () => {
    const midway = await until(h, 'continued as new', (s) => s.continuedAsNew >= 1, 60_000);
    const result = await h.result();
    return { result, final: await status(h), midway };
  });
  // The status read after a continue-as-new still has every member, and those done before it.
  expect(midway.totals.members).toBe(40);
  expect(midway.totals.completed).toBeGreaterThan(0);
  expect(result.totals).toMatchObject({ members: 40, completed: 40 });
  expect(final.continuedAsNew).toBeGreaterThanOrEqual(1);
  expect(final.waves).toEqual([2, 20, 18]);
  // Every run's history stayed near the limit: at most one loop turn (a start and what it heard) over it.
  const runIds = new Set<string>();
  let runId: string | undefined = (await h.describe()).runId;
  const lengths: number[] = [];
  for (let i = 0; runId && i < 50; i++) {
    runIds.add(runId);
    const history: temporal.api.history.v1.IHistory = await env!.client.workflow
      .getHandle(h.workflowId, runId)
      .fetchHistory();
    const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
    lengths.push(events.length);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  }
  expect(lengths).toHaveLength(final.continuedAsNew + 1);
  expect(Math.max(...lengths)).toBeLessThan(historyLimit + 60);
  // A member an earlier run started frees its slot by its report, sent in its last workflow task just before it closes.
  const runs = await memberRuns(final);
  expect(maxOverlap(runs, 250)).toBeLessThanOrEqual(8);
  console.log(
    `fleet of 40: ${final.continuedAsNew} continue-as-new, history per run ${lengths.reverse().join(', ')} events, ` +
      `at most ${maxOverlap(runs)} open at once (${maxOverlap(runs, 250)} with the report's grace)`,
  );
}, 90_000);

it('a member whose validator is already being upgraded on its own is refused, and halts the fleet', async () => {
  const fixture = await fleetWorker(inventoryOf('own', 2), () => ({ holdMs: 60_000 }));
  await fixture.worker.runUntil(async () => {
    // The separate upgrade, started as `vup start` starts it: under the validator's upgrade id.
    const own = await env!.client.workflow.start('nearStopAndRestartUpgrade', {
      args: [{ validator: { network: 'localnet', accountId: 'own-v1.pool.near' } }],
      taskQueue: fixture.taskQueue,
      workflowId: upgradeWorkflowId({ chain: 'near', network: 'localnet', validator: 'own-v1.pool.near' }),
      ...upgradeIdPolicy(),
    });
    const h = await startFleet(fixture, { name: 'own', canary: 1, waveSize: 1, maxConcurrent: 1 });
    const halted = await until(h, 'halted', (st) => st.state === 'halted');
    expect(halted.members[0]).toMatchObject({ id: 'own-v1', state: 'failed' });
    expect(halted.members[0]!.detail).toMatch(/^not started: .*is another upgrade of own-v1.pool.near running\?/);
    expect(halted.members[1]!.state).toBe('pending');
    // The separate upgrade goes on untouched.
    expect((await own.describe()).status.name).toBe('RUNNING');
    await h.signal(abortSignal, { by: 'op', reason: 'wait for the separate upgrade' });
    await failureOf(h.result());
    await own.signal(abortSignal, { by: 'op', reason: 'test over' });
    await own.result().catch(() => undefined);
  });
});

describe('deadlines', () => {
  const inFromNow = (ms: number) => new Date(Date.now() + ms).toISOString();

  it('plan projects the finish from the pace of the network and refuses a deadline it misses', async () => {
    const fixture = await fleetWorker(inventoryOf('pl', 5));
    const input: FleetInput = {
      name: 'plan',
      select: {},
      targets: { near: { strategy: 'nearZeroDowntimeUpgrade', release } },
      canary: 1,
      waveSize: 2,
      maxConcurrent: 2,
      soak: '10 minutes',
    };
    const [late, inTime] = await fixture.worker.runUntil(async () => [
      await planFleet(env!.client, { ...input, deadline: inFromNow(30 * 60_000) }, fixture),
      await planFleet(env!.client, { ...input, deadline: inFromNow(48 * 3600_000) }, fixture),
    ]);
    expect(late.waves).toEqual([1, 2, 2]);
    expect(late.paces).toEqual([
      expect.objectContaining({
        network: 'localnet',
        periodMs: 100_000,
        source: 'epoch of 100 blocks at 1000 ms observed',
      }),
    ]);
    // Zero-downtime waits about 3 epochs (300 s here); three waves and two soaks of 10 minutes.
    const projected = Date.parse(late.projectedFinish!) - Date.parse(late.updatedAt);
    expect(projected).toBe(3 * 300_000 + 2 * 600_000);
    expect(deadlineProblem(late)).toMatch(/^projected finish .* is past the deadline/);
    expect(deadlineProblem(inTime)).toBeUndefined();
  });

  it('a running fleet that falls behind its deadline says so in its status and events', async () => {
    // The input expects a second per upgrade; the members take three.
    const fixture = await fleetWorker(inventoryOf('dl', 3), () => ({ holdMs: 3000 }));
    const h = await startFleet(fixture, {
      name: 'deadline',
      canary: 0,
      waveSize: 3,
      maxConcurrent: 1,
      perUpgrade: { nearStopAndRestartUpgrade: '1s' },
      deadline: inFromNow(7_000),
    });
    await fixture.worker.runUntil(async () => {
      const behind = await until(h, 'behind', (s) => s.deadline?.behind === true);
      expect(behind.events.map((e) => e.kind)).toContain('deadline-at-risk');
      // Each member is held to the fleet's deadline: about 15 minutes for a stop and restart is past it.
      const running = behind.members.find((m) => m.state === 'running')!;
      const member = await env!.client.workflow.getHandle(running.workflowId).query(statusQuery);
      expect(member.deadline).toMatchObject({ at: behind.deadline!.at, behind: true });
      // Runs behind their deadline are listed without a query to each: the fleet and its running member.
      const listed = new Set<string>();
      const query = `UpgradeDeadline="behind" AND ExecutionStatus="Running"`;
      const end = Date.now() + 15_000;
      while (!(listed.has(h.workflowId) && listed.has(running.workflowId)) && Date.now() < end) {
        for await (const run of env!.client.workflow.list({ query })) listed.add(run.workflowId);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect([...listed]).toEqual(expect.arrayContaining([h.workflowId, running.workflowId]));
      await h.result();
    });
  });
});

it('vup fleet plan, start, approve (four eyes) and status as an operator runs them', async () => {
  const fixture = await fleetWorker(inventoryOf('cli', 3));
  const scratch = await mkdtemp(path.join(tmpdir(), 'vup-fleet-'));
  const vup = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(repoRoot(), 'src', 'cli', 'main.ts'), ...args],
        {
          cwd: repoRoot(),
          env: { ...process.env, TEMPORAL_ADDRESS: env!.address, VUP_TASK_QUEUE: fixture.taskQueue },
        },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
  const input: FleetInput = {
    name: 'cli',
    select: {},
    targets: { near: { strategy: 'nearStopAndRestartUpgrade', release } },
    canary: 1,
    waveSize: 2,
    maxConcurrent: 2,
    approvalBetweenWaves: true,
    approvals: { required: 1, forbidStarter: true },
    deadline: new Date(Date.now() + 2 * 3600_000).toISOString(),
  };
  const file = path.join(scratch, 'fleet.json');
  await writeFile(file, JSON.stringify(input));
  const lateFile = path.join(scratch, 'late.json');
  await writeFile(lateFile, JSON.stringify({ ...input, deadline: new Date(Date.now() + 60_000).toISOString() }));
  try {
    await fixture.worker.runUntil(async () => {
      const late = await vup(['fleet', 'plan', '-f', lateFile]);
      expect(late.code).toBe(1);
      expect(late.stdout).toMatch(/wave 1 \(canary\): cli-v1\n {2}wave 2: cli-v2, cli-v3/);
      expect(late.stderr).toMatch(/refused: projected finish .* is past the deadline/);
      const started = await vup(['fleet', 'start', '-f', file, '--by', 'alice']);
      expect([started.code, started.stdout]).toEqual([0, expect.stringMatching(/^started fleet-cli/) as string]);
      const h = env!.client.workflow.getHandle('fleet-cli');
      await until(h, 'awaiting approval', (st) => st.state === 'awaiting-approval');
      const self = await vup(['fleet', 'approve', 'cli', '--by', 'alice']);
      expect(self.code).toBe(1);
      expect(self.stderr).toMatch(/alice started fleet cli and may not approve it/);
      const bob = await vup(['fleet', 'approve', 'cli', '--by', 'bob', '--note', 'canary clean']);
      expect(bob.code).toBe(0);
      expect(bob.stdout).toContain('approved wave-2 of fleet-cli as bob: the gate opened');
      await h.result();
      const shown = await vup(['fleet', 'status', 'cli']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/fleet-cli: completed, wave 2 of 2 — 3 done/);
      expect(shown.stdout).toMatch(/approved wave-2 by bob at .*: canary clean/);
      expect(shown.stdout).toMatch(/^2 +completed .* cli-v3$/m);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}, 90_000);
