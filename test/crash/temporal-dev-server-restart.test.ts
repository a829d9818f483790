/**
 * The Temporal dev server keeping its state in a database file (`temporal server start-dev --db-filename`)
 * is SIGKILLed while a zero-downtime upgrade sleeps in a chain wait, and started again on the same file and
 * port. The production worker process (worker/main.ts) stays up through the outage. Judged from the
 * network's and the host's own records: the run completes, one staking transaction landed (the signer's nonce
 * on the chain), the new node was not started again (the host's pid record), no double sign, no missed block.
 * The production stack's server (PostgreSQL) gets the same in test/stack/production-twin.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { nearIdentity } from '../../src/api/near-inputs.js';
import { searchAttributeFlags } from '../../src/api/search-attributes.js';
import { nearBaseline, settledNearCounters, startNearScenario } from '../../devnet/scenarios/near.js';
import { freePort } from '../../devnet/ports.js';
import { startProcess, type ManagedProcess } from '../../devnet/stack/processes.js';
import type { NearTestbed } from '../../devnet/testbeds/near.js';
import { inChainWait, serviceStartRecord, signerNonce } from '../helpers/near-e2e.js';
import { installTestRuntime } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

let scratch: string | undefined;
let server: ManagedProcess | undefined;
let connection: Connection | undefined;
let worker: WorkerProcess | undefined;
let bed: NearTestbed | undefined;

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await server?.kill();
  await bed?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 120_000);

/** The dev server on `port`, its state in `dbFile` (created on the first start, read on the next). */
async function startDevServer(dbFile: string, port: number): Promise<ManagedProcess> {
  const cli = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
  const p = startProcess('temporal-dev-server', cli, [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    dbFile,
    '--log-level',
    'error',
    ...searchAttributeFlags(),
  ]);
  await p.waitFor(/Server:\s+\S+:\d+/, 60_000);
  return p;
}

// `npm test` restarts the production twin's server in a chain wait (test/stack); this one, the dev server on a
// database file, runs with the rest of the crash suite (npm run test:crash), to keep CI within its hour.
const crashSuiteOnly = process.env.CRASH_MATRIX === 'all' ? it : it.skip;

crashSuiteOnly(
  'the dev server with a database file is SIGKILLed in a chain wait and restarted: the run completes, no side effect twice',
  async () => {
    installTestRuntime();
    scratch = await mkdtemp(path.join(tmpdir(), 'dev-server-restart-'));
    const dbFile = path.join(scratch, 'temporal.db');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    server = await startDevServer(dbFile, port);
    connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace: 'default' });

    const scenario = await startNearScenario('nearZeroDowntimeUpgrade', { epochLength: 30 });
    const b = (bed = scenario.bed);
    const inventoryFile = path.join(scratch, 'inventory.json');
    await writeFile(inventoryFile, JSON.stringify(scenario.inventory, null, 2));
    const taskQueue = `dev-server-restart-${process.pid}`;
    worker = await startWorkerProcess({ address, namespace: 'default', taskQueue, inventoryFile });
    const before = await nearBaseline(b);
    const nonceBefore = signerNonce(b);
    const handle = await client.workflow.start('nearZeroDowntimeUpgrade', {
      args: [scenario.input],
      taskQueue,
      workflowId: upgradeWorkflowId(nearIdentity(scenario.input.validator)),
      ...upgradeIdPolicy(),
    });
    await inChainWait(handle);
    const newNodeStarted = serviceStartRecord(b, 'val-b');

    const killedAt = Date.now();
    expect(await server.kill()).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    server = await startDevServer(dbFile, port);
    const backAfter = Date.now() - killedAt;

    await handle.result();
    const after = await settledNearCounters(b);
    const counted = {
      stakingTransactions: signerNonce(b) - nonceBefore,
      doubleSigns: after.doubleSignHeights.length,
      missedBlocks: after.missedBlocks - before.missedBlocks,
    };
    const { status } = await handle.describe();
    console.log(
      `dev server (database file) SIGKILL in a chain wait: back in ${(backAfter / 1000).toFixed(1)} s, run ` +
        `${status.name}; ${counted.stakingTransactions} staking tx, ${counted.doubleSigns} double signs, ` +
        `${counted.missedBlocks} missed blocks`,
    );
    expect(status.name).toBe('COMPLETED');
    expect(counted).toEqual({ stakingTransactions: 1n, doubleSigns: 0, missedBlocks: 0 });
    expect(serviceStartRecord(b, 'val-b')).toBe(newNodeStarted);
  },
  900_000,
);
