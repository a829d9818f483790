/**
 * What the Polkadot runbook needs around its activities: the proxies (grouped by how long a call may take
 * and how it is retried), one-line summaries, the "never two signers" checks, and the session waits.
 *
 * A node is "stopped" only on positive evidence (common/signer-evidence.ts): its RPC does not answer and its
 * host shows nothing running with its base path or holding its database. A node "holds" keys when its own RPC
 * says so (author_hasSessionKeys), or when its keystore has a file for one of the public keys; a node that
 * runs but does not answer holds what it holds, which is unknown, never "nothing".
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { HostActivities } from '../../activities/host/index.js';
import type { PolkadotActivities } from '../../activities/polkadot/index.js';
import type { PolkadotNodeRef, SetKeysRoute } from '../../src/api/contracts/polkadot.js';
import { keystoreEntriesHolding, knownHomesOnMachine } from '../../src/api/signer-evidence.js';
import { waitForChain } from './chain-wait.js';
import { requireSignerEvidence, usesSignerEvidence } from './signer-evidence.js';
import { changeOptions, lookOptions, probeOptions, readOptions, transactionOptions } from './activity-options.js';
import { seeingStoppedNode } from './stopped-node.js';
import { summarized } from './summaries.js';
import { UNSAFE_ERROR_TYPE, type UpgradeRun } from './upgrade-run.js';

type Activities = HostActivities & Required<PolkadotActivities>;

const reads = proxyActivities<Activities>(readOptions);
const probes = proxyActivities<Activities>(probeOptions);
const changes = proxyActivities<Activities>(changeOptions);
const looks = proxyActivities<Activities>(lookOptions);

/**
 * The set-keys transaction: idempotent (reads NextKeys first, and a retry first waits for the transaction an
 * earlier attempt sent), waits for finality, and a dispatch error is non-retryable, so a retry never submits twice.
 */
const keyTx = proxyActivities<Activities>(transactionOptions('10 minutes'));

export const nodeName = (node: PolkadotNodeRef) => `${node.service} on ${node.host.id}`;
export const shortKeys = (keys: string) => `${keys.slice(0, 18)}…`;
/** The chain the RPCs must answer for, when the inventory names it (else nothing: inputs as recorded before). */
const onChain = (genesisHash: string | undefined) => (genesisHash ? { genesisHash } : {});

