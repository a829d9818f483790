/**
 * Swapping a node's data folder for a new one, with the old one kept as a backup, and rolling that back.
 *
 * Every step is one atomic rename(2) on one filesystem, or an atomic write of a small journal next to the
 * target. Each run observes the folders and the journal first and derives the next step from them, so a
 * run killed between any two steps is completed (or rolled back) by the next run, and no folder is ever
 * deleted or overwritten:
 *
 *   swap:      journal "swapping"; target -> backup; staging -> target; journal "swapped"
 *   rollback:  journal "rolling-back"; target -> aside (when the swap completed); backup -> target;
 *              journal "rolled-back"
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { dataSwapInput, DataSwapPaths, SwapJournalState, SwapOutcome, SwapStep } from '../api/contracts/host.js';
import { describeHost, type SshConnection } from './connection.js';
import { HostError } from './errors.js';
import { runScript, writeFileAtomic } from './files.js';

/** A swap as the library runs it: the activity's input without the host it is connected to. */
export type DataSwapInput = Omit<z.output<typeof dataSwapInput>, 'host'>;

export interface SwapRunOptions {
  signal?: AbortSignal;
  /** Called after each completed step (for heartbeats and tests). */
  onStep?: (step: SwapStep) => void;
  /**
   * A swap that starts fresh runs its four steps in one remote script (one round trip while a node is down
   * instead of one per step and per look); a script cut short leaves one of the states the step-by-step run
   * observes and completes, which it then does.
   */
  inOneCommand?: boolean;
}

const swapIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function dataSwapPaths(input: DataSwapInput): DataSwapPaths {
  const { target, staging, swapId } = input;
  if (!swapIdPattern.test(swapId)) {
    throw new HostError('BadInput', `swap id "${swapId}" must be letters, digits, ".", "_" or "-"`);
  }
  for (const [name, value] of Object.entries({ target, staging })) {
    if (!value.startsWith('/') || value === '/' || posix.normalize(value) !== value || value.endsWith('/')) {
      throw new HostError('BadInput', `${name} "${value}" must be a normalized absolute path below /`);
    }
  }
  if (target === staging || staging.startsWith(target + '/') || target.startsWith(staging + '/')) {
    throw new HostError('BadInput', `target ${target} and staging ${staging} must be separate folders`);
  }
  return {
    target,
    staging,
    backup: `${target}.bak-${swapId}`,
    aside: `${target}.rolled-back-${swapId}`,
    journal: posix.join(posix.dirname(target), `.${posix.basename(target)}.swap-${swapId}.json`),
  };
}

interface PathState {
  kind: 'missing' | 'dir' | 'symlink' | 'other';
  device?: string;
}

interface Observed {
  target: PathState;
  staging: PathState;
  backup: PathState;
  aside: PathState;
  targetParent: PathState;
  stagingParent: PathState;
  journal?: SwapJournalState;
  /** Swaps of the same target, other than this one, that are still in progress. */
  othersInProgress: string[];
}

const INSPECT_SCRIPT = `describe() {
  if [ -L "$2" ]; then kind=symlink; elif [ -d "$2" ]; then kind=dir; elif [ -e "$2" ]; then kind=other
  else echo "path $1 missing -"; return; fi
  echo "path $1 $kind $(stat -c %d -- "$2")"
}
describe target "$1"; describe staging "$2"; describe backup "$3"; describe aside "$4"
describe targetParent "$(dirname -- "$1")"; describe stagingParent "$(dirname -- "$2")"
for j in "$(dirname -- "$1")/.$(basename -- "$1").swap-"*.json; do
  [ -f "$j" ] || continue
  printf 'journal %s ' "$(basename -- "$j")"; tr '\\n' ' ' < "$j"; echo
done`;

