/**
 * The hot swap's hand-over, done the way a careful operator does it, in one go: with the key already staged
 * on the standby in a file neard does not read, wait until the validator has just produced a block at the
 * head (its next assigned height is then as far away as it gets), stop the primary and see it stopped
 * (service inactive and its RPC down), move the primary's key file aside, rename the staged file to
 * validator_key.json on the standby, SIGHUP it and see its status report the key. The key sits on no running
 * node for the seconds in between, and never on two.
 *
 * Every sub-step first looks at the state it would produce, so a retry after any interruption picks up where
 * the last attempt stopped. What can never be right (the key on the standby while the primary runs, a primary
 * whose service is stopped but whose RPC still answers) is refused without a retry.
 */
import type { ServiceManagerSpec } from '../config/host.js';
import { describeHost, type SshConnection } from '../ssh/connection.js';
import { HostError } from '../ssh/errors.js';
import { execCapture } from '../ssh/exec.js';
import { isServiceActive, serviceArgv } from '../ssh/service-control.js';
import { NearError } from './errors.js';
import { nodeStatus } from './node-status.js';
import { nearRpc, reading } from './rpc.js';
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

export interface HandOverResult {
  /** The primary's key file, moved aside. */
  primaryKeyParkedAt: string;
  /** The head block the validator had just produced when the primary was stopped (absent: no wait). */
  afterOwnBlock?: number;
  /** False on a retry that found the primary already stopped. */
  stoppedPrimary: boolean;
}

export type HandOverStage =
  | 'checking'
  | 'waiting for an own block'
  | 'stopping the primary'
  | 'verifying the primary stopped'
  | 'parking the primary key'
  | 'installing the staged key'
  | 'reloading the standby'
  | 'confirming the standby';

export interface HandOverOptions {
  signal?: AbortSignal;
  onStage?: (stage: HandOverStage, detail?: string) => void;
}

const STANDBY_CONFIRM_MS = 60_000;
const RPC_DOWN_WAIT_MS = 5_000;
/** How long the service manager may report the primary active after its stop command returned. */
const STOP_OBSERVE_MS = 120_000;
const POLL_MS = 100;

