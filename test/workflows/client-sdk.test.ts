/**
 * The client SDK against the dev server. Starting, refusing and listing use a real strategy with no worker
 * polling its queue (the example inputs name hosts that must not be contacted); status, approval, pause and
 * abort act on the rehearsal runbook, which runs on a worker here.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import {
  InvalidUpgradeInput,
  UpgradeAlreadyRunning,
  abort,
  approve,
  getStatus,
  listUpgrades,
  pause,
  resume,
  startUpgrade,
  upgradeListQuery,
  type StrategyInput,
} from '../../src/client/index.js';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { repoRoot } from '../../src/repo-root.js';
import { bundleFixtures, createDevServerEnv } from '../helpers/temporal.js';
import { rehearsalActivities } from '../helpers/rehearsal-chain.js';
import type { rehearsalUpgrade } from './fixtures/index.js';

let env: TestWorkflowEnvironment | undefined;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

async function example(): Promise<StrategyInput<'nearZeroDowntimeUpgrade'>> {
  const text = await readFile(path.join(repoRoot(), 'examples', 'near-zero-downtime.input.json'), 'utf8');
  return JSON.parse(text) as StrategyInput<'nearZeroDowntimeUpgrade'>;
}

async function listed(validator: string, expected: number) {
  for (let i = 0; i < 50; i++) {
    const found = await listUpgrades(env!.client, { validator });
    if (found.length >= expected) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  return listUpgrades(env!.client, { validator });
}

describe('startUpgrade', () => {
  it('refuses an invalid input with every problem named, before anything reaches the server', async () => {
    const input = await example();
    const bad = { ...input, validator: { ...input.validator, accountId: 'Not A Near Account' }, extra: 1 };
    const err = await startUpgrade(env!.client, 'nearZeroDowntimeUpgrade', bad as never, {
      taskQueue: 'no-worker',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidUpgradeInput);
    expect((err as InvalidUpgradeInput).problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^validator\.accountId: must be a NEAR account id/),
        expect.stringMatching(/^\(input\): Unrecognized key: "extra"/),
      ]),
    );
    const wouldBe = upgradeWorkflowId({
      chain: 'near',
      network: input.validator.network,
      validator: 'Not A Near Account',
    });
    await expect(env!.client.workflow.getHandle(wouldBe).describe()).rejects.toThrow(WorkflowNotFoundError);
  });

  it('starts under the validator’s id with its search attributes, and refuses a second run', async () => {
    const input = await example();
    const accountId = `sdk-${randomUUID().slice(0, 8)}.poolv1.near`;
    const mine = { ...input, validator: { ...input.validator, accountId } };
    const started = await startUpgrade(env!.client, 'nearZeroDowntimeUpgrade', mine, { taskQueue: 'no-worker' });

    expect(started.workflowId).toBe(`upgrade-near-${input.validator.network}-${accountId}`);
    await expect(
      startUpgrade(env!.client, 'nearZeroDowntimeUpgrade', mine, { taskQueue: 'no-worker' }),
    ).rejects.toThrow(UpgradeAlreadyRunning);

    const [found, ...more] = await listed(accountId, 1);
    expect(more).toEqual([]);
    expect(found).toMatchObject({
      workflowId: started.workflowId,
      strategy: 'nearZeroDowntimeUpgrade',
      chain: 'near',
      network: input.validator.network,
      validator: accountId,
      status: 'RUNNING',
    });
    const description = await env!.client.workflow.getHandle(started.workflowId).describe();
    expect(await description.staticSummary()).toMatch(new RegExp(`^NEAR zero-downtime: ${accountId} moves to `));
    await env!.client.workflow.getHandle(started.workflowId).terminate('test over');
  });
});

describe('listUpgrades', () => {
  it('quotes filter values, so a value cannot change the query', async () => {
    expect(upgradeListQuery({ validator: 'x" OR UpgradeChain != "' })).toBe(
      'UpgradeStrategy IS NOT NULL AND UpgradeValidator = "x\\" OR UpgradeChain != \\""',
    );
    expect(await listUpgrades(env!.client, { validator: 'x" OR UpgradeChain != "' })).toEqual([]);
  });
});

describe('status, approval, pause and abort', () => {
  it('steers a running upgrade', async () => {
    const taskQueue = `sdk-${randomUUID()}`;
    const fixture = rehearsalActivities({ epochLength: 10, blockTimeMs: 100, now: () => Promise.resolve(Date.now()) });
    const worker = await Worker.create({
      connection: env!.nativeConnection,
      taskQueue,
      workflowBundle: await bundleFixtures(),
      activities: fixture.activities,
    });
    const identity = { chain: 'near', network: 'testnet', validator: 'steered.near' } as const;
    const workflowId = upgradeWorkflowId(identity);
    const handle = await env!.client.workflow.start<typeof rehearsalUpgrade>('rehearsalUpgrade', {
      args: [{ identity, manualApproval: true, waitEpochs: 1000, minRecheckMs: 200 }],
      taskQueue,
      workflowId,
      ...upgradeIdPolicy(),
    });
    const until = async (state: string) => {
      for (let i = 0; i < 300; i++) {
        const status = await getStatus(env!.client, workflowId);
        if (status.state === state) return status;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`never ${state}`);
    };

    await worker.runUntil(async () => {
      expect((await until('awaiting-approval')).pendingApproval?.gate).toBe('switch');
      await expect(approve(env!.client, workflowId, 'finish')).rejects.toThrow(WorkflowUpdateFailedError);
      expect(await approve(env!.client, workflowId, 'switch', { by: 'ops-bot' })).toMatchObject({ gate: 'switch' });
      await until('waiting');
      await pause(env!.client, workflowId, { by: 'ops-bot', reason: 'maintenance window closed' });
      expect((await until('paused')).pause).toMatchObject({ by: 'ops-bot' });
      await resume(env!.client, workflowId);
      await until('waiting');
      await abort(env!.client, workflowId, { reason: 'release pulled', by: 'ops-bot' });
      await expect(handle.result()).rejects.toThrow();
      expect((await getStatus(env!.client, workflowId)).state).toBe('aborted');
    });
    expect(fixture.log).toEqual(['prepare', 'switch', 'undo-switch', 'undo-prepare']);
  });
});
