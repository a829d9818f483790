/**
 * Runs an argv on a host and streams its output. Cancellation and timeouts kill the remote process:
 * OpenSSH does not reliably deliver channel signals, so every command runs as the leader of its own process
 * group (setsid), reports that group on stderr before it starts, and a second command sends TERM and then
 * KILL to the whole group, children included.
 */
import type { ClientChannel } from 'ssh2';
import { connectSsh, describeHost, type SshConnection } from './connection.js';
import { HostError } from './errors.js';
import { commandLine } from './quote.js';

export interface ExecOptions {
  /** Bytes for the command's stdin; stdin is closed after them (or at once when absent). */
  stdin?: Buffer | string;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Kill the command (its whole process group) after this long and fail with CommandTimeout. */
  timeoutMs?: number;
  /** Aborting kills the command and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Time between TERM and KILL when stopping the command. */
  killGraceMs?: number;
}

export interface ExecResult {
  exitCode: number;
}

const GROUP_MARKER = Buffer.from('\x1evup-pgid ');
/**
 * Runs as the new session's leader, so `$$` is the process group that holds the command and its children.
 * It waits for the command instead of exec-ing it: `setsid -w` reports a child killed by signal N as exit
 * code N, while a shell reports 128+N like everywhere else (the trailing exit keeps shells from exec-ing).
 */
const GROUP_WRAPPER = `printf '\\036vup-pgid %s\\n' "$$" >&2; "$@"; exit "$?"`;
const KILL_SCRIPT = `pg=$1; n=$2
kill -s TERM -- "-$pg" 2>/dev/null || exit 0
i=0
while kill -s 0 -- "-$pg" 2>/dev/null; do
  if [ "$i" -ge "$n" ]; then kill -s KILL -- "-$pg" 2>/dev/null; exit 0; fi
  sleep 0.1; i=$((i+1))
done`;
const MAX_PENDING_STDERR = 64 * 1024;

export async function exec(
  connection: SshConnection,
  argv: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const command = commandLine(['setsid', '-w', 'sh', '-c', GROUP_WRAPPER, 'vup-exec', ...argv]);
  options.signal?.throwIfAborted();
  const channel = await connection.openExec(command);
  return new Promise<ExecResult>((resolve, reject) => {
    let exitCode: number | null = null;
    let exitSignal: string | undefined;
    let pgid: number | undefined;
    let pendingStderr: Buffer | undefined = Buffer.alloc(0);
    let stopReason: Error | undefined;
    let stopping: Promise<void> | undefined;
    let closed = false;
    let onGroupKnown: (() => void) | undefined;

    const flushPending = () => {
      if (pendingStderr?.length) options.onStderr?.(pendingStderr);
      pendingStderr = undefined;
      onGroupKnown?.();
    };

    channel.on('data', (chunk: Buffer) => options.onStdout?.(chunk));
    channel.stderr.on('data', (chunk: Buffer) => {
      if (pendingStderr === undefined) {
        options.onStderr?.(chunk);
        return;
      }
      const buffered = Buffer.concat([pendingStderr, chunk]);
      const at = buffered.indexOf(GROUP_MARKER);
      const end = at < 0 ? -1 : buffered.indexOf(0x0a, at);
      if (end >= 0) {
        const reported = Number(buffered.subarray(at + GROUP_MARKER.length, end).toString('latin1'));
        // Never 0 or 1: `kill -- -0` would hit the killer's own group.
        if (Number.isInteger(reported) && reported > 1) pgid = reported;
        pendingStderr = undefined;
        // Anything the login shell printed before the marker, and the command's first output after it.
        if (at > 0) options.onStderr?.(buffered.subarray(0, at));
        if (end + 1 < buffered.length) options.onStderr?.(buffered.subarray(end + 1));
        onGroupKnown?.();
      } else if (buffered.length > MAX_PENDING_STDERR) {
        pendingStderr = buffered;
        flushPending();
      } else pendingStderr = buffered;
    });
    channel.on('exit', (code: number | null, signalName?: string) => {
      exitCode = code;
      exitSignal = signalName;
    });
    channel.on('close', () => {
      closed = true;
      cleanup();
      flushPending();
      // A stopped command is reported once its group is killed, not merely when the channel closes.
      if (stopReason) {
        const reason = stopReason;
        void (stopping ?? Promise.resolve()).then(() => reject(stopReason ?? reason));
      } else if (exitCode !== null) resolve({ exitCode });
      else {
        const lost = new HostError(
          'ConnectionLost',
          `command ${argv[0] ?? ''} on ${describeHost(connection.host)} ended without an exit status` +
            (exitSignal ? ` (signal ${exitSignal})` : ' (connection lost)'),
        );
        // Nobody can watch or stop the command any more, and a retry would start it again: end it now.
        if (pgid === undefined) reject(lost);
        else {
          killGroup(connection, pgid, graceSteps()).then(
            () => reject(lost),
            (err: unknown) => reject(unkilled(lost, err)),
          );
        }
      }
    });

    const graceSteps = () => Math.ceil((options.killGraceMs ?? 5_000) / 100);
    const unkilled = (reason: Error, err: unknown) =>
      new HostError(
        'ConnectionLost',
        `${reason.message}; killing process group ${pgid} on ${describeHost(connection.host)} failed, ` +
          `it may still run: ${(err as Error).message}`,
        { cause: reason },
      );

    const stop = (reason: Error) => {
      if (stopReason || closed) return;
      stopReason = reason;
      stopping = killOnStop(reason);
    };
    const killOnStop = async (reason: Error) => {
      await new Promise<void>((groupKnown) => {
        if (pgid !== undefined || pendingStderr === undefined) groupKnown();
        else onGroupKnown = groupKnown;
      });
      if (pgid !== undefined && !closed) {
        try {
          await killGroup(connection, pgid, graceSteps());
        } catch (err) {
          stopReason = unkilled(reason, err);
        }
      }
      // The group is gone; a process that left it could still hold the channel open, so close it ourselves.
      if (!closed) setTimeout(() => channel.close(), 5_000).unref();
    };

    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            stop(
              new HostError(
                'CommandTimeout',
                `command ${argv[0] ?? ''} on ${describeHost(connection.host)} timed out after ${options.timeoutMs} ms`,
              ),
            );
          }, options.timeoutMs);
    const onAbort = () => {
      const reason: unknown = options.signal?.reason;
      stop(reason instanceof Error ? reason : new Error(`command cancelled: ${String(reason)}`));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // An abort while the channel was opening fired before the listener existed.
    if (options.signal?.aborted) onAbort();
    function cleanup() {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }

    writeStdin(channel, options.stdin);
  });
}

