/**
 * Every strategy's runbook as data, written once: its steps in order, with their titles, the approval gates
 * held before the irreversible ones, and what undoing a step means. The workflows run these plans (they name
 * their steps by reference, `steps.stopSyncNode`, so a step outside the plan does not compile), the `status`
 * query starts from them, the CLI's `plan` prints them, and docs/strategies.md (the README's strategy table
 * and a state diagram per strategy) is generated from them. Plain data, so it loads in the workflow sandbox.
 */
import type { StrategyName } from './strategies.js';

export interface PlanStep {
  readonly id: string;
  readonly title: string;
  /**
   * An approval gate held before the step when the input asks for manual approval, named by the step's id:
   * `why` says what a person approves. `alsoAccepts` lists older names an `approve` may still use.
   */
  readonly gate?: { readonly why: string; readonly alsoAccepts?: readonly string[] };
  /** What undoing the step means (a later step failed, or the operator aborted); absent: nothing to undo. */
  readonly undo?: string;
  /** Only runs that have this in their input take the step; the others' plans leave it out. */
  readonly onlyWith?: 'releaseB' | 'release' | 'handBack';
  /** When a run marks the step skipped instead of running it (it stays in the plan). */
  readonly skippedWhen?: string;
  /** Only runs that take this workflow patch (every one listed) take the step (it replaced older ones). */
  readonly since?: string | readonly string[];
  /** Runs that take this workflow patch (every one listed) no longer take the step; recorded histories replay it. */
  readonly until?: string | readonly string[];
}

/**
 * Sync-and-swap and stop-and-restart stop the validator for one host-side step (stop, swap, start) with
 * everything staged before the stop, instead of one activity after another while it does not sign.
 */
export const ONE_STEP_RESTART_PATCH = 'one-step-restart';

/**
 * Sync-and-swap stops its sync node inside that host-side step, just before the validator: the data folder
 * the validator takes is a moment old instead of as old as the gate and the steps between (it catches up less).
 */
export const SYNC_STOP_IN_SWAP_PATCH = 'sync-stop-in-swap';

/** The form the status query and the CLI show a step in. */
export interface PlannedStep {
  id: string;
  title: string;
}

export interface StrategyPlan {
  readonly chain: string;
  /** The runbook in one line (the README's strategy table). */
  readonly runbook: string;
  /** In the order the workflow runs them. */
  readonly steps: Readonly<Record<string, PlanStep>>;
}

const plan = <const P extends StrategyPlan>(p: P) => p;

