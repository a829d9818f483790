/**
 * A worker release while an upgrade is in flight (docs/worker-release.md), on the dev server: build 1 and
 * build 2 of one Worker Deployment poll the same task queue, each with its deployment options from
 * worker/versioning.ts. An upgrade started on build 1 waits at its approval gate while build 2 is made the
 * current version with `temporal worker deployment set-current-version`, as the procedure says; the upgrade
 * then finishes on build 1, pinned, and a new upgrade runs on build 2.
 *
 * The rehearsal runbook stands in for a strategy (its frame is the one every strategy runs in); its
 * activities note which build ran them.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId, type ValidatorIdentity } from '../../src/api/identity.js';
import { approveUpdate, statusQuery } from '../../src/api/messages.js';
import { deploymentOptions, routingNote } from '../../worker/versioning.js';
import { eventually } from '../helpers/eventually.js';
import { rehearsalActivities } from '../helpers/rehearsal-chain.js';
import { bundleFixtures, createDevServerEnv } from '../helpers/temporal.js';
import type { RehearsalInput, rehearsalUpgrade } from './fixtures/index.js';

const run = promisify(execFile);
const EventType = temporal.api.enums.v1.EventType;
const deploymentName = `vup-release-${randomUUID().slice(0, 8)}`;
const taskQueue = `release-${randomUUID()}`;

let env: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundle;
const ran: string[] = [];
const running: { worker: Worker; done: Promise<void> }[] = [];

beforeAll(async () => {
  env = await createDevServerEnv();
  bundle = await bundleFixtures();
}, 300_000);
afterAll(async () => {
  for (const w of running) w.worker.shutdown();
  await Promise.all(running.map((w) => w.done.catch(() => undefined)));
  await env?.teardown();
});

/** A worker of `buildId`, polling like worker/main.ts with VUP_DEPLOYMENT_NAME and VUP_BUILD_ID set. */
async function startBuild(buildId: string): Promise<void> {
  const chain = rehearsalActivities({ epochLength: 4, blockTimeMs: 50, now: () => Promise.resolve(Date.now()) });
  const worker = await Worker.create({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    workerDeploymentOptions: deploymentOptions({ deploymentName, buildId }, () => bundle.code),
    activities: {
      ...chain.activities,
      record: (what: string) => {
        ran.push(`${buildId}: ${what}`);
        return chain.activities.record(what);
      },
    },
  });
  running.push({ worker, done: worker.run() });
}

/** The documented step of a release; retried until the new build's pollers have reached the server. */
async function setCurrentVersion(buildId: string): Promise<void> {
  const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
  const args = ['worker', 'deployment', 'set-current-version', '--deployment-name', deploymentName];
  await eventually(`${buildId} to become current`, () =>
    run(cli, [...args, '--build-id', buildId, '--address', env!.address, '--yes']).then(
      () => true,
      () => undefined,
    ),
  );
}

function start(validator: string, input: Partial<RehearsalInput> = {}) {
  const identity: ValidatorIdentity = { chain: 'near', network: 'testnet', validator };
  return env!.client.workflow.start<typeof rehearsalUpgrade>('rehearsalUpgrade', {
    args: [{ identity, waitEpochs: 1, minRecheckMs: 100, ...input }],
    taskQueue,
    workflowId: upgradeWorkflowId(identity),
    ...upgradeIdPolicy(),
  });
}

/** The build ids the run's workflow tasks were completed by, from its history. */
async function workflowTaskBuilds(handle: WorkflowHandle): Promise<string[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    .map((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? '(none)');
}

/** The drain check of docs/worker-release.md: running upgrades pinned to a build. */
async function runningOn(buildId: string): Promise<string[]> {
  const query = `TemporalWorkerDeploymentVersion="${deploymentName}:${buildId}" AND ExecutionStatus="Running"`;
  const ids: string[] = [];
  for await (const w of env!.client.workflow.list({ query })) ids.push(w.workflowId);
  return ids;
}

async function pinnedTo(handle: WorkflowHandle): Promise<{ behavior: unknown; buildId: unknown }> {
  const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
  return { behavior: info?.behavior, buildId: info?.deploymentVersion?.buildId };
}

it('an upgrade started on build 1 finishes on build 1 after build 2 is made current; a new one runs on build 2', async () => {
  await startBuild('build-1');
  await setCurrentVersion('build-1');

  const first = await start('inflight.near', { manualApproval: true });
  await eventually('the first upgrade at its gate', async () =>
    (await first.query(statusQuery)).state === 'awaiting-approval' ? true : undefined,
  );
  expect(ran).toEqual(['build-1: prepare']);

  // The release: build 2 starts polling and becomes current while the first upgrade waits. Until then a
  // worker of build 2 says where new upgrades go (worker/main.ts prints this at start).
  const build2 = deploymentOptions({ deploymentName, buildId: 'build-2' }, () => bundle.code)!;
  expect(await routingNote(env!.nativeConnection, 'default', build2)).toContain(
    `new upgrades go to its current version ${deploymentName}.build-1;`,
  );
  await startBuild('build-2');
  await setCurrentVersion('build-2');
  expect(await routingNote(env!.nativeConnection, 'default', build2)).toBeUndefined();

  // Build 1 cannot be stopped yet: an upgrade is pinned to it.
  expect(
    await eventually('the in-flight upgrade listed on build 1', async () => {
      const ids = await runningOn('build-1');
      return ids.length > 0 ? ids : undefined;
    }),
  ).toEqual([first.workflowId]);

  await first.executeUpdate(approveUpdate, { args: [{ gate: 'switch', by: 'alice' }] });
  await first.result();
  const second = await start('afterwards.near');
  await second.result();

  expect(ran).toEqual([
    'build-1: prepare',
    'build-1: switch',
    'build-1: finish',
    'build-2: prepare',
    'build-2: switch',
    'build-2: finish',
  ]);
  const PINNED = temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED;
  expect(await pinnedTo(first)).toEqual({ behavior: PINNED, buildId: 'build-1' });
  expect(await pinnedTo(second)).toEqual({ behavior: PINNED, buildId: 'build-2' });
  expect(new Set(await workflowTaskBuilds(first))).toEqual(new Set(['build-1']));
  expect(new Set(await workflowTaskBuilds(second))).toEqual(new Set(['build-2']));
  // Drained: nothing runs on build 1 any more, its workers may stop.
  await eventually('build 1 drained', async () => ((await runningOn('build-1')).length === 0 ? true : undefined));
});
