/**
 * A Polkadot validator (one stash) and its two machines as `polkadotValidatorSwapUpgrade` sees them through
 * its activities, moving with the Temporal server's clock: with the time-skipping server, 4-hour Polkadot
 * sessions (2400 slots of 6 s) pass in seconds. For the workflow tests of timing, history size and
 * compensation only; the end-to-end tests run the real activities against the devnet and real sshd hosts.
 *
 * It follows pallet-session's timing (keys set in session S are queued in S+1 and active in S+2) and keeps
 * what the tests assert on: every slot whose active keys no running synced node held (missed), every slot
 * two running nodes held them (equivocation), every set-keys transaction, and every activity call.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { HostActivities } from '../../activities/host/index.js';
import { createInventoryActivities } from '../../activities/inventory/index.js';
import type { StrategyInput, StrategyName, StrategyTargets } from '../../src/api/strategies.js';
import { InventoryBook, inventoryForTargets } from '../testbeds/targets-inventory.js';
import type { PolkadotActivities } from '../../activities/polkadot/index.js';
import type { KeysStanding, NodeHealth, PolkadotNodeRef, SessionInfo } from '../../src/api/contracts/polkadot.js';
import type { HostSpecInput } from '../../src/config/host.js';
import { keysActiveEtaMs } from '../../src/polkadot/projections.js';
import { projectedSyncMs } from '../../src/api/chain-observation.js';

export interface SimDotNode {
  id: 'a' | 'b';
  host: string;
  binary: string;
  release: string;
  running: boolean;
  /** Time from start until the node reports synced; Infinity: never. */
  syncMs: number;
}

export type SetKeysRefusal = 'session.InvalidProof' | 'proxy.NotProxy' | 'system.CallFiltered';

export interface PolkadotTimedSimOptions {
  stash: string;
  sessionLengthSlots: number;
  slotMs: number;
  /** Blocks GRANDPA finality trails the head by. */
  finalityLag: number;
  now: () => Promise<number>;
  nodes: SimDotNode[];
  /** Releases staged at these paths on every host (path → release text). */
  staged: Record<string, string>;
  /** The chain refuses every set-keys call with this dispatch error. */
  refuseSetKeys?: SetKeysRefusal;
  /**
   * Called once keys are generated and persisted, before rotateKeys returns; a throw fails that attempt as a
   * worker dying before it reports would (a test kills its worker here).
   */
  afterRotate?: () => void;
}

interface Node {
  opts: SimDotNode;
  ref: PolkadotNodeRef;
  running: boolean;
  startedAtMs: number;
  keystore: Set<string>;
}

type Activities = HostActivities & Required<PolkadotActivities>;

const host = (id: string): HostSpecInput => ({
  id,
  address: `${id}.sim`,
  user: 'polkadot',
  hostKey: 'SHA256:atmwo39nj1vKY3710DuZTMnhk9BT8fjLkajmfxr+8lw',
  auth: { type: 'agent' },
});

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const refused = () => new Error('connect ECONNREFUSED: the node does not answer');
const BABE = '62616265';
/** Six public keys of 32 bytes, as SCALE-encoded SessionKeys are (the real layout has a 33-byte beefy key). */
const newKeys = (seed: string) => `0x${Array.from({ length: 6 }, (_, i) => sha256(`${seed}/${i}`)).join('')}`;
const publicKeysOf = (keys: string) => keys.slice(2).match(/.{64}/g) ?? [];

