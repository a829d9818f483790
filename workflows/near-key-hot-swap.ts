/**
 * NEAR validator key hot swap (nearcore's failover, option 2): a synced standby takes over the validator
 * key file and reloads it with SIGHUP, with no restart, once the primary is verifiably stopped. Used to move
 * the validator onto a standby that already runs the new release (installed here if asked).
 *
 *   1. check: the primary signs with the account's current key; the standby holds no validator key
 *   2. install the new release on the standby and restart it (if a release is given)
 *   3. make sure the standby runs, and wait until it is synced
 *   4. stage the key on the standby as validator_key.json.pending-<tag> (mode 0600, host to host through the
 *      worker only), a file neard does not read, so a restart of the standby cannot pick it up
 *   5. [approval] hand over, in one activity: wait until the validator has just produced the head block (its
 *      next height is then as far away as it gets), fence the primary (move its key file aside, SIGHUP it and
 *      see its RPC report no key; when it does not, stop it and see it stopped on its host), rename the staged
 *      file to validator_key.json on the standby, SIGHUP it and see its status report the key, then stop the
 *      primary: the key is on no signing node for a moment, never on two
 *   6. wait until the standby produces
 *
 * Compensation takes the key off the standby (the staged and the live file), reloads it and sees that it no
 * longer signs before it puts the primary's key file back and starts (or, when it still runs keyless,
 * reloads) the primary: at no point do two running nodes hold the key.
 */
import type { NearKeyHotSwapInput } from '../src/api/near-inputs.js';
import { ensureNobodySignsWith, hostName, host, near, nearWaits, unsafe, upgradeTag } from './common/near.js';
import { observeCounters } from './common/chain-counters.js';
import { beginStrategy, type CarriedState } from './common/upgrade-run.js';

export interface NearKeyHotSwapResult {
  validatorKey: string;
  primaryKeyParkedAt: string;
  /** The head block the validator had just produced when the primary stopped (absent: none seen in time). */
  handedOverAfterBlock?: number;
}

/** How long the hand-over waits for a block of the validator at the head before it goes ahead anyway. */
const SLOT_WAIT_MS = 10 * 60_000;

export async function nearValidatorKeyHotSwap(rawInput: NearKeyHotSwapInput, carried?: CarriedState) {
  const { run, input, steps } = await beginStrategy('nearValidatorKeyHotSwap', rawInput, carried);
  const { accountId } = input.validator;
  const { primary, standby, networkRpcUrl, timeouts } = input;
  const live = (node: typeof primary) => `${node.home}/validator_key.json`;
  const parked = `${live(primary)}.hot-swapped-${upgradeTag(run)}`;

  /** Compensation's first half: no key file on the standby, and the standby seen not signing with the key. */
  const withdrawFromStandby = async (validatorKey: string) => {
    await near.withdrawValidatorKey(standby, upgradeTag(run));
    await ensureNobodySignsWith(run, [standby], validatorKey, 'the primary stays stopped', [primary]);
    const left = await near.readValidatorKey(standby);
    if (left) throw unsafe(`${hostName(standby)} still holds ${left.publicKey}; the primary stays stopped`);
  };

  return run.execute<NearKeyHotSwapResult>(async () => {
    const { validatorKey } = await run.step(steps.checkNodes, async () => {
      const status = await near.nodeStatus(primary, { chainId: input.validator.network, networkRpcUrl });
      if (status.validatorAccountId !== accountId || !status.validatorPublicKey)
        throw unsafe(`${hostName(primary)} does not validate for ${accountId}`);
      const standing = await near.keyStanding(networkRpcUrl, accountId, status.validatorPublicKey);
      observeCounters(run, standing.counters);
      if (standing.currentKey !== status.validatorPublicKey)
        throw unsafe(`${accountId} does not validate with ${status.validatorPublicKey} this epoch`);
      const onStandby = await near.readValidatorKey(standby);
      if (onStandby)
        throw unsafe(
          `${hostName(standby)} already holds a validator key (${onStandby.publicKey}); it may only get one after the primary stopped`,
        );
      return { validatorKey: status.validatorPublicKey };
    });

    if (input.release) {
      const release = input.release;
      await run.step(steps.installRelease, async () => {
        await host.install(standby, release.staged, standby.binary, release.sha256);
        if (await near.readValidatorKey(standby)) throw unsafe(`${hostName(standby)} holds a validator key`);
        await host.stop(standby);
        await host.start(standby);
      });
    } else {
      run.skip(steps.installRelease, 'no release given');
    }

    await run.step(steps.startStandby, () => host.start(standby));
    await run.step(steps.waitStandbySynced, () =>
      nearWaits.synced(run, 'standby-synced', standby, networkRpcUrl, { timeoutMs: timeouts.sync }),
    );

    await run.step(
      steps.stageKey,
      () => near.stageValidatorKey(primary, standby, accountId, validatorKey, upgradeTag(run)),
      {
        undo: async () => {
          await withdrawFromStandby(validatorKey);
          await host.run(primary, ['mv', '-n', parked, live(primary)], `put the key file back on ${primary.host.id}`);
          const back = await near.readValidatorKey(primary);
          if (back?.publicKey !== validatorKey)
            throw unsafe(`the key file of ${hostName(primary)} is neither in place nor at ${parked}`);
          // A primary fenced but not yet stopped runs without its key: it takes it back on a reload.
          const { wasActive } = await host.start(primary);
          if (wasActive) await near.reloadValidatorKey(primary);
        },
      },
    );

    const handedOver = await run.step(
      steps.handOver,
      () =>
        near.handOverValidatorKey({
          primary,
          standby,
          networkRpcUrl,
          accountId,
          publicKey: validatorKey,
          tag: upgradeTag(run),
          slotWaitMs: SLOT_WAIT_MS,
        }),
      { approval: `Stop ${hostName(primary)} and hand the key of ${accountId} to the standby` },
    );

    await run.step(steps.waitStandbySigning, () =>
      nearWaits.signing(run, 'standby-signing', standby, networkRpcUrl, accountId, 'head', {
        timeoutMs: timeouts.signing,
      }),
    );

    return {
      validatorKey,
      primaryKeyParkedAt: handedOver.primaryKeyParkedAt,
      ...(handedOver.afterOwnBlock === undefined ? {} : { handedOverAfterBlock: handedOver.afterOwnBlock }),
    };
  });
}
