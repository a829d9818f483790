/**
 * The vup CLI as operators run it: a child process (node + tsx on src/cli/main.ts) against the Temporal dev
 * server, with a real worker running the real activities over SSH on the NEAR testbed (sshd hosts, simulated
 * neard, local NEAR network). plan's preflight checks run for real on the worker; start, status, approve,
 * abort, list and history act on real runs of nearStopAndRestartUpgrade, which with manualApproval holds at
 * its restart-on-release gate.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { stepsOf } from '../../src/api/plans.js';
import { getStatus, listUpgrades } from '../../src/client/index.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import { freePort } from '../../devnet/ports.js';
import { staticInventory } from '../../src/config/inventory-source.js';
import { loadInventory } from '../../src/config/load-inventory.js';
import { startNearTestbed, startTestbedService, type NearTestbed } from '../../devnet/testbeds/near.js';
import { repoRoot } from '../../src/repo-root.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';
import { runTsx } from '../helpers/tsx-process.js';
import { startWorkflowsOnlyWorker } from '../helpers/unserved-activities.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';

const nearStopAndRestartPlan = stepsOf('nearStopAndRestartUpgrade');

const POOL = 'pool.poolv1.near';
const WORKFLOW_ID = `upgrade-near-localnet-${POOL}`;

let env: TestWorkflowEnvironment | undefined;
let bed: NearTestbed | undefined;
let worker: Worker | undefined;
let workerRun: Promise<void> | undefined;
let scratch: string;
let inventoryFile: string;
const taskQueue = `cli-${randomUUID()}`;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'vup-cli-test-'));
  env = await createDevServerEnv();
  bed = await startNearTestbed({ epochLength: 12, blockTimeMs: 150 });
  await startTestbedService(bed, 'val-a');
  // One inventory: the file the CLI reads the validator's identity from is the worker's.
  inventoryFile = path.join(scratch, 'inventory.json');
  await writeFile(inventoryFile, JSON.stringify(inventoryOf(bed)));
  const inventory = staticInventory(await loadInventory(inventoryFile));
  worker = (
    await createUpgradeWorker({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleUpgradeWorkflows(),
      activities: { connections: bed.connections, heartbeatIntervalMs: 500, inventory },
    })
  ).worker;
  workerRun = worker.run();
}, 240_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun?.catch(() => undefined);
  await bed?.stop();
  await env?.teardown();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 120_000);

/** The testbed as an operator's inventory: validator "pool" runs on val-a, val-b is its standby. */
function inventoryOf(b: NearTestbed) {
  const owner = b.validators[POOL]!;
  const node = (id: string) => {
    const n = b.nodes[id]!;
    return { id, chain: 'near', host: n.host.name, service: n.service, home: n.home, binary: n.binary, rpc: n.rpcUrl };
  };
  return {
    version: 1,
    hosts: Object.values(b.hosts).map((h) => h.spec),
    nodes: [node('val-a'), node('val-b')],
    validators: [
      {
        id: 'pool',
        chain: 'near',
        network: b.networkId,
        accountId: POOL,
        staking: { type: 'pool', owner: owner.ownerId, signer: owner.signer.id },
        nodes: { primary: 'val-a', standby: 'val-b' },
        networkRpc: b.rpcUrl,
      },
    ],
    signers: [owner.signer],
  };
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function vup(args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
  const cli = path.join(repoRoot(), 'src', 'cli', 'main.ts');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', cli, ...args],
      {
        cwd: repoRoot(),
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: env!.address,
          TEMPORAL_NAMESPACE: env!.namespace ?? 'default',
          VUP_TASK_QUEUE: taskQueue,
          ...extraEnv,
        },
        timeout: 300_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Every stderr line that is the CLI's (Node may add its own warnings). */
const cliErrors = (run: CliRun) =>
  run.stderr.split('\n').filter((l) => l.startsWith('vup: ') || l.startsWith('error: '));

const stopAndRestart = (extra: string[] = []) => [
  '--strategy',
  'nearStopAndRestartUpgrade',
  '--inventory',
  inventoryFile,
  '--validator',
  'pool',
  '--release-staged',
  bed!.binaries.new.staged('val-a'),
  '--release-version',
  bed!.binaries.new.version,
  ...extra,
];

async function statusWhen(what: string, ok: (s: UpgradeStatus) => boolean, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await getStatus(env!.client, WORKFLOW_ID).catch(() => undefined);
    if (s && ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('bad input: one line, a non-zero exit code, nothing contacted', () => {
  it('a missing input file', async () => {
    const run = await vup(['plan', '-s', 'nearStopAndRestartUpgrade', '--input-file', path.join(scratch, 'nope.json')]);
    expect(run.code).toBe(2);
    expect(cliErrors(run)).toEqual([expect.stringMatching(/^vup: cannot read .*nope\.json \(ENOENT\)$/)]);
    expect(run.stdout).toBe('');
  });

  it('an input that fails the strategy’s schema, every field named on the one line', async () => {
    const file = path.join(scratch, 'bad.json');
    await writeFile(file, JSON.stringify({ validator: { network: 'moon', accountId: 'Bad Account' } }));
    const run = await vup(['start', '-s', 'nearStopAndRestartUpgrade', '-f', file]);
    expect(run.code).toBe(2);
    const [line, ...more] = cliErrors(run);
    expect(more).toEqual([]);
    expect(line).toMatch(
      /^vup: invalid nearStopAndRestartUpgrade input: validator\.network: .*; validator\.accountId: .*; release: /,
    );
  });

  it('a validator the inventory does not hold, and an unknown strategy', async () => {
    const run = await vup(['plan', ...stopAndRestart(['--release-sha256', bed!.binaries.new.sha256]), '-v', 'other']);
    expect(run.code).toBe(2);
    expect(cliErrors(run)).toEqual(['vup: no validator "other" in the inventory (it has: pool)']);
    const strategy = await vup(['plan', '-s', 'nearFastUpgrade', '-i', inventoryFile, '-v', 'pool']);
    expect(strategy.code).toBe(2);
    expect(cliErrors(strategy)).toEqual([
      expect.stringMatching(/^error: option .*--strategy.* argument 'nearFastUpgrade' is invalid/),
    ]);
  });

  it('an unreachable Temporal server', async () => {
    const port = await freePort();
    const run = await vup(['list'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(run.code).toBe(3);
    expect(cliErrors(run)).toEqual([
      `vup: cannot reach Temporal at 127.0.0.1:${port}: Failed to connect before the deadline`,
    ]);
  });

  it('an upgrade id that does not exist', async () => {
    const run = await vup(['history', 'upgrade-near-localnet-nobody.near']);
    expect(run.code).toBe(4);
    expect(cliErrors(run)).toEqual(['vup: no upgrade with id upgrade-near-localnet-nobody.near']);
  });
});

describe('plan', () => {
  it('runs the preflight checks on the worker over SSH and prints the steps; all pass', async () => {
    const run = await vup([
      'plan',
      ...stopAndRestart(['--release-sha256', bed!.binaries.new.sha256, '--min-free-disk', '0.01']),
    ]);
    expect(cliErrors(run)).toEqual([]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`plan for ${WORKFLOW_ID} (nearStopAndRestartUpgrade)`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^  ✓ network RPC ${bed!.rpcUrl}: chain `)),
        expect.stringMatching(
          /^ {2}✓ node val-a: node RPC .*: neard 2\.3\.0 at #\d+, \d+ block\(s\) behind the network, signs for pool\.poolv1\.near$/,
        ),
        expect.stringMatching(/^ {2}✓ node val-a: validator key in .*: ed25519:\w+ of pool\.poolv1\.near$/),
        expect.stringMatching(/^ {2}✓ node val-a: free disk at .*: [\d.]+ GiB free of/),
        expect.stringMatching(/^ {2}✓ host val-a: staged release .*: sha256 matches$/),
        '  ✓ no other upgrade of this validator running: none open',
      ]),
    );
    for (const [i, step] of nearStopAndRestartPlan.entries()) {
      expect(lines).toContain(`  ${String(i + 1).padStart(2)}. ${step.title}  [${step.id}]`);
    }
    expect(lines).toContain('all 6 checks passed');
  });

  it('says so when no worker polls the task queue, instead of waiting for one', async () => {
    const run = await vup([
      'plan',
      ...stopAndRestart(['--release-sha256', bed!.binaries.new.sha256, '--task-queue', 'nobody-polls-here']),
    ]);
    expect(run.code).toBe(1);
    expect(cliErrors(run)).toEqual([
      'vup: no worker polls task queue "nobody-polls-here": the checks run on the worker, start it first (npm run worker)',
    ]);
  });

  it('names a failing check clearly (a wrong checksum) and exits 1', async () => {
    const wrong = 'f'.repeat(64);
    const run = await vup(['plan', ...stopAndRestart(['--release-sha256', wrong, '--min-free-disk', '0.01'])]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `  ✗ host val-a: staged release ${bed!.binaries.new.staged('val-a')}: sha256 is ${bed!.binaries.new.sha256}, the input says ${wrong}\n`,
    );
    expect(run.stdout).toContain('1 of 6 checks failed: fix it before `vup start`');
  });

  it('with --deadline: refuses a plan projected to finish past it, passes one that meets it', async () => {
    const plan = (deadline: string) =>
      vup([
        'plan',
        ...stopAndRestart(['--release-sha256', bed!.binaries.new.sha256, '--min-free-disk', '0.01']),
        '--deadline',
        deadline,
      ]);
    // A stop and restart is assumed to take about 15 minutes (no migration).
    const soon = new Date(Date.now() + 60_000).toISOString();
    const late = await plan(soon);
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(
      new RegExp(
        `\\n {2}✗ finish before the deadline ${soon.replace(/\./g, '\\.')}: projected finish \\S+, about 15 min for nearStopAndRestartUpgrade \\(epoch of \\d+ blocks at \\d+ ms observed\\): past the deadline\\n`,
      ),
    );
    expect(late.stdout).toContain('1 of 7 checks failed: fix it before `vup start`');
    const inTime = await plan(new Date(Date.now() + 2 * 3600_000).toISOString());
    expect(cliErrors(inTime)).toEqual([]);
    expect(inTime.code).toBe(0);
    expect(inTime.stdout).toMatch(/\n {2}✓ finish before the deadline \S+: projected finish /);
    expect(inTime.stdout).toContain('all 7 checks passed');
  });

  it('zero-downtime: resolves the staking signer on the worker (public key only) and notes the new node is not running', async () => {
    const owner = bed!.validators[POOL]!;
    const run = await vup([
      'plan',
      '-s',
      'nearZeroDowntimeUpgrade',
      '-i',
      inventoryFile,
      '-v',
      'pool',
      '--release-staged',
      bed!.binaries.new.staged('val-b'),
      '--release-sha256',
      bed!.binaries.new.sha256,
      '--min-free-disk',
      '0.01',
    ]);
    expect(cliErrors(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`  ✓ signer "${owner.signer.id}" for ${owner.ownerId}: resolves on the worker to ed25519:\\w+\\n`),
    );
    expect(run.stdout).toContain('  · new node val-b: node RPC');
    expect(run.stdout).toContain('not answering: the upgrade starts this node itself');
    expect(run.stdout).not.toMatch(/private|secret/i);
  });
});

describe('start, status, approve, abort, list and history', () => {
  let abortedRunId: string;
  let approvedRunId: string;

  // The aborted run goes first: a run names its binary backup after the first 8 characters of its run id,
  // which runs started within about a minute share (UUIDv7 time prefix), so a run right after a completed
  // upgrade finds a backup of another binary under its name and refuses to go on (reported, workflows/common).
  it('aborts a run (started from an input file) at its gate; the status says who aborted and why', async () => {
    const inputFile = path.join(scratch, 'stop-and-restart.input.json');
    await writeFile(
      inputFile,
      JSON.stringify({
        validator: { network: bed!.networkId, accountId: POOL },
        node: 'val-a',
        release: bed!.binaries.new.release('val-a'),
      }),
    );
    // --manual-approval applies over the file, which does not ask for it.
    const started = await vup(['start', '-s', 'nearStopAndRestartUpgrade', '-f', inputFile, '--manual-approval']);
    expect(cliErrors(started)).toEqual([]);
    expect(started.code).toBe(0);
    abortedRunId = /^started \S+ \(run (\S+)\)$/m.exec(started.stdout)![1]!;
    await statusWhen('the restart-on-release gate', (s) => s.pendingApproval?.gate === 'restart-on-release');

    const aborted = await vup(['abort', WORKFLOW_ID, '--by', 'bob', '--reason', 'wrong window']);
    expect(cliErrors(aborted)).toEqual([]);
    expect(aborted.code).toBe(0);
    await statusWhen('the abort', (s) => s.state === 'aborted');

    const status = await vup(['status', WORKFLOW_ID]);
    expect(status.stdout).toMatch(/^state: aborted, /m);
    expect(status.stdout).toMatch(/^abort requested by bob at \d\d:\d\d:\d\d UTC: wrong window$/m);
    const noReason = await vup(['abort', WORKFLOW_ID]);
    expect(noReason.code).toBe(2);
    expect(cliErrors(noReason)).toEqual(["error: required option '--reason <text>' not specified"]);
  }, 300_000);

  it('starts with manual approval, shows the gate, refuses a second plan’s "no other upgrade" check, approves, watches to the end', async () => {
    const started = await vup([
      'start',
      ...stopAndRestart(['--release-sha256', bed!.binaries.new.sha256, '--manual-approval']),
    ]);
    expect(cliErrors(started)).toEqual([]);
    expect(started.code).toBe(0);
    const match = /^started (\S+) \(run (\S+)\)$/m.exec(started.stdout);
    expect(match?.[1]).toBe(WORKFLOW_ID);
    approvedRunId = match![2]!;

    await statusWhen('the restart-on-release gate', (s) => s.pendingApproval?.gate === 'restart-on-release');
    const status = await vup(['status', WORKFLOW_ID]);
    expect(status.code).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toBe(`${WORKFLOW_ID}  (nearStopAndRestartUpgrade)`);
    expect(lines[1]).toMatch(/^state: awaiting approval, 3 of 7 steps done, started \d\d:\d\d:\d\d UTC/);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^✓ {2}1\. Check the node and its database against the new release +done +\d\d:\d\d:\d\d \d+s$/,
        ),
        expect.stringMatching(
          /^· {2}4\. Stop the node, put the new release in place, start it \(one host-side step\) +pending$/,
        ),
        expect.stringMatching(/^approval needed at gate "restart-on-release": /),
        `  vup approve ${WORKFLOW_ID} --gate restart-on-release`,
      ]),
    );

    const again = await vup([
      'plan',
      ...stopAndRestart(['--release-sha256', bed!.binaries.new.sha256, '--min-free-disk', '0.01']),
    ]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(
      new RegExp(
        `  ✗ no other upgrade of this validator running: nearStopAndRestartUpgrade runs since \\S+ \\(run ${approvedRunId}\\)\\n`,
      ),
    );

    const approved = await vup(['approve', WORKFLOW_ID, '--by', 'alice', '--note', 'window open']);
    expect(cliErrors(approved)).toEqual([]);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/^approved gate "restart-on-release" of \S+ at \S+\n$/);

    const watched = await vup(['status', WORKFLOW_ID, '--watch', '--interval', '1']);
    expect(cliErrors(watched)).toEqual([]);
    expect(watched.code).toBe(0);
    const frames = watched.stdout.split(`${WORKFLOW_ID}  (nearStopAndRestartUpgrade)\n`).filter(Boolean);
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.at(-1)).toMatch(/^state: completed, 7 of 7 steps done/);
  }, 400_000);

  it('lists both runs by validator, and not under another validator', async () => {
    for (let i = 0; i < 100 && (await listUpgrades(env!.client, { validator: POOL })).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 300));
    }
    const run = await vup(['list', '--validator', POOL]);
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^WORKFLOW ID +STRATEGY +STATUS +STAGE +STARTED +CLOSED$/);
    expect(rows.slice(1)).toHaveLength(2);
    for (const row of rows.slice(1))
      expect(row).toMatch(new RegExp(`^${WORKFLOW_ID} +nearStopAndRestartUpgrade +\\w+`));
    expect(rows.slice(1).some((r) => / COMPLETED /.test(r))).toBe(true);

    const other = await vup(['list', '--validator', 'other.poolv1.near']);
    expect(other.stdout).toBe('no upgrades found\n');
  });

  it('history: a readable timeline with the steps, the approval and the abort with who and why', async () => {
    const first = await vup(['history', WORKFLOW_ID]);
    expect(cliErrors(first)).toEqual([]);
    expect(first.code).toBe(0);
    const lines = first.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${WORKFLOW_ID} \\(run ${approvedRunId}\\), from \\d{4}-\\d\\d-\\d\\d `));
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\d\d:\d\d:\d\d {2}● started nearStopAndRestartUpgrade on task queue /),
        expect.stringMatching(/^\d\d:\d\d:\d\d {2}→ stage restart-on-release$/),
        expect.stringMatching(
          /^\d\d:\d\d:\d\d {2}✉ update approve accepted gate "restart-on-release" by alice: window open$/,
        ),
        expect.stringMatching(/^\d\d:\d\d:\d\d {2}✓ stop neard on val-a, put \S+ in place, start it \(\d+s\)$/),
        expect.stringMatching(/^\d\d:\d\d:\d\d {2}● completed$/),
      ]),
    );
    // The approval is recorded before the node is stopped.
    const approvedAt = lines.findIndex((l) => l.includes('update approve accepted'));
    const stoppedAt = lines.findIndex((l) => / ✓ stop neard on val-a/.test(l));
    expect(approvedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeGreaterThan(approvedAt);

    const aborted = await vup(['history', WORKFLOW_ID, '--run', abortedRunId]);
    expect(aborted.stdout).toMatch(/^\d\d:\d\d:\d\d {2}✉ signal abort by bob: wrong window$/m);
    expect(aborted.stdout).toMatch(/^\d\d:\d\d:\d\d {2}✗ failed: aborted by bob: wrong window/m);
    expect(aborted.stdout).not.toContain('update approve accepted');
  });

  it('status --watch rides out a status query nobody answers, and ends when the run is terminated', async () => {
    // A run on a queue no worker polls yet: its status query cannot be answered, as while a worker restarts.
    const unserved = `unserved-${randomUUID()}`;
    const started = await vup([
      'start',
      ...stopAndRestart(['--release-sha256', bed!.binaries.new.sha256, '--task-queue', unserved]),
    ]);
    expect(cliErrors(started)).toEqual([]);
    expect(started.code).toBe(0);
    const watch = runTsx(env!, path.join('src', 'cli', 'main.ts'), ['status', WORKFLOW_ID, '--watch']);
    const out = () => watch.output().stdout;
    const err = () => watch.output().stderr;
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; !ok(); i++) {
        if (i > 1200) throw new Error(`timed out waiting for ${what}; stdout: ${out()}; stderr: ${err()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until('the watch to report the unanswered query', () =>
      err().includes(`vup: no status from ${WORKFLOW_ID} (`),
    );
    const worker = await startWorkflowsOnlyWorker(env!, unserved);
    try {
      await until('a status frame once a worker answers', () => out().includes(nearStopAndRestartPlan[0]!.title));
      await env!.client.workflow.getHandle(WORKFLOW_ID).terminate('watch test over');
      expect(await watch.exited).toBe(1);
      expect(err()).toContain(`vup: ${WORKFLOW_ID} ended: terminated`);
    } finally {
      watch.kill();
      await worker.stop();
    }
  });
});