async function observe(connection: SshConnection, paths: DataSwapPaths, signal?: AbortSignal): Promise<Observed> {
  const result = await runScript(
    connection,
    'vup-swap-inspect',
    INSPECT_SCRIPT,
    [paths.target, paths.staging, paths.backup, paths.aside],
    { signal },
  );
  if (result.exitCode !== 0) {
    throw new HostError('RemoteCommandFailed', `cannot inspect ${paths.target}: ${result.stderr.trim()}`);
  }
  const states = new Map<string, PathState>();
  const observed: Pick<Observed, 'journal' | 'othersInProgress'> = { othersInProgress: [] };
  const ownJournal = posix.basename(paths.journal);
  for (const line of result.stdout.toString('utf8').split('\n')) {
    const pathLine = /^path (\w+) (missing|dir|symlink|other) (\S+)$/.exec(line);
    if (pathLine) {
      states.set(pathLine[1] ?? '', { kind: pathLine[2] as PathState['kind'], device: pathLine[3] });
      continue;
    }
    const journalLine = /^journal (\S+) (.*)$/.exec(line);
    if (!journalLine) continue;
    const entry = parseJournal(journalLine[2] ?? '');
    if (journalLine[1] === ownJournal) {
      if (!entry || entry.swapId === undefined) {
        throw new HostError('UnsafeSwapState', `swap journal ${paths.journal} is unreadable; inspect it by hand`);
      }
      observed.journal = entry.state;
    } else if (entry?.state === 'swapping' || entry?.state === 'rolling-back') {
      observed.othersInProgress.push(entry.swapId ?? journalLine[1] ?? '');
    }
  }
  const get = (label: string): PathState => {
    const state = states.get(label);
    if (!state) throw new HostError('RemoteCommandFailed', `inspecting ${paths.target} printed no state of ${label}`);
    return state;
  };
  return {
    ...observed,
    target: get('target'),
    staging: get('staging'),
    backup: get('backup'),
    aside: get('aside'),
    targetParent: get('targetParent'),
    stagingParent: get('stagingParent'),
  };
}

function parseJournal(text: string): { swapId?: string; state: SwapJournalState } | undefined {
  try {
    const value = JSON.parse(text) as { swapId?: unknown; state?: unknown };
    const states: SwapJournalState[] = ['swapping', 'swapped', 'rolling-back', 'rolled-back'];
    if (!states.includes(value.state as SwapJournalState)) return undefined;
    return {
      state: value.state as SwapJournalState,
      swapId: typeof value.swapId === 'string' ? value.swapId : undefined,
    };
  } catch {
    return undefined;
  }
}

function describeState(paths: DataSwapPaths, o: Observed): string {
  const show = (name: keyof DataSwapPaths, s: PathState) => `${paths[name]}: ${s.kind}`;
  return [
    `journal: ${o.journal ?? 'none'}`,
    show('target', o.target),
    show('staging', o.staging),
    show('backup', o.backup),
    show('aside', o.aside),
  ].join('; ');
}

const present = (s: PathState) => s.kind !== 'missing';

function requireFolders(paths: DataSwapPaths, o: Observed) {
  for (const name of ['target', 'staging', 'backup', 'aside'] as const) {
    const kind = o[name].kind;
    if (kind !== 'missing' && kind !== 'dir') {
      throw new HostError('UnsafeSwapState', `${paths[name]} is a ${kind}, not a folder; refusing to swap`);
    }
  }
}

/** All renames stay in the target's parent folder and the staging folder's filesystem. */
function requireOneFilesystem(paths: DataSwapPaths, o: Observed) {
  const devices = [o.targetParent, o.stagingParent, o.target, o.staging, o.backup, o.aside]
    .filter(present)
    .map((s) => s.device);
  if (new Set(devices).size > 1) {
    throw new HostError(
      'CrossDevice',
      `${paths.target} and ${paths.staging} (or their parent folders) are on different filesystems, ` +
        'so the swap could not be an atomic rename; move the staging folder onto the target filesystem first',
    );
  }
}

/** The next step of a swap, or undefined when it is complete. */
function nextSwapStep(paths: DataSwapPaths, o: Observed, swapId: string): SwapStep | undefined {
  requireFolders(paths, o);
  const unsafe = (why: string) =>
    new HostError('UnsafeSwapState', `swap ${swapId} of ${paths.target}: ${why} (${describeState(paths, o)})`);
  if (o.journal === 'rolling-back' || o.journal === 'rolled-back') {
    throw unsafe('this swap was rolled back; a new attempt needs a new swap id');
  }
  const [T, S, B, A] = [o.target, o.staging, o.backup, o.aside].map(present);
  if (A) throw unsafe('a rolled-back folder of this swap exists');
  if (o.journal === 'swapped') {
    if (T && B) return undefined;
    throw unsafe('the journal says swapped, but the target or the backup is missing');
  }
  if (o.othersInProgress.length > 0) {
    throw unsafe(`another swap of this folder is in progress (${o.othersInProgress.join(', ')})`);
  }
  if (o.journal === undefined) {
    if (B) throw unsafe('the backup folder exists, but no journal of this swap does');
    if (!T) throw new HostError('RemoteFileMissing', `swap ${swapId}: target folder ${paths.target} does not exist`);
    if (!S) throw new HostError('RemoteFileMissing', `swap ${swapId}: staging folder ${paths.staging} does not exist`);
    requireOneFilesystem(paths, o);
    return { kind: 'journal', state: 'swapping' };
  }
  requireOneFilesystem(paths, o);
  if (T && S && !B) return { kind: 'rename', from: 'target', to: 'backup' };
  if (!T && S && B) return { kind: 'rename', from: 'staging', to: 'target' };
  if (T && !S && B) return { kind: 'journal', state: 'swapped' };
  throw unsafe('the folders are in no state this swap leaves behind');
}