export const dot = {
  /** With `genesisHash`: refused (WrongChain) when the node answers for another chain. */
  health: (node: PolkadotNodeRef, genesisHash?: string) =>
    summarized(reads.nodeHealth, `health of ${nodeName(node)}`)({ rpcUrl: node.rpcUrl, ...onChain(genesisHash) }),
  probeHealth: (node: PolkadotNodeRef) =>
    summarized(probes.nodeHealth, `is ${nodeName(node)} answering?`)({ rpcUrl: node.rpcUrl }),
  sessionInfo: (rpcUrl: string) => summarized(reads.sessionInfo, 'session and next boundary')({ rpcUrl }),
  /** With `genesisHash`: refused (WrongChain) when the relay RPC answers for another chain. */
  stashKeys: (rpcUrl: string, stash: string, genesisHash?: string) =>
    summarized(reads.stashKeys, `session keys of ${stash} on chain`)({ rpcUrl, stash, ...onChain(genesisHash) }),
  keysStanding: (rpcUrl: string, stash: string, keys: string) =>
    summarized(reads.keysStanding, `where ${shortKeys(keys)} stands for ${stash}`)({ rpcUrl, stash, keys }),
  observeSigner: (node: PolkadotNodeRef, keys?: string, knownHolders: PolkadotNodeRef[] = []) =>
    summarized(
      reads.observePolkadotSigner,
      keys
        ? `does ${nodeName(node)} or anything on its host hold ${shortKeys(keys)}?`
        : `is ${nodeName(node)} stopped on its host?`,
    )({
      node,
      ...(keys ? { keys } : {}),
      knownHolderHomes: knownHomesOnMachine(
        node.host,
        knownHolders.map((n) => ({ address: n.host.address, home: n.basePath })),
      ),
    }),
  hasKeys: (node: PolkadotNodeRef, keys: string) =>
    summarized(reads.nodeHasKeys, `does ${nodeName(node)} hold ${shortKeys(keys)}?`)({ nodeRpcUrl: node.rpcUrl, keys }),
  /** Which of these nodes hold which keys, in one activity. */
  holdKeys: (checks: { node: PolkadotNodeRef; keys: string }[]) =>
    summarized(
      reads.nodesHoldKeys,
      `which of ${checks.map((c) => `${nodeName(c.node)} holds ${shortKeys(c.keys)}`).join(', ')}?`,
    )({ checks: checks.map(({ node, keys }) => ({ nodeRpcUrl: node.rpcUrl, keys })) }),
  rotateKeys: (node: PolkadotNodeRef, stash: string, upgradeId: string) =>
    summarized(
      changes.rotateKeys,
      `generate session keys on ${nodeName(node)} (owner ${stash})`,
    )({ node, stash, upgradeId }),
  setKeys: (route: SetKeysRoute, stash: string, keys: string, proof: string | undefined, genesisHash?: string) =>
    summarized(
      keyTx.setKeys,
      `set ${shortKeys(keys)} for ${stash} via ${route.submitTo}${route.signedBy.type === 'proxy' ? ` (${route.signedBy.proxyType} proxy)` : ''}`,
    )({ route, stash, keys, proof, ...onChain(genesisHash) }),
  lookPolkadotNodeSynced: looks.lookPolkadotNodeSynced,
  lookKeysActive: looks.lookKeysActive,
};

export const host = {
  start: (node: PolkadotNodeRef) =>
    summarized(changes.startService, `start ${nodeName(node)}`)({ host: node.host, service: node.service }),
  stop: (node: PolkadotNodeRef) =>
    summarized(changes.stopService, `stop ${nodeName(node)}`)({ host: node.host, service: node.service }),
  isActive: (node: PolkadotNodeRef) =>
    summarized(reads.isServiceActive, `is ${nodeName(node)} running?`)({ host: node.host, service: node.service }),
  install: (node: PolkadotNodeRef, release: { staged: string; installTo: string; sha256: string }) =>
    summarized(
      changes.installBinary,
      `install ${release.staged} as ${release.installTo} on ${node.host.id}`,
    )({ host: node.host, source: release.staged, destination: release.installTo, sha256: release.sha256 }),
  keystoreFiles: (node: PolkadotNodeRef) =>
    summarized(
      reads.runCommand,
      `list the keystore of ${nodeName(node)}`,
    )({
      host: node.host,
      argv: ['find', node.basePath, '-path', '*/keystore/*', '-type', 'f', '-printf', '%f\\n'],
      timeoutMs: 30_000,
    }),
};

export function unsafe(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, UNSAFE_ERROR_TYPE);
}

/** Stops the node and proves it: its RPC no longer answers and its host shows nothing running with its base path. */
export async function stopVerified(run: UpgradeRun, node: PolkadotNodeRef): Promise<void> {
  await host.stop(node);
  if (usesSignerEvidence()) {
    await requireSignerEvidence(run, () => dot.observeSigner(node), 'stopped', `${nodeName(node)} must be stopped`);
    return;
  }
  if (await host.isActive(node)) throw unsafe(`${nodeName(node)} is still running after the stop`);
  const answered = await dot.probeHealth(node).then(
    () => true,
    () => false,
  );
  if (answered) throw unsafe(`${nodeName(node)} is reported stopped but its RPC still answers`);
}