export const plans = {
  nearZeroDowntimeUpgrade: plan({
    chain: 'NEAR',
    runbook:
      'a new node with a new validator key for the same account syncs; stake with the new key (pool owner `update_staking_key`, or a direct Stake); wait until the key is current (proposal in epoch T, current from T+2); stop the old node',
    steps: {
      checkNodes: { id: 'check-nodes', title: 'Check that only the old node signs for the account' },
      installRelease: { id: 'install-release', title: 'Install the new release on the new node' },
      generateKey: { id: 'generate-key', title: 'Generate the new validator key on the new host' },
      startNewNode: {
        id: 'start-new-node',
        title: 'Start the new node (not staked yet, so it only syncs)',
        undo: 'Stop the new node (the new key was never staked)',
      },
      waitNewSynced: { id: 'wait-new-synced', title: 'Wait until the new node is synced' },
      stakeNewKey: {
        id: 'stake-new-key',
        title: 'Stake with the new key',
        gate: { why: 'the chain hands the account to the new key two epochs later; the new node must keep running' },
      },
      waitKeyCurrent: { id: 'wait-key-current', title: 'Wait until the new key is current (epoch T+2)' },
      waitNewSigning: { id: 'wait-new-signing', title: 'Wait until the new node produces' },
      stopOldNode: { id: 'stop-old-node', title: 'Stop the old node' },
    },
  }),

  nearSyncAndSwapUpgrade: plan({
    chain: 'NEAR',
    runbook:
      'a node without a validator key syncs on the new binary; stop it and the validator; swap its data folder in (atomic rename, backup kept); start the validator on the new binary; roll back on failure',
    steps: {
      checkNodes: { id: 'check-nodes', title: 'Check the validator node and that the sync node holds no key' },
      installSyncRelease: { id: 'install-sync-release', title: 'Install the new release for the sync node' },
      startSyncNode: { id: 'start-sync-node', title: 'Start the sync node', undo: 'Stop the sync node' },
      waitSyncNodeSynced: { id: 'wait-sync-node-synced', title: 'Wait until the sync node is synced' },
      stageRelease: {
        id: 'stage-release',
        title: "Back up the validator's binary and stage the new release beside it",
        since: ONE_STEP_RESTART_PATCH,
      },
      stopSyncNode: {
        id: 'stop-sync-node',
        title: 'Stop the sync node',
        // Named for the swap it leads to before the gates were named by the steps they guard.
        gate: {
          why: 'from here the validator node stops (it misses blocks until it runs again) and takes the synced data folder',
          alsoAccepts: ['swap-data-folder'],
        },
        until: [ONE_STEP_RESTART_PATCH, SYNC_STOP_IN_SWAP_PATCH],
      },
      swapAndRestart: {
        id: 'swap-and-restart',
        title:
          'Stop the validator node, swap in the synced data folder and the new binary, start it (one host-side step)',
        undo: 'Stop the validator node, restore its old data folder and binary, start it again',
        since: ONE_STEP_RESTART_PATCH,
        until: SYNC_STOP_IN_SWAP_PATCH,
      },
      stopSwapAndRestart: {
        id: 'stop-swap-and-restart',
        title:
          'Stop the sync node, then the validator node; swap in the synced data folder and the new binary; start the validator (one host-side step)',
        gate: {
          why: 'from here the sync node and the validator node stop (the validator misses blocks until it runs again), and the validator takes the synced data folder',
          alsoAccepts: ['stop-sync-node', 'swap-data-folder'],
        },
        undo: 'Stop the validator node, restore its old data folder and binary, start it again',
        since: [ONE_STEP_RESTART_PATCH, SYNC_STOP_IN_SWAP_PATCH],
      },
      stopValidator: {
        id: 'stop-validator',
        title: 'Stop the validator node',
        undo: 'Start the validator node again on its old binary and data',
        until: ONE_STEP_RESTART_PATCH,
      },
      swapDataFolder: {
        id: 'swap-data-folder',
        title: "Swap the synced data folder into the validator's home",
        undo: 'Restore the old data folder',
        until: ONE_STEP_RESTART_PATCH,
      },
      installRelease: {
        id: 'install-release',
        title: 'Install the new release for the validator node',
        undo: 'Put the old binary back',
        until: ONE_STEP_RESTART_PATCH,
      },
      startValidator: {
        id: 'start-validator',
        title: 'Start the validator node on the new release',
        undo: 'Stop the validator node',
        until: ONE_STEP_RESTART_PATCH,
      },
      waitValidatorSynced: { id: 'wait-validator-synced', title: 'Wait until the validator node is synced' },
      waitValidatorSigning: { id: 'wait-validator-signing', title: 'Wait until the validator node produces again' },
    },
  }),

  nearStopAndRestartUpgrade: plan({
    chain: 'NEAR',
    runbook:
      'stop, install the new binary (sha256 checked), start; follow a database migration without ever interrupting it; wait for sync and for the node to sign again',
    steps: {
      checkNode: { id: 'check-node', title: 'Check the node and its database against the new release' },
      backUpBinary: { id: 'back-up-binary', title: 'Back up the binary the node runs now' },
      stageRelease: {
        id: 'stage-release',
        title: 'Stage the new release beside the binary (checksum verified)',
        since: ONE_STEP_RESTART_PATCH,
      },
      restartOnRelease: {
        id: 'restart-on-release',
        title: 'Stop the node, put the new release in place, start it (one host-side step)',
        gate: { why: 'the account misses blocks from the stop until the node signs again', alsoAccepts: ['stop-node'] },
        undo: 'Stop the node, put the old binary back and start it again (not once a migration started)',
        since: ONE_STEP_RESTART_PATCH,
      },
      stopNode: {
        id: 'stop-node',
        title: 'Stop the node',
        gate: { why: 'the account misses blocks from the stop until the node signs again' },
        undo: 'Start the node again',
        until: ONE_STEP_RESTART_PATCH,
      },
      installRelease: {
        id: 'install-release',
        title: 'Install the new release',
        undo: 'Put the old binary back',
        until: ONE_STEP_RESTART_PATCH,
      },
      startNode: {
        id: 'start-node',
        title: 'Start the node on the new release',
        undo: 'Stop the node before the old binary goes back',
        until: ONE_STEP_RESTART_PATCH,
      },
      waitMigration: {
        id: 'wait-migration',
        title: 'Follow the database migration to its end (never interrupted)',
        skippedWhen: 'the database needs no migration',
      },
      waitSynced: { id: 'wait-synced', title: 'Wait until the node is synced' },
      waitSigning: { id: 'wait-signing', title: 'Wait until the node produces again' },
    },
  }),

  nearValidatorKeyHotSwap: plan({
    chain: 'NEAR',
    runbook: 'a synced standby takes over the validator key (key file + SIGHUP) once the primary is verifiably stopped',
    steps: {
      checkNodes: { id: 'check-nodes', title: 'Check that the primary signs and the standby holds no key' },
      installRelease: {
        id: 'install-release',
        title: 'Install the new release on the standby and restart it',
        skippedWhen: 'no release given',
      },
      startStandby: { id: 'start-standby', title: 'Make sure the standby runs' },
      waitStandbySynced: { id: 'wait-standby-synced', title: 'Wait until the standby is synced' },
      stageKey: {
        id: 'stage-key',
        title: 'Stage the validator key on the standby, where neard does not read it',
        undo: 'Take the key off the standby, then give it back to the primary',
      },
      handOver: {
        id: 'hand-over',
        title: 'Right after a block of the validator: stop the primary, hand the key to the standby',
        gate: { why: 'the primary stops and the standby signs with the key from then on' },
      },
      waitStandbySigning: { id: 'wait-standby-signing', title: 'Wait until the standby produces' },
    },
  }),

  polkadotValidatorSwapUpgrade: plan({
    chain: 'Polkadot, Kusama, Westend',
    runbook:
      'B takes over: start B, rotate keys on B (with the ownership proof), set them (relay `session.setKeys` or Asset Hub `stakingRcClient.setKeys`, by the stash or a Staking/StakingOperator proxy), wait until they are active and a block of that session is final; stop and upgrade A; hand back the same way; stop B',
    steps: {
      checkA: { id: 'check-a', title: 'Check that A validates for the stash with settled keys' },
      installB: { id: 'install-b', title: 'Install the release on B', onlyWith: 'releaseB' },
      startB: {
        id: 'start-b',
        title: 'Start B (holding none of A’s keys)',
        undo: 'Stop B (after giving the validator back to A if B’s keys may be on chain)',
      },
      waitBSynced: { id: 'wait-b-synced', title: 'Wait until B is synced' },
      rotateKeysB: { id: 'rotate-keys-b', title: 'Generate session keys on B (owner: the stash)' },
      checkSignersB: { id: 'check-signers-b', title: 'Check that only B holds its new keys and B none of A’s' },
      setKeysB: {
        id: 'set-keys-b',
        title: 'Set B’s keys on chain',
        gate: { why: 'B’s keys become active two sessions later; A keeps validating until then' },
      },
      waitKeysBActive: {
        id: 'wait-keys-b-active',
        title: 'Wait until B’s keys are active and a block of that session is finalized',
      },
      stopA: {
        id: 'stop-a',
        title: 'Stop A',
        undo: 'Start A again (its keys are not active; it syncs to take the validator back)',
      },
      upgradeA: { id: 'upgrade-a', title: 'Install the new release on A', onlyWith: 'release' },
      startA: { id: 'start-a', title: 'Start A on the new release', onlyWith: 'handBack' },
      waitASynced: { id: 'wait-a-synced', title: 'Wait until A is synced', onlyWith: 'handBack' },
      rotateKeysA: {
        id: 'rotate-keys-a',
        title: 'Generate new session keys on A (owner: the stash)',
        onlyWith: 'handBack',
      },
      checkSignersA: { id: 'check-signers-a', title: 'Check that only A holds its new keys', onlyWith: 'handBack' },
      setKeysA: {
        id: 'set-keys-a',
        title: 'Set A’s new keys on chain',
        onlyWith: 'handBack',
        gate: { why: 'A’s new keys become active two sessions later; B keeps validating until then' },
      },
      waitKeysAActive: {
        id: 'wait-keys-a-active',
        title: 'Wait until A’s keys are active and a block of that session is finalized',
        onlyWith: 'handBack',
      },
      stopB: { id: 'stop-b', title: 'Stop B', onlyWith: 'handBack' },
    },
  }),
} as const satisfies Record<StrategyName, StrategyPlan>;

