/**
 * `vup plan` for the Polkadot A/B swap: the CLI as a child process against the dev server, a worker with the
 * real activities, and the Polkadot testbed (relay mode: sshd hosts, simulated polkadot nodes, local relay
 * chain). The preflight looks at the relay, both nodes, their disks, the staged release and the set-keys
 * signer for real; a signer of the wrong account is a failed check, named, with the secret nowhere.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { u8aToHex } from '@polkadot/util';
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { plannedSteps } from '../../src/api/plans.js';
import type { PolkadotValidatorSwapInput, PolkadotValidatorSwapTargets } from '../../src/api/polkadot-inputs.js';
import { startPolkadotTestbed, type PolkadotTestbed } from '../../devnet/testbeds/polkadot.js';
import { InventoryBook } from '../../devnet/testbeds/targets-inventory.js';
import { repoRoot } from '../../src/repo-root.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';

let env: TestWorkflowEnvironment | undefined;
let bed: PolkadotTestbed | undefined;
let worker: Worker | undefined;
let workerRun: Promise<void> | undefined;
let scratch: string;
const taskQueue = `cli-dot-${randomUUID()}`;
/** The worker's inventory: the testbed's, as each test's targets describe it. */
const inventory = new InventoryBook();

/** The workflow input of a swap with these targets, whose inventory the worker now holds. */
function swapOn(overrides: Partial<PolkadotValidatorSwapTargets> = {}) {
  const upgrade = bed!.swapUpgrade(overrides);
  inventory.add(upgrade.inventory);
  return upgrade.input;
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'vup-cli-dot-test-'));
  env = await createDevServerEnv();
  bed = await startPolkadotTestbed({ mode: 'relay', sessionLength: 12, blockTimeMs: 150 });
  worker = (
    await createUpgradeWorker({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleUpgradeWorkflows(),
      activities: { connections: bed.connections, inventory },
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

async function plan(input: PolkadotValidatorSwapInput) {
  const file = path.join(scratch, `${randomUUID()}.json`);
  await writeFile(file, JSON.stringify(input));
  const args = ['plan', '-s', 'polkadotValidatorSwapUpgrade', '-f', file, '--min-free-disk', '0.01'];
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot(), 'src', 'cli', 'main.ts'), ...args],
      {
        cwd: repoRoot(),
        env: { ...process.env, TEMPORAL_ADDRESS: env!.address, VUP_TASK_QUEUE: taskQueue },
        timeout: 300_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

it('checks the relay, A synced, B not yet running, both disks, the staged release and the proxy signer', async () => {
  const input = swapOn();
  const run = await plan(input);
  expect(run.stderr.split('\n').filter((l) => l.startsWith('vup: '))).toEqual([]);
  expect(run.code).toBe(0);
  const lines = run.stdout.split('\n');
  const a = bed!.nodes['val-a']!;
  const { proxy, proxySigner } = bed!.validator;
  // A local network's accounts are written in the generic form (its one form, src/config/ss58.ts).
  const proxyAccount = encodeAddress(proxy.publicKey, 42);
  expect(lines).toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`^  ✓ relay RPC ${bed!.relayUrl}: .+ at #\\d+$`)),
      expect.stringMatching(new RegExp(`^  ✓ A val-a: node RPC ${a.rpcUrl}: .+ at #\\d+, \\d+ peer\\(s\\)$`)),
      '  · B val-b: node RPC ' + bed!.nodes['val-b']!.rpcUrl + ': not answering: the upgrade starts this node itself',
      expect.stringMatching(/^ {2}✓ A val-a: free disk at .*: [\d.]+ GiB free/),
      expect.stringMatching(/^ {2}✓ B val-b: free disk at .*: [\d.]+ GiB free/),
      expect.stringMatching(/^ {2}✓ A val-a: staged release .*: sha256 matches$/),
      `  ✓ signer "${proxySigner.id}" for proxy ${proxyAccount}: resolves on the worker to that account`,
      '  ✓ no other upgrade of this validator running: none open',
    ]),
  );
  // The round trip with a release for A (the input's default handBack).
  for (const [i, step] of plannedSteps('polkadotValidatorSwapUpgrade', {
    release: input.release,
    handBack: true,
  }).entries()) {
    expect(lines).toContain(`  ${String(i + 1).padStart(2)}. ${step.title}  [${step.id}]`);
  }
});

it('a signer holding another account’s key is a failed check that names both accounts', async () => {
  const { setKeys } = bed!.swapTargets();
  const { stranger, strangerSigner, proxy } = bed!.validator;
  const run = await plan(
    swapOn({ setKeys: { ...setKeys, signedBy: { ...setKeys.signedBy, signer: strangerSigner } } }),
  );
  expect(run.code).toBe(1);
  const line = run.stdout.split('\n').find((l) => l.includes(`signer "${strangerSigner.id}"`));
  expect(line).toMatch(/^ {2}✗ /);
  const named = new RegExp(
    `holds the key of (\\w+), but the proxy ${encodeAddress(proxy.publicKey, 42)} must sign$`,
  ).exec(line ?? '');
  // The account is printed with the generic prefix: the same account as the stranger's.
  expect(u8aToHex(decodeAddress(named?.[1] ?? ''))).toBe(u8aToHex(stranger.publicKey));
  expect(run.stdout).not.toContain('//Eve');
  expect(run.stdout).toContain('1 of 8 checks failed');
});
