/**
 * Webhook notifications (workflows/common/notify.ts, activities/notify) on a dev server, against a local
 * HTTP receiver: the rehearsal runbook tells a generic JSON webhook (with a bearer token) and a Slack one
 * that it waits at its gate and that it completed; a receiver that answers 500 twice gets the failure on the
 * third try; a receiver that is down neither fails nor holds up the upgrade's steps. The token is sent as a
 * header and appears nowhere in the run's history. A run schedules the notify activity only for the events
 * the worker's webhooks take (the worker says which with the run's targets, or with its refusal of them):
 * with none configured, none at all.
 */
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { createInventoryActivities } from '../../activities/inventory/index.js';
import { createNotifyActivities } from '../../activities/notify/index.js';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { nearIdentity } from '../../src/api/near-inputs.js';
import type { StrategyInput } from '../../src/api/strategies.js';
import { approveUpdate, statusQuery } from '../../src/api/messages.js';
import { UpgradeDeadline } from '../../src/api/search-attributes.js';
import type { NotificationEvent } from '../../src/api/notifications.js';
import { staticInventory } from '../../src/config/inventory-source.js';
import type { Inventory } from '../../src/config/inventory.js';
import type { WebhookSpec } from '../../src/config/notifications.js';
import { eventually } from '../helpers/eventually.js';
import { WEBHOOK_TEST_TOKEN } from '../helpers/secret-scan.js';
import { bundleFixtures, bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';
import { rehearsalActivities } from '../helpers/rehearsal-chain.js';
import type { RehearsalInput, rehearsalUpgrade } from './fixtures/index.js';

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A webhook receiver on 127.0.0.1 that answers `failFirst` requests with 500, then 200. */
async function receiver(failFirst = 0) {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        at: Date.now(),
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      res.statusCode = requests.length <= failFirst ? 500 : 200;
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const close = () =>
    new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    });
  return { url, requests, close };
}

/** A URL where nothing listens: a port that was free a moment ago. */
async function downUrl(): Promise<string> {
  const r = await receiver();
  await r.close();
  return r.url;
}

const inventoryWith = (webhooks: WebhookSpec[]): Inventory => ({
  version: 1,
  hosts: [],
  nodes: [],
  validators: [],
  signers: [],
  notifications: { webhooks },
});

