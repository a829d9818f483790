/**
 * NEAR sync-and-swap upgrade: a second node on the same machine syncs with the new release (it has no
 * validator key, so it never signs); then the validator stops for the swap only, takes the synced data
 * folder and the new binary, and starts again with its own key.
 *
 *   1. check: the validator node signs for the account; the sync node holds no validator key
 *   2. install the new release for the sync node (checksum verified)
 *   3. start the sync node
 *   4. wait until it is synced
 *   5. back up the validator's binary, stage the new release beside it; check its key and that no other
 *      node signs with it (all while the validator still signs)
 *   6. [approval] one host-side step: stop the sync node, then the validator node (each observed), swap the
 *      synced data folder into the validator's home (atomic renames; the old folder is kept), rename the
 *      staged release over its binary, start it; the data it starts on is only a moment old
 *   7. wait until it is synced, then until it produces again
 *
 * On failure of step 6 or later, compensation stops the validator node, restores the old data folder, puts
 * the old binary back and starts it again on its old binary and data. Runs started before
 * SYNC_STOP_IN_SWAP_PATCH stopped the sync node in a step before (the gate's); runs started before
 * ONE_STEP_RESTART_PATCH also took the host step as four steps (stop, swap, install, start). Both replay so.
 */
import type { NearSyncAndSwapInput } from '../src/api/near-inputs.js';
import {
  binary,
  ensureNobodySignsWith,
  ensureStopped,
  hostName,
  host,
  near,
  nearWaits,
  restartOnRelease,
  unsafe,
  upgradeTag,
  type BinaryBackup,
} from './common/near.js';
import { observeCounters } from './common/chain-counters.js';
import { beginStrategy, type CarriedState } from './common/upgrade-run.js';

export interface NearSyncAndSwapResult {
  validatorKey: string;
  swapId: string;
  oldBinaryBackup: string;
  oldDataBackup: string;
}

