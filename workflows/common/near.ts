/**
 * What the four NEAR runbooks share: the activity proxies (grouped by how long a call may take and how it
 * is retried), the "never two signers" checks, and the chain waits every runbook makes.
 *
 * A node is "not signing" only on positive evidence (common/signer-evidence.ts): its RPC says it runs with no
 * key or another one, or its host shows nothing running with its home. Neither the exit code of a stop
 * command nor an RPC that does not answer proves anything.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { HostActivities } from '../../activities/host/index.js';
import type { NearActivities } from '../../activities/near/index.js';
import type { HandOverValidatorKeyInput, NearNodeRef } from '../../src/api/contracts/near.js';
import type { NearNetwork } from '../../src/config/identities.js';
import { readForWait, waitForChain } from './chain-wait.js';
import { knownHomesOnMachine } from '../../src/api/signer-evidence.js';
import { requireSignerEvidence, usesSignerEvidence } from './signer-evidence.js';
import {
  changeOptions,
  dataSwapOptions,
  lookOptions,
  probeOptions,
  readOptions,
  transactionOptions,
} from './activity-options.js';
import { seeingStoppedNode } from './stopped-node.js';
import { summarized } from './summaries.js';
import { UNSAFE_ERROR_TYPE, type UpgradeRun } from './upgrade-run.js';

type Activities = HostActivities & Required<NearActivities>;

const reads = proxyActivities<Activities>(readOptions);
const probes = proxyActivities<Activities>(probeOptions);
const changes = proxyActivities<Activities>(changeOptions);

const swaps = proxyActivities<Activities>(dataSwapOptions);
const looks = proxyActivities<Activities>(lookOptions);
/** The staking transaction: idempotent (checks the chain first), so a retry never stakes twice. */
const staking = proxyActivities<Activities>(transactionOptions('5 minutes'));

export const hostName = (node: NearNodeRef) => `${node.service} on ${node.host.id}`;

/** The NEAR activities with a one-line summary each, named for what they do to which node. */
export const near = {
  /** With `chain`: the check before acting, refused (WrongChain) when the node or the network RPC is of another chain. */
  nodeStatus: (node: NearNodeRef, chain?: { chainId: NearNetwork; networkRpcUrl: string }) =>
    summarized(reads.nodeStatus, `status of ${hostName(node)}`)({ rpcUrl: node.rpcUrl, ...chain }),
  probeStatus: (node: NearNodeRef) =>
    summarized(probes.nodeStatus, `is ${hostName(node)} answering?`)({ rpcUrl: node.rpcUrl }),
  /** A node that does not answer is an answer here, so a wait for it to come up shows no failed activity. */
  answering: (node: NearNodeRef) =>
    summarized(reads.probeNodeStatus, `is ${hostName(node)} answering?`)({ rpcUrl: node.rpcUrl }),
  migrationState: (node: NearNodeRef) =>
    summarized(reads.migrationState, `is ${hostName(node)} still migrating?`)({ node }),
  epochInfo: (rpcUrl: string) => summarized(reads.epochInfo, 'epoch and next boundary')({ rpcUrl }),
  keyStanding: (rpcUrl: string, accountId: string, publicKey: string) =>
    summarized(
      reads.keyStanding,
      `where ${publicKey.slice(0, 16)}… stands for ${accountId}`,
    )({
      rpcUrl,
      accountId,
      publicKey,
    }),
  readValidatorKey: (node: NearNodeRef) =>
    summarized(reads.readValidatorKey, `validator key on ${hostName(node)}`)({ node }),
  observeSigner: (node: NearNodeRef, publicKey?: string, knownHolders: NearNodeRef[] = []) =>
    summarized(
      reads.observeSigner,
      publicKey
        ? `does ${hostName(node)} or anything on its host sign with ${publicKey.slice(0, 16)}…?`
        : `is ${hostName(node)} stopped on its host?`,
    )({
      node,
      ...(publicKey ? { publicKey } : {}),
      knownHolderHomes: knownHomesOnMachine(
        node.host,
        knownHolders.map((n) => ({ address: n.host.address, home: n.home })),
      ),
    }),
  generateValidatorKey: (node: NearNodeRef, accountId: string) =>
    summarized(
      changes.generateValidatorKey,
      `generate a validator key for ${accountId} on ${node.host.id}`,
    )({
      node,
      accountId,
    }),
  checkDatabase: (node: NearNodeRef, binaryPath: string, sha256: string) =>
    summarized(
      reads.checkDatabase,
      `database version on ${node.host.id} vs ${binaryPath}`,
    )({ node, binaryPath, sha256 }),
  stageValidatorKey: (from: NearNodeRef, to: NearNodeRef, accountId: string, expectedPublicKey: string, tag: string) =>
    summarized(
      changes.stageValidatorKey,
      `stage the validator key of ${accountId} on ${to.host.id}`,
    )({
      from,
      to,
      accountId,
      expectedPublicKey,
      tag,
    }),
  handOverValidatorKey: (req: HandOverValidatorKeyInput) =>
    summarized(
      changes.handOverValidatorKey,
      `hand the key of ${req.accountId} from ${hostName(req.primary)} to ${hostName(req.standby)}`,
    )(req),
  withdrawValidatorKey: (node: NearNodeRef, tag: string) =>
    summarized(changes.withdrawValidatorKey, `take the validator key off ${hostName(node)}`)({ node, tag }),
  reloadValidatorKey: (node: NearNodeRef) =>
    summarized(changes.reloadValidatorKey, `SIGHUP ${hostName(node)} to reload its validator key`)({ node }),
  stakeWithKey: staking.stakeWithKey,
  lookNodeSynced: looks.lookNodeSynced,
  lookKeyStage: looks.lookKeyStage,
  lookNodeSigning: looks.lookNodeSigning,
};