/** The next step of a rollback, or undefined when there is nothing (more) to do. */
function nextRollbackStep(paths: DataSwapPaths, o: Observed, swapId: string): SwapStep | undefined {
  requireFolders(paths, o);
  const unsafe = (why: string) =>
    new HostError(
      'UnsafeSwapState',
      `rollback of swap ${swapId} of ${paths.target}: ${why} (${describeState(paths, o)})`,
    );
  const [T, S, B, A] = [o.target, o.staging, o.backup, o.aside].map(present);
  if (o.journal === undefined) {
    if (T && !B && !A) return undefined;
    throw unsafe('there is no journal of this swap, but its folders exist');
  }
  if (o.journal === 'rolled-back') {
    if (T && !B) return undefined;
    throw unsafe('the journal says rolled back, but the folders disagree');
  }
  if (o.journal !== 'rolling-back') return { kind: 'journal', state: 'rolling-back' };
  requireOneFilesystem(paths, o);
  if (T && !S && B && !A) return { kind: 'rename', from: 'target', to: 'aside' };
  if (!T && B && (A || S) && !(A && S)) return { kind: 'rename', from: 'backup', to: 'target' };
  if (T && !B) return { kind: 'journal', state: 'rolled-back' };
  throw unsafe('the folders are in no state this swap or its rollback leaves behind');
}

const RENAME_SCRIPT = `set -eu
{ [ -e "$1" ] || [ -L "$1" ]; } || { echo "$1 does not exist" >&2; exit 66; }
if [ -e "$2" ] || [ -L "$2" ]; then echo "$2 already exists" >&2; exit 67; fi
mv -T -- "$1" "$2" || exit 65
sync -- "$(dirname -- "$2")" "$(dirname -- "$1")" 2>/dev/null || sync`;

/**
 * The four swap steps as `perform` does them, in one script: each journal written beside the target and
 * renamed over the journal (atomic), each rename refused when its source is gone or its destination exists.
 * Exit 65: the host refused a rename itself; any other failure is left to the step-by-step run.
 */
const SWAP_IN_ONE_SCRIPT = `set -eu
target=$1; staging=$2; backup=$3; journal=$4
dir=$(dirname -- "$journal"); tmp="$dir/.vup-write.$7"
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 143' HUP INT TERM PIPE
write_journal() {
  umask 022; (set -C; : > "$tmp"); printf '%s\\n' "$1" > "$tmp"; chmod 644 "$tmp"; sync -- "$tmp"
  mv -fT -- "$tmp" "$journal"; sync -- "$dir" 2>/dev/null || sync
}
move() {
  { [ -e "$1" ] || [ -L "$1" ]; } || { echo "$1 does not exist" >&2; exit 66; }
  if [ -e "$2" ] || [ -L "$2" ]; then echo "$2 already exists" >&2; exit 67; fi
  mv -T -- "$1" "$2" || exit 65
  sync -- "$(dirname -- "$2")" "$(dirname -- "$1")" 2>/dev/null || sync
}
write_journal "$5"
move "$target" "$backup"
move "$staging" "$target"
write_journal "$6"`;

const FRESH_SWAP_STEPS: SwapStep[] = [
  { kind: 'journal', state: 'swapping' },
  { kind: 'rename', from: 'target', to: 'backup' },
  { kind: 'rename', from: 'staging', to: 'target' },
  { kind: 'journal', state: 'swapped' },
];

