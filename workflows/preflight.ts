/**
 * `preflightUpgrade`: the read-only checks of `vup plan`, run on the worker because that is where the SSH
 * keys and signer references live. It looks (node RPCs, free disk, the staged binary's sha256, the validator
 * key on its host, the signer reference) and never changes anything: no service, file or transaction.
 * Every check reports pass, fail or note; an activity that fails becomes a failed check, not a failed run.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { HostActivities } from '../activities/host/index.js';
import type { NearActivities } from '../activities/near/index.js';
import type { PolkadotActivities } from '../activities/polkadot/index.js';
import type { NearNodeRef } from '../src/api/contracts/near.js';
import { SYNCED_LAG_BLOCKS } from '../src/api/chain-observation.js';
import type { createPreflightActivities } from '../activities/preflight/index.js';
import {
  DEFAULT_MIN_FREE_DISK_BYTES,
  type PreflightCheck,
  type PreflightReport,
  type PreflightRequest,
} from '../src/api/preflight.js';
import type { SignerSpec } from '../src/config/signers.js';
import type { HostSpec } from '../src/config/host.js';
import { nonRetryableErrorTypes, probeOptions } from './common/activity-options.js';
import { targetsOf } from './common/targets.js';
import { readPace } from './common/deadline.js';
import { projectUpgrade } from '../src/api/deadline.js';
import type { Chain } from '../src/api/identity.js';
import type { StrategyName } from '../src/api/strategies.js';

type Activities = HostActivities &
  Required<NearActivities> &
  PolkadotActivities &
  ReturnType<typeof createPreflightActivities>;

/** A look, once: a node that does not answer is a finding, not something to wait out. */
const looks = proxyActivities<Activities>(probeOptions);
/** Host reads over SSH: one retry for a dropped connection, then the check fails. */
const reads = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 2, nonRetryableErrorTypes },
});

type Outcome = Omit<PreflightCheck, 'name'>;

