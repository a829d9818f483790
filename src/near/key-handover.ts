/**
 * The hot swap's hand-over, done the way a careful operator does it, in one go, with the key already staged
 * on the standby in a file neard does not read:
 *
 *   1. check: nothing on either host holds the key but the primary; the standby runs, synced, with no key;
 *   2. wait until the validator has just produced a block at the head (its next height is then as far away as
 *      it gets);
 *   3. fence the primary: move its key file aside and SIGHUP it, and see its RPC report no validator key
 *      (nearcore once kept signing after such a reload, #11995: when it does not report so, stop it and see
 *      it stopped on its host instead);
 *   4. rename the staged file to validator_key.json on the standby, SIGHUP it and see it report the key;
 *   5. stop the primary (keyless by now) and see it stopped.
 *
 * Every "the primary does not sign" rests on positive evidence (src/api/signer-evidence.ts): its RPC saying
 * it runs with no key, or its host showing nothing running with its home. A primary that does not answer
 * proves nothing. Every sub-step first looks at the state it would produce, so a retry after any interruption
 * picks up where the last attempt stopped. What can never be right (the key live on the standby while the
 * primary's key file is in place, a process holding the key that nobody accounts for) is refused without a
 * retry; what cannot be told yet (a primary that neither answers nor is shown stopped) is refused with one.
 */
import {
  judgeSigner,
  knownHomesOnMachine,
  type SignerObservation,
  type SignerRequirement,
} from '../api/signer-evidence.js';
import type { HandOverValidatorKeyResult } from '../api/contracts/near.js';
import type { ServiceManagerSpec } from '../config/host.js';
import { describeHost, type SshConnection } from '../ssh/connection.js';
import { HostError } from '../ssh/errors.js';
import { execCapture } from '../ssh/exec.js';
import { isServiceActive, stopService } from '../ssh/service-control.js';
import { NearError } from './errors.js';
import { nodeStatus } from './node-status.js';
import { nearRpc, reading } from './rpc.js';
import { observeNearSigner } from './signer-evidence.js';
import {
  KEY_FILE_FIELDS_SCRIPT,
  parseKeyFileFields,
  pendingKeyFile,
  readKeyFileFields,
  reloadValidatorKeyOnHost,
} from './validator-key-transfer.js';

export interface HandOverNode {
  connection: SshConnection;
  manager: ServiceManagerSpec;
  service: string;
  home: string;
  rpcUrl: string;
}

export interface HandOverRequest {
  networkRpcUrl: string;
  accountId: string;
  publicKey: string;
  /** Names the staged file (validator_key.json.pending-<tag>) and the parked one (.hot-swapped-<tag>). */
  tag: string;
  /** How long to wait for a block of the validator at the head before handing over anyway. */
  slotWaitMs: number;
}

export type HandOverStage =
  | 'checking'
  | 'waiting for an own block'
  | 'fencing the primary'
  | 'stopping the primary'
  | 'verifying the primary'
  | 'installing the staged key'
  | 'reloading the standby'
  | 'confirming the standby';

export interface HandOverOptions {
  signal?: AbortSignal;
  onStage?: (stage: HandOverStage, detail?: string) => void;
}

const STANDBY_CONFIRM_MS = 60_000;
/** How long a reloaded primary may take to report that it runs without its key. */
const FENCE_CONFIRM_MS = 3_000;
const POLL_MS = 100;