/** A data-folder swap activity, or its rollback, as the strategies call it: node, target, staging, swap id. */
function folderSwap(activity: typeof swaps.swapDataFolder, says: (target: string, staging: string) => string) {
  return (node: NearNodeRef, target: string, staging: string, swapId: string) =>
    summarized(activity, `${says(target, staging)} on ${node.host.id}`)({ host: node.host, target, staging, swapId });
}

/**
 * Stop (after `stopFirst`, when given), (swap the data folder,) put the staged release in place and start:
 * one activity on one connection, with the retries of a data swap (journaled, idempotent).
 */
export const restartOnRelease = (
  node: NearNodeRef,
  staged: { path: string; sha256: string },
  opts: {
    dataSwap?: { target: string; staging: string; swapId: string };
    mustBeStopped?: NearNodeRef[];
    publicKey?: string;
    stopFirst?: NearNodeRef;
  } = {},
) =>
  summarized(
    swaps.restartOnRelease,
    `${opts.stopFirst ? `stop ${hostName(opts.stopFirst)}, ` : ''}stop ${hostName(node)}, ${opts.dataSwap ? `swap ${opts.dataSwap.staging} into ${opts.dataSwap.target}, ` : ''}put ${staged.path} in place, start it`,
  )({
    node,
    staged,
    ...(opts.dataSwap ? { dataSwap: opts.dataSwap } : {}),
    mustBeStopped: (opts.mustBeStopped ?? []).map((n) => n.service),
    ...(opts.publicKey ? { publicKey: opts.publicKey } : {}),
    ...(opts.stopFirst ? { stopFirst: opts.stopFirst } : {}),
  });