let bundle: WorkflowBundle;
let env: TestWorkflowEnvironment | undefined;
beforeAll(async () => {
  bundle = await bundleFixtures();
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

async function worker(taskQueue: string, webhooks: WebhookSpec[], vars: NodeJS.ProcessEnv) {
  const rehearsal = rehearsalActivities({ epochLength: 10, blockTimeMs: 100, now: () => Promise.resolve(Date.now()) });
  return Worker.create({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: {
      ...rehearsal.activities,
      // The pace a deadline's projection reads: epochs of 1 s (a zero-downtime upgrade: about 3 s).
      epochInfo: () => Promise.resolve({ epochLength: 10, observedBlockTimeMs: 100 }),
      ...createNotifyActivities({ inventory: staticInventory(inventoryWith(webhooks)), env: vars }),
    },
  });
}

function start(taskQueue: string, input: RehearsalInput) {
  return env!.client.workflow.start<typeof rehearsalUpgrade>('rehearsalUpgrade', {
    args: [input],
    taskQueue,
    workflowId: upgradeWorkflowId(input.identity),
    ...upgradeIdPolicy(),
  });
}

const identity = (validator: string) => ({ chain: 'near' as const, network: 'testnet' as const, validator });

it('tells a JSON webhook (bearer token) and a Slack webhook about the gate and the completion', async () => {
  const json = await receiver();
  const slack = await receiver();
  const dir = mkdtempSync(path.join(tmpdir(), 'vup-webhook-'));
  writeFileSync(path.join(dir, 'slack-url'), `${slack.url}\n`);
  const w = await worker(
    'notify-formats',
    [
      { id: 'ops-json', url: { env: 'OPS_WEBHOOK_URL' }, format: 'json', token: { env: 'OPS_WEBHOOK_TOKEN' } },
      { id: 'ops-slack', url: { file: path.join(dir, 'slack-url') }, format: 'slack' },
    ],
    { OPS_WEBHOOK_URL: json.url, OPS_WEBHOOK_TOKEN: WEBHOOK_TEST_TOKEN },
  );
  const handle = await start('notify-formats', {
    identity: identity('notify-formats.near'),
    waitEpochs: 0,
    manualApproval: true,
    notify: true,
  });
  const result = await w.runUntil(async () => {
    await eventually('the gate', async () =>
      (await handle.query(statusQuery)).state === 'awaiting-approval' ? true : undefined,
    );
    await eventually('the gate notices', () => (json.requests.length + slack.requests.length === 2 ? true : undefined));
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'switch', by: 'alice' }] });
    return handle.result();
  });
  // The completion was delivered before the run closed.
  expect(result).toEqual(['prepare', 'switch', 'epoch 0', 'finish']);
  const events = json.requests.map((r) => r.body as unknown as NotificationEvent);
  expect(events.map((e) => e.kind)).toEqual(['awaiting-approval', 'completed']);
  expect(events[0]).toMatchObject({
    workflowId: handle.workflowId,
    validators: ['notify-formats.near'],
    strategy: 'rehearsalUpgrade',
    step: 'Switch signing to the new node',
  });
  expect(events[0]!.message).toContain('awaiting approval of switch');
  expect(Number.isNaN(Date.parse(events[1]!.time))).toBe(false);
  expect(json.requests.every((r) => r.headers.authorization === `Bearer ${WEBHOOK_TEST_TOKEN}`)).toBe(true);
  expect(slack.requests.map((r) => Object.keys(r.body))).toEqual([['text'], ['text']]);
  expect(slack.requests[0]!.body.text).toMatch(/^\[awaiting-approval\] notify-formats\.near at "Switch signing/);
  expect(slack.requests[1]!.body.text).toMatch(/^\[completed\] notify-formats\.near: the upgrade completed/);
  expect(slack.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  // The token is the worker's: not in the history (the webhooks' URLs are not either).
  const history = JSON.stringify(await handle.fetchHistory());
  expect(history).not.toContain(WEBHOOK_TEST_TOKEN);
  expect(history).not.toContain(json.url);
  expect(history).toContain('"name":"notify"');
  await Promise.all([json.close(), slack.close()]);
});

it('retries a receiver that answers 500 twice: the failure arrives on the third try', async () => {
  const flaky = await receiver(2);
  const w = await worker('notify-retry', [{ id: 'flaky', url: { env: 'HOOK' }, format: 'json' }], {
    HOOK: flaky.url,
  });
  const handle = await start('notify-retry', {
    identity: identity('notify-retry.near'),
    waitEpochs: 0,
    failAfter: 'finish',
    notify: true,
  });
  const err = await w.runUntil(
    handle.result().then(
      () => undefined,
      (e: unknown) => e,
    ),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(flaky.requests).toHaveLength(3);
  const bodies = flaky.requests.map((r) => r.body as unknown as NotificationEvent);
  expect(bodies.every((b) => b.kind === 'failed')).toBe(true);
  expect(bodies[2]!.message).toMatch(/step 4 "Stop the old node" failed: RehearsalFailure: finish failed/);
  // The retry policy's backoff: 1 s, then 2 s.
  expect(flaky.requests[2]!.at - flaky.requests[0]!.at).toBeGreaterThanOrEqual(2_500);
  await flaky.close();
});

it('a receiver that is down neither fails the upgrade nor holds up its steps', async () => {
  const url = await downUrl();
  const w = await worker('notify-down', [{ id: 'down', url: { env: 'HOOK' }, format: 'slack' }], { HOOK: url });
  const handle = await start('notify-down', {
    identity: identity('notify-down.near'),
    waitEpochs: 0,
    manualApproval: true,
    notify: true,
  });
  const startedAt = Date.now();
  const { result, status } = await w.runUntil(async () => {
    // The gate's notification fails against the closed port while the run waits for its approval.
    await eventually('the gate', async () =>
      (await handle.query(statusQuery)).state === 'awaiting-approval' ? true : undefined,
    );
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'switch' }] });
    const result = await handle.result();
    return { result, status: await handle.query(statusQuery) };
  });
  const closedAfterMs = Date.now() - startedAt;
  expect(result).toEqual(['prepare', 'switch', 'epoch 0', 'finish']);
  expect(status.state).toBe('completed');
  // Every step finished within seconds of the start: no step waited for a delivery.
  const lastStepDone = Math.max(...status.steps.map((s) => Date.parse(s.endedAt ?? s.startedAt ?? '')));
  expect(lastStepDone - startedAt).toBeLessThan(10_000);
  // The run closed once the completion notice was given up: bounded by the activity's schedule-to-close (30 s).
  expect(closedAfterMs).toBeLessThan(45_000);
  const events = (await handle.fetchHistory()).events ?? [];
  const failedNotices = events.filter(
    (e) => e.activityTaskTimedOutEventAttributes || e.activityTaskFailedEventAttributes,
  );
  expect(failedNotices.length).toBeGreaterThanOrEqual(1);
}, 90_000);