export async function handOverValidatorKey(
  primary: HandOverNode,
  standby: HandOverNode,
  req: HandOverRequest,
  options: HandOverOptions = {},
): Promise<HandOverValidatorKeyResult> {
  const { signal } = options;
  const stage = (s: HandOverStage, detail?: string) => options.onStage?.(s, detail);
  const keyFile = (home: string) => `${home}/validator_key.json`;
  const pending = `${standby.home}/${pendingKeyFile(req.tag)}`;
  const parked = `${keyFile(primary.home)}.hot-swapped-${req.tag}`;
  const where = (n: HandOverNode) => `${n.service} on ${describeHost(n.connection.host)}`;
  const isExpected = (k: { accountId: string; publicKey: string } | null) =>
    k !== null && k.accountId === req.accountId && k.publicKey === req.publicKey;
  const observe = (n: HandOverNode, knownHolders: HandOverNode[] = []) =>
    observeNearSigner(
      { connection: n.connection, home: n.home, rpcUrl: n.rpcUrl, name: where(n) },
      {
        publicKey: req.publicKey,
        knownHolderHomes: knownHomesOnMachine(
          n.connection.host,
          knownHolders.map((k) => ({ address: k.connection.host.address, home: k.home })),
        ),
        signal,
      },
    );

  stage('checking');
  const [live, onPrimary] = await Promise.all([
    readKeyFileFields(standby.connection, keyFile(standby.home), { signal }),
    readKeyFileFields(primary.connection, keyFile(primary.home), { signal }),
  ]);
  if (live && !isExpected(live)) {
    throw new NearError(
      'ValidatorKeyConflict',
      `${keyFile(standby.home)} on ${where(standby)} holds ${live.publicKey} of ${live.accountId || '(no account)'}, ` +
        `not ${req.publicKey}: not handing over`,
    );
  }
  if (live && onPrimary) {
    throw new NearError(
      'TwoKeyHolders',
      `${keyFile(primary.home)} of ${where(primary)} and ${keyFile(standby.home)} of ${where(standby)} both hold ` +
        `${onPrimary.publicKey === req.publicKey ? req.publicKey : 'a key'}: refusing`,
    );
  }
  if (!live) {
    const staged = await readKeyFileFields(standby.connection, pending, { signal });
    if (!isExpected(staged)) {
      throw new NearError(
        'KeyNotStaged',
        `${pending} on ${where(standby)} ${staged ? `holds ${staged.publicKey}` : 'is missing'}: stage ` +
          `${req.publicKey} of ${req.accountId} on the standby first`,
      );
    }
  }

  let afterOwnBlock: number | undefined;
  let primaryEvidence: string | undefined;
  let keyOffAt: number | undefined;
  /** The fence (key file aside, reload, its RPC reporting no key), or, when it does not take, the stop. */
  const takeKeyFromPrimary = async (): Promise<string> => {
    keyOffAt = Date.now();
    const fenced = await fence(primary, keyFile(primary.home), parked, req, where(primary), signal);
    if (fenced.evidence) return fenced.evidence;
    stage('stopping the primary', `the reload did not take the key away (${fenced.seen})`);
    await stopService(primary.connection, primary.manager, primary.service, { signal });
    return evidenceOrRefusal(await observe(primary), 'stopped');
  };
  if (!live) {
    if (onPrimary) {
      if (!isExpected(onPrimary)) {
        throw new NearError(
          'ValidatorKeyConflict',
          `${keyFile(primary.home)} on ${where(primary)} holds ${onPrimary.publicKey}, not ${req.publicKey}`,
        );
      }
      if (await isServiceActive(primary.connection, primary.manager, primary.service, { signal })) {
        // On both hosts nothing but the primary may hold the key (a neard started by hand, a copy), and the
        // standby must be ready; a refusal about signers goes first, since it is the one a person must see.
        const checks = await Promise.allSettled([
          observe(standby, [primary]).then((seen) => evidenceOrRefusal(seen, 'not-signing')),
          observe(primary).then(refuseOtherHolders),
          ensureStandbyReady(standby, req, where(standby)),
        ]);
        for (const check of checks) if (check.status === 'rejected') throw check.reason;
        stage('waiting for an own block', `a block of ${req.accountId} at the head, up to ${req.slotWaitMs} ms`);
        afterOwnBlock = await waitForOwnBlock(req.networkRpcUrl, req.accountId, req.slotWaitMs, signal);
        stage('fencing the primary', afterOwnBlock === undefined ? 'no own block seen' : `after #${afterOwnBlock}`);
        primaryEvidence = await takeKeyFromPrimary();
      } else {
        // Stopped before this attempt (by a person, or an attempt that died after its stop): shown, not assumed.
        stage('verifying the primary');
        primaryEvidence = evidenceOrRefusal(await observe(primary), 'stopped');
        await park(primary, keyFile(primary.home), parked, where(primary), signal);
        keyOffAt = Date.now();
      }
    } else {
      const parkedKey = await readKeyFileFields(primary.connection, parked, { signal });
      if (!isExpected(parkedKey)) {
        throw new HostError(
          'RemoteCommandFailed',
          `neither ${keyFile(primary.home)} nor ${parked} on ${where(primary)} holds ${req.publicKey}`,
          { nonRetryable: true },
        );
      }
      // A retry after the key file was moved aside: the primary must be seen not signing (keyless, or stopped).
      stage('verifying the primary');
      const seen = await observe(primary);
      const stillSigns = judgeSigner(seen, 'not-signing').verdict === 'unsafe' && seen.otherHolders.length === 0;
      if (stillSigns && (await isServiceActive(primary.connection, primary.manager, primary.service, { signal }))) {
        // An attempt died between moving the key file aside and the reload: the primary's service still runs
        // the key it loaded at start. Fence it again (the key file is aside already); a stopped primary that
        // still answers with the key is not ours to fence, and is refused below.
        await ensureStandbyReady(standby, req, where(standby));
        stage('fencing the primary', 'again: an earlier attempt moved its key file aside and did not reload it');
        primaryEvidence = await takeKeyFromPrimary();
      } else primaryEvidence = evidenceOrRefusal(seen, 'not-signing');
    }

    stage('installing the staged key');
    const install = await execCapture(
      standby.connection,
      ['sh', '-c', INSTALL_SCRIPT, 'vup-install-key', pending, keyFile(standby.home)],
      { signal, timeoutMs: 60_000 },
    );
    const installed = install.exitCode === 0 ? parseKeyFileFields(install.stdout.toString('utf8')) : null;
    if (install.exitCode !== 0 || !isExpected(installed)) {
      throw new NearError(
        'ValidatorKeyConflict',
        `${keyFile(standby.home)} on ${where(standby)} is ${installed?.publicKey ?? 'missing'} after the rename ` +
          `${install.stderr.trim()}`,
      );
    }
  } else {
    // A retry after the install: the primary's key file is aside; it must still be seen not signing.
    stage('verifying the primary');
    primaryEvidence = evidenceOrRefusal(await observe(primary, [standby]), 'not-signing');
  }

  stage('reloading the standby');
  await reloadValidatorKeyOnHost(
    standby.connection,
    { manager: standby.manager, service: standby.service, home: standby.home },
    { signal },
  );
  stage('confirming the standby');
  await confirmStandbySigns(standby, req, where(standby), signal);
  const keyOffMs = keyOffAt === undefined ? undefined : Date.now() - keyOffAt;

  stage('stopping the primary');
  const { wasActive } = await stopService(primary.connection, primary.manager, primary.service, { signal });
  const afterStop = await observe(primary, [standby]);
  refuseOtherHolders(afterStop);
  // The primary is keyless by now: one that lingers after its stop is for a retry to see again, not a refusal
  // that would undo a finished hand-over.
  const stopped = judgeSigner(afterStop, 'stopped');
  if (stopped.verdict !== 'safe') throw new NearError('SignerStateUnknown', `after its stop, ${stopped.because}`);
  return {
    primaryKeyParkedAt: parked,
    stoppedPrimary: wasActive,
    ...(afterOwnBlock === undefined ? {} : { afterOwnBlock }),
    ...(primaryEvidence === undefined ? {} : { primaryEvidence }),
    ...(keyOffMs === undefined ? {} : { keyOffMs }),
  };
}

