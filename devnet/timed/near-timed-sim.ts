/**
 * A NEAR validator and its machines as the NEAR workflows see them through their activities, moving with
 * the Temporal server's clock: with the time-skipping server, mainnet epochs (43200 blocks of ~1 s) pass
 * in seconds. For the workflow tests of timing, history size and compensation only; the end-to-end tests
 * run the real activities against the devnet and real sshd hosts.
 *
 * It keeps what the tests assert on: which node holds and loads which key, every staking transaction,
 * every moment two running nodes held the same key (`doubleSigners`), and every activity call.
 */
// The simulated activities keep the real ones' async signatures even where they do not wait.
/* eslint-disable @typescript-eslint/require-await */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { projectedSyncMs } from '../../src/api/chain-observation.js';
import type { HostActivities } from '../../activities/host/index.js';
import { createInventoryActivities } from '../../activities/inventory/index.js';
import type { StrategyInput, StrategyName, StrategyTargets } from '../../src/api/strategies.js';
import { InventoryBook, inventoryForTargets } from '../testbeds/targets-inventory.js';
import type { NearActivities } from '../../activities/near/index.js';
import type { NearNodeRef, NodeStatus } from '../../src/api/contracts/near.js';
import type { HostSpecInput } from '../../src/config/host.js';

export interface SimRelease {
  version: string;
  dbVersion: number;
  /** The binary exits right after it starts (a bad build, a missing library). */
  crashes?: boolean;
}

export interface SimNodeOptions {
  id: string;
  /** The host's id; nodes with the same host share its files. */
  host: string;
  home: string;
  service: string;
  binary: string;
  release: SimRelease;
  /** The validator key file in the home, if any. */
  key?: string;
  running?: boolean;
  /** Time from start (after any migration) until the node reports synced; Infinity: never. */
  syncMs: number;
  /** Time a database migration takes on start. */
  migrationMs?: number;
  /** Version of the data folder (defaults to the release's). */
  dataDbVersion?: number;
}

export interface NearTimedSimOptions {
  accountId: string;
  epochLength: number;
  blockTimeMs: number;
  now: () => Promise<number>;
  /** The key the account validates with at genesis. */
  initialKey: string;
  /** When height 0 was (default: the first look), so several sims can share one chain's epochs. */
  genesisMs?: number;
  /** The id of the signer that holds the pool owner's key; any other signer is refused like the contract does. */
  ownerSignerId: string;
  nodes: SimNodeOptions[];
  /** Releases staged at these paths on every host. */
  staged: Record<string, SimRelease>;
  /** Make swapDataFolder fail after moving the old folder away (a full disk, a dying disk). */
  failSwap?: boolean;
  /** Make handOverValidatorKey fail after it moved the key files, before the standby loads the key. */
  failHandOver?: boolean;
  /**
   * Processes on a host that no node of the upgrade accounts for, as the host's records show them: one whose
   * home holds `key` (a neard started by hand), or one whose home cannot be read for its first `unreadableLooks`
   * observations (then it is gone).
   */
  strangers?: { host: string; home: string; key?: string; unreadableLooks?: number }[];
  /** Called on each observeSigner, with how many came before it (a test queries the run's status there). */
  onObserveSigner?: (count: number) => Promise<void>;
}

interface SimNode {
  opts: SimNodeOptions;
  ref: NearNodeRef & { binary: string };
  active: boolean;
  startedAtMs: number;
  migrateUntilMs: number;
  loadedKey?: string;
}

type Activities = HostActivities & Required<NearActivities>;
type Fs = Map<string, string>;

const host = (id: string): HostSpecInput => ({
  id,
  address: `${id}.sim`,
  user: 'near',
  hostKey: 'SHA256:atmwo39nj1vKY3710DuZTMnhk9BT8fjLkajmfxr+8lw',
  auth: { type: 'agent' },
});

export const releaseText = (r: SimRelease) => `neard ${r.version} db ${r.dbVersion}${r.crashes ? ' crashes' : ''}`;
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const refused = () => new Error('connect ECONNREFUSED: the node does not answer');