export const host = {
  start: (node: NearNodeRef) =>
    summarized(changes.startService, `start ${hostName(node)}`)({ host: node.host, service: node.service }),
  stop: (node: NearNodeRef) =>
    summarized(changes.stopService, `stop ${hostName(node)}`)({ host: node.host, service: node.service }),
  isActive: (node: NearNodeRef) =>
    summarized(reads.isServiceActive, `is ${hostName(node)} running?`)({ host: node.host, service: node.service }),
  sha256: (node: NearNodeRef, path: string) =>
    summarized(reads.sha256OfFile, `sha256 of ${path} on ${node.host.id}`)({ host: node.host, path }),
  install: (node: NearNodeRef, source: string, destination: string, sha256: string) =>
    summarized(
      changes.installBinary,
      `install ${source} as ${destination} on ${node.host.id}`,
    )({
      host: node.host,
      source,
      destination,
      sha256,
    }),
  run: (node: NearNodeRef, argv: string[], summary: string) =>
    summarized(changes.runCommand, summary)({ host: node.host, argv, timeoutMs: 600_000 }),
  swapData: folderSwap(swaps.swapDataFolder, (target, staging) => `swap ${staging} into ${target}`),
  rollbackData: folderSwap(swaps.rollbackDataFolder, (target) => `restore the old ${target}`),
};

/** An activity failure no retry fixes: the chain or the host refused, so nothing was changed by it. */
export function refusedByChain(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable === true;
}

export function unsafe(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, UNSAFE_ERROR_TYPE);
}

/**
 * Fails unless the node is shown stopped: its RPC does not answer and its host shows nothing running with
 * its home or holding its database (and, given the key it signed with, no other process holding that key).
 */
export async function ensureStopped(
  run: UpgradeRun,
  node: NearNodeRef,
  why: string,
  publicKey?: string,
): Promise<void> {
  if (!usesSignerEvidence()) return legacyEnsureStopped(node, why);
  await requireSignerEvidence(run, () => near.observeSigner(node, publicKey), 'stopped', why);
}

/**
 * Fails unless none of `nodes`, nor anything else on their hosts, signs with `publicKey`. `knownHolders` are
 * the upgrade's own nodes that may hold it (the old node of a takeover), not counted as other holders.
 */
export async function ensureNobodySignsWith(
  run: UpgradeRun,
  nodes: NearNodeRef[],
  publicKey: string,
  why: string,
  knownHolders: NearNodeRef[] = [],
): Promise<void> {
  if (!usesSignerEvidence()) return legacyEnsureNobodySignsWith(nodes, publicKey, why);
  for (const node of nodes)
    await requireSignerEvidence(run, () => near.observeSigner(node, publicKey, knownHolders), 'not-signing', why);
}

/** The checks of histories recorded before SIGNER_EVIDENCE_PATCH, replayed as they ran. */
async function legacyObserve(node: NearNodeRef) {
  const active = await host.isActive(node);
  const status = await near.probeStatus(node).catch(() => undefined);
  return { active, status };
}

async function legacyEnsureStopped(node: NearNodeRef, why: string): Promise<void> {
  const seen = await legacyObserve(node);
  if (seen.active) throw unsafe(`${hostName(node)} is still running; ${why}`);
  if (seen.status?.validatorPublicKey)
    throw unsafe(
      `${hostName(node)} is reported stopped but its RPC still signs with ${seen.status.validatorPublicKey}; ${why}`,
    );
}

async function legacyEnsureNobodySignsWith(nodes: NearNodeRef[], publicKey: string, why: string): Promise<void> {
  for (const node of nodes) {
    const seen = await legacyObserve(node);
    if (seen.status?.validatorPublicKey === publicKey)
      throw unsafe(`${hostName(node)} already signs with ${publicKey}; ${why}`);
    if (seen.active && !seen.status)
      throw unsafe(`${hostName(node)} is running but its RPC does not answer, so its key is unknown; ${why}`);
  }
}

export interface WaitLimits {
  timeoutMs: number;
}