/**
 * The verdict on an observation as the hand-over needs it: its evidence when safe; a non-retryable refusal
 * when unsafe; a retryable one when it cannot be told yet.
 */
function evidenceOrRefusal(seen: SignerObservation, requirement: SignerRequirement): string {
  const { verdict, because } = judgeSigner(seen, requirement);
  if (verdict === 'safe') return because;
  if (seen.otherHolders.length > 0) throw new NearError('TwoKeyHolders', `${because}: not handing over`);
  if (verdict === 'unsafe') throw new NearError('PrimaryStillRunning', `${because}: not handing over`);
  throw new NearError('SignerStateUnknown', `${because}: not handing over until it can be told`);
}

/** For a node that is meant to hold the key: only other processes on its host matter. */
function refuseOtherHolders(seen: SignerObservation): void {
  if (seen.otherHolders.length > 0)
    throw new NearError(
      'TwoKeyHolders',
      `besides ${seen.node}, ${seen.otherHolders.join('; ')} holds the key: not handing over`,
    );
  if (seen.unreadable.length > 0)
    throw new NearError('SignerStateUnknown', `on the host of ${seen.node}, ${seen.unreadable.join('; ')}`);
}

/**
 * Takes the key away from the running primary: its key file aside, SIGHUP, and its RPC reporting no key. The
 * evidence, or (when it does not report that in time: it does not answer, or still runs the key) what was
 * seen instead, for the caller to stop it.
 */
