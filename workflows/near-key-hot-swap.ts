/**
 * NEAR validator key hot swap (nearcore's failover, option 2): a synced standby takes over the validator
 * key file and reloads it with SIGHUP, with no restart, once the primary is verifiably stopped. Used to move
 * the validator onto a standby that already runs the new release (installed here if asked).
 *
 *   1. check: the primary signs with the account's current key; the standby holds no validator key
 *   2. install the new release on the standby and restart it (if a release is given)
 *   3. make sure the standby runs, and wait until it is synced
 *   4. [approval] stop the primary (verified by observation: service inactive, RPC down)
 *   5. copy validator_key.json from the primary to the standby (host to host through the worker only)
 *   6. move the primary's key file aside, so nothing can start it as a second signer
 *   7. SIGHUP the standby and check that it now signs with the key
 *   8. wait until the standby produces
 *
 * Compensation takes the key off the standby (and reloads it) before it puts the primary's key back and
 * starts the primary: at no point do two running nodes hold the key.
 */
import { nearIdentity, nearKeyHotSwapInput, type NearKeyHotSwapInput } from '../src/api/near-inputs.js';
import { parseWorkflowInput } from './common/input.js';
import { ensureStopped, hostName, host, near, nearWaits, observeSigner, unsafe, upgradeTag } from './common/near.js';
import { beginUpgrade, type CarriedState } from './common/upgrade-run.js';
import { waitForChain } from './common/chain-wait.js';
import { nearKeyHotSwapPlan } from '../src/api/plans.js';

export interface NearKeyHotSwapResult {
  validatorKey: string;
  primaryKeyParkedAt: string;
}

const plan = [...nearKeyHotSwapPlan];

export async function nearValidatorKeyHotSwap(
  rawInput: NearKeyHotSwapInput,
  carried?: CarriedState,
): Promise<NearKeyHotSwapResult> {
  const input = parseWorkflowInput(nearKeyHotSwapInput, rawInput, 'nearValidatorKeyHotSwap');
  const { accountId } = input.validator;
  const { primary, standby, networkRpcUrl, timeouts } = input;
  const run = beginUpgrade(
    {
      strategy: 'nearValidatorKeyHotSwap',
      identity: nearIdentity(input.validator),
      plan,
      manualApproval: input.manualApproval,
    },
    rawInput,
    carried,
  );
  const title = (id: string) => plan.find((p) => p.id === id)!.title;
  const keyFile = (home: string) => `${home}/validator_key.json`;
  const parked = `${keyFile(primary.home)}.hot-swapped-${upgradeTag(run)}`;

  return run.execute(async () => {
    const { validatorKey } = await run.step('check-nodes', title('check-nodes'), async () => {
      const status = await near.nodeStatus(primary);
      if (status.validatorAccountId !== accountId || !status.validatorPublicKey)
        throw unsafe(`${hostName(primary)} does not validate for ${accountId}`);
      const standing = await near.keyStanding(networkRpcUrl, accountId, status.validatorPublicKey);
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
      await run.step('install-release', title('install-release'), async () => {
        await host.install(standby, release.staged, standby.binary, release.sha256);
        if (await near.readValidatorKey(standby)) throw unsafe(`${hostName(standby)} holds a validator key`);
        await host.stop(standby);
        await host.start(standby);
      });
    } else {
      run.steps.mark('install-release', title('install-release'), 'skipped', 'no release given');
    }

    await run.step('start-standby', title('start-standby'), () => host.start(standby));
    await run.step('wait-standby-synced', title('wait-standby-synced'), () =>
      nearWaits.synced(run, 'standby-synced', standby, networkRpcUrl, { timeoutMs: timeouts.sync }),
    );

    await run.approval('stop-primary', `Stop ${hostName(primary)} and hand the key of ${accountId} to the standby`);
    await run.step(
      'stop-primary',
      title('stop-primary'),
      async () => {
        await host.stop(primary);
        await ensureStopped(primary, 'the standby may only get the key once the primary is stopped');
      },
      {
        undo: {
          title: 'Start the primary again',
          run: async () => {
            const seen = await observeSigner(standby);
            if (seen.status?.validatorPublicKey === validatorKey)
              throw unsafe(`${hostName(standby)} still signs with ${validatorKey}; the primary stays stopped`);
            await host.start(primary);
          },
        },
      },
    );

    await run.step(
      'copy-key',
      title('copy-key'),
      async () => {
        await ensureStopped(primary, 'the standby may only get the key once the primary is stopped');
        return near.copyValidatorKey(primary, standby, accountId, validatorKey);
      },
      {
        undo: {
          title: 'Take the key off the standby',
          run: async () => {
            await host.run(
              standby,
              ['mv', '-f', keyFile(standby.home), `${keyFile(standby.home)}.withdrawn-${upgradeTag(run)}`],
              `withdraw the validator key from ${standby.host.id}`,
            );
            await near.reloadValidatorKey(standby);
            const seen = await observeSigner(standby);
            if (seen.status?.validatorPublicKey === validatorKey)
              throw unsafe(`${hostName(standby)} still signs with ${validatorKey} after the key was withdrawn`);
          },
        },
      },
    );

    await run.step(
      'park-primary-key',
      title('park-primary-key'),
      async () => {
        const moved = await host.run(
          primary,
          ['mv', '-n', keyFile(primary.home), parked],
          `move ${keyFile(primary.home)} aside on ${primary.host.id}`,
        );
        if (moved.exitCode !== 0 && (await near.readValidatorKey(primary)))
          throw unsafe(`could not move the primary's key file aside: ${moved.stderrTail.trim()}`);
      },
      {
        undo: {
          title: "Put the primary's key file back",
          run: async () => {
            await host.run(
              primary,
              ['mv', '-n', parked, keyFile(primary.home)],
              `restore the key file on ${primary.host.id}`,
            );
          },
        },
      },
    );

    await run.step('reload-standby', title('reload-standby'), async () => {
      await ensureStopped(primary, 'the standby may only load the key once the primary is stopped');
      await near.reloadValidatorKey(standby);
      return waitForChain(
        run,
        'standby-loaded-key',
        `${hostName(standby)} to load the key`,
        async () => {
          const status = await near.nodeStatus(standby);
          return status.validatorPublicKey === validatorKey
            ? { reached: true, detail: `${hostName(standby)} signs with ${validatorKey}` }
            : { reached: false, detail: `${hostName(standby)} reports ${status.validatorPublicKey ?? 'no key'}` };
        },
        { timeoutMs: 5 * 60_000, minRecheckMs: 1_000, maxSleepMs: 10_000 },
      );
    });

    await run.step('wait-standby-signing', title('wait-standby-signing'), async () => {
      const epoch = await near.epochInfo(networkRpcUrl);
      return nearWaits.signing(run, 'standby-signing', standby, networkRpcUrl, accountId, epoch.headHeight, {
        timeoutMs: timeouts.signing,
      });
    });

    return { validatorKey, primaryKeyParkedAt: parked };
  });
}
