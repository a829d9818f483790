/**
 * What operators see in the Temporal UI, checked in a real headless Chromium against the dev server's own
 * UI (no mocks): a NEAR zero-downtime upgrade started through the client SDK runs its first steps for real
 * (production workflows, activities over SSH against the NEAR testbed) and holds at its manual approval gate
 * before the stake. The rendered pages must show:
 *   - the workflow list: the upgrade, with the validator and stage columns an operator adds once;
 *   - the run's User Metadata tab: the static summary, and the current details naming the step that waits
 *     and what it waits for (the approval);
 *   - the event history: the activities' and timers' summaries, in the timeline and in the events.
 * Screenshots of each page go to test-output/ui/ (paths printed).
 *
 * The Temporal UI 2.42.1 that ships in the CLI v1.5.1 has no summary column in its workflow list; the
 * summary is on the run's own page. Current details come from a query the UI sends to the worker, so the
 * worker keeps running while the browser looks.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import type { UpgradeStatus } from '../../src/api/status.js';
import { nearNetwork } from '../../src/config/identities.js';
import { checkUpgradeInput, getStatus, startUpgrade, type StartedUpgrade } from '../../src/client/upgrades.js';
import { staticInventory } from '../../src/config/inventory-source.js';
import { freePort } from '../../devnet/ports.js';
import { inventoryForTargets } from '../../devnet/testbeds/targets-inventory.js';
import {
  startNearTestbed,
  startTestbedService,
  type NearTestbed,
  type TestbedNode,
} from '../../devnet/testbeds/near.js';
import { repoRoot } from '../../src/repo-root.js';
import { launchChromium } from '../helpers/chromium.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';
import { AWAITING_APPROVAL_STAGE } from '../../src/api/search-attributes.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';

const POOL = 'pool.poolv1.near';
const TASK_QUEUE = 'e2e-temporal-ui';
const SCREENSHOTS = path.join(repoRoot(), 'test-output', 'ui');
/** The UI renders on a loaded machine; every wait on the page gets this long. */
const UI_TIMEOUT_MS = 60_000;

let env: TestWorkflowEnvironment | undefined;
let bed: NearTestbed | undefined;
let worker: Worker | undefined;
let workerRunning: Promise<void> | undefined;
let browser: Browser | undefined;
let uiUrl: string;
let upgrade: StartedUpgrade | undefined;
let summary: string;
let atGate: UpgradeStatus;
const startedAt = Date.now();

const nodeInput = (node: TestbedNode) => ({ ...node.ref, binary: node.binary });

async function eventually<T>(what: string, look: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await look().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  const uiPort = await freePort();
  uiUrl = `http://127.0.0.1:${uiPort}`;
  // Fail before anything starts if there is no browser (the message says how to get one).
  browser = await launchChromium();
  env = await createDevServerEnv([], { uiPort });
  bed = await startNearTestbed({ epochLength: 12, blockTimeMs: 150 });
  await startTestbedService(bed, 'val-a');
  const targets = {
    validator: { network: nearNetwork.parse(bed.networkId), accountId: POOL },
    networkRpcUrl: bed.rpcUrl,
    staking: bed.validators[POOL]!.stakingInput,
    oldNode: nodeInput(bed.nodes['val-a']!),
    newNode: nodeInput(bed.nodes['val-b']!),
    release: bed.binaries.new.release('val-b'),
    timeouts: { sync: '5 minutes', keyActive: '10 minutes', signing: '5 minutes' },
    manualApproval: true,
  };
  const { inventory, input } = inventoryForTargets('nearZeroDowntimeUpgrade', targets, {
    nodeIds: { oldNode: 'val-a', newNode: 'val-b' },
  });
  worker = (
    await createUpgradeWorker({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: await bundleUpgradeWorkflows(),
      activities: {
        connections: bed.connections,
        heartbeatIntervalMs: 500,
        inventory: staticInventory(inventory),
      },
    })
  ).worker;
  workerRunning = worker.run();
  summary = checkUpgradeInput('nearZeroDowntimeUpgrade', input).summary;
  upgrade = await startUpgrade(env.client, 'nearZeroDowntimeUpgrade', input, { taskQueue: TASK_QUEUE });
  atGate = await eventually('the upgrade to hold at its approval gate', async () => {
    const status = await getStatus(env!.client, upgrade!.workflowId);
    return status.state === 'awaiting-approval' ? status : undefined;
  });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (env && upgrade)
    await env.client.workflow
      .getHandle(upgrade.workflowId)
      .terminate('the UI test is done')
      .catch(() => undefined);
  worker?.shutdown();
  await workerRunning;
  await bed?.stop();
  await env?.teardown();
  console.log(`temporal-ui: ${((Date.now() - startedAt) / 1000).toFixed(1)} s wall`);
}, 120_000);

