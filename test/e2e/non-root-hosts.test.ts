/**
 * The testbeds' hosts as docs/host-access.md sets up a validator host: the worker logs in as an unprivileged
 * account (`vup-test` when the tests run as root, as in CI; the test's own user otherwise), which owns the
 * nodes' homes, keys and binaries and runs the nodes. One NEAR upgrade (stop and restart) and one Polkadot
 * swap (B takes over, A upgraded) end to end, judged as the other e2e tests judge them, and checked from the
 * hosts' own records: the SSH session's `id -u`, the node processes' Uid in /proc, and the owner of the files
 * the upgrade wrote.
 */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { statusQuery } from '../../src/api/messages.js';
import { nearIdentity } from '../../src/api/near-inputs.js';
import { polkadotIdentity } from '../../src/api/polkadot-inputs.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import type { HostSpec } from '../../src/config/host.js';
import { staticInventory } from '../../src/config/inventory-source.js';
import type { Inventory } from '../../src/config/inventory.js';
import { serviceFiles } from '../../devnet/hosts/service-ctl.js';
import {
  NEAR_SCENARIO_POOL,
  nearBaseline,
  settledNearCounters,
  startNearScenario,
} from '../../devnet/scenarios/near.js';
import { polkadotSteadySlot, settledPolkadotCounters } from '../../devnet/scenarios/polkadot.js';
import type { NearTestbed } from '../../devnet/testbeds/near.js';
import { startPolkadotTestbed, type PolkadotTestbed } from '../../devnet/testbeds/polkadot.js';
import type { SshConnectionPool } from '../../src/ssh/connection.js';
import { execChecked } from '../../src/ssh/exec.js';
import type { PolkadotValidatorSwapResult } from '../../workflows/polkadot-validator-swap.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';

const SSH_USER = 'vup-test';
/** Who the hosts log in as: the unprivileged account as root, the test's own (non-root) user otherwise. */
const expectedUser = process.getuid?.() === 0 ? SSH_USER : userInfo().username;
const EPOCH_LENGTH = 12;
const BLOCK_TIME_MS = 150;

let env: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundle;
let stopBed: (() => Promise<void>) | undefined;

beforeAll(async () => {
  env = await createDevServerEnv();
  bundle = await bundleUpgradeWorkflows();
}, 180_000);
afterEach(async () => {
  await stopBed?.();
  stopBed = undefined;
}, 60_000);
afterAll(async () => {
  await env?.teardown();
});