function writeStdin(channel: ClientChannel, stdin: Buffer | string | undefined) {
  if (stdin !== undefined && stdin.length > 0) channel.end(stdin);
  else channel.end();
}

/** TERM to the group, then KILL once the grace period passes; on a fresh connection if the old one died. */
async function killGroup(connection: SshConnection, pgid: number, graceSteps: number): Promise<void> {
  const own = connection.isOpen ? undefined : await connectSsh(connection.host);
  const via = own ?? connection;
  try {
    const channel = await via.openExec(
      commandLine(['sh', '-c', KILL_SCRIPT, 'vup-kill', String(pgid), String(graceSteps)]),
    );
    await new Promise<void>((resolve) => {
      channel.on('close', () => resolve());
      channel.resume();
      channel.stderr.resume();
      channel.end();
    });
  } finally {
    own?.close();
  }
}

export interface CapturedResult extends ExecResult {
  stdout: Buffer;
  stderr: string;
}

/** exec() that collects stdout (up to maxStdoutBytes) and the tail of stderr. */
export async function execCapture(
  connection: SshConnection,
  argv: readonly string[],
  options: Omit<ExecOptions, 'onStdout' | 'onStderr'> & { maxStdoutBytes?: number } = {},
): Promise<CapturedResult> {
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let stderr = '';
  const maxStdout = options.maxStdoutBytes ?? 16 * 1024 * 1024;
  const overflow = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, overflow.signal]) : overflow.signal;
  const result = await exec(connection, argv, {
    ...options,
    signal,
    onStdout: (chunk) => {
      if (stdoutBytes + chunk.length > maxStdout) {
        overflow.abort(new HostError('RemoteCommandFailed', `output of ${argv[0] ?? ''} exceeds ${maxStdout} bytes`));
        return;
      }
      stdout.push(chunk);
      stdoutBytes += chunk.length;
    },
    onStderr: (chunk) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)),
  });
  return { ...result, stdout: Buffer.concat(stdout), stderr };
}

/** execCapture() that fails with RemoteCommandFailed unless the command exits 0. */
export async function execChecked(
  connection: SshConnection,
  argv: readonly string[],
  options: Parameters<typeof execCapture>[2] = {},
): Promise<CapturedResult> {
  const result = await execCapture(connection, argv, options);
  if (result.exitCode !== 0) {
    throw new HostError(
      'RemoteCommandFailed',
      `${argv[0] ?? ''} on ${describeHost(connection.host)} exited with ${result.exitCode}: ${result.stderr.trim()}`,
    );
  }
  return result;
}