async function openPage(route: string): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1920, height: 1600 } });
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(`${uiUrl}${route}`);
  return page;
}

const runRoute = (tab: string) => `/namespaces/default/workflows/${upgrade!.workflowId}/${upgrade!.runId}/${tab}`;

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`screenshot of the ${name} page: ${file}`);
}

/**
 * The UI renders markdown (summary, current details) in iframes of its own; waits until one of them shows
 * `text`, and returns that frame's text.
 */
async function markdownFrameWith(page: Page, text: string): Promise<string> {
  return eventually(
    `a rendered markdown frame showing "${text}"`,
    async () => {
      for (const frame of page.frames()) {
        if (frame === page.mainFrame()) continue;
        const body = await frame.locator('body').innerText({ timeout: 1_000 });
        if (body.includes(text)) return body;
      }
      return undefined;
    },
    UI_TIMEOUT_MS,
  );
}

describe('the Temporal UI shows an upgrade held at its approval gate', () => {
  it('lists the upgrade with its validator and stage columns', async () => {
    const page = await openPage('/namespaces/default/workflows');
    const row = page.getByRole('row').filter({ hasText: upgrade!.workflowId });
    await row.waitFor();
    // What an operator does once per browser: add the upgrade's search attributes as columns.
    await page.getByTestId('workflows-summary-table-configuration-button').click();
    const drawer = page.locator('#workflows-table-configuration-drawer');
    await drawer.getByRole('button', { name: 'Remove Run ID column' }).click();
    await drawer.getByRole('button', { name: 'Add UpgradeValidator column' }).click();
    await drawer.getByRole('button', { name: 'Add UpgradeStage column' }).click();
    await drawer.getByRole('button', { name: /^Close/ }).click();
    await drawer.waitFor({ state: 'hidden' });
    await page.getByRole('columnheader', { name: 'UpgradeStage' }).waitFor();
    // A run holding at a gate is listed as awaiting approval.
    const stage = AWAITING_APPROVAL_STAGE;
    await row.getByText(stage).waitFor();

    const cells = await row.getByRole('cell').allInnerTexts();
    expect(cells.map((c) => c.trim())).toEqual(
      expect.arrayContaining(['Running', upgrade!.workflowId, 'nearZeroDowntimeUpgrade', POOL, stage]),
    );
    await screenshot(page, 'list');
    await page.close();
  }, 180_000);

  it("the run's page shows the summary and the step waiting for approval", async () => {
    const page = await openPage(runRoute('user-metadata'));
    await page.getByRole('heading', { name: 'Current Details' }).waitFor();
    const next = atGate.steps.find((s) => s.id === 'stake-new-key')!;
    const position = atGate.steps.indexOf(next) + 1;

    expect(await markdownFrameWith(page, summary)).toContain(`${POOL} moves to val-b`);
    const details = await markdownFrameWith(page, 'Awaiting approval');
    expect(details).toContain(`Step ${position} of ${atGate.steps.length}: ${next.title}`);
    expect(details).toContain('not started');
    expect(details).toContain(`Awaiting approval of stake-new-key: ${atGate.pendingApproval!.description}`);
    // The tab also lists every event that carries a summary.
    await page.getByText('generate a validator key for pool.poolv1.near on val-b').waitFor();
    await screenshot(page, 'detail');
    await page.close();
  }, 180_000);

  it('the event history shows what each activity and timer did', async () => {
    const page = await openPage(runRoute('history'));
    // The timeline labels each activity "<type> • <summary>"; the event rows carry the summary too.
    await page
      .getByText('generateValidatorKey • generate a validator key for pool.poolv1.near on val-b')
      .filter({ visible: true })
      .first()
      .waitFor();
    for (const label of [
      'nodeStatus • status of neard on val-a',
      'startService • start neard on val-b',
      'lookNodeSynced • is neard on val-b synced?',
      // A durable timer of the sync wait, labelled with what it waits for.
      'wait for neard on val-b to sync',
    ])
      await page.getByText(label).filter({ visible: true }).first().waitFor();
    const events = page.getByRole('row').filter({ hasText: 'Activity Task Scheduled' });
    await events.filter({ hasText: 'start neard on val-b' }).first().waitFor();
    await page
      .getByRole('row')
      .filter({ hasText: 'Workflow Execution Started' })
      .filter({ hasText: summary })
      .waitFor();
    await screenshot(page, 'history');
    await page.close();
  }, 180_000);
});