/** Runs one check; an activity failure becomes a failed check that says why. */
async function check(name: string, look: () => Promise<Outcome>): Promise<PreflightCheck> {
  try {
    return { name, ...(await look()) };
  } catch (err) {
    const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
    return { name, outcome: 'fail', detail: cause };
  }
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

function diskCheck(label: string, host: HostSpec, path: string, minFree: number) {
  return check(`${label}: free disk at ${path}`, async () => {
    const disk = await reads.freeDisk({ host, path });
    const ok = disk.availableBytes >= minFree;
    return {
      outcome: ok ? 'pass' : 'fail',
      detail: `${gib(disk.availableBytes)} free of ${gib(disk.totalBytes)} on ${disk.mountPoint}${ok ? '' : ` (needs ${gib(minFree)})`}`,
    };
  });
}

function binaryCheck(label: string, host: HostSpec, release: { staged: string; sha256: string }) {
  return check(`${label}: staged release ${release.staged}`, async () => {
    const actual = await reads.sha256OfFile({ host, path: release.staged });
    if (actual.toLowerCase() === release.sha256.toLowerCase()) return { outcome: 'pass', detail: 'sha256 matches' };
    return { outcome: 'fail', detail: `sha256 is ${actual}, the input says ${release.sha256}` };
  });
}

/**
 * With a deadline: the finish projected now, from the network's pace (as the run will project it), must be
 * before it. Past it fails the plan; a pace that cannot be read is a note (the run says so as it goes).
 */
async function deadlineCheck(
  strategy: StrategyName,
  net: { chain: Chain; network: string; rpcUrl: string },
  deadline: string | undefined,
): Promise<PreflightCheck[]> {
  if (!deadline) return [];
  const now = Date.now();
  const p = projectUpgrade(strategy, await readPace(net), deadline, now, now);
  return [
    {
      name: `finish before the deadline ${deadline}`,
      outcome: p.projectedFinish === undefined ? 'note' : p.behind ? 'fail' : 'pass',
      detail: `projected finish ${p.projectedFinish ?? 'unknown'}, ${p.basis}${p.behind ? ': past the deadline' : ''}`,
    },
  ];
}

// --- NEAR ---

type NearNode = NearNodeRef;

interface NearNodeRole {
  label: string;
  node: NearNode;
  /** The validator runs here now: it must answer, be synced and sign for the account. */
  validating: boolean;
  /** Must the node's home hold no validator key (a node that syncs without signing)? */
  keyless: boolean;
}

async function nearNodeChecks(role: NearNodeRole, accountId: string, networkHeight: number | undefined) {
  const { label, node } = role;
  const status = check(`${label}: node RPC ${node.rpcUrl}`, async () => {
    try {
      const s = await looks.nodeStatus({ rpcUrl: node.rpcUrl });
      const lag = networkHeight === undefined ? undefined : Math.max(0, networkHeight - s.latestBlockHeight);
      const synced = !s.syncing && (lag === undefined || lag <= SYNCED_LAG_BLOCKS);
      const signs = s.validatorAccountId === accountId;
      const words = [
        `neard ${s.version} at #${s.latestBlockHeight}`,
        s.syncing ? 'syncing' : lag === undefined ? 'not syncing' : `${lag} block(s) behind the network`,
        s.validatorAccountId ? `signs for ${s.validatorAccountId}` : 'signs for no account',
      ].join(', ');
      const bad = role.validating ? !synced || !signs : role.keyless && s.validatorAccountId !== undefined;
      return { outcome: bad ? 'fail' : 'pass', detail: words };
    } catch (err) {
      if (role.validating) throw err;
      return { outcome: 'note', detail: 'not answering: the upgrade starts this node itself' };
    }
  });
  const key = check(`${label}: validator key in ${node.home}`, async () => {
    const found = await reads.readValidatorKey({ node });
    if (role.validating) {
      if (found?.accountId === accountId) return { outcome: 'pass', detail: `${found.publicKey} of ${accountId}` };
      return { outcome: 'fail', detail: found ? `the key is for ${found.accountId}` : 'no validator_key.json' };
    }
    if (found === null) return { outcome: 'pass', detail: 'none (as it should be before the upgrade)' };
    return {
      outcome: role.keyless ? 'fail' : 'note',
      detail: `holds a key of ${found.accountId} (${found.publicKey})`,
    };
  });
  return Promise.all([status, key]);
}

async function nearPreflight(
  strategy:
    'nearZeroDowntimeUpgrade' | 'nearSyncAndSwapUpgrade' | 'nearStopAndRestartUpgrade' | 'nearValidatorKeyHotSwap',
  raw: unknown,
  minFree: number,
): Promise<PreflightCheck[]> {
  const roles: NearNodeRole[] = [];
  let release: { staged: string; sha256: string } | undefined;
  let releaseHost: NearNode | undefined;
  let signer: { spec: SignerSpec; accountId: string } | undefined;
  let validator: { network: string; accountId: string };
  let networkRpcUrl: string;
  let deadline: string | undefined;
  switch (strategy) {
    case 'nearZeroDowntimeUpgrade': {
      const i = await targetsOf(strategy, raw);
      ({ validator, networkRpcUrl, release, deadline } = i);
      roles.push({ label: `old node ${i.oldNode.host.id}`, node: i.oldNode, validating: true, keyless: false });
      roles.push({ label: `new node ${i.newNode.host.id}`, node: i.newNode, validating: false, keyless: false });
      releaseHost = i.newNode;
      const staker = i.staking.type === 'pool' ? i.staking.ownerId : i.validator.accountId;
      signer = { spec: i.staking.signer, accountId: staker };
      break;
    }
    case 'nearSyncAndSwapUpgrade': {
      const i = await targetsOf(strategy, raw);
      ({ validator, networkRpcUrl, release, deadline } = i);
      roles.push({ label: `validator node ${i.node.host.id}`, node: i.node, validating: true, keyless: false });
      roles.push({ label: `sync node ${i.syncNode.service}`, node: i.syncNode, validating: false, keyless: true });
      releaseHost = i.node;
      break;
    }
    case 'nearStopAndRestartUpgrade': {
      const i = await targetsOf(strategy, raw);
      ({ validator, networkRpcUrl, release, deadline } = i);
      roles.push({ label: `node ${i.node.host.id}`, node: i.node, validating: true, keyless: false });
      releaseHost = i.node;
      break;
    }
    case 'nearValidatorKeyHotSwap': {
      const i = await targetsOf(strategy, raw);
      ({ validator, networkRpcUrl, release, deadline } = i);
      roles.push({ label: `primary ${i.primary.host.id}`, node: i.primary, validating: true, keyless: false });
      roles.push({ label: `standby ${i.standby.host.id}`, node: i.standby, validating: false, keyless: true });
      releaseHost = i.standby;
      break;
    }
  }

  let networkHeight: number | undefined;
  const network = await check(`network RPC ${networkRpcUrl}`, async () => {
    const s = await looks.nodeStatus({ rpcUrl: networkRpcUrl });
    networkHeight = s.latestBlockHeight;
    return { outcome: 'pass', detail: `chain ${s.chainId} at #${s.latestBlockHeight}` };
  });
  const perNode = await Promise.all(
    roles.map(async (role) => [
      ...(await nearNodeChecks(role, validator.accountId, networkHeight)),
      await diskCheck(role.label, role.node.host, role.node.home, minFree),
    ]),
  );
  const others = await Promise.all([
    ...(release && releaseHost ? [binaryCheck(`host ${releaseHost.host.id}`, releaseHost.host, release)] : []),
    ...(signer
      ? [
          check(`signer "${signer.spec.id}" for ${signer.accountId}`, async () => {
            const found = await reads.checkNearSigner({
              signer: signer.spec,
              networkId: validator.network,
              accountId: signer.accountId,
            });
            return { outcome: 'pass', detail: `resolves on the worker to ${found.publicKey}` };
          }),
        ]
      : []),
  ]);
  const onTime = await deadlineCheck(
    strategy,
    { chain: 'near', network: validator.network, rpcUrl: networkRpcUrl },
    deadline,
  );
  return [network, ...perNode.flat(), ...others, ...onTime];
}

// --- Polkadot ---

async function polkadotPreflight(raw: unknown, minFree: number): Promise<PreflightCheck[]> {
  const i = await targetsOf('polkadotValidatorSwapUpgrade', raw);
  const network = await check(`relay RPC ${i.relayRpcUrl}`, async () => {
    const h = await looks.nodeHealth({ rpcUrl: i.relayRpcUrl });
    return { outcome: 'pass', detail: `${h.chain} at #${h.bestBlock}` };
  });
  const nodes = [
    { label: `A ${i.nodeA.host.id}`, node: i.nodeA, validating: true },
    { label: `B ${i.nodeB.host.id}`, node: i.nodeB, validating: false },
  ];
  const perNode = await Promise.all(
    nodes.map(({ label, node, validating }) =>
      Promise.all([
        check(`${label}: node RPC ${node.rpcUrl}`, async () => {
          try {
            const h = await looks.nodeHealth({ rpcUrl: node.rpcUrl });
            const words = `${h.version} at #${h.bestBlock}, ${h.peers} peer(s)${h.isSyncing ? ', syncing' : ''}`;
            return { outcome: validating && h.isSyncing ? 'fail' : 'pass', detail: words };
          } catch (err) {
            if (validating) throw err;
            return { outcome: 'note', detail: 'not answering: the upgrade starts this node itself' };
          }
        }),
        diskCheck(label, node.host, node.basePath, minFree),
      ]),
    ),
  );
  const { signedBy } = i.setKeys;
  const signerAccount = signedBy.type === 'proxy' ? signedBy.account : i.validator.stash;
  const others = await Promise.all([
    ...(i.release ? [binaryCheck(`A ${i.nodeA.host.id}`, i.nodeA.host, i.release)] : []),
    ...(i.releaseB ? [binaryCheck(`B ${i.nodeB.host.id}`, i.nodeB.host, i.releaseB)] : []),
    check(`signer "${signedBy.signer.id}" for ${signedBy.type} ${signerAccount}`, async () => {
      await reads.checkSubstrateSigner({ signer: signedBy.signer, address: signerAccount, role: signedBy.type });
      return { outcome: 'pass', detail: 'resolves on the worker to that account' };
    }),
  ]);
  const onTime = await deadlineCheck(
    'polkadotValidatorSwapUpgrade',
    { chain: 'polkadot', network: i.validator.network, rpcUrl: i.relayRpcUrl },
    i.deadline,
  );
  return [network, ...perNode.flat(), ...others, ...onTime];
}

export async function preflightUpgrade(request: PreflightRequest): Promise<PreflightReport> {
  const minFree = request.minFreeDiskBytes ?? DEFAULT_MIN_FREE_DISK_BYTES;
  const checks =
    request.strategy === 'polkadotValidatorSwapUpgrade'
      ? await polkadotPreflight(request.input, minFree)
      : await nearPreflight(request.strategy, request.input, minFree);
  return { strategy: request.strategy, checks };
}
