/**
 * The host activities' contract: their inputs (plain JSON naming a host, paths and arguments, never a
 * secret), their answers and their failures.
 */
import { z } from 'zod';
import { hostSchema } from '../../config/host.js';
import { absolutePath, identifier, serviceName } from '../../config/primitives.js';
import { activity } from './activity.js';

const onHost = { host: hostSchema };

export const runCommandInput = z.strictObject({
  ...onHost,
  argv: z.array(z.string()).min(1),
  /** Kill the command after this long (it is killed on cancellation in any case). */
  timeoutMs: z.number().int().positive().optional(),
  /** How much of the end of stdout and of stderr to return. */
  tailBytes: z.number().int().nonnegative().max(1_000_000).default(16_384),
});

export const serviceInput = z.strictObject({ ...onHost, service: serviceName });

export const stopServiceInput = serviceInput.extend({
  /** How long to keep observing the service after the stop command before failing (retryably). */
  observeMs: z.number().int().positive().optional(),
});

export const writeFileInput = z.strictObject({
  ...onHost,
  path: absolutePath,
  /** Not for secrets: activity inputs are stored in the workflow history. */
  content: z.string(),
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
  mode: z.number().int().min(0).max(0o7777).default(0o600),
});

export const pathInput = z.strictObject({ ...onHost, path: absolutePath });

export const installBinaryInput = z.strictObject({
  ...onHost,
  source: absolutePath,
  destination: absolutePath,
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be a sha256 hex digest'),
});

export const dataSwapInput = z.strictObject({
  ...onHost,
  /** The folder the node uses, e.g. `<home>/data`. */
  target: absolutePath,
  /** The new folder to put in its place; must be on the target's filesystem. */
  staging: absolutePath,
  /** Names this swap's backup and journal; a retry uses the same id. */
  swapId: identifier,
});

export interface RunCommandResult {
  exitCode: number;
  stdoutTail: string;
  stderrTail: string;
  stdoutBytes: number;
  stderrBytes: number;
}

export interface FreeDisk {
  path: string;
  filesystem: string;
  mountPoint: string;
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
}

export interface DataSwapPaths {
  target: string;
  staging: string;
  /** Where the old folder is kept. */
  backup: string;
  /** Where a rollback puts the new folder. */
  aside: string;
  journal: string;
}

export type SwapJournalState = 'swapping' | 'swapped' | 'rolling-back' | 'rolled-back';

export type SwapStep =
  { kind: 'journal'; state: SwapJournalState } | { kind: 'rename'; from: keyof DataSwapPaths; to: keyof DataSwapPaths };

export interface SwapOutcome {
  paths: DataSwapPaths;
  /** Steps this run performed; empty when an earlier run had already finished. */
  steps: SwapStep[];
  state: SwapJournalState | 'never-swapped';
  /** After a rollback: where the new folder now is. */
  newFolder?: string;
}

export const hostContracts = {
  /** Runs an argv on the host; a non-zero exit code is returned, not thrown. Cancelling kills the command. */
  runCommand: activity(runCommandInput).returns<RunCommandResult>(),
  isServiceActive: activity(serviceInput).returns<boolean>(),
  /** Starts the service unless it is active already, and checks that it is active afterwards. */
  startService: activity(serviceInput).returns<{ wasActive: boolean }>(),
  /** Stops the service and returns only once the manager reports it inactive. */
  stopService: activity(stopServiceInput).returns<{ wasActive: boolean; stopExitCode?: number }>(),
  /** Writes a (non-secret) file atomically with the given mode. */
  writeFileAtomic: activity(writeFileInput).returns<{ sha256: string; bytes: number }>(),
  freeDisk: activity(pathInput).returns<FreeDisk>(),
  sha256OfFile: activity(pathInput).returns<string>(),
  /** Installs a staged binary after checking its sha256; a mismatch fails without retry. */
  installBinary: activity(installBinaryInput).returns<{ changed: boolean }>(),
  swapDataFolder: activity(dataSwapInput).returns<SwapOutcome>(),
  rollbackDataFolder: activity(dataSwapInput).returns<SwapOutcome>(),
};
