/**
 * Polkadot activities: thin wrappers over src/polkadot (node RPC, sessions, setting keys), src/secrets
 * (signer references) and src/ssh (the node's files on its host). Look* activities answer one look of a chain
 * wait: whether the chain reached what the workflow waits for, in words, and when the answer can next change.
 */
import { cancellationSignal } from '@temporalio/activity';
import { z } from 'zod';
import { projectedSyncMs, type ChainObservation } from '../../src/api/chain-observation.js';
import { polkadotContracts, type KeysStage, type SessionInfo } from '../../src/api/contracts/polkadot.js';
import { withApi, withSharedApi } from '../../src/polkadot/connection.js';
import { PolkadotError, messageOf } from '../../src/polkadot/errors.js';
import { requireGenesis } from '../../src/polkadot/genesis.js';
import {
  hasSessionKeys,
  networkHealth,
  nodeHealth as readNodeHealth,
  rotateKeys as generateKeys,
} from '../../src/polkadot/node.js';
import {
  keysStanding as readKeysStanding,
  nextKeysOf,
  sessionInfo as readSessionInfo,
  stashKeys as readStashKeys,
} from '../../src/polkadot/session.js';
import { buildSetKeysCall, submitAndFinalize } from '../../src/polkadot/set-keys.js';
import { observePolkadotSigner } from '../../src/polkadot/signer-evidence.js';
import { polkadotValidatorCounters } from '../../src/polkadot/validator-counters.js';
import { keysActiveEtaMs } from '../../src/polkadot/projections.js';
import { resolveSubstrateSigner, type SubstrateSignerResolver } from '../../src/secrets/substrate-signer.js';
import { describeHost, type SshConnectionProvider } from '../../src/ssh/connection.js';
import { HostError } from '../../src/ssh/errors.js';
import { runScript, writeFileAtomic } from '../../src/ssh/files.js';
import { implement } from '../contract.js';
import { HEARTBEAT_INTERVAL_MS, previousAttemptProgress, withHeartbeats } from '../host/heartbeat.js';
import { reportingPolkadotErrors } from './failures.js';

export interface PolkadotActivityDeps {
  connections: SshConnectionProvider;
  /** Resolves signer references in the worker (default: the worker's environment and files). */
  resolveSubstrateSigner?: SubstrateSignerResolver;
}

/**
 * How long a retried setKeys waits for the transaction a lost attempt sent before sending its own: several
 * blocks, so a transaction that was in the pool lands first; one that was dropped is then sent again.
 */
const EARLIER_TRANSACTION_GRACE_MS = 60_000;
/** A look at sync comes back after at most this many slots while no rate is seen (not importing yet). */
const SYNC_RELOOK_SLOTS = 10;

const STAGE_WORDS: Record<KeysStage, string> = {
  unset: 'not set',
  next: 'in NextKeys (queued at the next session)',
  queued: 'in QueuedKeys (active from the next session)',
  active: 'active',
};

/** What rotateKeys leaves on the node's host, so a retry finds the same keys: public parts only. */
const persistedKeysSchema = z.strictObject({
  stash: z.string(),
  keys: z.string().regex(/^0x[0-9a-fA-F]+$/),
  proof: z
    .string()
    .regex(/^0x[0-9a-fA-F]*$/)
    .optional(),
  method: z.enum(['author_rotateKeysWithOwner', 'author_rotateKeys']),
});
type PersistedKeys = z.infer<typeof persistedKeysSchema>;

const READ_IF_PRESENT = `[ -f "$1" ] || exit 3
cat -- "$1"`;

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The relay's finalized head as a look read it, for the wait to see a halted chain (no blocks, no finality) by. */
function headOf(session: SessionInfo): Pick<ChainObservation, 'head'> {
  return session.finalizedTime ? { head: { height: session.finalizedBlock, time: session.finalizedTime } } : {};
}

