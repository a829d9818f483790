/**
 * The `temporal workflow …` commands of docs/operating.md (the operators' guide README links to), run as written with the real `temporal` CLI against the
 * dev server: every strategy starts from its example input under the id it derives, and the operating
 * commands (status, approve, pause, resume, abort, lists) do what the guide says. The worker serves the
 * production workflows with no activities, so a run stops at its first activity and never reaches the
 * private-range hosts the examples name.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE, upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { checkUpgradeInput, getStatus, strategies, type StrategyName } from '../../src/client/index.js';
import { loadInventory } from '../../src/config/load-inventory.js';
import { repoRoot } from '../../src/repo-root.js';
import { rehearsalActivities } from '../helpers/rehearsal-chain.js';
import { bundleFixtures, createDevServerEnv } from '../helpers/temporal.js';
import {
  startWorkflowsOnlyWorker,
  waitUntilAccepted,
  type WorkflowsOnlyWorker,
} from '../helpers/unserved-activities.js';
import type { rehearsalUpgrade } from './fixtures/index.js';

const run = promisify(execFile);

/**
 * The `temporal workflow` commands in the shell blocks of a section of the guide (up to its next heading of any
 * level, so subsections others write are not run here), continuation lines joined.
 */
function sectionCommands(markdown: string, heading: string, prefix = 'temporal workflow '): string[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`the guide has no "${heading}" section`);
  const rest = markdown.slice(start + heading.length + 2);
  // Headings are ## and deeper; a lone # starts a comment inside the shell blocks.
  const end = rest.search(/^##+ /m);
  const section = end >= 0 ? rest.slice(0, end) : rest;
  return [...section.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```/gm)]
    .flatMap((block) => block[1]!.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line.startsWith(prefix));
}

function flag(command: string, ...names: string[]): string | undefined {
  for (const name of names) {
    const match = new RegExp(`(?:^|\\s)${name}\\s+(\\S+)`).exec(command);
    if (match) return match[1];
  }
  return undefined;
}

/** The approval gates the guide names in the comment above a strategy's start command. */
function readmeGates(type: StrategyName): string[] {
  const comment = new RegExp(`^# [^\\n]*gates?: ([^\\n]*)\\ntemporal workflow start --type ${type} `, 'm').exec(readme);
  return comment?.[1]?.match(/[a-z0-9]+(?:-[a-z0-9]+)+/g) ?? [];
}

let readme = '';
let env: TestWorkflowEnvironment | undefined;
let worker: WorkflowsOnlyWorker | undefined;
let binDir: string | undefined;
let commands: string[] = [];
const opened = new Set<string>();

beforeAll(async () => {
  const cli = process.env.TEMPORAL_CLI_PATH;
  if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set: run through `npm test` (its global setup finds the CLI)');
  binDir = await mkdtemp(path.join(tmpdir(), 'readme-cli-'));
  await symlink(cli, path.join(binDir, 'temporal'));
  readme = await readFile(path.join(repoRoot(), 'docs', 'operating.md'), 'utf8');
  commands = [
    ...sectionCommands(readme, '## Start an upgrade'),
    ...sectionCommands(readme, '## Operating a running upgrade'),
  ];
  env = await createDevServerEnv();
  worker = await startWorkflowsOnlyWorker(
    env,
    DEFAULT_TASK_QUEUE,
    await loadInventory(path.join(repoRoot(), 'examples', 'inventory.yaml')),
  );
}, 300_000);

afterAll(async () => {
  for (const workflowId of opened) await terminateIfRunning(workflowId);
  await worker?.stop();
  await env?.teardown();
  if (binDir) await rm(binDir, { recursive: true, force: true });
});

async function terminateIfRunning(workflowId: string) {
  const handle = env!.client.workflow.getHandle(workflowId);
  const { status } = await handle.describe().catch(() => ({ status: { name: 'NOT_FOUND' } }));
  if (status.name === 'RUNNING') await handle.terminate('readme test over');
}

/** Runs a line of the guide through the shell from the repository root, as an operator would type it. */
async function temporal(command: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('bash', ['-c', command], {
      cwd: repoRoot(),
      env: {
        ...process.env,
        PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
        TEMPORAL_ADDRESS: env!.address,
        TEMPORAL_NAMESPACE: env!.namespace ?? 'default',
      },
      timeout: 120_000,
    });
    return { ok: true, stdout, stderr };
  } catch (err) {
    const failed = err as { stdout?: string; stderr?: string };
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(err) };
  }
}