async function runWorkflow(
  connections: SshConnectionPool,
  inventory: Inventory,
  workflowType: string,
  input: unknown,
  workflowId: string,
) {
  const taskQueue = `e2e-non-root-${workflowType}`;
  const { worker } = await createUpgradeWorker({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: { connections, heartbeatIntervalMs: 500, inventory: staticInventory(inventory) },
  });
  const handle = await env!.client.workflow.start(workflowType, {
    args: [input],
    taskQueue,
    workflowId,
    ...upgradeIdPolicy(),
  });
  const started = Date.now();
  const outcome = await worker.runUntil(async () => {
    const result: unknown = await handle.result();
    return { result, status: await handle.query(statusQuery) };
  });
  const took = (step: UpgradeStatus['steps'][number]) =>
    step.startedAt && step.endedAt ? ((Date.parse(step.endedAt) - Date.parse(step.startedAt)) / 1000).toFixed(1) : '-';
  console.log(
    `${workflowType} with the hosts' SSH user ${expectedUser}: ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      outcome.status.steps.map((step) => `${step.id} ${step.state} ${took(step)} s`).join(', '),
  );
  return outcome;
}

/** `id -un` and `id -u` of an SSH session on the host, over the testbed's own connection. */
async function sessionIdentity(connections: SshConnectionPool, host: HostSpec) {
  const run = async (argv: string[]) => (await execChecked(await connections.get(host), argv)).stdout.toString().trim();
  // A dropped connection (ConnectionLost, retryable for the activities) is asked again once on a fresh one: it
  // was seen once on a loaded machine, and says nothing about who the session runs as.
  const once = async (argv: string[]) =>
    run(argv).catch((err: unknown) => {
      if ((err as { type?: string }).type !== 'ConnectionLost') throw err;
      return run(argv);
    });
  return { name: await once(['id', '-un']), uid: Number(await once(['id', '-u'])) };
}

/** The Uid of the service's running process, as the host's /proc tells it over SSH. */
async function serviceProcessUid(connections: SshConnectionPool, host: HostSpec, root: string, service: string) {
  const { pid } = JSON.parse(readFileSync(serviceFiles(root, service).pidFile, 'utf8')) as { pid: number };
  const status = (await execChecked(await connections.get(host), ['cat', `/proc/${pid}/status`])).stdout.toString();
  const user = (await execChecked(await connections.get(host), ['ps', '-o', 'user=', '-p', String(pid)])).stdout
    .toString()
    .trim();
  return { pid, uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]), user };
}

describe('hosts whose SSH user is not root', () => {
  it('NEAR stop and restart: the worker logs in, installs and restarts the node as the host account', async () => {
    const s = await startNearScenario('nearStopAndRestartUpgrade', {
      epochLength: EPOCH_LENGTH,
      blockTimeMs: BLOCK_TIME_MS,
      sshUser: SSH_USER,
    });
    const b: NearTestbed = s.bed;
    stopBed = () => b.stop();
    const node = b.nodes['val-a']!;
    const host = node.ref.host;
    expect(host.user).toBe(expectedUser);
    const account = node.host.sshd.account;
    const session = await sessionIdentity(b.connections, host);
    expect(session).toEqual({ name: expectedUser, uid: account.uid });
    expect(session.uid).not.toBe(0);
    const oldProcess = await serviceProcessUid(b.connections, host, node.host.root, node.service);
    expect(oldProcess).toMatchObject({ uid: account.uid, user: expectedUser });

    const before = await nearBaseline(b);
    const { result, status } = await runWorkflow(
      b.connections,
      s.inventory,
      'nearStopAndRestartUpgrade',
      s.input,
      upgradeWorkflowId(nearIdentity(s.input.validator)),
    );
    const after = await settledNearCounters(b);

    // The same checks as test/e2e/near-upgrades.test.ts makes of this scenario.
    expect(result).toMatchObject({ migrated: true, database: { dataDbVersion: 41, binaryDbVersion: 44 } });
    const migration = status.steps.find((x) => x.id === 'wait-migration')!;
    expect(migration.state).toBe('done');
    expect(Date.parse(migration.endedAt!) - Date.parse(migration.startedAt!)).toBeGreaterThan(5_000);
    const marker = JSON.parse(readFileSync(`${node.home}/data/DB_MARKER.json`, 'utf8')) as object;
    expect(marker).toMatchObject({ db_version: 44, state: 'ok' });
    expect(after.doubleSignHeights).toEqual([]);
    const missedBlocks = after.missedBlocks - before.missedBlocks;
    expect(missedBlocks).toBeLessThanOrEqual(downtimeBound(b, status, 'restart-on-release', 'wait-signing'));
    expect(after.missedChunks - before.missedChunks).toBe(missedBlocks);
    expect(b.isRunning('val-a')).toBe(true);

    // The restarted node is a new process of the account, and the binary it runs was written by the account.
    const newProcess = await serviceProcessUid(b.connections, host, node.host.root, node.service);
    expect(newProcess.pid).not.toBe(oldProcess.pid);
    expect(newProcess).toMatchObject({ uid: account.uid, user: expectedUser });
    expect(statSync(node.binary).uid).toBe(account.uid);
    expect(readFileSync(node.binary)).toEqual(readFileSync(b.binaries.new.staged('val-a')));
    expect(statSync(path.join(node.home, 'validator_key.json')).uid).toBe(account.uid);
  }, 300_000);

  it('Polkadot swap: B takes over with keys it generated as the host account; A is upgraded as it', async () => {
    const b: PolkadotTestbed = await startPolkadotTestbed({
      mode: 'relay',
      sessionLength: 12,
      blockTimeMs: BLOCK_TIME_MS,
      sshUser: SSH_USER,
    });
    stopBed = () => b.stop();
    const [a, nodeB] = [b.nodes['val-a']!, b.nodes['val-b']!];
    for (const node of [a, nodeB]) {
      expect(node.ref.host.user).toBe(expectedUser);
      const session = await sessionIdentity(b.connections, node.ref.host);
      expect(session).toEqual({ name: expectedUser, uid: node.host.sshd.account.uid });
      expect(session.uid).not.toBe(0);
    }
    const uid = a.host.sshd.account.uid;
    expect(await serviceProcessUid(b.connections, a.ref.host, a.host.root, a.service)).toMatchObject({
      uid,
      user: expectedUser,
    });

    const fromSlot = await polkadotSteadySlot(b);
    const { input, inventory } = b.swapUpgrade({
      timeouts: { sync: '2 minutes', keysActive: '3 minutes' },
      handBack: false,
    });
    const { result, status } = await runWorkflow(
      b.connections,
      inventory,
      'polkadotValidatorSwapUpgrade',
      input,
      upgradeWorkflowId(polkadotIdentity(input.validator)),
    );
    const value = result as PolkadotValidatorSwapResult;

    // The same checks as test/e2e/polkadot-swap.test.ts makes of a take-over (handBack false).
    expect(status.state).toBe('completed');
    expect(value.validatingNode).toBe('B');
    expect(b.isRunning('val-a')).toBe(false);
    expect(b.isRunning('val-b')).toBe(true);
    const counters = await settledPolkadotCounters(b, fromSlot, BLOCK_TIME_MS);
    expect(counters.signed).toBeGreaterThan(0);
    expect(counters.missed).toBe(0);
    expect(counters.equivocations).toBe(0);

    // B's node, started over SSH, runs as the account; A's new binary was installed by it.
    expect(await serviceProcessUid(b.connections, nodeB.ref.host, nodeB.host.root, nodeB.service)).toMatchObject({
      uid: nodeB.host.sshd.account.uid,
      user: expectedUser,
    });
    expect(statSync(a.binary).uid).toBe(uid);
    expect(readFileSync(a.binary)).toEqual(readFileSync(b.binaries.new.staged('val-a')));
  }, 300_000);
});

/**
 * What the validator could miss while it was down: the heights assigned to it from the start of `fromStep`
 * to the end of `toStep` (as in test/e2e/near-upgrades.test.ts).
 */
function downtimeBound(b: NearTestbed, status: UpgradeStatus, fromStep: string, toStep: string): number {
  const at = (id: string, edge: 'startedAt' | 'endedAt') => Date.parse(status.steps.find((s) => s.id === id)![edge]!);
  const from = at(fromStep, 'startedAt') - 2 * BLOCK_TIME_MS;
  const to = at(toStep, 'endedAt') + BLOCK_TIME_MS;
  const chain = b.devnet.chain;
  let assigned = 0;
  for (let h = chain.genesisBlock().height + 1; h <= chain.head().height; h++) {
    const block = chain.blockAt(h)!;
    const producer = chain.producerAt(h)?.accountId;
    if (block.producedAtMs >= from && block.producedAtMs <= to && producer === NEAR_SCENARIO_POOL) assigned++;
  }
  return assigned;
}