/** The activities a run scheduled, in order. */
async function scheduled(handle: { fetchHistory(): Promise<{ events?: unknown[] | null }> }): Promise<string[]> {
  const events = ((await handle.fetchHistory()).events ?? []) as {
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  }[];
  return events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

it('schedules notify only for the events a webhook takes: none when no webhook is configured', async () => {
  const hook = await receiver();
  const w = await worker(
    'notify-taken',
    [{ id: 'ends', url: { env: 'HOOK' }, format: 'json', events: ['completed'] }],
    {
      HOOK: hook.url,
    },
  );
  const run = (validator: string, webhookEvents: RehearsalInput['webhookEvents']) =>
    start('notify-taken', {
      identity: identity(validator),
      waitEpochs: 0,
      manualApproval: true,
      notify: true,
      ...(webhookEvents ? { webhookEvents } : {}),
    });
  const approveAndFinish = async (handle: Awaited<ReturnType<typeof run>>) => {
    await eventually('the gate', async () =>
      (await handle.query(statusQuery)).state === 'awaiting-approval' ? true : undefined,
    );
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'switch', by: 'alice' }] });
    return handle.result();
  };
  const [none, someTaken, unknown] = await w.runUntil(async () => {
    const none = await run('notify-none.near', []);
    await approveAndFinish(none);
    const someTaken = await run('notify-some.near', ['completed']);
    await approveAndFinish(someTaken);
    // A run whose worker said nothing (its lookup recorded before it did) sends every event, as before.
    const unknown = await run('notify-unknown.near', undefined);
    await approveAndFinish(unknown);
    return [none, someTaken, unknown];
  });
  expect(await scheduled(none)).not.toContain('notify');
  expect((await scheduled(someTaken)).filter((a) => a === 'notify')).toHaveLength(1);
  expect((await scheduled(unknown)).filter((a) => a === 'notify')).toHaveLength(2);
  // The webhook took the two completions; the gate notice of the unknown run reached no webhook that takes it.
  expect(hook.requests.map((r) => (r.body as unknown as NotificationEvent).kind)).toEqual(['completed', 'completed']);
  await hook.close();
});

