/**
 * Every strategy's runbook as a list of steps, in one place: the workflows run these plans (their `status`
 * query starts from them) and the CLI's `plan` prints them before anything runs. Plain data, so it loads in
 * the workflow sandbox.
 */
export interface PlannedStep {
  id: string;
  title: string;
}

export const nearZeroDowntimePlan: readonly PlannedStep[] = [
  { id: 'check-nodes', title: 'Check that only the old node signs for the account' },
  { id: 'install-release', title: 'Install the new release on the new node' },
  { id: 'generate-key', title: 'Generate the new validator key on the new host' },
  { id: 'start-new-node', title: 'Start the new node (not staked yet, so it only syncs)' },
  { id: 'wait-new-synced', title: 'Wait until the new node is synced' },
  { id: 'stake-new-key', title: 'Stake with the new key' },
  { id: 'wait-key-current', title: 'Wait until the new key is current (epoch T+2)' },
  { id: 'wait-new-signing', title: 'Wait until the new node produces' },
  { id: 'stop-old-node', title: 'Stop the old node' },
];

export const nearSyncAndSwapPlan: readonly PlannedStep[] = [
  { id: 'check-nodes', title: 'Check the validator node and that the sync node holds no key' },
  { id: 'install-sync-release', title: 'Install the new release for the sync node' },
  { id: 'start-sync-node', title: 'Start the sync node' },
  { id: 'wait-sync-node-synced', title: 'Wait until the sync node is synced' },
  { id: 'stop-sync-node', title: 'Stop the sync node' },
  { id: 'stop-validator', title: 'Stop the validator node' },
  { id: 'swap-data-folder', title: "Swap the synced data folder into the validator's home" },
  { id: 'install-release', title: 'Install the new release for the validator node' },
  { id: 'start-validator', title: 'Start the validator node on the new release' },
  { id: 'wait-validator-synced', title: 'Wait until the validator node is synced' },
  { id: 'wait-validator-signing', title: 'Wait until the validator node produces again' },
];

export const nearStopAndRestartPlan: readonly PlannedStep[] = [
  { id: 'check-node', title: 'Check the node and its database against the new release' },
  { id: 'back-up-binary', title: 'Back up the binary the node runs now' },
  { id: 'stop-node', title: 'Stop the node' },
  { id: 'install-release', title: 'Install the new release' },
  { id: 'start-node', title: 'Start the node on the new release' },
  { id: 'wait-migration', title: 'Follow the database migration to its end (never interrupted)' },
  { id: 'wait-synced', title: 'Wait until the node is synced' },
  { id: 'wait-signing', title: 'Wait until the node produces again' },
];

export const nearKeyHotSwapPlan: readonly PlannedStep[] = [
  { id: 'check-nodes', title: 'Check that the primary signs and the standby holds no key' },
  { id: 'install-release', title: 'Install the new release on the standby and restart it' },
  { id: 'start-standby', title: 'Make sure the standby runs' },
  { id: 'wait-standby-synced', title: 'Wait until the standby is synced' },
  { id: 'stage-key', title: 'Stage the validator key on the standby, where neard does not read it' },
  { id: 'hand-over', title: 'Right after a block of the validator: stop the primary, hand the key to the standby' },
  { id: 'wait-standby-signing', title: 'Wait until the standby produces' },
];

const polkadotTakeOver: readonly PlannedStep[] = [
  { id: 'check-a', title: 'Check that A validates for the stash with settled keys' },
  { id: 'start-b', title: 'Start B (holding none of A’s keys)' },
  { id: 'wait-b-synced', title: 'Wait until B is synced' },
  { id: 'rotate-keys-b', title: 'Generate session keys on B (owner: the stash)' },
  { id: 'check-signers-b', title: 'Check that only B holds its new keys and B none of A’s' },
  { id: 'set-keys-b', title: 'Set B’s keys on chain' },
  { id: 'wait-keys-b-active', title: 'Wait until B’s keys are active and a block of that session is finalized' },
  { id: 'stop-a', title: 'Stop A' },
];
const polkadotInstallB: PlannedStep = { id: 'install-b', title: 'Install the release on B' };
const polkadotUpgradeA: PlannedStep = { id: 'upgrade-a', title: 'Install the new release on A' };
const polkadotHandBack: readonly PlannedStep[] = [
  { id: 'start-a', title: 'Start A on the new release' },
  { id: 'wait-a-synced', title: 'Wait until A is synced' },
  { id: 'rotate-keys-a', title: 'Generate new session keys on A (owner: the stash)' },
  { id: 'check-signers-a', title: 'Check that only A holds its new keys' },
  { id: 'set-keys-a', title: 'Set A’s new keys on chain' },
  { id: 'wait-keys-a-active', title: 'Wait until A’s keys are active and a block of that session is finalized' },
  { id: 'stop-b', title: 'Stop B' },
];

/** The Polkadot swap's steps depend on its input: which releases it installs and whether it hands back. */
export function polkadotValidatorSwapPlan(input: { releaseB?: unknown; release?: unknown; handBack?: boolean }) {
  const plan = [...polkadotTakeOver];
  if (input.releaseB) plan.splice(1, 0, polkadotInstallB);
  if (input.release) plan.push(polkadotUpgradeA);
  if (input.handBack) plan.push(...polkadotHandBack);
  return plan;
}

/** The steps a run of `strategy` with this (valid) input takes, as its `status` query lists them at the start. */
export function plannedSteps(
  strategy: string,
  input: { releaseB?: unknown; release?: unknown; handBack?: boolean },
): PlannedStep[] {
  switch (strategy) {
    case 'nearZeroDowntimeUpgrade':
      return [...nearZeroDowntimePlan];
    case 'nearSyncAndSwapUpgrade':
      return [...nearSyncAndSwapPlan];
    case 'nearStopAndRestartUpgrade':
      return [...nearStopAndRestartPlan];
    case 'nearValidatorKeyHotSwap':
      return [...nearKeyHotSwapPlan];
    case 'polkadotValidatorSwapUpgrade':
      // The workflow's default (handBack: true) applies when the input leaves it out.
      return polkadotValidatorSwapPlan({ ...input, handBack: input.handBack ?? true });
    default:
      throw new Error(`unknown strategy "${strategy}"`);
  }
}
