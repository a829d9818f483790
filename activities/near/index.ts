/**
 * NEAR activities: thin wrappers over src/near (chain reads and staking), src/secrets (signer references) and
 * src/ssh (the node's files on its host). Look* activities answer one look of a chain wait: whether the chain
 * reached what the workflow waits for, in words, and when the answer can next change.
 */
import { cancellationSignal, log } from '@temporalio/activity';
import { projectedSyncMs, type ChainObservation } from '../../src/api/chain-observation.js';
import {
  nearContracts,
  type EpochInfo,
  type KeyStage,
  type NearNodeRef,
  type NodeStatus,
} from '../../src/api/contracts/near.js';
import type { SshConnectionProvider } from '../../src/ssh/connection.js';
import { epochInfo as readEpochInfo } from '../../src/near/epoch.js';
import { KEY_STAGE_RANK, keyStanding as readKeyStanding, standingIn } from '../../src/near/key-standing.js';
import { generateValidatorKeyOnHost, readDatabaseVersions, readValidatorKeyOnHost } from '../../src/near/node-files.js';
import { sha256OfFile } from '../../src/ssh/files.js';
import { isServiceActive } from '../../src/ssh/service-control.js';
import { HostError } from '../../src/ssh/errors.js';
import { judgeDatabase } from '../../src/near/database-check.js';
import { nodeStatus as readNodeStatus, requireChain } from '../../src/near/node-status.js';
import { observeNearSigner } from '../../src/near/signer-evidence.js';
import { judgeSigner } from '../../src/api/signer-evidence.js';
import { restartOnRelease } from '../../src/ssh/restart-on-release.js';
import { producedSince } from '../../src/near/production.js';
import { nearValidatorCounters } from '../../src/near/validator-counters.js';
import { messageOf, reading, sharedNearRpc } from '../../src/near/rpc.js';
import { stakeWithKey as submitStake } from '../../src/near/staking.js';
import { handOverValidatorKey as handOver, withdrawValidatorKey as withdraw } from '../../src/near/key-handover.js';
import {
  copyValidatorKeyBetweenHosts,
  pendingKeyFile,
  reloadValidatorKeyOnHost,
} from '../../src/near/validator-key-transfer.js';
import { NearError } from '../../src/near/errors.js';
import { resolveNearSigner, type NearSignerResolver } from '../../src/secrets/near-signer.js';
import { HEARTBEAT_INTERVAL_MS, withHeartbeats } from '../host/heartbeat.js';
import { implement } from '../contract.js';
import { reportingNearErrors } from './failures.js';

export interface NearActivityDeps {
  connections: SshConnectionProvider;
  /** Resolves signer references in the worker (default: the worker's environment and files). */
  resolveNearSigner?: NearSignerResolver;
  heartbeatIntervalMs?: number;
}

/** The network's head as a look read it, for the wait to see a halted chain by. */
function headOf(epoch: EpochInfo): Pick<ChainObservation, 'head'> {
  return epoch.headTime ? { head: { height: epoch.headHeight, time: epoch.headTime } } : {};
}

/** On mainnet a validator with 0.5% of the seats produces about every 200 blocks (2 minutes). */
const DEFAULT_SLOT_WAIT_MS = 10 * 60_000;
/** When a look finds nothing that waits for a boundary, look again after this many blocks. */
const RELOOK_BLOCKS = 10;
/** A sync look reads the node again this many blocks later, for its import rate. */
const SYNC_SAMPLE_BLOCKS = 5;

const STAGE_WORDS: Record<KeyStage, string> = {
  absent: 'not staked',
  proposed: 'in current_proposals',
  next: 'in next_validators',
  current: 'in current_validators',
};