/** The steps of one strategy's plan, each a typed reference the workflow code names. */
export type StepOf<N extends StrategyName> = (typeof plans)[N]['steps'][keyof (typeof plans)[N]['steps']] & PlanStep;

/** Whether a run takes a workflow patch's steps; by default a run started now, which takes every patch. */
export type PatchTaken = (patchId: string) => boolean;

/** A plan's steps in order, as a run that takes the patches `taken` says runs them. */
export function stepsOf(strategy: StrategyName, taken: PatchTaken = () => true): PlanStep[] {
  const steps: StrategyPlan['steps'] = plans[strategy].steps;
  const all = (patches: readonly string[]) => patches.length > 0 && patches.every(taken);
  return Object.values(steps).filter(
    (s) => (!s.since || all(patchList(s.since))) && (!s.until || !all(patchList(s.until))),
  );
}

/** The workflow patches that change a strategy's plan. */
export function planPatches(strategy: StrategyName): string[] {
  const steps: StrategyPlan['steps'] = plans[strategy].steps;
  return [...new Set(Object.values(steps).flatMap((s) => [...patchList(s.since), ...patchList(s.until)]))];
}

/** The steps of a plan that runs before `patchId` took (and newer runs do not). */
export function retiredSteps(strategy: StrategyName, patchId: string): PlanStep[] {
  const steps: StrategyPlan['steps'] = plans[strategy].steps;
  return Object.values(steps).filter((s) => patchList(s.until).includes(patchId));
}

function patchList(patches: string | readonly string[] | undefined): readonly string[] {
  return patches === undefined ? [] : typeof patches === 'string' ? [patches] : patches;
}

/** The fields of an input that decide which steps a run takes. */
export interface PlanInput {
  releaseB?: unknown;
  release?: unknown;
  handBack?: boolean;
}

/** The steps a run of `strategy` with this (valid) input takes, as its `status` query lists them at the start. */
export function plannedSteps(strategy: string, input: PlanInput, taken?: PatchTaken): PlannedStep[] {
  if (!Object.hasOwn(plans, strategy)) throw new Error(`unknown strategy "${strategy}"`);
  // The Polkadot swap's default (handBack: true) applies when the input leaves it out.
  const has = { releaseB: !!input.releaseB, release: !!input.release, handBack: input.handBack ?? true };
  return stepsOf(strategy as StrategyName, taken)
    .filter((step) => !step.onlyWith || has[step.onlyWith])
    .map(({ id, title }) => ({ id, title }));
}