/** Runs a fresh swap's steps in one script; false when it stopped short (the step-by-step run goes on). */
async function swapInOneScript(
  connection: SshConnection,
  paths: DataSwapPaths,
  swapId: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const journal = (state: SwapJournalState) =>
    JSON.stringify({ swapId, state, ...paths, updatedAt: new Date().toISOString() });
  const result = await runScript(
    connection,
    'vup-swap-in-one',
    SWAP_IN_ONE_SCRIPT,
    [paths.target, paths.staging, paths.backup, paths.journal, journal('swapping'), journal('swapped'), tempName()],
    { signal },
  );
  return result.exitCode === 0;
}

function tempName(): string {
  return randomBytes(12).toString('hex');
}

async function perform(
  connection: SshConnection,
  paths: DataSwapPaths,
  swapId: string,
  step: SwapStep,
  signal?: AbortSignal,
): Promise<void> {
  if (step.kind === 'journal') {
    const journal = { swapId, state: step.state, ...paths, updatedAt: new Date().toISOString() };
    await writeFileAtomic(connection, paths.journal, JSON.stringify(journal) + '\n', { mode: 0o644, signal });
    return;
  }
  const result = await runScript(connection, 'vup-swap-rename', RENAME_SCRIPT, [paths[step.from], paths[step.to]], {
    signal,
  });
  if (result.exitCode !== 0) {
    // The host refused the rename itself (permissions, an immutable or read-only folder, a busy mount):
    // waiting does not change that, and the node stays down while the swap is retried, so the workflow
    // rolls back at once. The races (exit 66, 67) are left to a retry, which observes the folders again.
    throw new HostError(
      'RemoteCommandFailed',
      `renaming ${paths[step.from]} to ${paths[step.to]} on ${describeHost(connection.host)} failed: ` +
        result.stderr.trim(),
      { nonRetryable: result.exitCode === 65 },
    );
  }
}

async function drive(
  connection: SshConnection,
  input: DataSwapInput,
  next: (paths: DataSwapPaths, o: Observed, swapId: string) => SwapStep | undefined,
  options: SwapRunOptions,
): Promise<{ paths: DataSwapPaths; steps: SwapStep[]; observed: Observed }> {
  const paths = dataSwapPaths(input);
  const steps: SwapStep[] = [];
  // Four steps at most; the bound guards against a state that would loop.
  for (let round = 0; round < 8; round++) {
    options.signal?.throwIfAborted();
    const observed = await observe(connection, paths, options.signal);
    const step = next(paths, observed, input.swapId);
    if (!step) return { paths, steps, observed };
    const fresh = round === 0 && next === nextSwapStep && step.kind === 'journal' && step.state === 'swapping';
    if (options.inOneCommand && fresh) {
      if (await swapInOneScript(connection, paths, input.swapId, options.signal)) {
        for (const done of FRESH_SWAP_STEPS) options.onStep?.(done);
        return { paths, steps: FRESH_SWAP_STEPS, observed };
      }
      continue; // stopped short: look again, and go on step by step from there
    }
    options.signal?.throwIfAborted();
    await perform(connection, paths, input.swapId, step, options.signal);
    steps.push(step);
    options.onStep?.(step);
  }
  throw new HostError('UnsafeSwapState', `swap ${input.swapId} of ${paths.target} did not settle`);
}

/** Puts the staging folder in the target's place and keeps the old one as the backup; safe to re-run. */
export async function swapDataFolder(
  connection: SshConnection,
  input: DataSwapInput,
  options: SwapRunOptions = {},
): Promise<SwapOutcome> {
  const { paths, steps } = await drive(connection, input, nextSwapStep, options);
  return { paths, steps, state: 'swapped' };
}

/**
 * Restores the old folder from the backup. The new folder is kept: at `aside` when the swap had completed,
 * or still at `staging` when it had not. Safe to re-run, and to run after a swap that was cut short.
 */
export async function rollbackDataFolder(
  connection: SshConnection,
  input: DataSwapInput,
  options: SwapRunOptions = {},
): Promise<SwapOutcome> {
  const { paths, steps, observed } = await drive(connection, input, nextRollbackStep, options);
  if (observed.journal === undefined) return { paths, steps, state: 'never-swapped' };
  const newFolder = present(observed.aside) ? paths.aside : present(observed.staging) ? paths.staging : undefined;
  return { paths, steps, state: 'rolled-back', newFolder };
}