export function createNearActivities(deps: NearActivityDeps) {
  const resolveSigner = deps.resolveNearSigner ?? resolveNearSigner;
  const interval = deps.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
  const connect = (host: Parameters<SshConnectionProvider['get']>[0]) => deps.connections.get(host);

  /** The node's status, or why it did not answer (a node that is starting or down is an answer for a look). */
  const tryNodeStatus = async (url: string): Promise<NodeStatus | string> => {
    try {
      return await readNodeStatus(url);
    } catch (err) {
      return `the node's RPC ${url} does not answer (${messageOf(err)})`;
    }
  };

  /** When a syncing node reaches the network's head at the rate it imports, from a reading SYNC_SAMPLE_BLOCKS later. */
  const projectedNearSync = async (
    nodeRpcUrl: string,
    first: NodeStatus,
    networkHeight: number,
    blockTimeMs: number,
  ): Promise<number | undefined> => {
    const firstAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, SYNC_SAMPLE_BLOCKS * blockTimeMs));
    const second = await tryNodeStatus(nodeRpcUrl);
    if (typeof second === 'string') return undefined;
    const at = Date.now();
    return projectedSyncMs(
      { bestBlock: first.latestBlockHeight, atMs: firstAt },
      { bestBlock: second.latestBlockHeight, atMs: at },
      networkHeight + Math.round((at - firstAt) / blockTimeMs),
      blockTimeMs,
    );
  };

  return implement(nearContracts, {
    nodeStatus: async ({ rpcUrl, chainId, networkRpcUrl }) => {
      return reportingNearErrors(async () => {
        const [status, network] = await Promise.all([
          readNodeStatus(rpcUrl),
          chainId && networkRpcUrl ? readNodeStatus(networkRpcUrl) : undefined,
        ]);
        if (chainId) requireChain(status, chainId, rpcUrl, "the node's RPC");
        if (chainId && network) requireChain(network, chainId, networkRpcUrl!, 'the network RPC');
        // A validator node: what the chain counts for its account, as its own RPC reports it.
        const counters = status.validatorAccountId
          ? await nearValidatorCounters(rpcUrl, status.validatorAccountId)
          : undefined;
        return counters ? { ...status, counters } : status;
      });
    },

    probeNodeStatus: async ({ rpcUrl }) => {
      const status = await tryNodeStatus(rpcUrl);
      return typeof status === 'string'
        ? { answering: false as const, reason: status }
        : { answering: true as const, status };
    },

    migrationState: async ({ node }) => {
      return reportingNearErrors(async () => {
        const connection = await deps.connections.get(node.host);
        const [serviceActive, status] = await Promise.all([
          isServiceActive(connection, node.host.serviceManager, node.service, { signal: cancellationSignal() }),
          tryNodeStatus(node.rpcUrl),
        ]);
        const probe =
          typeof status === 'string'
            ? { answering: false as const, reason: status }
            : { answering: true as const, status };
        return { serviceActive, probe };
      });
    },

    epochInfo: async ({ rpcUrl }) => {
      return reportingNearErrors(() => readEpochInfo(rpcUrl));
    },

    keyStanding: async (req) => {
      return reportingNearErrors(async () => {
        const [standing, counters] = await Promise.all([
          readKeyStanding(req.rpcUrl, req.accountId, req.publicKey),
          nearValidatorCounters(req.rpcUrl, req.accountId),
        ]);
        return counters ? { ...standing, counters } : standing;
      });
    },

    lookNodeSynced: async (req) => {
      const maxLag = req.maxLagBlocks;
      return reportingNearErrors(async () => {
        const shared = sharedNearRpc(req.networkRpcUrl);
        const [node, network, epoch] = await Promise.all([
          tryNodeStatus(req.nodeRpcUrl),
          readNodeStatus(req.networkRpcUrl, shared),
          readEpochInfo(req.networkRpcUrl, shared),
        ]);
        if (req.chainId) requireChain(network, req.chainId, req.networkRpcUrl, 'the network RPC');
        const relook = Math.round(RELOOK_BLOCKS * epoch.observedBlockTimeMs);
        if (typeof node === 'string') return { reached: false, detail: node, etaMs: relook };
        // A node of another chain is never "synced", whatever its height.
        requireChain(node, network.chainId, req.nodeRpcUrl, "the node's RPC");
        const lag = Math.max(0, network.latestBlockHeight - node.latestBlockHeight);
        const reached = !node.syncing && lag <= maxLag;
        const detail =
          `node at #${node.latestBlockHeight}${node.syncing ? ' (syncing)' : ''}, network at ` +
          `#${network.latestBlockHeight}: ${lag} block(s) behind, ${reached ? 'synced' : `waiting for ≤ ${maxLag}`}`;
        // Not synced: sleep to the end projected from the node's import rate (read again a few blocks later).
        const projected = reached
          ? undefined
          : await projectedNearSync(req.nodeRpcUrl, node, network.latestBlockHeight, epoch.observedBlockTimeMs);
        return {
          reached,
          detail:
            projected === undefined ? detail : `${detail}, there in ~${Math.round(projected / 1000)} s at its rate`,
          value: node,
          ...(reached ? {} : { etaMs: Math.max(relook, projected ?? Math.round(lag * epoch.observedBlockTimeMs)) }),
          ...headOf(epoch),
        };
      });
    },

    lookKeyStage: async (req) => {
      return reportingNearErrors(async () => {
        const shared = sharedNearRpc(req.rpcUrl);
        const [standing, epoch, counters] = await Promise.all([
          readKeyStanding(req.rpcUrl, req.accountId, req.publicKey, shared),
          readEpochInfo(req.rpcUrl, shared),
          nearValidatorCounters(req.rpcUrl, req.accountId, shared),
        ]);
        const reached = KEY_STAGE_RANK[standing.stage] >= KEY_STAGE_RANK[req.want];
        const detail =
          `key ${standing.publicKey} of ${standing.accountId} is ${STAGE_WORDS[standing.stage]} ` +
          `(epoch ${standing.epochHeight}, want ${STAGE_WORDS[req.want]})` +
          (standing.currentKey && standing.currentKey !== standing.publicKey
            ? `; it validates with ${standing.currentKey} now`
            : '') +
          (reached ? '' : `; next epoch in ~${secondsOf(epoch.nextBoundaryEtaMs)}`);
        return {
          reached,
          detail,
          value: standing,
          etaMs: epoch.nextBoundaryEtaMs,
          ...(counters ? { counters } : {}),
          ...headOf(epoch),
        };
      });
    },

    lookNodeSigning: async (req) => {
      return reportingNearErrors(async () => {
        const network = sharedNearRpc(req.networkRpcUrl);
        const [node, validators, epoch] = await Promise.all([
          tryNodeStatus(req.nodeRpcUrl),
          reading(req.networkRpcUrl, 'validators', () => network.viewValidators()),
          readEpochInfo(req.networkRpcUrl, network),
        ]);
        const counters = await nearValidatorCounters(req.networkRpcUrl, req.accountId, network, validators);
        const answer = (seen: ChainObservation<{ producedSince: number }>) => ({
          ...seen,
          ...(counters ? { counters } : {}),
          ...headOf(epoch),
        });
        const relook = Math.round(RELOOK_BLOCKS * epoch.observedBlockTimeMs);
        if (typeof node === 'string') return answer({ reached: false, detail: node, etaMs: relook });
        if (node.validatorAccountId !== req.accountId || !node.validatorPublicKey) {
          const runs = node.validatorAccountId ? `a key of ${node.validatorAccountId}` : 'no validator key';
          return answer({
            reached: false,
            detail: `the node runs ${runs}, not one of ${req.accountId}`,
            etaMs: relook,
          });
        }
        const standing = standingIn(validators, req.accountId, node.validatorPublicKey);
        if (standing.stage !== 'current') {
          return answer({
            reached: false,
            detail:
              `the node's key ${node.validatorPublicKey} is ${STAGE_WORDS[standing.stage]} for ${req.accountId}, ` +
              `not current (epoch ${standing.epochHeight}); next epoch in ~${secondsOf(epoch.nextBoundaryEtaMs)}`,
            etaMs: epoch.nextBoundaryEtaMs,
          });
        }
        if (node.syncing) {
          return answer({
            reached: false,
            detail: `the node is still syncing (#${node.latestBlockHeight})`,
            etaMs: relook,
          });
        }
        const produced = await producedSince(req.networkRpcUrl, req.accountId, req.sinceHeight, network, validators);
        return answer({
          reached: produced > 0,
          detail:
            produced > 0
              ? `${req.accountId} produced ${produced} block(s) and chunk(s) since #${req.sinceHeight} with ${node.validatorPublicKey}`
              : `${req.accountId} runs ${node.validatorPublicKey} on the node but has produced nothing counted since #${req.sinceHeight} yet`,
          value: { producedSince: produced },
          ...(produced > 0 ? {} : { etaMs: Math.min(relook, Math.max(1, epoch.nextBoundaryEtaMs)) }),
        });
      });
    },

    generateValidatorKey: async ({ node, accountId }) => {
      return reportingNearErrors(async () => {
        const progress = () => ({ stage: 'neard init', host: node.host.id, accountId });
        const key = await withHeartbeats(interval, progress, async () =>
          generateValidatorKeyOnHost(
            await connect(node.host),
            { home: node.home, binary: node.binary ?? 'neard', accountId },
            { signal: cancellationSignal() },
          ),
        );
        if (key.accountId !== accountId) {
          throw new NearError(
            'ValidatorKeyConflict',
            `${node.home}/validator_key.json on ${node.host.id} is a key of ${key.accountId || '(no account)'}, ` +
              `not of ${accountId}: refusing to replace it`,
          );
        }
        return { publicKey: key.publicKey, created: key.created };
      });
    },

    readValidatorKey: async ({ node }) => {
      return reportingNearErrors(async () =>
        readValidatorKeyOnHost(await connect(node.host), node.home, { signal: cancellationSignal() }),
      );
    },

    restartOnRelease: async ({ node, staged, dataSwap, mustBeStopped, publicKey, stopFirst }) => {
      return reportingNearErrors(async () => {
        if (stopFirst && stopFirst.host.id !== node.host.id)
          throw new NearError(
            'BadInput',
            `stopFirst: ${stopFirst.service} is on ${stopFirst.host.id}, not on ${node.host.id} with ${node.service}`,
          );
        const connection = await connect(node.host);
        // The service manager's "inactive" is not enough to move a data folder under: the host's records
        // must show no process running with the home (one look: the stop command has returned by then).
        const seenStopped = async (seen: NearNodeRef, key: string | undefined) => {
          const observation = await observeNearSigner(
            { connection, home: seen.home, rpcUrl: seen.rpcUrl, name: `${seen.service} on ${seen.host.id}` },
            { publicKey: key, looks: 1, signal: cancellationSignal() },
          );
          const { verdict, because } = judgeSigner(observation, 'stopped');
          if (verdict === 'unsafe') throw new NearError('PrimaryStillRunning', `${because}; it must not start twice`);
          if (verdict === 'unknown')
            throw new NearError('SignerStateUnknown', `cannot tell whether it stopped: ${because}`);
        };
        const afterStop = async () => {
          const seen = await Promise.allSettled([
            seenStopped(node, publicKey),
            stopFirst && seenStopped(stopFirst, undefined),
          ]);
          for (const look of seen) if (look.status === 'rejected') throw look.reason;
        };
        return withHeartbeats(
          interval,
          () => ({ service: node.service }),
          async () =>
            restartOnRelease(
              connection,
              node.host.serviceManager,
              {
                service: node.service,
                binary: { staged: staged.path, destination: node.binary!, sha256: staged.sha256 },
                ...(dataSwap ? { dataSwap } : {}),
                mustBeStopped,
                ...(stopFirst ? { stopFirst: stopFirst.service } : {}),
              },
              { signal: cancellationSignal(), afterStop },
            ),
        );
      });
    },

    observeSigner: async ({ node, publicKey, knownHolderHomes }) => {
      return reportingNearErrors(async () =>
        observeNearSigner(
          {
            connection: await connect(node.host),
            home: node.home,
            rpcUrl: node.rpcUrl,
            name: `${node.service} on ${node.host.id}`,
          },
          { publicKey, knownHolderHomes, signal: cancellationSignal() },
        ),
      );
    },

    stakeWithKey: async (req) => {
      return reportingNearErrors(async () => {
        const signerAccount = req.staking.type === 'pool' ? req.staking.ownerId : req.accountId;
        const key = await resolveSigner(req.staking.signer, { networkId: req.networkId, accountId: signerAccount });
        const progress = () => ({ stage: 'staking', accountId: req.accountId, newPublicKey: req.newPublicKey });
        const outcome = await withHeartbeats(interval, progress, () =>
          submitStake(
            req.staking.type === 'pool'
              ? {
                  type: 'pool',
                  rpcUrl: req.rpcUrl,
                  poolId: req.accountId,
                  ownerId: req.staking.ownerId,
                  newPublicKey: req.newPublicKey,
                }
              : { type: 'direct', rpcUrl: req.rpcUrl, accountId: req.accountId, newPublicKey: req.newPublicKey },
            key,
          ),
        );
        if (outcome.alreadyStaked) log.info('the key is already staked; nothing submitted', { ...progress() });
        else log.info('staked with the new key', { ...progress(), txHash: outcome.txHash });
        return outcome;
      });
    },

    stageValidatorKey: async (req) => {
      const progress = () => ({ stage: 'staging the validator key', from: req.from.host.id, to: req.to.host.id });
      return reportingNearErrors(async () =>
        withHeartbeats(interval, progress, async () =>
          copyValidatorKeyBetweenHosts(
            { connection: await connect(req.from.host), home: req.from.home },
            { connection: await connect(req.to.host), home: req.to.home },
            { accountId: req.accountId, publicKey: req.expectedPublicKey },
            { signal: cancellationSignal(), asName: pendingKeyFile(req.tag) },
          ),
        ),
      );
    },

    handOverValidatorKey: async (req) => {
      let stage = 'starting';
      const progress = () => ({ stage, primary: req.primary.host.id, standby: req.standby.host.id });
      return reportingNearErrors(async () =>
        withHeartbeats(interval, progress, async () => {
          const node = async (n: typeof req.primary) => ({
            connection: await connect(n.host),
            manager: n.host.serviceManager,
            service: n.service,
            home: n.home,
            rpcUrl: n.rpcUrl,
          });
          const result = await handOver(
            await node(req.primary),
            await node(req.standby),
            {
              networkRpcUrl: req.networkRpcUrl,
              accountId: req.accountId,
              publicKey: req.publicKey,
              tag: req.tag,
              slotWaitMs: req.slotWaitMs ?? DEFAULT_SLOT_WAIT_MS,
            },
            {
              signal: cancellationSignal(),
              onStage: (s, detail) => {
                stage = detail ? `${s}: ${detail}` : s;
                log.info('hand-over', { stage });
              },
            },
          );
          log.info('handed the validator key over', { ...result });
          return result;
        }),
      );
    },

    withdrawValidatorKey: async ({ node, tag }) => {
      return reportingNearErrors(async () =>
        withHeartbeats(
          interval,
          () => ({ stage: 'withdrawing the validator key', host: node.host.id }),
          async () =>
            withdraw(
              {
                connection: await connect(node.host),
                manager: node.host.serviceManager,
                service: node.service,
                home: node.home,
              },
              tag,
              { signal: cancellationSignal() },
            ),
        ),
      );
    },

    reloadValidatorKey: async ({ node }) => {
      return reportingNearErrors(async () =>
        withHeartbeats(
          interval,
          () => ({ stage: 'reloading the validator key', host: node.host.id }),
          async () =>
            reloadValidatorKeyOnHost(
              await connect(node.host),
              { manager: node.host.serviceManager, service: node.service, home: node.home },
              { signal: cancellationSignal() },
            ),
        ),
      );
    },

    checkDatabase: async ({ node, binaryPath, sha256 }) => {
      return reportingNearErrors(async () => {
        const connection = await connect(node.host);
        const actual = await sha256OfFile(connection, binaryPath, { signal: cancellationSignal() });
        if (actual !== sha256)
          throw new HostError(
            'ChecksumMismatch',
            `${binaryPath} on ${node.host.id} has sha256 ${actual}, not the release's ${sha256}: it is not run`,
          );
        const versions = await readDatabaseVersions(
          connection,
          { home: node.home, binary: binaryPath, installedBinary: node.binary ?? 'neard' },
          { signal: cancellationSignal() },
        );
        // A node that does not answer is taken as not running: its data was last opened by the installed binary.
        const running = await readNodeStatus(node.rpcUrl).catch(() => undefined);
        return judgeDatabase(versions, running?.version);
      });
    },
  });
}

export type NearActivities = ReturnType<typeof createNearActivities>;

function secondsOf(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