export async function nearSyncAndSwapUpgrade(rawInput: NearSyncAndSwapInput, carried?: CarriedState) {
  const { run, input, steps } = await beginStrategy('nearSyncAndSwapUpgrade', rawInput, carried);
  const { accountId } = input.validator;
  const { node, syncNode, networkRpcUrl, timeouts, release } = input;
  const swapId = upgradeTag(run);
  const dataFolder = `${node.home}/data`;
  const syncedData = `${syncNode.home}/data`;
  const stagedPath = `${node.binary}.new-${swapId}`;

  return run.execute<NearSyncAndSwapResult>(async () => {
    const { validatorKey } = await run.step(steps.checkNodes, async () => {
      const status = await near.nodeStatus(node, { chainId: input.validator.network, networkRpcUrl });
      if (status.validatorAccountId !== accountId || !status.validatorPublicKey)
        throw unsafe(`${hostName(node)} does not validate for ${accountId}`);
      observeCounters(run, status.counters);
      const syncKey = await near.readValidatorKey(syncNode);
      if (syncKey)
        throw unsafe(
          `${hostName(syncNode)} holds a validator key (${syncKey.publicKey} for ${syncKey.accountId}); a sync node must not be able to sign`,
        );
      return { validatorKey: status.validatorPublicKey };
    });

    await run.step(steps.installSyncRelease, () =>
      host.install(syncNode, release.staged, syncNode.binary, release.sha256),
    );

    await run.step(
      steps.startSyncNode,
      async () => {
        if (await near.readValidatorKey(syncNode)) throw unsafe(`${hostName(syncNode)} now holds a validator key`);
        return host.start(syncNode);
      },
      { undo: () => host.stop(syncNode).then(() => undefined) },
    );

    await run.step(steps.waitSyncNodeSynced, () =>
      nearWaits.synced(run, 'sync-node-synced', syncNode, networkRpcUrl, { timeoutMs: timeouts.sync }),
    );

    // Staged while the sync node still follows the chain: the data it hands over is as fresh as can be.
    const staged = run.takes(steps.stageRelease) ? await stageRelease() : undefined;
    const approval = `Stop the sync node, then ${hostName(node)} (it misses blocks until it runs again), and swap in the synced data`;

    // Runs before SYNC_STOP_IN_SWAP_PATCH stopped the sync node in a step of its own, its data aging meanwhile.
    if (run.takes(steps.stopSyncNode))
      await run.step(
        steps.stopSyncNode,
        async () => {
          await host.stop(syncNode);
          await ensureStopped(run, syncNode, 'its data folder cannot move while it runs');
        },
        { approval },
      );

    const { backup, swap } = !staged
      ? await swapStepByStep()
      : run.takes(steps.stopSwapAndRestart)
        ? await swapInOneStep(staged, steps.stopSwapAndRestart)
        : await swapInOneStep(staged, steps.swapAndRestart);
    await run.step(steps.waitValidatorSynced, () =>
      nearWaits.synced(run, 'validator-synced', node, networkRpcUrl, { timeoutMs: timeouts.resync }),
    );
    await run.step(steps.waitValidatorSigning, () =>
      nearWaits.signing(run, 'validator-signing', node, networkRpcUrl, accountId, 'head', {
        timeoutMs: timeouts.signing,
      }),
    );

    return { validatorKey, swapId, oldBinaryBackup: backup.path, oldDataBackup: swap.paths.backup };

    /**
     * Everything that takes time happens while the validator still signs: its binary is backed up, the new
     * release staged beside it (checksum verified), its key and the sync node's checked.
     */
    async function stageRelease() {
      return run.step(steps.stageRelease, async () => {
        const kept = await binary.backUp(node, `${node.binary}.pre-${swapId}`);
        await host.install(node, release.staged, stagedPath, release.sha256);
        // The validator still runs with its key here; nothing else may (the step after the stop checks again).
        await ensureNobodySignsWith(
          run,
          [syncNode],
          validatorKey,
          `${hostName(node)} may only start when no other node runs`,
          [node],
        );
        const key = await near.readValidatorKey(node);
        if (key?.publicKey !== validatorKey || key.accountId !== accountId)
          throw unsafe(`${hostName(node)} no longer holds the validator key ${validatorKey} for ${accountId}`);
        return kept;
      });
    }

    /**
     * One host-side step stops the sync node (unless an earlier step did) and the validator, swaps the data
     * folder and the binary, and starts the validator. Its undo (also run when it fails half-way) stops the
     * validator, restores the old data folder and binary and starts it again.
     */
    async function swapInOneStep(
      backup: BinaryBackup,
      step: typeof steps.stopSwapAndRestart | typeof steps.swapAndRestart,
    ) {
      const undoSwap = async () => {
        await host.stop(node);
        await ensureStopped(run, node, 'its old data folder and binary cannot go back while it runs');
        await host.rollbackData(node, dataFolder, syncedData, swapId);
        await binary.restore(node, backup);
        await startAgainAlone();
      };
      const swapped = await run.step(
        step,
        async () => {
          try {
            return await restartOnRelease(
              node,
              { path: stagedPath, sha256: release.sha256 },
              {
                dataSwap: { target: dataFolder, staging: syncedData, swapId },
                mustBeStopped: [syncNode],
                publicKey: validatorKey,
                ...(step === steps.stopSwapAndRestart ? { stopFirst: syncNode } : {}),
              },
            );
          } catch (err) {
            // Half-way is no state to leave a validator in: back to its old data and binary, running.
            await undoSwap();
            throw err;
          }
        },
        { undo: undoSwap, approval },
      );
      return { backup, swap: swapped.swap! };
    }

    /** Starts the validator node again (compensation) once the sync node is seen not running its key. */
    async function startAgainAlone() {
      await ensureStopped(
        run,
        syncNode,
        'the validator node may only start when no other node runs its key',
        validatorKey,
      );
      await host.start(node);
    }

    /** The step-by-step stop, swap, install and start of runs started before ONE_STEP_RESTART_PATCH. */
    async function swapStepByStep() {
      await run.step(
        steps.stopValidator,
        async () => {
          await host.stop(node);
          await ensureStopped(run, node, 'its data folder cannot move while it runs');
        },
        {
          undo: startAgainAlone,
        },
      );

      const swap = await run.step(
        steps.swapDataFolder,
        async () => {
          try {
            return await host.swapData(node, dataFolder, syncedData, swapId);
          } catch (err) {
            // The swap is journaled: put the old folder back before the step's failure is handled.
            await host.rollbackData(node, dataFolder, syncedData, swapId);
            throw err;
          }
        },
        {
          undo: () => host.rollbackData(node, dataFolder, syncedData, swapId).then(() => undefined),
        },
      );

      const backup = await run.step(
        steps.installRelease,
        async () => {
          const kept = await binary.backUp(node, `${node.binary}.pre-${swapId}`);
          await host.install(node, release.staged, node.binary, release.sha256);
          return kept;
        },
        { undo: (kept) => binary.restore(node, kept).then(() => undefined) },
      );

      await run.step(
        steps.startValidator,
        async () => {
          await ensureStopped(run, syncNode, `${hostName(node)} may only start when no other node runs`, validatorKey);
          const key = await near.readValidatorKey(node);
          if (key?.publicKey !== validatorKey || key.accountId !== accountId)
            throw unsafe(`${hostName(node)} no longer holds the validator key ${validatorKey} for ${accountId}`);
          return host.start(node);
        },
        { undo: () => host.stop(node).then(() => undefined) },
      );
      return { backup, swap };
    }
  });
}