/** Durable waits of the NEAR runbooks: look, sleep until the chain's own estimate, look again. */
export const nearWaits = {
  /**
   * Sync takes hours on mainnet: look again when the look projects it done at the node's import rate, every
   * few seconds at the soonest, every 4 hours at the latest; a crash is seen then.
   */
  synced: (run: UpgradeRun, waitId: string, node: NearNodeRef, networkRpcUrl: string, limits: WaitLimits) =>
    waitForChain(
      run,
      waitId,
      `${hostName(node)} to sync`,
      seeingStoppedNode(
        hostName(node),
        () =>
          summarized(near.lookNodeSynced, `is ${hostName(node)} synced?`)({ nodeRpcUrl: node.rpcUrl, networkRpcUrl }),
        () => host.isActive(node),
      ),
      { timeoutMs: limits.timeoutMs, minRecheckMs: 5_000, maxSleepMs: 4 * 3_600_000 },
    ),

  /** Key stages change only at epoch boundaries: sleep until the estimated boundary, capped at 6 hours. */
  keyStage: (
    run: UpgradeRun,
    waitId: string,
    networkRpcUrl: string,
    accountId: string,
    publicKey: string,
    want: 'proposed' | 'next' | 'current',
    limits: WaitLimits,
  ) =>
    waitForChain(
      run,
      waitId,
      `the new key to be ${want}`,
      () =>
        summarized(
          near.lookKeyStage,
          `is ${publicKey.slice(0, 16)}… ${want} for ${accountId}?`,
        )({
          rpcUrl: networkRpcUrl,
          accountId,
          publicKey,
          want,
        }),
      { timeoutMs: limits.timeoutMs, minRecheckMs: 5_000, maxSleepMs: 6 * 3_600_000 },
    ),

  /**
   * Producing is seen within a few blocks of a node taking over. `since`: count blocks from the head (a node that
   * takes over now) or from the start of the epoch (a key that became current at it).
   */
  signing: async (
    run: UpgradeRun,
    waitId: string,
    node: NearNodeRef,
    networkRpcUrl: string,
    accountId: string,
    since: 'head' | 'epoch start',
    limits: WaitLimits,
  ) => {
    const what = `${hostName(node)} to produce for ${accountId}`;
    const opts = { timeoutMs: limits.timeoutMs, minRecheckMs: 2_000, maxSleepMs: 10 * 60_000 };
    const epoch = await readForWait(run, waitId, what, () => near.epochInfo(networkRpcUrl), opts);
    const sinceHeight = since === 'head' ? epoch.headHeight : epoch.epochStartHeight;
    return waitForChain(
      run,
      waitId,
      what,
      () =>
        summarized(
          near.lookNodeSigning,
          `is ${hostName(node)} producing?`,
        )({
          nodeRpcUrl: node.rpcUrl,
          networkRpcUrl,
          accountId,
          sinceHeight,
        }),
      opts,
    );
  },
};

/** A name for this upgrade's backups and journals, fixed for the whole upgrade (across continue-as-new). */
export function upgradeTag(run: UpgradeRun): string {
  return run.uniqueName('upgrade-tag', (nonce) => `vup-${nonce}`);
}

export interface BinaryBackup {
  path: string;
  sha256: string;
}

/** The node's binary across a release: a checksummed copy kept for compensation, and put back by it. */
export const binary = {
  /** Keeps a copy of the binary the node runs now, so compensation can put it back; never overwrites a copy. */
  backUp: async (node: NearNodeRef, backupPath: string): Promise<BinaryBackup> => {
    const sha256 = await host.sha256(node, node.binary!);
    const copied = await host.run(
      node,
      ['cp', '-p', '-n', node.binary!, backupPath],
      `back up ${node.binary} on ${node.host.id}`,
    );
    if (copied.exitCode !== 0) throw unsafe(`could not back up ${node.binary}: ${copied.stderrTail.trim()}`);
    const kept = await host.sha256(node, backupPath);
    if (kept !== sha256)
      throw unsafe(
        `${backupPath} already holds another binary (sha256 ${kept}, the node runs ${sha256}); not overwriting it`,
      );
    return { path: backupPath, sha256 };
  },
  /** Puts the backed-up binary back in place (checksum verified). */
  restore: (node: NearNodeRef, backup: BinaryBackup) => host.install(node, backup.path, node.binary!, backup.sha256),
};
