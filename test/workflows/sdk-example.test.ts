/**
 * The SDK example (examples/sdk/start-and-watch.ts) run as the README says, with tsx, against the dev
 * server, so it cannot rot. The worker serves the production workflows with no activities: the upgrade
 * stops at its first activity, which never reaches the private-range hosts of the example input.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_TASK_QUEUE } from '../../src/api/identity.js';
import { checkUpgradeInput, getStatus } from '../../src/client/index.js';
import { loadInventory } from '../../src/config/load-inventory.js';
import { repoRoot } from '../../src/repo-root.js';
import { createDevServerEnv } from '../helpers/temporal.js';
import { runTsx } from '../helpers/tsx-process.js';
import { startWorkflowsOnlyWorker, type WorkflowsOnlyWorker } from '../helpers/unserved-activities.js';

const exampleScript = path.join('examples', 'sdk', 'start-and-watch.ts');
const inputFile = path.join('examples', 'near-zero-downtime.input.json');

let env: TestWorkflowEnvironment | undefined;
let worker: WorkflowsOnlyWorker | undefined;
let scratch: string | undefined;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sdk-example-'));
  env = await createDevServerEnv();
  worker = await startWorkflowsOnlyWorker(
    env,
    DEFAULT_TASK_QUEUE,
    await loadInventory(path.join(repoRoot(), 'examples', 'inventory.yaml')),
  );
}, 300_000);
afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const runExample = (...args: string[]) => runTsx(env!, exampleScript, args);

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('starts the example upgrade, prints its first step running, and stops watching when the run ends', async () => {
  const input: unknown = JSON.parse(await readFile(path.join(repoRoot(), inputFile), 'utf8'));
  const { workflowId } = checkUpgradeInput('nearZeroDowntimeUpgrade', input);
  const example = runExample('nearZeroDowntimeUpgrade', inputFile);
  try {
    await until('the first step to be printed as running', () =>
      /^running check-nodes\b/m.test(example.output().stdout),
    );
    expect(example.output().stdout).toMatch(new RegExp(`^started ${workflowId.replace(/\./g, '\\.')}$`, 'm'));
    const status = await getStatus(env!.client, workflowId);
    expect(status).toMatchObject({ strategy: 'nearZeroDowntimeUpgrade', currentStep: 'check-nodes' });

    await env!.client.workflow.getHandle(workflowId).terminate('sdk example test over');
    expect(await example.exited).toBe(0);
    expect(example.output().stdout).toMatch(/^workflow terminated$/m);
    expect(example.output().stderr).toBe('');
  } finally {
    example.kill();
  }
});

it('refuses an input missing a required field, naming it, and starts nothing', async () => {
  const input = JSON.parse(await readFile(path.join(repoRoot(), inputFile), 'utf8')) as Record<string, unknown>;
  const { workflowId } = checkUpgradeInput('nearZeroDowntimeUpgrade', input);
  const { release: _gone, ...broken } = input;
  const brokenFile = path.join(scratch!, 'broken.input.json');
  await writeFile(brokenFile, JSON.stringify(broken));

  const before = await env!.client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  const example = runExample('nearZeroDowntimeUpgrade', brokenFile);
  expect(await example.exited).not.toBe(0);
  expect(example.output().stderr).toMatch(/InvalidUpgradeInput.*\n.*release: /);
  expect(example.output().stdout).toBe('');
  const after = await env!.client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  expect(after?.runId).toBe(before?.runId);
});
