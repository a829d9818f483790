/**
 * NEAR zero-downtime upgrade: a new node with its own validator key takes over the validator account.
 *
 *   1. check both nodes: the old one signs with the account's current key, the new one signs with nothing
 *   2. install the new release on the new node (checksum verified)
 *   3. generate the new validator key on the new host (the secret never leaves it)
 *   4. start the new node; its key is not staked, so it only syncs
 *   5. wait until it is synced
 *   6. [approval] stake with the new key: pool owner `update_staking_key`, or a direct Stake action
 *   7. wait until the new key is current (proposed in epoch T, in next_validators in T+1, current from T+2)
 *   8. wait until the new node produces
 *   9. stop the old node
 *
 * Two different keys never double sign, so the old and the new node may both run; what must never happen
 * is a second node with the same key, which the checks before steps 4 and 6 rule out. Before the stake
 * transaction, undoing means stopping the new node; after it the chain will hand the account to the new
 * key, so the new node must keep running and a failure waits for an operator.
 */
import type { NearZeroDowntimeInput } from '../src/api/near-inputs.js';
import { ensureNobodySignsWith, hostName, host, near, nearWaits, refusedByChain, unsafe } from './common/near.js';
import { summarized } from './common/summaries.js';
import { observeCounters } from './common/chain-counters.js';
import { beginStrategy, type CarriedState } from './common/upgrade-run.js';

export interface NearZeroDowntimeResult {
  oldKey: string;
  newKey: string;
  stakeTxHash?: string;
}

export async function nearZeroDowntimeUpgrade(rawInput: NearZeroDowntimeInput, carried?: CarriedState) {
  const { run, input, steps } = await beginStrategy('nearZeroDowntimeUpgrade', rawInput, carried);
  const { accountId } = input.validator;
  const { oldNode, newNode, networkRpcUrl, timeouts } = input;
  // Set while the staking transaction may be on its way; a refusal by the chain (non-retryable) clears it.
  let stakeInFlight = false;
  const stakeMayHaveLanded = () => stakeInFlight || run.steps.find(steps.stakeNewKey.id)?.state === 'done';

  return run.execute<NearZeroDowntimeResult>(async () => {
    const { oldKey } = await run.step(steps.checkNodes, async () => {
      const old = await near.nodeStatus(oldNode, { chainId: input.validator.network, networkRpcUrl });
      if (old.validatorAccountId !== accountId || !old.validatorPublicKey)
        throw unsafe(`${hostName(oldNode)} does not validate for ${accountId} (it reports ${describeKey(old)})`);
      const standing = await near.keyStanding(networkRpcUrl, accountId, old.validatorPublicKey);
      observeCounters(run, standing.counters);
      if (standing.currentKey !== old.validatorPublicKey)
        throw unsafe(
          `${hostName(oldNode)} signs with ${old.validatorPublicKey}, but ${accountId} validates with ${standing.currentKey ?? 'no key'} this epoch`,
        );
      await ensureNobodySignsWith(run, [newNode], old.validatorPublicKey, 'the new node must not hold the old key', [
        oldNode,
      ]);
      return { oldKey: old.validatorPublicKey };
    });

    await run.step(steps.installRelease, () =>
      host.install(newNode, input.release.staged, newNode.binary, input.release.sha256),
    );

    const { publicKey: newKey } = await run.step(steps.generateKey, async () => {
      const generated = await near.generateValidatorKey(newNode, accountId);
      if (generated.publicKey === oldKey)
        throw unsafe(`the new node's validator key is the old key ${oldKey}; the takeover needs a key of its own`);
      return generated;
    });

    await run.step(
      steps.startNewNode,
      async () => {
        await ensureNobodySignsWith(run, [oldNode], newKey, 'the new key must be on the new node only', [newNode]);
        return host.start(newNode);
      },
      {
        undo: async () => {
          if (stakeMayHaveLanded())
            throw unsafe(
              `the stake with ${newKey} may have landed: the new node keeps running so ${accountId} does not miss blocks once the key is current`,
            );
          await host.stop(newNode);
        },
      },
    );

    await run.step(steps.waitNewSynced, () =>
      nearWaits.synced(run, 'new-synced', newNode, networkRpcUrl, { timeoutMs: timeouts.sync }),
    );

    const stake = await run.step(
      steps.stakeNewKey,
      async () => {
        const onNew = await near.nodeStatus(newNode);
        if (onNew.validatorPublicKey !== newKey)
          throw unsafe(
            `${hostName(newNode)} signs with ${onNew.validatorPublicKey ?? 'no key'}, not the new key ${newKey}`,
          );
        await ensureNobodySignsWith(run, [oldNode], newKey, 'the new key must be on the new node only', [newNode]);
        stakeInFlight = true;
        try {
          return await summarized(
            near.stakeWithKey,
            `stake ${accountId} with ${newKey.slice(0, 16)}…`,
          )({
            rpcUrl: networkRpcUrl,
            networkId: input.validator.network,
            accountId,
            staking:
              input.staking.type === 'pool'
                ? { type: 'pool', ownerId: input.staking.ownerId, signer: input.staking.signer }
                : { type: 'direct', signer: input.staking.signer },
            newPublicKey: newKey,
          });
        } catch (err) {
          if (refusedByChain(err)) stakeInFlight = false;
          throw err;
        }
      },
      { approval: `Stake ${accountId} with the new key ${newKey} (active from epoch T+2)` },
    );
    if (stake.txHash) run.note(`staking transaction ${stake.txHash}`);

    await run.step(steps.waitKeyCurrent, () =>
      nearWaits.keyStage(run, 'key-current', networkRpcUrl, accountId, newKey, 'current', {
        timeoutMs: timeouts.keyActive,
      }),
    );

    await run.step(steps.waitNewSigning, () =>
      nearWaits.signing(run, 'new-signing', newNode, networkRpcUrl, accountId, 'epoch start', {
        timeoutMs: timeouts.signing,
      }),
    );

    await run.step(steps.stopOldNode, async () => {
      const standing = await near.keyStanding(networkRpcUrl, accountId, oldKey);
      observeCounters(run, standing.counters);
      if (standing.currentKey === oldKey)
        throw unsafe(`${accountId} still validates with the old key ${oldKey}; the old node must keep running`);
      await host.stop(oldNode);
    });

    return { oldKey, newKey, stakeTxHash: stake.txHash };
  });
}

function describeKey(status: { validatorAccountId?: string; validatorPublicKey?: string }): string {
  return status.validatorPublicKey
    ? `${status.validatorPublicKey} for ${status.validatorAccountId ?? 'an unknown account'}`
    : 'no validator key';
}