it('a strategy refused at its lookup tells the webhooks it failed, and with no webhook configured schedules nothing more', async () => {
  const hook = await receiver();
  const upgrades = await bundleUpgradeWorkflows();
  const input: StrategyInput<'nearStopAndRestartUpgrade'> = {
    validator: { network: 'mainnet', accountId: 'not-here.poolv1.near' },
    release: { staged: '/var/tmp/neard', sha256: 'ab'.repeat(32) },
  };
  const refusedRun = async (taskQueue: string, webhooks: WebhookSpec[]) => {
    // The inventory holds no validator: the lookup refuses the run before anything is touched.
    const inventory = staticInventory(inventoryWith(webhooks));
    const w = await Worker.create({
      connection: env!.nativeConnection,
      taskQueue,
      workflowBundle: upgrades,
      activities: {
        ...createInventoryActivities({ inventory }),
        ...createNotifyActivities({ inventory, env: { HOOK: hook.url } }),
      },
    });
    const handle = await env!.client.workflow.start('nearStopAndRestartUpgrade', {
      args: [input],
      taskQueue,
      workflowId: upgradeWorkflowId(nearIdentity(input.validator)),
      ...upgradeIdPolicy(),
    });
    const error = await w.runUntil(
      handle.result().then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    return scheduled(handle);
  };
  expect(await refusedRun('notify-refused-none', [])).toEqual(['resolveUpgradeTargets']);
  expect(await refusedRun('notify-refused-hook', [{ id: 'ops', url: { env: 'HOOK' }, format: 'json' }])).toEqual([
    'resolveUpgradeTargets',
    'notify',
  ]);
  expect(hook.requests.map((r) => r.body)).toEqual([
    expect.objectContaining({ kind: 'failed', validators: ['not-here.poolv1.near'] }),
  ]);
  await hook.close();
}, 120_000);

it('a run that falls behind its deadline says so once: status, details, UpgradeDeadline=behind, one deadline-at-risk event', async () => {
  const hook = await receiver();
  const w = await worker('notify-deadline', [{ id: 'ops', url: { env: 'HOOK' }, format: 'json' }], { HOOK: hook.url });
  // Projected on time at the start (about 3 s of a 6 s allowance); it then holds at its gate past the deadline.
  const deadline = new Date(Date.now() + 6_000).toISOString();
  const handle = await start('notify-deadline', {
    identity: identity('notify-deadline.near'),
    waitEpochs: 0,
    manualApproval: true,
    notify: true,
    deadline,
  });
  const attribute = async () => (await handle.describe()).typedSearchAttributes.get(UpgradeDeadline);
  await w.runUntil(async () => {
    const onTime = await eventually('the gate', async () => {
      const s = await handle.query(statusQuery);
      return s.state === 'awaiting-approval' ? s : undefined;
    });
    expect(onTime.deadline).toMatchObject({ at: deadline, behind: false });
    expect(Date.parse(onTime.deadline!.projectedFinish!)).toBeLessThan(Date.parse(deadline));
    expect(await attribute()).toBe('on-time');
    const behind = await eventually(
      'behind',
      async () => {
        const s = await handle.query(statusQuery);
        return s.deadline?.behind ? s : undefined;
      },
      20_000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(deadline));
    expect(behind.state).toBe('awaiting-approval');
    await eventually('UpgradeDeadline=behind', async () => ((await attribute()) === 'behind' ? true : undefined));
    const listed = [];
    for await (const run of env!.client.workflow.list({
      query: `UpgradeDeadline="behind" AND ExecutionStatus="Running" AND WorkflowId="${handle.workflowId}"`,
    }))
      listed.push(run.workflowId);
    expect(listed).toEqual([handle.workflowId]);
    await eventually('the deadline notice', () =>
      hook.requests.some((r) => r.body.kind === 'deadline-at-risk') ? true : undefined,
    );
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'switch', by: 'alice' }] });
    await handle.result();
    // Done: no longer behind, though the attribute keeps that it was.
    const final = await handle.query(statusQuery);
    expect(final.deadline).toMatchObject({ at: deadline, behind: false });
  });
  const kinds = hook.requests.map((r) => (r.body as unknown as NotificationEvent).kind);
  expect(kinds).toEqual(['awaiting-approval', 'deadline-at-risk', 'completed']);
  const notice = hook.requests[1]!.body as unknown as NotificationEvent;
  expect(notice.message).toMatch(
    new RegExp(`^behind the deadline ${deadline.replace(/[.]/g, '\\.')}: projected finish `),
  );
  expect(await attribute()).toBe('behind');
  await hook.close();
}, 60_000);