export async function handOverValidatorKey(
  primary: HandOverNode,
  standby: HandOverNode,
  req: HandOverRequest,
  options: HandOverOptions = {},
): Promise<HandOverResult> {
  const { signal } = options;
  const stage = (s: HandOverStage, detail?: string) => options.onStage?.(s, detail);
  const keyFile = (home: string) => `${home}/validator_key.json`;
  const pending = `${standby.home}/${pendingKeyFile(req.tag)}`;
  const parked = `${keyFile(primary.home)}.hot-swapped-${req.tag}`;
  const where = (n: HandOverNode) => `${n.service} on ${describeHost(n.connection.host)}`;
  const isExpected = (k: { accountId: string; publicKey: string } | null) =>
    k !== null && k.accountId === req.accountId && k.publicKey === req.publicKey;

  stage('checking');
  const live = await readKeyFileFields(standby.connection, keyFile(standby.home), { signal });
  if (live && !isExpected(live)) {
    throw new NearError(
      'ValidatorKeyConflict',
      `${keyFile(standby.home)} on ${where(standby)} holds ${live.publicKey} of ${live.accountId || '(no account)'}, ` +
        `not ${req.publicKey}: not handing over`,
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
  let stoppedPrimary = false;
  if (await isServiceActive(primary.connection, primary.manager, primary.service, { signal })) {
    if (live) {
      throw new NearError(
        'TwoKeyHolders',
        `${where(primary)} runs while ${where(standby)} holds ${req.publicKey} in validator_key.json: refusing`,
      );
    }
    await ensureStandbyReady(standby, req, where(standby));
    stage('waiting for an own block', `a block of ${req.accountId} at the head, up to ${req.slotWaitMs} ms`);
    afterOwnBlock = await waitForOwnBlock(req.networkRpcUrl, req.accountId, req.slotWaitMs, signal);
    stage('stopping the primary', afterOwnBlock === undefined ? 'no own block seen' : `after #${afterOwnBlock}`);
    // Straight to the stop command: every round trip from here on is time the key is on no running node.
    const stop = await execCapture(primary.connection, serviceArgv(primary.manager, 'stop', primary.service), {
      signal,
      timeoutMs: 300_000,
    });
    if (stop.exitCode !== 0) {
      throw new HostError('RemoteCommandFailed', `stopping ${where(primary)} failed: ${stop.stderr.trim()}`);
    }
    stoppedPrimary = true;
  }

  stage('verifying the primary stopped');
  const answering = await rpcStillAnswers(primary.rpcUrl, signal);
  if (answering) {
    throw new NearError(
      'PrimaryStillRunning',
      `${where(primary)}'s RPC ${primary.rpcUrl} still answers after the stop (${answering}): a neard outside ` +
        `the service manager may still sign; not handing over`,
    );
  }
  // One round trip: the manager reports the service inactive, and only then is the key file moved aside.
  await parkOnceInactive(primary, keyFile(primary.home), parked, where(primary), signal);

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

  stage('reloading the standby');
  await reloadValidatorKeyOnHost(
    standby.connection,
    { manager: standby.manager, service: standby.service, home: standby.home },
    { signal },
  );
  stage('confirming the standby');
  await confirmStandbySigns(standby, req, where(standby), signal);
  return { primaryKeyParkedAt: parked, stoppedPrimary, ...(afterOwnBlock === undefined ? {} : { afterOwnBlock }) };
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

/** What the RPC said if it still answers within a few seconds of the stop, undefined once it is down. */
async function rpcStillAnswers(rpcUrl: string, signal?: AbortSignal): Promise<string | undefined> {
  const deadline = Date.now() + RPC_DOWN_WAIT_MS;
  for (;;) {
    let answer: string | undefined;
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 'vup-down', method: 'status', params: [] }),
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await res.json().catch(() => ({}))) as { result?: { validator_public_key?: string | null } };
      answer = `HTTP ${res.status}, validator key ${body.result?.validator_public_key ?? 'none'}`;
    } catch {
      return undefined;
    }
    if (Date.now() >= deadline) return answer;
    signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Renames the staged key into place unless an earlier attempt did, then prints the live key's fields. */
const INSTALL_SCRIPT = `pending=$1; key=$2
if [ ! -e "$key" ] && [ -e "$pending" ]; then mv -n -- "$pending" "$key" || exit 4; fi
set -- "$key"
${KEY_FILE_FIELDS_SCRIPT}`;

/**
 * Asks the service manager (the argv after the first four arguments) whether the service is active, and moves
 * the key file aside only when it answers "inactive". Prints "active", "unknown <exit code>" or "parked".
 */
const PARK_WHEN_INACTIVE_SCRIPT = `key=$1; parked=$2; manager=$3; shift 3
"$@" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 0 ] && { echo active; exit 0; }
case "$manager:$rc" in
  systemd:3) ;;
  systemd:*|*:126|*:127|*:255) echo "unknown $rc"; exit 0 ;;
esac
if [ -e "$key" ]; then
  [ -e "$parked" ] && { echo "$parked already exists" >&2; exit 3; }
  mv -n -- "$key" "$parked" || exit 4
fi
[ -e "$parked" ] || { echo "neither $key nor $parked exists" >&2; exit 5; }
echo parked`;

async function parkOnceInactive(
  primary: HandOverNode,
  key: string,
  parked: string,
  where: string,
  signal?: AbortSignal,
): Promise<void> {
  const argv = [
    'sh',
    '-c',
    PARK_WHEN_INACTIVE_SCRIPT,
    'vup-park-key',
    key,
    parked,
    primary.manager.type,
    ...serviceArgv(primary.manager, 'isActive', primary.service),
  ];
  const deadline = Date.now() + STOP_OBSERVE_MS;
  for (;;) {
    const result = await execCapture(primary.connection, argv, { signal, timeoutMs: 60_000 });
    const answer = result.stdout.toString('utf8').trim();
    if (result.exitCode !== 0) {
      throw new HostError('RemoteCommandFailed', `moving ${key} aside on ${where} failed: ${result.stderr.trim()}`, {
        nonRetryable: result.exitCode === 3 || result.exitCode === 5,
      });
    }
    if (answer === 'parked') return;
    if (answer.startsWith('unknown')) {
      throw new HostError('ServiceStateUnknown', `cannot tell whether ${where} runs (${answer}): key not moved`);
    }
    if (Date.now() >= deadline) {
      throw new HostError('ServiceStillActive', `${where} is still active after its stop: not handing over`);
    }
    signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

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
