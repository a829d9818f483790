/**
 * Both Temporal servers are real: the Java time-skipping server skips a 30-day durable timer, and a run on
 * the CLI's dev server is then found by the `temporal` binary itself.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { bundleFixtures, createDevServerEnv, createTimeSkippingEnv } from '../helpers/temporal.js';
import { UpgradeValidator } from '../../src/api/search-attributes.js';

const run = promisify(execFile);
let bundle: WorkflowBundle;

beforeAll(async () => {
  bundle = await bundleFixtures();
});

describe('time-skipping server (Java, from Maven Central)', () => {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('completes a workflow holding a 30-day durable timer by skipping time', async () => {
    const worker = await Worker.create({
      connection: env!.nativeConnection,
      taskQueue: 'servers-ts',
      workflowBundle: bundle,
    });
    const before = await env!.currentTimeMs();
    const result: string = await worker.runUntil(
      env!.client.workflow.execute<(days: number) => Promise<string>>('sleeper', {
        args: [30],
        taskQueue: 'servers-ts',
        workflowId: 'sleeper-30d',
      }),
    );
    const skippedDays = ((await env!.currentTimeMs()) - before) / 86_400_000;
    expect(result).toBe('slept 30 days');
    expect(skippedDays).toBeGreaterThanOrEqual(30);
  });
});

describe('dev server (temporal CLI built from the Go module proxy)', () => {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await createDevServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a workflow that the temporal binary then describes and lists by search attribute', async () => {
    const cli = process.env.TEMPORAL_CLI_PATH;
    if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set: test/global-setup.js found no temporal binary');
    const worker = await Worker.create({
      connection: env!.nativeConnection,
      taskQueue: 'servers-dev',
      workflowBundle: bundle,
    });
    const workflowId = `sleeper-dev-${Date.now()}`;
    await worker.runUntil(
      env!.client.workflow.execute('sleeper', {
        args: [0],
        taskQueue: 'servers-dev',
        workflowId,
        typedSearchAttributes: [{ key: UpgradeValidator, value: 'servers-test.near' }],
      }),
    );
    const address = ['--address', env!.address];

    const described = JSON.parse(
      (await run(cli, ['workflow', 'describe', '-w', workflowId, ...address, '-o', 'json'])).stdout,
    ) as { workflowExecutionInfo: { status: string; type: { name: string } } };
    expect(described.workflowExecutionInfo.status).toMatch(/COMPLETED/);
    expect(described.workflowExecutionInfo.type.name).toBe('sleeper');

    // Visibility is eventually consistent: ask until the list shows the run.
    let listed: { execution: { workflowId: string } }[] = [];
    for (let i = 0; i < 50 && listed.length === 0; i++) {
      const out = await run(cli, [
        'workflow',
        'list',
        ...address,
        '--query',
        `UpgradeValidator="servers-test.near"`,
        '-o',
        'json',
      ]);
      listed = out.stdout.trim() ? (JSON.parse(out.stdout) as typeof listed) : [];
      if (listed.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(listed.map((w) => w.execution.workflowId)).toEqual([workflowId]);
  });
});
