/**
 * Faults of the relay chain's RPC under polkadotValidatorSwapUpgrade, each with its defined outcome: the real
 * workflow on the Temporal dev server, the real activities over real SSH to the testbed's hosts, the relay
 * chain's RPC behind a WebSocket relay (test/helpers/polkadot-rpc-relay.ts) that misbehaves at the wire.
 *
 * - answering for another chain (chain_getBlockHash(0) another genesis hash than the inventory's): the check
 *   before acting refuses it (WrongChain, final), so the run stops at its first step: B never started, no
 *   set-keys transaction on the chain, A still validating; the status, the UI's current details and
 *   UpgradeStage say so.
 */
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { statusQuery } from '../../src/api/messages.js';
import { polkadotIdentity } from '../../src/api/polkadot-inputs.js';
import { UpgradeStage } from '../../src/api/search-attributes.js';
import { startPolkadotTestbed, type PolkadotTestbed } from '../../devnet/testbeds/polkadot.js';
import { InventoryBook } from '../../devnet/testbeds/targets-inventory.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';
import { stepStates } from '../helpers/near-e2e.js';
import { setKeysTransactions } from '../helpers/polkadot-devnet.js';
import { startPolkadotRpcRelay, type PolkadotRpcRelay } from '../helpers/polkadot-rpc-relay.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';

/** Kusama's genesis hash: a real chain, and not the local one. */
const KUSAMA_GENESIS = '0xb0a8d493285c2df73290dfb7e61f870f17b41801197a149ca93654499ea3dafe';

let env: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundle;
let bed: PolkadotTestbed | undefined;
let relay: PolkadotRpcRelay | undefined;
const inventory = new InventoryBook();

beforeAll(async () => {
  env = await createDevServerEnv();
  bundle = await bundleUpgradeWorkflows();
}, 180_000);
afterEach(async () => {
  await relay?.close();
  relay = undefined;
  await bed?.stop();
  bed = undefined;
}, 60_000);
afterAll(async () => {
  await env?.teardown();
});

describe('a relay-chain RPC answering for another chain', () => {
  // 20 s: every npm test runs it.
  it('is refused by the check before acting: the run stops at check-a, B never started, no set-keys, and says why', async () => {
    bed = await startPolkadotTestbed({ sessionLength: 12, blockTimeMs: 150 });
    relay = await startPolkadotRpcRelay(bed.devnet.relayUrl, { genesisHash: KUSAMA_GENESIS });
    const { input, inventory: entries } = bed.swapUpgrade({ relayRpcUrl: relay.url });
    inventory.add(entries);
    const taskQueue = 'dot-wrong-chain';
    const { worker } = await createUpgradeWorker({
      connection: env!.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: { connections: bed.connections, inventory },
    });
    const handle = await env!.client.workflow.start('polkadotValidatorSwapUpgrade', {
      args: [input],
      taskQueue,
      workflowId: upgradeWorkflowId(polkadotIdentity(input.validator)),
      ...upgradeIdPolicy(),
    });
    const { error, final, details, stage } = await worker.runUntil(async () => {
      const error = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
      const stage = (await handle.describe()).typedSearchAttributes.get(UpgradeStage);
      return { error, final: await handle.query(statusQuery), details: metadata.currentDetails, stage };
    });

    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause?.message).toMatch(/^step 1 "Check that A validates[^"]*" failed: WrongChain: the relay RPC /);
    expect(String(cause?.message)).toContain(`answers for the chain of genesis ${KUSAMA_GENESIS}`);
    expect(final.state).toBe('failed');
    expect(stepStates(final)).toEqual({ ...stepStates(final), 'check-a': 'failed', 'start-b': 'pending' });
    expect(final.steps.filter((s) => s.state === 'done')).toEqual([]);
    expect(details).toContain(`genesis ${KUSAMA_GENESIS}`);
    expect(stage).toBe('failed');
    // Judged from the chain and the hosts: nothing submitted, nothing set, B never started, A validating.
    expect(relay.submitted).toEqual([]);
    expect(setKeysTransactions(bed)).toEqual([]);
    expect(bed.isRunning('val-b')).toBe(false);
    expect(bed.isRunning('val-a')).toBe(true);
    console.log(`polkadot wrong chain: ${cause?.message}`);
  }, 300_000);
});
