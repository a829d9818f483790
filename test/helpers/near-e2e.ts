/**
 * What the NEAR end-to-end tests read besides the scenario (devnet/scenarios/near.ts): chain facts the
 * network keeps (the staking signer's nonce), and a run's outcome as the status query and the failure
 * show it.
 */
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { statusQuery } from '../../src/api/messages.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import type { Kickout } from '../../devnet/near/index.js';
import { NEAR_SCENARIO_POOL } from '../../devnet/scenarios/near.js';
import { serviceFiles } from '../../devnet/hosts/service-ctl.js';
import type { NearTestbed } from '../../devnet/testbeds/near.js';
import { InventoryBook } from '../../devnet/testbeds/targets-inventory.js';
import { eventually } from './eventually.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from './temporal.js';

/** The nonce of the staking signer's access key on the devnet: it moves once per transaction that lands. */
export function signerNonce(b: NearTestbed, accountId = NEAR_SCENARIO_POOL): bigint {
  const signer = b.validators[accountId]!.signerAccountId;
  return [...b.devnet.chain.accounts.get(signer)!.keys.values()][0]!.nonce;
}

export const stepStates = (status: UpgradeStatus) => Object.fromEntries(status.steps.map((s) => [s.id, s.state]));

/** The innermost cause of a workflow failure (the activity's own error). */
export function rootCause(error: unknown): unknown {
  let root = error;
  while (root instanceof Error && root.cause) root = root.cause;
  return root;
}

/**
 * The kickouts naming the account that the network reported (`prev_epoch_kickout` of RPC `validators`, read
 * from the devnet's own RPC for every epoch) from epoch height `sinceEpochHeight` on. It first waits for the
 * epoch after the current one to be finalized, so that the last epoch of a run has been judged too.
 */
export async function kickoutsNaming(
  b: NearTestbed,
  accountId: string,
  sinceEpochHeight: number,
): Promise<{ epochHeight: number; kickout: Kickout }[]> {
  const chain = b.devnet.chain;
  const judgedUpTo = chain.epochs.current().index + 2;
  const judging = await b.devnet.waitForEpochHeight(judgedUpTo, 120_000);
  // Kickouts are decided once the ended epoch's heights are past the signature grace.
  const graceBlocks = Math.ceil(chain.options.signatureGraceMs / chain.options.blockTimeMs) + 2;
  await b.devnet.waitForHeight(judging.height + graceBlocks, 120_000);
  const found: { epochHeight: number; kickout: Kickout }[] = [];
  for (let epochHeight = sinceEpochHeight; epochHeight <= judgedUpTo; epochHeight++) {
    const start = chain.epochs.byIndex(epochHeight - 1)!.startHeight;
    const res = await fetch(b.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'kickouts', method: 'validators', params: { block_id: start } }),
    });
    const { result } = (await res.json()) as { result: { prev_epoch_kickout: Kickout[] } };
    for (const kickout of result.prev_epoch_kickout) {
      if (kickout.account_id === accountId) found.push({ epochHeight, kickout });
    }
  }
  return found;
}

/**
 * The host's own record of a node's running service (service-ctl's pid file: pid and start time): the same
 * record before and after means the service was not started again in between.
 */
export function serviceStartRecord(b: NearTestbed, nodeId: string): string {
  const node = b.nodes[nodeId]!;
  return readFileSync(serviceFiles(node.host.root, node.service).pidFile, 'utf8').trim();
}

/** Resolves once a zero-downtime run sleeps on a durable timer until it looks at the chain again for the new key. */
export async function inChainWait(handle: WorkflowHandle): Promise<UpgradeStatus> {
  return eventually(
    'the run to wait on the chain for the new key',
    async () => {
      const s: UpgradeStatus = await handle.query(statusQuery);
      const sleeping = s.waiting?.until !== undefined && Date.parse(s.waiting.until) > Date.now() + 1_000;
      return s.currentStep === 'wait-key-current' && s.state === 'waiting' && sleeping ? s : undefined;
    },
    300_000,
  );
}

/**
 * The hooks of a NEAR end-to-end file: one Temporal dev server and workflow bundle for the file, and the testbed
 * and inventory a test sets (`suite.bed`, `suite.inventoryRemovers`) taken down after it.
 */
export function nearE2eSuite() {
  const suite = {
    env: undefined as TestWorkflowEnvironment | undefined,
    bundle: undefined as WorkflowBundle | undefined,
    bed: undefined as NearTestbed | undefined,
    /** The workers' inventory: the testbed's hosts, nodes and validator, as a deployed worker's file holds them. */
    inventory: new InventoryBook(),
    /** Removes each test's inventory from the book once its testbed is gone. */
    inventoryRemovers: [] as (() => void)[],
  };
  beforeAll(async () => {
    suite.env = await createDevServerEnv();
    suite.bundle = await bundleUpgradeWorkflows();
  }, 180_000);
  afterEach(async () => {
    for (const remove of suite.inventoryRemovers.splice(0)) remove();
    await suite.bed?.stop();
    suite.bed = undefined;
  }, 60_000);
  afterAll(async () => {
    await suite.env?.teardown();
  });
  return suite;
}