/** Fails if the node's keystore (read on its host, the node need not run) holds any of the public keys in `keys`. */
export async function ensureKeystoreLacks(node: PolkadotNodeRef, keys: string, why: string): Promise<void> {
  const listed = await host.keystoreFiles(node);
  // find exits 1 when the base path does not exist yet: an empty keystore.
  if (listed.exitCode !== 0 && !/No such file/.test(listed.stderrTail))
    throw unsafe(`cannot read the keystore of ${nodeName(node)}: ${listed.stderrTail.trim()}`);
  const found = keystoreEntriesHolding(listed.stdoutTail.split('\n'), keys);
  if (found.length > 0)
    throw unsafe(`${nodeName(node)} has ${found.length} of the keys ${shortKeys(keys)} in its keystore; ${why}`);
}

/**
 * Fails unless the node, and anything else on its host, is shown not to hold `keys`: its RPC says so, or it is
 * shown not running. `knownHolders` are the upgrade's own nodes that may hold them.
 */
export async function ensureNodeLacks(
  run: UpgradeRun,
  node: PolkadotNodeRef,
  keys: string,
  why: string,
  knownHolders: PolkadotNodeRef[] = [],
): Promise<void> {
  if (usesSignerEvidence()) {
    await requireSignerEvidence(run, () => dot.observeSigner(node, keys, knownHolders), 'not-signing', why);
    return;
  }
  // Histories recorded before SIGNER_EVIDENCE_PATCH: a node that did not answer was taken to hold nothing.
  const answering = await dot.probeHealth(node).then(
    () => true,
    () => false,
  );
  if (answering && (await dot.hasKeys(node, keys)))
    throw unsafe(`${nodeName(node)} holds the keys ${shortKeys(keys)}; ${why}`);
}

export interface WaitLimits {
  timeoutMs: number;
  /** The relay chain's genesis hash: a look at an RPC of another chain is refused (WrongChain). */
  genesisHash?: string;
}

/** One Polkadot session: the longest a sync wait sleeps without looking. */
const SYNC_MAX_SLEEP_MS = 4 * 3_600_000;
/** Two Polkadot sessions and a few minutes: keys just set become active at the boundary after next. */
const KEYS_MAX_SLEEP_MS = 2 * 4 * 3_600_000 + 5 * 60_000;

/** Durable waits of the swap: look, sleep until the chain's own estimate (a session boundary), look again. */
export const dotWaits = {
  /**
   * Sync takes hours on a fresh node: look again when the look projects it done at the node's import rate, every
   * few seconds at the soonest, once a Polkadot session (4 h) at the latest; a crash is seen then.
   */
  synced: (run: UpgradeRun, waitId: string, node: PolkadotNodeRef, relayRpcUrl: string, limits: WaitLimits) =>
    waitForChain(
      run,
      waitId,
      `${nodeName(node)} to sync`,
      seeingStoppedNode(
        nodeName(node),
        () =>
          summarized(
            dot.lookPolkadotNodeSynced,
            `is ${nodeName(node)} synced?`,
          )({ nodeRpcUrl: node.rpcUrl, networkRpcUrl: relayRpcUrl, ...onChain(limits.genesisHash) }),
        () => host.isActive(node),
      ),
      { timeoutMs: limits.timeoutMs, minRecheckMs: 2_000, maxSleepMs: SYNC_MAX_SLEEP_MS },
    ),

  /**
   * Keys change stage only at session boundaries: sleep to the boundary at which the look projects them active
   * (the one after next for keys just set), just past it so its blocks are final.
   */
  keysActive: (
    run: UpgradeRun,
    waitId: string,
    node: PolkadotNodeRef,
    relayRpcUrl: string,
    stash: string,
    keys: string,
    limits: WaitLimits,
  ) =>
    waitForChain(
      run,
      waitId,
      `${shortKeys(keys)} to be active on ${nodeName(node)}`,
      () =>
        summarized(
          dot.lookKeysActive,
          `are ${shortKeys(keys)} active on ${nodeName(node)}?`,
        )({ rpcUrl: relayRpcUrl, nodeRpcUrl: node.rpcUrl, stash, keys, ...onChain(limits.genesisHash) }),
      { timeoutMs: limits.timeoutMs, minRecheckMs: 1_000, maxSleepMs: KEYS_MAX_SLEEP_MS },
    ),
};