async function fence(
  primary: HandOverNode,
  key: string,
  parked: string,
  req: HandOverRequest,
  where: string,
  signal?: AbortSignal,
): Promise<{ evidence?: string; seen: string }> {
  await park(primary, key, parked, where, signal);
  let seen = 'no answer';
  const reloaded = await reloadValidatorKeyOnHost(
    primary.connection,
    { manager: primary.manager, service: primary.service, home: primary.home },
    { signal },
  ).then(
    () => true,
    (err: unknown) => ((seen = `its reload failed: ${(err as Error).message}`), false),
  );
  const deadline = Date.now() + FENCE_CONFIRM_MS;
  while (reloaded) {
    const status = await nodeStatus(primary.rpcUrl).catch((err: unknown) => (err as Error).message);
    if (typeof status !== 'string' && status.validatorPublicKey !== req.publicKey) {
      const runs = status.validatorPublicKey ?? 'no validator key';
      return { evidence: `${where} reported ${runs} once its key file was moved aside and it reloaded`, seen };
    }
    seen = typeof status === 'string' ? status : `it still reports ${req.publicKey}`;
    if (Date.now() >= deadline) break;
    signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { seen };
}

/** Moves the primary's key file aside (a no-op when an earlier attempt did). */
async function park(primary: HandOverNode, key: string, parked: string, where: string, signal?: AbortSignal) {
  const moved = await execCapture(primary.connection, ['sh', '-c', FENCE_SCRIPT, 'vup-park', key, parked], {
    signal,
    timeoutMs: 60_000,
  });
  if (moved.exitCode !== 0) {
    throw new HostError('RemoteCommandFailed', `moving ${key} aside on ${where} failed: ${moved.stderr.trim()}`, {
      nonRetryable: moved.exitCode === 3,
    });
  }
}

/** The standby must answer, be synced and run no validator key before the primary stops. */
async function ensureStandbyReady(standby: HandOverNode, req: HandOverRequest, where: string): Promise<void> {
  const status = await nodeStatus(standby.rpcUrl);
  if (status.validatorPublicKey === req.publicKey) {
    throw new NearError('TwoKeyHolders', `${where} already signs with ${req.publicKey} while the primary runs`);
  }
  if (status.syncing) throw new NearError('RpcUnavailable', `${where} is still syncing: not stopping the primary`);
}

/**
 * Resolves at the first head block the validator produced (its author), so that the hand-over starts right
 * after one of its heights; undefined when none came within `waitMs`.
 */
async function waitForOwnBlock(
  networkRpcUrl: string,
  accountId: string,
  waitMs: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const provider = nearRpc(networkRpcUrl);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const head = await reading(networkRpcUrl, 'block', () => provider.viewBlock({ finality: 'optimistic' }));
    if (head.author === accountId) return head.header.height;
    if (Date.now() >= deadline) return undefined;
    signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Renames the staged key into place unless an earlier attempt did, then prints the live key's fields. */
const INSTALL_SCRIPT = `pending=$1; key=$2
if [ ! -e "$key" ] && [ -e "$pending" ]; then mv -n -- "$pending" "$key" || exit 4; fi
set -- "$key"
${KEY_FILE_FIELDS_SCRIPT}`;

/** Moves the key file aside unless an earlier attempt did; refuses to overwrite a parked file. */
const FENCE_SCRIPT = `key=$1; parked=$2
if [ -e "$key" ]; then
  [ -e "$parked" ] && { echo "$parked already exists" >&2; exit 3; }
  mv -n -- "$key" "$parked" || exit 4
fi
[ -e "$parked" ] || { echo "neither $key nor $parked exists" >&2; exit 3; }`;

async function confirmStandbySigns(standby: HandOverNode, req: HandOverRequest, where: string, signal?: AbortSignal) {
  const deadline = Date.now() + STANDBY_CONFIRM_MS;
  let seen = 'no answer';
  for (;;) {
    try {
      const status = await nodeStatus(standby.rpcUrl);
      if (status.validatorPublicKey === req.publicKey && status.validatorAccountId === req.accountId) return;
      seen = `it reports ${status.validatorPublicKey ?? 'no key'}`;
    } catch (err) {
      seen = (err as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new NearError('RpcUnavailable', `${where} did not load ${req.publicKey} after SIGHUP: ${seen}`);
    }
    signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const WITHDRAW_SCRIPT = `aside=$1; shift; n=0
for f in "$@"; do
  if [ -e "$f" ]; then mv -f -- "$f" "$aside" || exit 4; n=$((n+1)); fi
done
echo "$n"`;

/**
 * Compensation of a hand-over: moves the validator key (validator_key.json and the staged file of `tag`) off
 * the node into `validator_key.json.withdrawn-<tag>`, a file neard does not read, and SIGHUPs the node if it
 * runs so that it drops the key. Whether it still signs is for the caller to see on its RPC.
 */
export async function withdrawValidatorKey(
  node: Omit<HandOverNode, 'rpcUrl'>,
  tag: string,
  options: { signal?: AbortSignal } = {},
): Promise<{ withdrawnFiles: number; reloaded: boolean }> {
  const key = `${node.home}/validator_key.json`;
  const result = await execCapture(
    node.connection,
    [
      'sh',
      '-c',
      WITHDRAW_SCRIPT,
      'vup-withdraw',
      `${key}.withdrawn-${tag}`,
      key,
      `${node.home}/${pendingKeyFile(tag)}`,
    ],
    { signal: options.signal, timeoutMs: 60_000 },
  );
  if (result.exitCode !== 0) {
    throw new HostError(
      'RemoteCommandFailed',
      `withdrawing the validator key from ${node.home} on ${describeHost(node.connection.host)} failed: ` +
        result.stderr.trim(),
    );
  }
  const withdrawnFiles = Number(result.stdout.toString('utf8').trim()) || 0;
  const running = await isServiceActive(node.connection, node.manager, node.service, options);
  if (running) {
    await reloadValidatorKeyOnHost(
      node.connection,
      { manager: node.manager, service: node.service, home: node.home },
      options,
    );
  }
  return { withdrawnFiles, reloaded: running };
}