export function nearTimedSim(opts: NearTimedSimOptions) {
  const fs: Fs = new Map();
  const at = (hostId: string, path: string) => `${hostId}:${path}`;
  const calls: string[] = [];
  const stakes: { key: string; epoch: number }[] = [];
  const doubleSigners: string[] = [];
  /** Every stop of a running node, with the epoch it happened in. */
  const stops: { node: string; epoch: number }[] = [];
  let genesisMs = opts.genesisMs;
  let keyCounter = 0;
  let observations = 0;

  const nodes: SimNode[] = opts.nodes.map((n) => {
    fs.set(at(n.host, n.binary), releaseText(n.release));
    fs.set(at(n.host, `${n.home}/data`), JSON.stringify({ dbVersion: n.dataDbVersion ?? n.release.dbVersion }));
    if (n.key)
      fs.set(
        at(n.host, `${n.home}/validator_key.json`),
        JSON.stringify({ accountId: opts.accountId, publicKey: n.key }),
      );
    for (const [path, release] of Object.entries(opts.staged)) fs.set(at(n.host, path), releaseText(release));
    return {
      opts: n,
      ref: {
        host: host(n.host) as NearNodeRef['host'],
        home: n.home,
        service: n.service,
        rpcUrl: `http://${n.id}:3030`,
        binary: n.binary,
      },
      active: n.running ?? false,
      startedAtMs: -Infinity,
      migrateUntilMs: -Infinity,
      loadedKey: n.running ? n.key : undefined,
    };
  });

  async function clock() {
    const now = await opts.now();
    genesisMs ??= now;
    const height = Math.floor((now - genesisMs) / opts.blockTimeMs);
    return { now, height, epoch: Math.floor(height / opts.epochLength) };
  }
  const currentKey = (epoch: number) => stakes.filter((s) => s.epoch + 2 <= epoch).at(-1)?.key ?? opts.initialKey;
  const stageOf = (key: string, epoch: number) => {
    if (currentKey(epoch) === key) return 'current' as const;
    const proposal = stakes.filter((s) => s.key === key).at(-1);
    if (!proposal) return 'absent' as const;
    return proposal.epoch === epoch ? ('proposed' as const) : ('next' as const);
  };
  const etaMs = (height: number) => (opts.epochLength - (height % opts.epochLength)) * opts.blockTimeMs;

  const byRpc = (rpcUrl: string) => nodes.find((n) => n.ref.rpcUrl === rpcUrl) ?? fail(`no node at ${rpcUrl}`);
  const byService = (hostId: string, service: string) =>
    nodes.find((n) => n.opts.host === hostId && n.opts.service === service) ?? fail(`no ${service} on ${hostId}`);
  const keyFile = (n: SimNode) => at(n.opts.host, `${n.opts.home}/validator_key.json`);
  const pendingFile = (n: SimNode, tag: string) => at(n.opts.host, `${n.opts.home}/validator_key.json.pending-${tag}`);
  const readKey = (n: SimNode) => {
    const text = fs.get(keyFile(n));
    return text ? (JSON.parse(text) as { accountId: string; publicKey: string }) : null;
  };
  const dbOf = (n: SimNode) => {
    const text = fs.get(at(n.opts.host, `${n.opts.home}/data`));
    return text ? (JSON.parse(text) as { dbVersion: number }).dbVersion : undefined;
  };
  const releaseOf = (n: SimNode): SimRelease => {
    const m = /^neard (\S+) db (\d+)( crashes)?$/.exec(fs.get(at(n.opts.host, n.opts.binary)) ?? '');
    return m ? { version: m[1]!, dbVersion: Number(m[2]), crashes: !!m[3] } : fail(`${n.opts.binary} is not neard`);
  };
  /** Two running nodes that load the same key sign the same heights: the one thing that must never happen. */
  const checkSigners = async () => {
    const { height } = await clock();
    const loaded = nodes.filter((n) => n.active && n.loadedKey).map((n) => n.loadedKey!);
    const twice = loaded.filter((k, i) => loaded.indexOf(k) !== i);
    for (const key of twice) doubleSigners.push(`${key} on two nodes at height ${height}`);
  };
  async function status(n: SimNode): Promise<NodeStatus> {
    const { now, height } = await clock();
    if (!n.active || now < n.migrateUntilMs) throw refused();
    const release = releaseOf(n);
    return {
      chainId: 'sim',
      version: release.version,
      protocolVersion: 70,
      syncing: now < Math.max(n.startedAtMs, n.migrateUntilMs) + n.opts.syncMs,
      latestBlockHeight: height,
      validatorAccountId: n.loadedKey ? opts.accountId : undefined,
      validatorPublicKey: n.loadedKey,
    };
  }

  const near: Required<NearActivities> = {
    nodeStatus: async ({ rpcUrl }) => status(byRpc(rpcUrl)),
    probeNodeStatus: async ({ rpcUrl }) =>
      status(byRpc(rpcUrl)).then(
        (s) => ({ answering: true as const, status: s }),
        (err: unknown) => ({ answering: false as const, reason: err instanceof Error ? err.message : String(err) }),
      ),
    migrationState: async ({ node }) => ({
      serviceActive: byService(node.host.id, node.service).active,
      probe: await status(byRpc(node.rpcUrl)).then(
        (s) => ({ answering: true as const, status: s }),
        (err: unknown) => ({ answering: false as const, reason: err instanceof Error ? err.message : String(err) }),
      ),
    }),
    epochInfo: async () => {
      const { height, epoch } = await clock();
      return {
        epochHeight: epoch,
        epochStartHeight: epoch * opts.epochLength,
        epochLength: opts.epochLength,
        headHeight: height,
        observedBlockTimeMs: opts.blockTimeMs,
        nextBoundaryEtaMs: etaMs(height),
      };
    },
    keyStanding: async ({ accountId, publicKey }) => {
      const { epoch } = await clock();
      return {
        accountId,
        publicKey,
        stage: stageOf(publicKey, epoch),
        epochHeight: epoch,
        currentKey: currentKey(epoch),
      };
    },
    lookNodeSynced: async ({ nodeRpcUrl }) => {
      const n = byRpc(nodeRpcUrl);
      const s = await status(n);
      // As the real look: the node read again a few blocks later gives its rate. The model: a syncing node
      // starts as many blocks behind as its sync time lasts, and closes the gap steadily.
      const { now } = await clock();
      const from = Math.max(n.startedAtMs, n.migrateUntilMs);
      const end = from + n.opts.syncMs;
      const headAt = (t: number) => (t - (genesisMs ?? 0)) / opts.blockTimeMs;
      const nodeAt = (t: number) => headAt(t) - Math.max(0, end - t) / opts.blockTimeMs;
      const later = now + 5 * opts.blockTimeMs;
      const projected =
        s.syncing && Number.isFinite(n.opts.syncMs)
          ? projectedSyncMs(
              { bestBlock: nodeAt(now), atMs: now },
              { bestBlock: nodeAt(later), atMs: later },
              headAt(later),
              opts.blockTimeMs,
            )
          : undefined;
      return {
        reached: !s.syncing,
        detail: s.syncing ? `syncing at ${s.latestBlockHeight}` : 'synced',
        value: s,
        etaMs: projected === undefined ? 600_000 : projected - (later - now),
      };
    },
    lookKeyStage: async ({ accountId, publicKey, want }) => {
      const { height, epoch } = await clock();
      const stage = stageOf(publicKey, epoch);
      const order = ['absent', 'proposed', 'next', 'current'];
      return {
        reached: order.indexOf(stage) >= order.indexOf(want),
        detail: `key ${stage} in epoch ${epoch}`,
        etaMs: etaMs(height),
        value: { accountId, publicKey, stage, epochHeight: epoch, currentKey: currentKey(epoch) },
      };
    },
    lookNodeSigning: async ({ nodeRpcUrl, sinceHeight }) => {
      const n = byRpc(nodeRpcUrl);
      const s = await status(n);
      const { epoch, height } = await clock();
      const signing = !s.syncing && n.loadedKey === currentKey(epoch);
      return {
        reached: signing && height > sinceHeight,
        detail: signing ? 'producing' : 'not producing',
        value: { producedSince: height - sinceHeight },
      };
    },
    generateValidatorKey: async ({ node, accountId }) => {
      const n = byService(node.host.id, node.service);
      const existing = readKey(n);
      if (existing?.accountId === accountId) return { publicKey: existing.publicKey, created: false };
      const publicKey = `ed25519:sim-new-${++keyCounter}`;
      fs.set(keyFile(n), JSON.stringify({ accountId, publicKey }));
      return { publicKey, created: true };
    },
    readValidatorKey: async ({ node }) => readKey(byService(node.host.id, node.service)),
    observeSigner: async ({ node, publicKey, knownHolderHomes }) => {
      await opts.onObserveSigner?.(observations++);
      const n = byService(node.host.id, node.service);
      const strangers = (opts.strangers ?? []).filter((p) => p.host === n.opts.host);
      const rpc = await status(n).then(
        (s) => ({
          answered: true as const,
          holdsKey: publicKey !== undefined && s.validatorPublicKey === publicKey,
          says: s.validatorPublicKey ? `runs with ${s.validatorPublicKey}` : 'runs with no validator key',
        }),
        (err: Error) => ({ answered: false as const, error: err.message }),
      );
      // The host's records: a running node's process holds its home; another running node on the same host
      // whose key file holds the key is another holder.
      const others = nodes.filter(
        (o) =>
          o !== n &&
          o.opts.host === n.opts.host &&
          o.active &&
          publicKey !== undefined &&
          readKey(o)?.publicKey === publicKey &&
          !knownHolderHomes?.includes(o.opts.home),
      );
      return {
        node: `${n.opts.service} on ${n.opts.host}`,
        rpc,
        running: n.active ? [`the process of ${n.opts.id} runs with this home`] : [],
        otherHolders: [
          ...others.map((o) => `the process of ${o.opts.id} runs with ${o.opts.home}, which holds it`),
          ...strangers
            .filter((p) => publicKey !== undefined && p.key === publicKey)
            .map((p) => `a process runs with home ${p.home}, which holds it`),
        ],
        unreadable: strangers
          .filter((p) => {
            const left = p.unreadableLooks ?? 0;
            p.unreadableLooks = Math.max(0, left - 1);
            return left > 0;
          })
          .map((p) => `a process runs with home ${p.home}, which cannot be read`),
        window: '1 look',
      };
    },
    stakeWithKey: async ({ staking, newPublicKey }) => {
      if (staking.type === 'pool' && staking.signer.id !== opts.ownerSignerId)
        throw ApplicationFailure.nonRetryable(
          `${staking.signer.id} is not the owner of the pool: Smart contract panicked: Can only be called by the owner`,
          'NotPoolOwner',
        );
      const { epoch } = await clock();
      if (stakes.at(-1)?.key === newPublicKey || currentKey(epoch) === newPublicKey) return { alreadyStaked: true };
      stakes.push({ key: newPublicKey, epoch });
      return { alreadyStaked: false, txHash: `tx-${stakes.length}` };
    },
    checkDatabase: async ({ node, binaryPath }) => {
      const n = byService(node.host.id, node.service);
      const m = /^neard (\S+) db (\d+)/.exec(fs.get(at(n.opts.host, binaryPath)) ?? '')!;
      const dataDbVersion = dbOf(n);
      const binaryDbVersion = Number(m[2]);
      return {
        dataDbVersion,
        dataDbVersionSource: 'the simulated database',
        binaryDbVersion,
        binaryVersion: m[1]!,
        migrationNeeded: (dataDbVersion ?? binaryDbVersion) < binaryDbVersion,
      };
    },
    stageValidatorKey: async ({ from, to, expectedPublicKey, tag }) => {
      const key = readKey(byService(from.host.id, from.service));
      if (key?.publicKey !== expectedPublicKey)
        throw ApplicationFailure.nonRetryable('not the expected key', 'KeyMismatch');
      const target = byService(to.host.id, to.service);
      if (readKey(target)) throw ApplicationFailure.nonRetryable('the standby holds a key', 'ValidatorKeyConflict');
      const staged = pendingFile(target, tag);
      const had = fs.get(staged) === JSON.stringify(key);
      fs.set(staged, JSON.stringify(key));
      return { publicKey: key.publicKey, copied: !had };
    },
    handOverValidatorKey: async ({ primary, standby, publicKey, tag }) => {
      const p = byService(primary.host.id, primary.service);
      const sb = byService(standby.host.id, standby.service);
      const parked = `${p.opts.home}/validator_key.json.hot-swapped-${tag}`;
      const { height, epoch } = await clock();
      const stoppedPrimary = p.active;
      if (p.active) {
        stops.push({ node: p.opts.id, epoch });
        p.active = false;
        p.loadedKey = undefined;
      }
      const primaryKey = fs.get(keyFile(p));
      if (primaryKey !== undefined) {
        fs.set(at(p.opts.host, parked), primaryKey);
        fs.delete(keyFile(p));
      }
      const staged = fs.get(pendingFile(sb, tag));
      if (staged !== undefined && !readKey(sb)) {
        fs.set(keyFile(sb), staged);
        fs.delete(pendingFile(sb, tag));
      }
      if (readKey(sb)?.publicKey !== publicKey)
        throw ApplicationFailure.nonRetryable('the key is not staged', 'KeyNotStaged');
      if (opts.failHandOver)
        throw ApplicationFailure.nonRetryable('the standby did not load the key after SIGHUP', 'StandbyDidNotLoad');
      if (sb.active) sb.loadedKey = publicKey;
      await checkSigners();
      return { primaryKeyParkedAt: parked, afterOwnBlock: height, stoppedPrimary };
    },
    withdrawValidatorKey: async ({ node, tag }) => {
      const n = byService(node.host.id, node.service);
      let withdrawnFiles = 0;
      for (const file of [keyFile(n), pendingFile(n, tag)]) {
        if (fs.delete(file)) withdrawnFiles++;
      }
      if (n.active) n.loadedKey = undefined;
      return { withdrawnFiles, reloaded: n.active };
    },
    restartOnRelease: async ({ node, staged: release, dataSwap, mustBeStopped = [], stopFirst }) => {
      const h = node.host;
      if (stopFirst) await hostActivities.stopService({ host: stopFirst.host, service: stopFirst.service });
      const { wasActive } = await hostActivities.stopService({ host: h, service: node.service });
      const swap = dataSwap ? await hostActivities.swapDataFolder({ host: h, ...dataSwap }) : undefined;
      const staged = fs.get(at(h.id, release.path));
      if (staged !== undefined) {
        fs.set(at(h.id, node.binary!), staged);
        fs.delete(at(h.id, release.path));
      }
      for (const other of mustBeStopped)
        if (byService(h.id, other).active)
          throw ApplicationFailure.nonRetryable(`${other} runs on ${h.id}`, 'OtherNodeRunning');
      await hostActivities.startService({ host: h, service: node.service });
      return { wasActive, ...(swap ? { swap } : {}), downMs: 0 };
    },
    reloadValidatorKey: async ({ node }) => {
      const n = byService(node.host.id, node.service);
      if (n.active) n.loadedKey = readKey(n)?.publicKey;
      await checkSigners();
    },
  };

  const unsupported = () => Promise.reject(new Error('not used by the NEAR workflows'));
  const hostActivities: HostActivities = {
    runCommand: async ({ host: h, argv }) => {
      const [cmd, ...args] = argv;
      const paths = args.filter((a) => a.startsWith('/'));
      const [from, to] = [at(h.id, paths[0]!), at(h.id, paths[1]!)];
      const noClobber = args.includes('-n');
      if ((cmd === 'cp' || cmd === 'mv') && fs.has(from) && !(noClobber && fs.has(to))) {
        fs.set(to, fs.get(from)!);
        if (cmd === 'mv') fs.delete(from);
        return { exitCode: 0, stdoutTail: '', stderrTail: '', stdoutBytes: 0, stderrBytes: 0 };
      }
      return {
        exitCode: noClobber && fs.has(to) ? 0 : 1,
        stdoutTail: '',
        stderrTail: `${cmd}: cannot`,
        stdoutBytes: 0,
        stderrBytes: 9,
      };
    },
    isServiceActive: async ({ host: h, service }) => byService(h.id, service).active,
    startService: async ({ host: h, service }) => {
      const n = byService(h.id, service);
      if (n.active) return { wasActive: true };
      const { now } = await clock();
      const release = releaseOf(n);
      const db = dbOf(n);
      if (db !== undefined && db > release.dbVersion)
        throw ApplicationFailure.create({
          message: `${service} exited: database ${db} is newer`,
          type: 'ServiceStartFailed',
        });
      if (release.crashes)
        throw ApplicationFailure.create({
          message: `${service} exited right after it started`,
          type: 'ServiceStartFailed',
        });
      n.active = true;
      n.startedAtMs = now;
      n.migrateUntilMs = db !== undefined && db < release.dbVersion ? now + (n.opts.migrationMs ?? 0) : -Infinity;
      if (db !== undefined && db < release.dbVersion)
        fs.set(at(h.id, `${n.opts.home}/data`), JSON.stringify({ dbVersion: release.dbVersion }));
      n.loadedKey = readKey(n)?.publicKey;
      await checkSigners();
      return { wasActive: false };
    },
    stopService: async ({ host: h, service }) => {
      const n = byService(h.id, service);
      const { now } = await clock();
      if (now < n.migrateUntilMs) doubleSigners.push(`${service} on ${h.id} stopped during its migration`);
      const wasActive = n.active;
      if (wasActive) stops.push({ node: n.opts.id, epoch: (await clock()).epoch });
      n.active = false;
      n.loadedKey = undefined;
      return { wasActive };
    },
    writeFileAtomic: unsupported,
    freeDisk: unsupported,
    sha256OfFile: async ({ host: h, path }) => sha256(fs.get(at(h.id, path)) ?? fail(`no ${path}`)),
    installBinary: async ({ host: h, source, destination, sha256: want }) => {
      const text = fs.get(at(h.id, source)) ?? fail(`no ${source}`);
      if (sha256(text) !== want)
        throw ApplicationFailure.nonRetryable(`sha256 of ${source} is not ${want}`, 'ChecksumMismatch');
      const changed = fs.get(at(h.id, destination)) !== text;
      fs.set(at(h.id, destination), text);
      return { changed };
    },
    swapDataFolder: async ({ host: h, target, staging, swapId }) => {
      const backup = `${target}.bak-${swapId}`;
      const paths = { target, staging, backup, aside: `${target}.rolled-back-${swapId}`, journal: `${target}.journal` };
      if (!fs.has(at(h.id, backup))) {
        fs.set(at(h.id, backup), fs.get(at(h.id, target))!);
        fs.delete(at(h.id, target));
      }
      if (opts.failSwap)
        throw ApplicationFailure.create({
          message: 'rename failed: Input/output error',
          type: 'RemoteCommandFailed',
          nonRetryable: true,
        });
      if (fs.has(at(h.id, staging))) {
        fs.set(at(h.id, target), fs.get(at(h.id, staging))!);
        fs.delete(at(h.id, staging));
      }
      return { paths, steps: [], state: 'swapped' };
    },
    rollbackDataFolder: async ({ host: h, target, swapId }) => {
      const backup = `${target}.bak-${swapId}`;
      const paths = {
        target,
        staging: '',
        backup,
        aside: `${target}.rolled-back-${swapId}`,
        journal: `${target}.journal`,
      };
      if (fs.has(at(h.id, backup))) {
        if (fs.has(at(h.id, target))) fs.set(at(h.id, paths.aside), fs.get(at(h.id, target))!);
        fs.set(at(h.id, target), fs.get(at(h.id, backup))!);
        fs.delete(at(h.id, backup));
      }
      return { paths, steps: [], state: 'rolled-back' };
    },
  };

  const activities = Object.fromEntries(
    Object.entries({ ...hostActivities, ...near }).map(([name, fn]) => [
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
    stakes,
    stops,
    doubleSigners,
    ref: (id: string) => node(id).ref,
    /** What a node is: running, the key it signs with, its binary's release and its data's DB version. */
    inspect: (id: string) => {
      const n = node(id);
      return {
        active: n.active,
        loadedKey: n.loadedKey,
        keyFile: readKey(n)?.publicKey,
        release: releaseOf(n).version,
        dataDbVersion: dbOf(n),
      };
    },
    /** The chain's state now, by the server's clock. */
    chain: async () => {
      const { height, epoch } = await clock();
      return { height, epoch, currentKey: currentKey(epoch) };
    },
    file: (hostId: string, path: string) => fs.get(at(hostId, path)),
  };
}

function fail(message: string): never {
  throw new Error(message);
}
