/**
 * The SDK example (examples/sdk/start-and-watch.ts) with --approve, end to end: the production worker with
 * its activities, real sshd hosts and the local NEAR network. The example starts a key hot swap that asks
 * for manual approval, approves the gate when the run waits there, and watches it to completion; the
 * network's counters then show the key moved without a height signed twice.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_TASK_QUEUE } from '../../src/api/identity.js';
import { checkUpgradeInput } from '../../src/client/index.js';
import { staticInventory } from '../../src/config/inventory-source.js';
import { nearBaseline, settledNearCounters, startNearScenario } from '../../devnet/scenarios/near.js';
import type { NearTestbed } from '../../devnet/testbeds/near.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';
import { runTsx } from '../helpers/tsx-process.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';

let env: TestWorkflowEnvironment | undefined;
let bed: NearTestbed | undefined;
let scratch: string | undefined;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sdk-example-e2e-'));
  env = await createDevServerEnv();
}, 300_000);
afterAll(async () => {
  await bed?.stop();
  await env?.teardown();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const runExample = (...args: string[]) => runTsx(env!, 'examples/sdk/start-and-watch.ts', args);

it('starts a hot swap that waits for approval, approves it with --approve and watches it complete', async () => {
  const scenario = await startNearScenario('nearValidatorKeyHotSwap', { manualApproval: true });
  bed = scenario.bed;
  const inputFile = path.join(scratch!, 'hot-swap.input.json');
  await writeFile(inputFile, JSON.stringify(scenario.input));
  const { workflowId } = checkUpgradeInput('nearValidatorKeyHotSwap', scenario.input);
  const before = await nearBaseline(bed);

  const { worker } = await createUpgradeWorker({
    connection: env!.nativeConnection,
    taskQueue: DEFAULT_TASK_QUEUE,
    workflowBundle: await bundleUpgradeWorkflows(),
    // The worker's inventory is the testbed's; the input the example starts names the validator only.
    activities: {
      connections: bed.connections,
      heartbeatIntervalMs: 500,
      inventory: staticInventory(scenario.inventory),
    },
  });
  const example = runExample('nearValidatorKeyHotSwap', inputFile, '--approve');
  try {
    const code = await worker.runUntil(example.exited);
    const { stdout, stderr } = example.output();
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(`started ${workflowId}`);
    expect(lines.at(-1)).toBe('upgrade completed');
    // One gate in a hot swap: the example approved it when the run waited there, and the step it holds
    // ran only after the approval, to its end.
    const approvals = lines.flatMap((l, i) => (/^approved \S+$/.test(l) ? [{ gate: l.slice(9), at: i }] : []));
    expect(approvals).toHaveLength(1);
    const { gate, at } = approvals[0]!;
    expect(lines[at - 1]).toMatch(new RegExp(`^waiting for approval of ${gate}: `));
    // Gates are named after the step they hold.
    const held = lines.findIndex((l) => new RegExp(`^(running|done) ${gate}\\b`).test(l));
    expect(held).toBeGreaterThan(at);
    expect(lines.slice(at).some((l) => l.startsWith(`done ${gate}`))).toBe(true);
  } finally {
    example.kill();
  }
  const after = await settledNearCounters(bed);
  expect(after.doubleSignHeights.length).toBe(before.doubleSignHeights.length);
  expect(after.producedBlocks).toBeGreaterThan(before.producedBlocks);
}, 600_000);
