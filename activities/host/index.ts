/**
 * Host activities: thin wrappers over src/ssh, implementing their contract (src/api/contracts/host.ts), that
 * heartbeat while they work, honour cancellation by killing the remote command, and report failures as typed
 * ApplicationFailures.
 */
import { cancellationSignal } from '@temporalio/activity';
import type { SshConnectionProvider } from '../../src/ssh/connection.js';
import { rollbackDataFolder, swapDataFolder } from '../../src/ssh/data-swap.js';
import { exec } from '../../src/ssh/exec.js';
import { freeDisk, installBinary, sha256OfFile, writeFileAtomic } from '../../src/ssh/files.js';
import { isServiceActive, startService, stopService } from '../../src/ssh/service-control.js';
import { hostContracts, type dataSwapInput, type SwapOutcome, type SwapStep } from '../../src/api/contracts/host.js';
import type { z } from 'zod';
import { implement } from '../contract.js';
import { reportingHostErrors } from './failures.js';
import { HEARTBEAT_INTERVAL_MS, withHeartbeats } from './heartbeat.js';

export interface HostActivityDeps {
  connections: SshConnectionProvider;
  /** How often long steps heartbeat; keep it well below the activities' heartbeatTimeout. */
  heartbeatIntervalMs?: number;
}

export interface RunCommandProgress {
  elapsedMs: number;
  stdoutBytes: number;
  stderrBytes: number;
  lastLine: string;
}

/** Keeps the last `limit` bytes of a stream and counts all of them. */
class Tail {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer) {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.chunks.length > 1 && this.kept - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.kept -= this.chunks.shift()?.length ?? 0;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }

  lastLine(): string {
    const lines = this.text().trimEnd().split('\n');
    return (lines[lines.length - 1] ?? '').slice(-200);
  }
}

export function createHostActivities(deps: HostActivityDeps) {
  const interval = deps.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
  const connect = deps.connections.get.bind(deps.connections);

  const activities = implement(hostContracts, {
    /** Runs an argv on the host; a non-zero exit code is returned, not thrown. Cancelling kills the command. */
    runCommand: async (input) => {
      return reportingHostErrors(async () => {
        const stdout = new Tail(input.tailBytes);
        const stderr = new Tail(input.tailBytes);
        const started = Date.now();
        const progress = (): RunCommandProgress => ({
          elapsedMs: Date.now() - started,
          stdoutBytes: stdout.total,
          stderrBytes: stderr.total,
          lastLine: stdout.lastLine(),
        });
        const { exitCode } = await withHeartbeats(interval, progress, async () =>
          exec(await connect(input.host), input.argv, {
            timeoutMs: input.timeoutMs,
            signal: cancellationSignal(),
            onStdout: (chunk) => stdout.push(chunk),
            onStderr: (chunk) => stderr.push(chunk),
          }),
        );
        return {
          exitCode,
          stdoutTail: stdout.text(),
          stderrTail: stderr.text(),
          stdoutBytes: stdout.total,
          stderrBytes: stderr.total,
        };
      });
    },

    isServiceActive: async (input) => {
      return reportingHostErrors(async () =>
        isServiceActive(await connect(input.host), input.host.serviceManager, input.service, {
          signal: cancellationSignal(),
        }),
      );
    },

    /** Starts the service unless it is active already, and checks that it is active afterwards. */
    startService: async (input) => {
      return reportingHostErrors(async () =>
        withHeartbeats(
          interval,
          () => ({ service: input.service }),
          async () =>
            startService(await connect(input.host), input.host.serviceManager, input.service, {
              signal: cancellationSignal(),
            }),
        ),
      );
    },

    /** Stops the service and returns only once the manager reports it inactive. */
    stopService: async (input) => {
      let stillActiveFor = 0;
      return reportingHostErrors(async () =>
        withHeartbeats(
          interval,
          () => ({ service: input.service, stillActiveForMs: stillActiveFor }),
          async () =>
            stopService(await connect(input.host), input.host.serviceManager, input.service, {
              signal: cancellationSignal(),
              observeMs: input.observeMs,
              pollMs: Math.min(1_000, interval),
              onStillActive: (elapsed) => (stillActiveFor = elapsed),
            }),
        ),
      );
    },

    /** Writes a (non-secret) file atomically with the given mode. */
    writeFileAtomic: async (input) => {
      return reportingHostErrors(async () =>
        writeFileAtomic(await connect(input.host), input.path, Buffer.from(input.content, input.encoding), {
          mode: input.mode,
          signal: cancellationSignal(),
        }),
      );
    },

    freeDisk: async (input) => {
      return reportingHostErrors(async () => freeDisk(await connect(input.host), input.path));
    },

    sha256OfFile: async (input) => {
      return reportingHostErrors(async () =>
        withHeartbeats(
          interval,
          () => ({ path: input.path }),
          async () => sha256OfFile(await connect(input.host), input.path, { signal: cancellationSignal() }),
        ),
      );
    },

    /** Installs a staged binary after checking its sha256; a mismatch fails without retry. */
    installBinary: async (input) => {
      return reportingHostErrors(async () =>
        withHeartbeats(
          interval,
          () => ({ destination: input.destination }),
          async () => installBinary(await connect(input.host), input, { signal: cancellationSignal() }),
        ),
      );
    },

    swapDataFolder: async (input) => runSwap(input, swapDataFolder),

    rollbackDataFolder: async (input) => runSwap(input, rollbackDataFolder),
  });
  return activities;

  async function runSwap(input: z.output<typeof dataSwapInput>, run: typeof swapDataFolder): Promise<SwapOutcome> {
    const steps: SwapStep[] = [];
    return reportingHostErrors(async () =>
      withHeartbeats(
        interval,
        () => ({ swapId: input.swapId, steps }),
        async () =>
          run(await connect(input.host), input, {
            signal: cancellationSignal(),
            onStep: (step) => steps.push(step),
          }),
      ),
    );
  }
}

export type HostActivities = ReturnType<typeof createHostActivities>;