export function createPolkadotActivities(deps: PolkadotActivityDeps) {
  const resolveSigner = deps.resolveSubstrateSigner ?? resolveSubstrateSigner;

  const readPersisted = async (
    connection: Awaited<ReturnType<SshConnectionProvider['get']>>,
    file: string,
  ): Promise<PersistedKeys | undefined> => {
    const result = await runScript(connection, 'vup-read-keys', READ_IF_PRESENT, [file]);
    if (result.exitCode === 3) return undefined;
    if (result.exitCode !== 0) {
      throw new HostError(
        'RemoteCommandFailed',
        `reading ${file} on ${describeHost(connection.host)}: exit ${result.exitCode}`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.stdout.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const keys = persistedKeysSchema.safeParse(parsed);
    if (!keys.success) {
      throw new PolkadotError(
        'BadInput',
        `${file} on ${describeHost(connection.host)} is not a keys record of rotateKeys; move it away to rotate again`,
      );
    }
    return keys.data;
  };

  const sessionInfo = async (url: string) => withSharedApi(url, readSessionInfo);

  return implement(polkadotContracts, {
    nodeHealth: async ({ rpcUrl, genesisHash }) => {
      return reportingPolkadotErrors(async () => {
        const { shouldHavePeers: _, ...health } = await readNodeHealth(rpcUrl);
        requireGenesis(health.genesisHash, genesisHash, rpcUrl, "the node's RPC");
        return health;
      });
    },

    lookPolkadotNodeSynced: async (req) => {
      const maxLag = req.maxLagBlocks;
      return reportingPolkadotErrors(async () => {
        const [node, network, session] = await Promise.all([
          readNodeHealth(req.nodeRpcUrl).catch((err: unknown) => messageOf(err)),
          networkHealth(req.networkRpcUrl),
          sessionInfo(req.networkRpcUrl),
        ]);
        requireGenesis(network.genesisHash, req.genesisHash, req.networkRpcUrl, 'the relay RPC');
        const relook = Math.min(session.nextSessionEtaMs || Infinity, SYNC_RELOOK_SLOTS * session.slotDurationMs);
        if (typeof node === 'string') {
          return { reached: false, detail: `the node does not answer (${node})`, etaMs: relook, ...headOf(session) };
        }
        // A node of another chain is never "synced", whatever its height.
        requireGenesis(node.genesisHash, network.genesisHash, req.nodeRpcUrl, "the node's RPC");
        const { shouldHavePeers, ...health } = node;
        const networkBest = Math.max(network.bestBlock, node.highestBlock ?? 0);
        const lag = Math.max(0, networkBest - node.bestBlock);
        const peersOk = node.peers > 0 || !shouldHavePeers;
        const reached = !node.isSyncing && peersOk && lag <= maxLag;
        const etaMs = reached ? relook : await projectedSync(req.nodeRpcUrl, node, networkBest, session.slotDurationMs);
        const detail =
          `node ${node.version} at #${node.bestBlock}${node.isSyncing ? ' (syncing)' : ''} with ${node.peers} peer(s), ` +
          `network at #${networkBest}: ${lag} block(s) behind, ${reached ? 'synced' : `waiting for ≤ ${maxLag} and not syncing`}` +
          (etaMs === undefined ? '' : `, there in ~${seconds(etaMs)} at its rate`);
        return { reached, detail, value: health, etaMs: etaMs ?? relook, ...headOf(session) };
      });
    },

    sessionInfo: async ({ rpcUrl }) => {
      return reportingPolkadotErrors(() => sessionInfo(rpcUrl));
    },

    rotateKeys: async ({ node, stash, upgradeId }) => {
      const progress = () => ({ stage: 'generating session keys', host: node.host.id });
      return reportingPolkadotErrors(() =>
        withHeartbeats(HEARTBEAT_INTERVAL_MS, progress, async () => {
          const connection = await deps.connections.get(node.host);
          const dir = `${node.basePath.replace(/\/+$/, '')}/upgrade-keys`;
          const file = `${dir}/${upgradeId}.json`;
          const persisted = await readPersisted(connection, file);
          if (persisted) {
            if (persisted.stash !== stash) {
              throw new PolkadotError(
                'BadInput',
                `${file} holds keys of upgrade ${upgradeId} for stash ${persisted.stash}, not ${stash}`,
              );
            }
            // Keys a crashed attempt generated and saved: use them if the node still holds their secrets.
            if (await hasSessionKeys(node.rpcUrl, persisted.keys)) {
              return {
                keys: persisted.keys,
                ...(persisted.proof ? { proof: persisted.proof } : {}),
                method: persisted.method,
                reused: true,
              };
            }
          }
          const generated = await generateKeys(node.rpcUrl, stash);
          const mkdir = await runScript(connection, 'vup-mkdir', 'mkdir -p -- "$1"', [dir]);
          if (mkdir.exitCode !== 0) {
            throw new HostError('RemoteCommandFailed', `cannot create ${dir} on ${describeHost(node.host)}`);
          }
          const record: PersistedKeys = { stash, ...generated };
          await writeFileAtomic(connection, file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
          return { ...generated, reused: false };
        }),
      );
    },

    nodeHasKeys: async ({ nodeRpcUrl, keys }) => {
      return reportingPolkadotErrors(() => hasSessionKeys(nodeRpcUrl, keys));
    },

    nodesHoldKeys: async ({ checks }) => {
      return reportingPolkadotErrors(() =>
        Promise.all(checks.map(({ nodeRpcUrl, keys }) => hasSessionKeys(nodeRpcUrl, keys))),
      );
    },

    observePolkadotSigner: async ({ node, keys, knownHolderHomes }) => {
      return reportingPolkadotErrors(async () =>
        observePolkadotSigner(
          {
            connection: await deps.connections.get(node.host),
            basePath: node.basePath,
            rpcUrl: node.rpcUrl,
            name: `${node.service} on ${node.host.id}`,
          },
          { keys, knownHolderHomes, signal: cancellationSignal() },
        ),
      );
    },

    setKeys: async ({ route, stash, keys, proof, genesisHash }) => {
      const wanted = keys.toLowerCase();
      /** The heartbeat details: a retry reads the hash of the transaction the previous attempt sent. */
      const sent: { txHash?: string; status?: string } = {};
      return reportingPolkadotErrors(() =>
        withHeartbeats(
          HEARTBEAT_INTERVAL_MS,
          () => ({ ...sent }),
          async () => {
            const relayUrl = route.relayRpcUrl ?? (route.submitTo === 'relay' ? route.rpcUrl : undefined);
            if (!relayUrl) {
              throw new PolkadotError(
                'BadInput',
                'an asset-hub route needs relayRpcUrl (NextKeys is read on the relay)',
              );
            }
            const onRelay = await withSharedApi(relayUrl, async (api) => {
              requireGenesis(api.genesisHash.toHex(), genesisHash, relayUrl, 'the relay RPC');
              return nextKeysOf(api, stash);
            });
            if (onRelay === wanted) return { alreadySet: true };
            // An attempt lost with its worker may have sent the transaction, still on its way to a block: wait for
            // it rather than send a second one (which would land too, and pay twice).
            const earlier = (previousAttemptProgress() as { txHash?: string } | undefined)?.txHash;
            if (earlier) {
              sent.txHash = earlier;
              sent.status = 'waiting for the transaction an earlier attempt sent';
              if (await keysOnRelay(relayUrl, stash, wanted, EARLIER_TRANSACTION_GRACE_MS))
                return { alreadySet: true, txHash: earlier };
            }
            const signedBy = route.signedBy;
            const signer =
              signedBy.type === 'stash'
                ? await resolveSigner(signedBy.signer, { address: stash, role: 'stash' })
                : await resolveSigner(signedBy.signer, {
                    address: signedBy.account,
                    role: `${signedBy.proxyType} proxy`,
                  });
            const result = await withApi(route.rpcUrl, async (api) => {
              if (route.submitTo === 'relay')
                requireGenesis(api.genesisHash.toHex(), genesisHash, route.rpcUrl, 'the set-keys RPC');
              const tx = buildSetKeysCall(api, {
                submitTo: route.submitTo,
                stash,
                keys,
                proof,
                ...(signedBy.type === 'proxy' ? { proxyType: signedBy.proxyType } : {}),
              });
              const submitted = await submitAndFinalize(api, tx, signer, {
                onTxHash: (hash) => {
                  sent.txHash = hash;
                  sent.status = 'signed';
                },
                onStatus: (status) => (sent.status = status),
              });
              return { alreadySet: false, txHash: submitted.txHash, blockHash: submitted.blockHash };
            });
            // Asset Hub forwards the keys to the relay by XCM after its own block: wait (bounded) until the relay's
            // NextKeys shows them, so a retry or the next look sees them. Not arriving is left to the keys-active wait.
            if (route.submitTo === 'asset-hub') await keysOnRelay(relayUrl, stash, wanted, 60_000);
            return result;
          },
        ),
      );
    },

    keysStanding: async ({ rpcUrl, stash, keys }) => {
      return reportingPolkadotErrors(async () => {
        const [standing, counters] = await Promise.all([
          withSharedApi(rpcUrl, (api) => readKeysStanding(api, stash, keys)),
          polkadotValidatorCounters(rpcUrl, stash),
        ]);
        return counters ? { ...standing, counters } : standing;
      });
    },

    stashKeys: async ({ rpcUrl, stash, genesisHash }) => {
      return reportingPolkadotErrors(() =>
        withSharedApi(rpcUrl, (api) => {
          requireGenesis(api.genesisHash.toHex(), genesisHash, rpcUrl, 'the relay RPC');
          return readStashKeys(api, stash);
        }),
      );
    },

    lookKeysActive: async (req) => {
      return reportingPolkadotErrors(async () => {
        const [{ standing, session }, nodeHolds, counters] = await Promise.all([
          withSharedApi(req.rpcUrl, async (api) => {
            requireGenesis(api.genesisHash.toHex(), req.genesisHash, req.rpcUrl, 'the relay RPC');
            return { standing: await readKeysStanding(api, req.stash, req.keys), session: await readSessionInfo(api) };
          }),
          hasSessionKeys(req.nodeRpcUrl, req.keys).catch((err: unknown) => messageOf(err)),
          polkadotValidatorCounters(req.rpcUrl, req.stash),
        ]);
        const holds = nodeHolds === true;
        const reached = standing.stage === 'active' && holds;
        const nodeWords =
          typeof nodeHolds === 'string'
            ? `the node does not answer (${nodeHolds})`
            : holds
              ? 'the node holds them'
              : 'the node does NOT hold them';
        const detail =
          `keys of ${req.stash} are ${STAGE_WORDS[standing.stage]}` +
          (standing.activeSince === undefined ? '' : ` (finalized in session ${standing.activeSince})`) +
          `; ${nodeWords}; session ${session.currentIndex}, next in ~${seconds(session.nextSessionEtaMs)}`;
        return {
          reached,
          detail,
          value: standing,
          etaMs: keysActiveEtaMs(standing.stage, session),
          ...(counters ? { counters } : {}),
          ...headOf(session),
        };
      });
    },
  });
}

export type PolkadotActivities = ReturnType<typeof createPolkadotActivities>;

/**
 * When a syncing node reaches the network's head at the rate it imports: its best block read again a slot
 * after the look's first reading. Undefined when it does not answer or is not closing the gap.
 */
async function projectedSync(
  nodeRpcUrl: string,
  first: { bestBlock: number },
  networkBest: number,
  slotMs: number,
): Promise<number | undefined> {
  const firstAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, slotMs));
  const second = await readNodeHealth(nodeRpcUrl).catch(() => undefined);
  if (!second) return undefined;
  return projectedSyncMs(
    { bestBlock: first.bestBlock, atMs: firstAt },
    { bestBlock: second.bestBlock, atMs: Date.now() },
    networkBest + Math.round((Date.now() - firstAt) / slotMs),
    slotMs,
  );
}

/** Waits (bounded) until the relay's NextKeys for `stash` are `keys`; false if they are not by then. */
async function keysOnRelay(relayUrl: string, stash: string, keys: string, timeoutMs: number): Promise<boolean> {
  return withSharedApi(relayUrl, async (api) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await nextKeysOf(api, stash)) === keys) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
}