export function polkadotTimedSim(opts: PolkadotTimedSimOptions) {
  const calls: string[] = [];
  const files = new Map<string, string>();
  const at = (hostId: string, path: string) => `${hostId}:${path}`;
  const genesisKeys = newKeys('genesis');
  /** Every set-keys that landed, with the session it landed in. */
  const setKeysTxs: { keys: string; session: number; txHash: string }[] = [];
  const persistedKeys = new Map<string, { keys: string; proof: string }>();
  const missedSlots: number[] = [];
  const equivocations: number[] = [];
  let genesisMs: number | undefined;
  let accountedSlot = -1;
  let rotations = 0;
  /** Sessions of the first and the latest activity call (the span of the upgrade as the chain saw it). */
  const span = { first: -1, last: -1 };

  const nodes: Node[] = opts.nodes.map((n) => {
    files.set(at(n.host, n.binary), n.release);
    for (const [path, text] of Object.entries(opts.staged)) files.set(at(n.host, path), text);
    return {
      opts: n,
      ref: {
        host: host(n.host) as PolkadotNodeRef['host'],
        basePath: '/var/lib/polkadot',
        service: 'polkadot',
        rpcUrl: `ws://${n.id}.sim:9944`,
      },
      running: n.running,
      startedAtMs: n.running ? -Infinity : Infinity,
      keystore: new Set(n.id === 'a' ? [genesisKeys] : []),
    };
  });

  async function slotNow() {
    const now = await opts.now();
    // Start in the middle of a session, as a swap usually does.
    genesisMs ??= now - Math.floor(opts.sessionLengthSlots / 2) * opts.slotMs;
    return { now, slot: Math.floor((now - genesisMs) / opts.slotMs) };
  }
  const sessionOf = (slot: number) => Math.floor(slot / opts.sessionLengthSlots);
  /** NextKeys at the end of session s: the last keys set in or before it. */
  const nextKeysAfter = (s: number) => setKeysTxs.filter((t) => t.session <= s).at(-1)?.keys ?? genesisKeys;
  const queuedIn = (s: number) => nextKeysAfter(s - 1);
  const activeIn = (s: number) => nextKeysAfter(s - 2);
  const synced = (n: Node, now: number) => n.running && now >= n.startedAtMs + n.opts.syncMs;
  /** A syncing node imports at a steady rate that reaches the network's head when its sync time is up. */
  const bestBlockAt = (n: Node, at: number) => {
    if (synced(n, at)) return Math.floor((at - (genesisMs ?? 0)) / opts.slotMs);
    if (!Number.isFinite(n.opts.syncMs) || at <= n.startedAtMs) return 0;
    const headAtEnd = Math.floor((n.startedAtMs + n.opts.syncMs - (genesisMs ?? 0)) / opts.slotMs);
    return Math.floor((headAtEnd * (at - n.startedAtMs)) / n.opts.syncMs);
  };

  /** Counts, slot by slot up to now, who signed with the active keys (the state is fixed between calls). */
  async function account(byActivity = true) {
    const { now, slot } = await slotNow();
    for (let s = Math.max(accountedSlot + 1, slot - 100_000); s < slot; s++) {
      const keys = activeIn(sessionOf(s));
      const slotStart = (genesisMs ?? 0) + s * opts.slotMs;
      const signers = nodes.filter((n) => n.running && n.keystore.has(keys) && synced(n, slotStart));
      if (signers.length === 0) missedSlots.push(s);
      if (signers.length > 1) equivocations.push(s);
    }
    accountedSlot = Math.max(accountedSlot, slot - 1);
    const session = sessionOf(slot);
    if (byActivity) {
      if (span.first < 0) span.first = session;
      span.last = session;
    }
    return { now, slot, session };
  }

  const byRpc = (rpcUrl: string) => nodes.find((n) => n.ref.rpcUrl === rpcUrl) ?? fail(`no node at ${rpcUrl}`);
  const byHost = (hostId: string) => nodes.find((n) => n.opts.host === hostId) ?? fail(`no node on ${hostId}`);

  function standing(session: number, keys: string): KeysStanding {
    const stage =
      activeIn(session) === keys
        ? 'active'
        : queuedIn(session) === keys
          ? 'queued'
          : nextKeysAfter(session) === keys
            ? 'next'
            : 'unset';
    return { stash: opts.stash, stage, currentIndex: session, activeSince: stage === 'active' ? session : undefined };
  }
  const etaToBoundary = (slot: number) => (opts.sessionLengthSlots - (slot % opts.sessionLengthSlots)) * opts.slotMs;

  async function health(n: Node): Promise<NodeHealth> {
    const { now, slot } = await account();
    if (!n.running) throw refused();
    return {
      chain: 'Polkadot',
      version: n.running ? (files.get(at(n.opts.host, n.opts.binary)) ?? '?') : '?',
      peers: 8,
      isSyncing: !synced(n, now),
      bestBlock: synced(n, now) ? slot : bestBlockAt(n, now),
      highestBlock: slot,
    };
  }

  const polkadot: Required<PolkadotActivities> = {
    nodeHealth: async ({ rpcUrl }) => health(byRpc(rpcUrl)),
    lookPolkadotNodeSynced: async ({ nodeRpcUrl }) => {
      const n = byRpc(nodeRpcUrl);
      const h = await health(n);
      // As the real look: the node's best block read again a slot later gives its rate.
      const { now, slot } = await slotNow();
      const projected = h.isSyncing
        ? projectedSyncMs(
            { bestBlock: h.bestBlock, atMs: now },
            { bestBlock: bestBlockAt(n, now + opts.slotMs), atMs: now + opts.slotMs },
            slot + 1,
            opts.slotMs,
          )
        : undefined;
      return {
        reached: !h.isSyncing,
        detail: h.isSyncing ? 'syncing' : 'synced',
        etaMs: projected ?? 10 * 60_000,
        value: h,
      };
    },
    sessionInfo: async (): Promise<SessionInfo> => {
      const { slot, session } = await account();
      return {
        currentIndex: session,
        epochIndex: session,
        sessionLengthSlots: opts.sessionLengthSlots,
        slotInSession: slot % opts.sessionLengthSlots,
        slotDurationMs: opts.slotMs,
        nextSessionEtaMs: etaToBoundary(slot),
        finalizedBlock: slot - opts.finalityLag,
        bestBlock: slot,
      };
    },
    rotateKeys: async ({ node, upgradeId }) => {
      await account();
      const n = byHost(node.host.id);
      if (!n.running) throw refused();
      const kept = persistedKeys.get(upgradeId);
      if (kept && n.keystore.has(kept.keys))
        return { keys: kept.keys, proof: kept.proof, method: 'author_rotateKeysWithOwner', reused: true };
      const keys = newKeys(`${n.opts.id}-${++rotations}`);
      n.keystore.add(keys);
      const proof = `0x${sha256(`POP_${opts.stash}${keys}`)}`;
      persistedKeys.set(upgradeId, { keys, proof });
      opts.afterRotate?.();
      return { keys, proof, method: 'author_rotateKeysWithOwner', reused: false };
    },
    nodeHasKeys: async ({ nodeRpcUrl, keys }) => {
      await account();
      const n = byRpc(nodeRpcUrl);
      if (!n.running) throw refused();
      return n.keystore.has(keys);
    },
    nodesHoldKeys: async ({ checks }) => {
      await account();
      return checks.map(({ nodeRpcUrl, keys }) => {
        const n = byRpc(nodeRpcUrl);
        if (!n.running) throw refused();
        return n.keystore.has(keys);
      });
    },
    observePolkadotSigner: async ({ node, keys }) => {
      await account();
      const n = byHost(node.host.id);
      return {
        node: `${node.service} on ${node.host.id}`,
        rpc: n.running
          ? { answered: true, holdsKey: keys !== undefined && n.keystore.has(keys), says: 'answers' }
          : { answered: false, error: 'connect ECONNREFUSED' },
        // One node per host here: the host's records show its own process only.
        running: n.running ? [`the process of node ${n.opts.id} runs with this base path`] : [],
        otherHolders: [],
        unreadable: [],
        window: '1 look',
      };
    },
    setKeys: async ({ stash, keys, proof }) => {
      const { session } = await account();
      if (opts.refuseSetKeys)
        throw ApplicationFailure.nonRetryable(
          `set keys for ${stash} failed: ${opts.refuseSetKeys}`,
          opts.refuseSetKeys.split('.')[1],
        );
      if (!proof) throw ApplicationFailure.nonRetryable('session.InvalidProof', 'InvalidProof');
      if (nextKeysAfter(session) === keys) return { alreadySet: true };
      const txHash = `0x${sha256(`tx-${setKeysTxs.length}`)}`;
      setKeysTxs.push({ keys, session, txHash });
      return { alreadySet: false, txHash, blockHash: `0x${sha256(`block-${txHash}`)}` };
    },
    keysStanding: async ({ keys }) => standing((await account()).session, keys),
    stashKeys: async () => {
      const { session } = await account();
      return {
        stash: opts.stash,
        currentIndex: session,
        nextKeys: nextKeysAfter(session),
        queuedKeys: queuedIn(session),
      };
    },
    lookKeysActive: async ({ nodeRpcUrl, keys }) => {
      const { slot, session } = await account();
      const n = byRpc(nodeRpcUrl);
      const seen = standing(session, keys);
      const held = n.running && n.keystore.has(keys);
      const finalized = slot % opts.sessionLengthSlots >= opts.finalityLag;
      const reached = seen.stage === 'active' && held && finalized;
      return {
        reached,
        detail: `keys ${seen.stage} in session ${session}${held ? '' : ', not held by the node'}`,
        etaMs:
          seen.stage === 'active' && !finalized
            ? opts.finalityLag * opts.slotMs
            : keysActiveEtaMs(seen.stage, {
                nextSessionEtaMs: etaToBoundary(slot),
                sessionLengthSlots: opts.sessionLengthSlots,
                slotDurationMs: opts.slotMs,
                slotInSession: slot % opts.sessionLengthSlots,
              }),
        value: seen,
      };
    },
  };

  const unsupported = () => Promise.reject(new Error('not used by the Polkadot swap'));
  const hostActivities: HostActivities = {
    runCommand: async ({ host: h, argv }) => {
      await account();
      const n = byHost(h.id);
      if (argv[0] !== 'find') throw new Error(`unexpected command ${argv.join(' ')}`);
      const names = [...n.keystore].flatMap((keys) => publicKeysOf(keys).map((pk) => `${BABE}${pk}`));
      const stdoutTail = names.map((name) => `${name}\n`).join('');
      return { exitCode: 0, stdoutTail, stderrTail: '', stdoutBytes: stdoutTail.length, stderrBytes: 0 };
    },
    isServiceActive: async ({ host: h }) => {
      await account();
      return byHost(h.id).running;
    },
    startService: async ({ host: h }) => {
      const { now } = await account();
      const n = byHost(h.id);
      if (n.running) return { wasActive: true };
      n.running = true;
      n.startedAtMs = now;
      return { wasActive: false };
    },
    stopService: async ({ host: h }) => {
      await account();
      const n = byHost(h.id);
      const wasActive = n.running;
      n.running = false;
      return { wasActive };
    },
    writeFileAtomic: unsupported,
    freeDisk: unsupported,
    swapDataFolder: unsupported,
    rollbackDataFolder: unsupported,
    sha256OfFile: async ({ host: h, path }) => {
      await account();
      return sha256(files.get(at(h.id, path)) ?? fail(`no ${path}`));
    },
    installBinary: async ({ host: h, source, destination, sha256: want }) => {
      await account();
      const text = files.get(at(h.id, source)) ?? fail(`no ${source}`);
      if (sha256(text) !== want)
        throw ApplicationFailure.nonRetryable(`sha256 of ${source} is not ${want}`, 'ChecksumMismatch');
      const changed = files.get(at(h.id, destination)) !== text;
      files.set(at(h.id, destination), text);
      return { changed };
    },
  };

  const activities = Object.fromEntries(
    Object.entries({ ...hostActivities, ...polkadot }).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        calls.push(name);
        return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  ) as unknown as Activities;

  // The worker's inventory of this sim's machines: each upgrade's targets, as a deployed worker would hold them.
  const inventory = new InventoryBook();
  let upgrades = 0;
  const node = (id: string) => nodes.find((n) => n.opts.id === id) ?? fail(`no node ${id}`);
  return {
    /** The activities a worker registers: the machines' and the chain's, and the inventory's resolution. */
    activities: { ...activities, ...createInventoryActivities({ inventory }) },
    /** The workflow input of an upgrade with these targets, whose inventory the worker now holds. */
    upgrade<N extends StrategyName>(strategy: N, targets: StrategyTargets<N>): StrategyInput<N> {
      const { inventory: held, input } = inventoryForTargets(strategy, targets, { validatorId: `v${++upgrades}` });
      inventory.add(held);
      return input;
    },
    calls,
    setKeysTxs,
    missedSlots,
    equivocations,
    genesisKeys,
    /** How many session boundaries passed between the first and the latest activity call. */
    sessionsSpanned: () => span.last - span.first,
    ref: (id: 'a' | 'b') => node(id).ref,
    inspect: (id: 'a' | 'b') => {
      const n = node(id);
      return { running: n.running, keystore: [...n.keystore], release: files.get(at(n.opts.host, n.opts.binary)) };
    },
    /** The chain now: the session, and the keys active in it; accounts every slot up to now. */
    chain: async () => {
      const { session } = await account(false);
      return { session, activeKeys: activeIn(session), nextKeys: nextKeysAfter(session) };
    },
  };
}

function fail(message: string): never {
  throw new Error(message);
}