async function succeeds(command: string) {
  const result = await temporal(command);
  if (!result.ok) throw new Error(`\`${command}\` failed:\n${result.stderr}`);
  return result.stdout;
}

function command(matches: (line: string) => boolean, what: string): string {
  const found = commands.filter(matches);
  if (found.length !== 1) throw new Error(`the guide should have one ${what} command, has ${found.length}`);
  return found[0]!;
}

const startCommand = (type: StrategyName) =>
  command((c) => c.startsWith('temporal workflow start ') && flag(c, '--type') === type, `start of ${type}`);

/** Runs the guide's start of a strategy and waits until the workflow is past its input. */
async function startFromReadme(type: StrategyName) {
  const line = startCommand(type);
  const workflowId = flag(line, '--workflow-id', '-w')!;
  opened.add(workflowId);
  const stdout = await succeeds(line);
  expect(stdout).toContain(workflowId);
  return { line, workflowId, accepted: await waitUntilAccepted(env!.client, workflowId) };
}

/** Lists until the visibility store has caught up with the expected run (it is eventually consistent). */
async function listUntilFound(line: string, workflowId: string) {
  let stdout = '';
  for (let i = 0; i < 120 && !stdout.includes(workflowId); i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    stdout = await succeeds(line);
  }
  return stdout;
}

describe('docs/operating.md start commands', () => {
  it.each(Object.keys(strategies) as StrategyName[])(
    '%s starts from its example input under the id the strategy derives, and its workflow accepts it',
    async (type) => {
      const line = startCommand(type);
      expect(flag(line, '--task-queue', '-t')).toBe(DEFAULT_TASK_QUEUE);
      const inputFile = flag(line, '--input-file')!;
      const input: unknown = JSON.parse(await readFile(path.join(repoRoot(), inputFile), 'utf8'));
      const { workflowId: derivedId, summary } = checkUpgradeInput(type, input);
      expect(flag(line, '--workflow-id', '-w')).toBe(derivedId);
      // The UI's line for the run: the guide gives the one the SDK would set.
      expect(/--static-summary\s+'([^']*)'/.exec(line)?.[1]).toBe(summary);

      const { workflowId, accepted } = await startFromReadme(type);
      try {
        expect(accepted).toMatchObject({ workflowId, strategy: type, state: 'running' });
        expect(await (await env!.client.workflow.getHandle(workflowId).describe()).staticSummary()).toBe(summary);
        // Each gate is named after the step it holds: the guide's gates are steps the run lists.
        const gates = readmeGates(type);
        expect(gates.length).toBeGreaterThan(0);
        expect(accepted.steps.map((step) => step.id)).toEqual(expect.arrayContaining(gates));
      } finally {
        await terminateIfRunning(workflowId);
      }
    },
  );
});

