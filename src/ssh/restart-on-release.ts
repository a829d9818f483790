/**
 * The stop-to-start of a stopping strategy in one host-side step: stop the service (observed inactive; first
 * the sync node whose data folder the swap takes, when asked, so that folder is only a moment old); then at
 * once swap the data folder when asked (data-swap.ts: journaled renames in one command, the old folder
 * kept), rename the staged release over the binary and check that no other node that must stay stopped
 * runs; start the service (observed active). Everything that takes time (the binary's transfer and
 * checksum, key and chain checks) was done before the stop, so the node is down for these few round trips
 * only. Each part is idempotent, so a retry after a lost connection finishes the step; its undo is the
 * workflow's (stop, roll back, restore).
 */
import type { ServiceManagerSpec } from '../config/host.js';
import type { SwapOutcome } from '../api/contracts/host.js';
import { describeHost, type SshConnection } from './connection.js';
import { swapDataFolder, type DataSwapInput } from './data-swap.js';
import { HostError } from './errors.js';
import { runScript } from './files.js';
import { isServiceActive, startService, stopService } from './service-control.js';

export interface RestartOnRelease {
  service: string;
  binary: { staged: string; destination: string; sha256: string };
  dataSwap?: DataSwapInput;
  mustBeStopped: string[];
  /** A service stopped (observed inactive) just before this one: the sync node whose data folder is swapped in. */
  stopFirst?: string;
}

export interface RestartOptions {
  signal?: AbortSignal;
  /**
   * Evidence that the stopped nodes (the service, and `stopFirst`) really stopped (their host's records),
   * before a data folder moves; `stopFirst` is not asked about again among `mustBeStopped`.
   */
  afterStop?: () => Promise<void>;
}

/** Renames the staged release over the binary; on a re-run (nothing staged) the binary must be the release. */
const PUT_IN_PLACE_SCRIPT = `set -eu
if [ -e "$1" ]; then
  mv -fT -- "$1" "$2"
  sync -- "$(dirname -- "$2")" 2>/dev/null || sync
  echo renamed
else
  [ -e "$2" ] || { echo "neither $1 nor $2 exists" >&2; exit 66; }
  echo "sha256 $(sha256sum -- "$2" | cut -d' ' -f1)"
fi`;

export async function restartOnRelease(
  connection: SshConnection,
  manager: ServiceManagerSpec,
  input: RestartOnRelease,
  options: RestartOptions = {},
): Promise<{ wasActive: boolean; swap?: SwapOutcome; downMs: number }> {
  const { signal } = options;
  if (input.stopFirst) await stopService(connection, manager, input.stopFirst, { signal, pollMs: 200 });
  const stopped = await stopService(connection, manager, input.service, { signal, pollMs: 200 });
  const downSince = Date.now();
  await options.afterStop?.();
  // The swap, the binary and the other nodes' check touch nothing of each other: the node is down for the
  // slowest of them, not for their sum. Each is done (or failed) before the step goes on or fails.
  const requireStopped = async (other: string) => {
    if (await isServiceActive(connection, manager, other, { signal }))
      throw new HostError(
        'OtherNodeRunning',
        `${other} runs on ${describeHost(connection.host)}; ${input.service} may only start when it is stopped`,
      );
  };
  const swapping = input.dataSwap
    ? swapDataFolder(connection, input.dataSwap, { signal, inOneCommand: true })
    : Promise.resolve(undefined);
  await settleAll([
    swapping,
    putInPlace(connection, input.binary, signal),
    // A node stopped first in this attempt was seen stopped after this one's stop (afterStop): not asked again.
    ...input.mustBeStopped.filter((other) => other !== input.stopFirst).map(requireStopped),
  ]);
  const swap = await swapping;
  await startService(connection, manager, input.service, { signal });
  return { wasActive: stopped.wasActive, ...(swap ? { swap } : {}), downMs: Date.now() - downSince };
}

/** Waits for every part; then fails with the first failure, if any (nothing runs on after the step fails). */
async function settleAll(parts: Promise<unknown>[]): Promise<void> {
  for (const part of await Promise.allSettled(parts)) if (part.status === 'rejected') throw part.reason;
}

async function putInPlace(connection: SshConnection, binary: RestartOnRelease['binary'], signal?: AbortSignal) {
  const result = await runScript(
    connection,
    'vup-put-in-place',
    PUT_IN_PLACE_SCRIPT,
    [binary.staged, binary.destination],
    {
      signal,
    },
  );
  const out = result.stdout.toString('utf8').trim();
  if (result.exitCode === 66)
    throw new HostError('RemoteFileMissing', `putting ${binary.staged} in place: ${result.stderr.trim()}`);
  if (result.exitCode !== 0)
    throw new HostError(
      'RemoteCommandFailed',
      `renaming ${binary.staged} over ${binary.destination} on ${describeHost(connection.host)} failed: ${result.stderr.trim()}`,
    );
  const sha = /^sha256 ([0-9a-f]{64})$/.exec(out)?.[1];
  if (out !== 'renamed' && sha !== binary.sha256.toLowerCase())
    throw new HostError(
      'ChecksumMismatch',
      `${binary.destination} on ${describeHost(connection.host)} is not the release (sha256 ${sha ?? out}) and nothing is staged`,
    );
}
