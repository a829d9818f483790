/**
 * Faults of the relay chain's RPC under polkadotValidatorSwapUpgrade, each with its defined outcome: the real
 * workflow on the Temporal dev server, the real activities over real SSH to the testbed's hosts, the relay
 * chain's RPC behind a WebSocket relay (test/helpers/polkadot-rpc-relay.ts) that misbehaves at the wire.
 *
 * - answering for another chain (chain_getBlockHash(0) another genesis hash than the inventory's): the check
 *   before acting refuses it (WrongChain, final), so the run stops at its first step: B never started, no
 *   set-keys transaction on the chain, A still validating; the status, the UI's current details and
 *   UpgradeStage say so.
 * - the chain halting (no new block, no finality) while the run waits for B's keys to become active: the wait
 *   does not count a session it cannot see; its status and the UI's details say "chain halted? no new block
 *   since …" until blocks come again, and then the run completes (a rotating fault test: it takes minutes).
 */
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { upgradeIdPolicy, upgradeWorkflowId } from '../../src/api/identity.js';
import { polkadotIdentity } from '../../src/api/polkadot-inputs.js';
import { CHAIN_HALT_AFTER_MS } from '../../workflows/common/chain-wait.js';
import { startPolkadotTestbed, type PolkadotTestbed } from '../../devnet/testbeds/polkadot.js';
import { InventoryBook } from '../../devnet/testbeds/targets-inventory.js';
import { createUpgradeWorker } from '../../worker/create-worker.js';
import { stepStates } from '../helpers/near-e2e.js';
import { setKeysTransactions } from '../helpers/polkadot-devnet.js';
import { startPolkadotRpcRelay, type PolkadotRpcRelay } from '../helpers/polkadot-rpc-relay.js';
import { eventually } from '../helpers/eventually.js';
import { faultTest } from '../helpers/rotation.js';
import { bundleUpgradeWorkflows, createDevServerEnv } from '../helpers/temporal.js';
import { watchRun, type WhileRunning } from '../helpers/watched-run.js';

/** Kusama's genesis hash: a real chain, and not the local one. */
const KUSAMA_GENESIS = '0xb0a8d493285c2df73290dfb7e61f870f17b41801197a149ca93654499ea3dafe';

let env: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundle;
let bed: PolkadotTestbed | undefined;
let relay: PolkadotRpcRelay | undefined;
let queues = 0;
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

/** Runs the swap with the worker's inventory holding the testbed; `during` acts while it runs. */
async function runSwap<S>(
  b: PolkadotTestbed,
  overrides: Parameters<PolkadotTestbed['swapUpgrade']>[0],
  during: WhileRunning<S>,
) {
  const { input, inventory: entries } = b.swapUpgrade(overrides);
  inventory.add(entries);
  const taskQueue = `dot-faults-${++queues}`;
  const { worker } = await createUpgradeWorker({
    connection: env!.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: { connections: b.connections, inventory },
  });
  const handle = await env!.client.workflow.start('polkadotValidatorSwapUpgrade', {
    args: [input],
    taskQueue,
    workflowId: upgradeWorkflowId(polkadotIdentity(input.validator)),
    ...upgradeIdPolicy(),
  });
  return watchRun(worker, handle, during);
}

describe('a relay-chain RPC answering for another chain', () => {
  // 20 s: every npm test runs it.
  it('is refused by the check before acting: the run stops at check-a, B never started, no set-keys, and says why', async () => {
    bed = await startPolkadotTestbed({ sessionLength: 12, blockTimeMs: 150 });
    relay = await startPolkadotRpcRelay(bed.devnet.relayUrl, { genesisHash: KUSAMA_GENESIS });
    const { error, final, details, stage } = await runSwap(bed, { relayRpcUrl: relay.url }, () => Promise.resolve());

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

describe('the relay chain halting inside a wait', () => {
  faultTest('polkadot-chain-halt')(
    'is not taken as a session change: the status says "chain halted? …" until blocks come again, then the run completes',
    async () => {
      bed = await startPolkadotTestbed({ sessionLength: 12, blockTimeMs: 150 });
      const chain = bed.devnet.relay;
      const overrides = { handBack: false, timeouts: { sync: '2 minutes', keysActive: '6 minutes' } };
      // Halted on the chain's own record, at once: in the tick that finalizes B's set-keys transaction (the step
      // that sent it is done then), so no session boundary can pass before the wait for B's keys starts. A poll of
      // the run's status could miss that wait: on this chain it lasts two sessions of 1.8 s.
      let haltedAt: number | undefined;
      chain.on('finalized', (block) => {
        if (haltedAt !== undefined || setKeysTransactions(bed!).every((t) => t.block > block.number)) return;
        haltedAt = block.number;
        // After the tick that emitted this, which would otherwise arm the next block again.
        setImmediate(() => chain.stop());
      });
      const { seen, error, final } = await runSwap(bed, overrides, async (status, details) => {
        await eventually(
          'the run to wait for B’s keys, the chain halted',
          async () =>
            haltedAt !== undefined &&
            (await status()).steps.some((s) => s.id === 'wait-keys-b-active' && s.state === 'running')
              ? true
              : undefined,
          300_000,
        );
        const said = await eventually(
          'the status to say the chain halted',
          async () => /chain halted\? no new block since [^\n]*/.exec((await status()).waiting?.reason ?? '')?.[0],
          (CHAIN_HALT_AFTER_MS * 3) / 2 + 60_000,
        );
        const during = await status();
        const shown = await details();
        chain.start();
        return { said, haltedAt: haltedAt!, during, details: shown };
      });
      console.log(`relay halted at finalized #${seen.haltedAt}; the status said: ${seen.said}`);
      expect(seen.said).toMatch(new RegExp(`^chain halted\\? no new block since \\S+Z \\(#${seen.haltedAt}\\)`));
      expect(seen.during.state).toBe('waiting');
      expect(seen.during.steps.find((s) => s.state === 'running')?.id).toBe('wait-keys-b-active');
      expect(seen.details).toContain(seen.said);
      expect(error).toBeUndefined();
      expect(final.state).toBe('completed');
      expect(final.steps.filter((s) => s.id.startsWith('undo-'))).toEqual([]);
      // One set-keys transaction (B's), on the chain's own record; B validates, A stopped.
      expect(setKeysTransactions(bed)).toHaveLength(1);
      expect(bed.isRunning('val-b')).toBe(true);
      expect(bed.isRunning('val-a')).toBe(false);
    },
    600_000,
  );
});