describe('docs/operating.md operating commands', () => {
  it('refuse a second upgrade of the same validator, answer status, steer and find the run', async () => {
    const { workflowId } = await startFromReadme('nearZeroDowntimeUpgrade');
    const handle = env!.client.workflow.getHandle(workflowId);
    const { runId } = await handle.describe();

    const second = await temporal(startCommand('nearSyncAndSwapUpgrade'));
    expect(second.ok).toBe(false);
    expect(second.stderr).toContain('already running');
    expect((await handle.describe()).runId).toBe(runId);

    const on = (verb: string, name: string) =>
      command((c) => c.startsWith(`temporal workflow ${verb} `) && c.includes(` ${name}`), `${verb} ${name}`);
    for (const line of commands.filter((c) => /^temporal workflow (query|update|signal) /.test(c)))
      expect(flag(line, '-w', '--workflow-id')).toBe(workflowId);

    const status = await succeeds(on('query', '--type status'));
    expect(status).toContain('"strategy":"nearZeroDowntimeUpgrade"');
    expect(status).toMatch(/"id":"check-nodes"[^}]*"state":"running"/);

    // No gate is waiting at the first step, so the workflow's validator refuses the approval, naming the
    // gate it read from the guide's input: the CLI, the update name and the input shape all reached it.
    const approval = await temporal(on('update execute', '--name approve'));
    expect(approval.ok).toBe(false);
    expect(approval.stderr).toMatch(/no gate is waiting for approval \(asked to approve \\*"stake-new-key\\*"\)/);

    await succeeds(on('signal', '--name pause'));
    expect(await getStatus(env!.client, workflowId)).toMatchObject({
      state: 'paused',
      pause: { by: 'alice', reason: 'incident' },
    });
    await succeeds(on('signal', '--name resume'));
    const resumed = await getStatus(env!.client, workflowId);
    expect(resumed.state).toBe('running');
    expect(resumed.pause).toBeUndefined();

    // Abort waits for the next safe point; the running step's activity never finishes here, so the
    // request is recorded and shown, and the run goes on holding the step.
    await succeeds(on('signal', '--name abort'));
    expect((await getStatus(env!.client, workflowId)).abortRequested).toMatchObject({
      by: 'alice',
      reason: 'wrong binary',
    });

    const lists = commands.filter((c) => c.startsWith('temporal workflow list '));
    const byValidator = lists.find((c) => c.includes('UpgradeValidator='));
    const byChain = lists.find((c) => c.includes('UpgradeChain='));
    const byStage = lists.find((c) => c.includes('UpgradeStage='));
    expect([byValidator, byChain, byStage]).not.toContain(undefined);
    for (const line of [byValidator!, byChain!, byStage!])
      expect(await listUntilFound(line, workflowId)).toMatch(
        new RegExp(`Running\\s+${workflowId.replace(/\./g, '\\.')}`),
      );

    const byStrategy = lists.find((c) => c.includes('UpgradeStrategy="polkadotValidatorSwapUpgrade"'))!;
    const polkadotId = flag(startCommand('polkadotValidatorSwapUpgrade'), '--workflow-id')!;
    const found = await listUntilFound(byStrategy, polkadotId);
    expect(found).not.toContain(workflowId);
  });

  it('approve passes the gate a run is waiting at', async () => {
    // No strategy reaches a gate without its activities, so the guide's approve command goes, with its
    // workflow id and gate swapped, to the rehearsal runbook, waiting at its gate on a worker of its own.
    const taskQueue = 'readme-rehearsal';
    const fixture = rehearsalActivities({ epochLength: 10, blockTimeMs: 100, now: () => Promise.resolve(Date.now()) });
    const rehearsalWorker = await Worker.create({
      connection: env!.nativeConnection,
      taskQueue,
      workflowBundle: await bundleFixtures(),
      activities: fixture.activities,
    });
    const identity = { chain: 'near', network: 'testnet', validator: 'readme.testnet' } as const;
    const workflowId = upgradeWorkflowId(identity);
    opened.add(workflowId);
    await env!.client.workflow.start<typeof rehearsalUpgrade>('rehearsalUpgrade', {
      args: [{ identity, manualApproval: true, waitEpochs: 1000, minRecheckMs: 200 }],
      taskQueue,
      workflowId,
      ...upgradeIdPolicy(),
    });
    const approve = command((c) => c.includes('--name approve'), 'approve');
    const readmeId = flag(approve, '-w')!;
    const line = approve.replace(readmeId, workflowId).replace('"gate":"stake-new-key"', '"gate":"switch"');
    expect(line).not.toBe(approve);

    await rehearsalWorker.runUntil(async () => {
      for (let i = 0; (await getStatus(env!.client, workflowId)).state !== 'awaiting-approval'; i++) {
        if (i > 400) throw new Error('the rehearsal never reached its gate');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const awaiting = command((c) => c.includes('UpgradeStage="awaiting-approval"'), 'list of runs at a gate');
      expect(await listUntilFound(awaiting, workflowId)).toMatch(
        new RegExp(`Running\\s+${workflowId.replace(/\./g, '\\.')}`),
      );
      const stdout = await succeeds(line);
      expect(stdout).toMatch(/Result\s+map\[approvedAt:\S+ gate:switch\]/);
      for (
        let i = 0;
        (await getStatus(env!.client, workflowId)).steps.find((s) => s.id === 'switch')?.state !== 'done';
        i++
      ) {
        if (i > 400) throw new Error('the rehearsal never switched after the approval');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await env!.client.workflow.getHandle(workflowId).terminate('readme test over');
    });
    expect(fixture.log).toContain('switch');
  });
});

describe('docs/operating.md vup plan examples', () => {
  it('run as written up to the worker: the inventory, the validator and the release are accepted', async () => {
    const plans = sectionCommands(readme, '## The vup CLI', 'npm run vup -- plan ');
    expect(plans.length).toBeGreaterThanOrEqual(2);
    expect(plans.some((p) => p.includes('--inventory '))).toBe(true);
    for (const line of plans) {
      // A queue no worker polls: plan resolves and checks everything it can without one, then says so (exit 1);
      // bad usage or input would exit 2 before contacting the server.
      const result = await temporal(`VUP_TASK_QUEUE=readme-no-worker ${line}`);
      expect(result.ok).toBe(false);
      expect(result.stderr).toContain('vup: no worker polls task queue "readme-no-worker"');
    }
  });
});
