/**
 * File operations on a host, each one remote shell script run with quoted arguments. Content always travels
 * on stdin, never on a command line, and a destination only ever holds a complete, verified file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describeHost, type SshConnection } from './connection.js';
import { HostError } from './errors.js';
import { execCapture, type CapturedResult, type ExecOptions } from './exec.js';
import type { FreeDisk } from '../api/contracts/host.js';

/** Exit codes our scripts use to say which precondition failed. */
const MISSING = 66;
const NOT_A_FILE = 67;
const MISMATCH = 68;

type ScriptOptions = Pick<ExecOptions, 'stdin' | 'signal' | 'timeoutMs'>;

export async function runScript(
  connection: SshConnection,
  name: string,
  script: string,
  args: readonly string[],
  options: ScriptOptions = {},
): Promise<CapturedResult> {
  return execCapture(connection, ['sh', '-c', script, name, ...args], options);
}

function failure(connection: SshConnection, what: string, result: CapturedResult): HostError {
  const detail = `${what} on ${describeHost(connection.host)}: ${result.stderr.trim() || `exit ${result.exitCode}`}`;
  if (result.exitCode === MISSING) return new HostError('RemoteFileMissing', detail);
  if (result.exitCode === NOT_A_FILE) return new HostError('BadInput', detail);
  if (result.exitCode === MISMATCH) return new HostError('ChecksumMismatch', detail);
  return new HostError('RemoteCommandFailed', detail);
}

function tempSuffix(): string {
  return randomBytes(12).toString('hex');
}

export function sha256Hex(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Creates "$tmp" next to the destination ($dir), private to the user, with the cleanup armed before it exists:
 * a script killed at any point, or writing to the stderr of a lost connection (SIGPIPE), leaves no temp file. The name's random part ($4) comes from the caller.
 */
const CREATE_TEMP = (prefix: string) => `umask 077
tmp="$dir/${prefix}.$4"
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 143' HUP INT TERM PIPE
(set -C; : > "$tmp")`;

const WRITE_SCRIPT = `set -eu
dst=$1; mode=$2; want=$3
dir=$(dirname -- "$dst")
[ -d "$dir" ] || { echo "directory $dir does not exist" >&2; exit ${MISSING}; }
if [ -d "$dst" ] || { [ -e "$dst" ] && [ ! -f "$dst" ]; }; then echo "$dst exists and is not a regular file" >&2; exit ${NOT_A_FILE}; fi
${CREATE_TEMP('.vup-write')}
cat > "$tmp"
got=$(sha256sum < "$tmp"); got=\${got%% *}
[ "$got" = "$want" ] || { echo "received content has sha256 $got, expected $want (transfer cut short?)" >&2; exit ${MISMATCH}; }
chmod "$mode" "$tmp"
sync -- "$tmp"
mv -fT -- "$tmp" "$dst"
trap - EXIT
sync -- "$dir" 2>/dev/null || true`;

export interface WriteFileOptions {
  /** Octal permission bits, e.g. 0o600 for keys (the default). */
  mode?: number;
  signal?: AbortSignal;
}

/**
 * Writes the file next to its destination, checks the bytes that arrived, sets the mode, syncs and renames it
 * into place: the destination holds either the old or the new content, never a part.
 */
export async function writeFileAtomic(
  connection: SshConnection,
  path: string,
  content: Buffer | string,
  options: WriteFileOptions = {},
): Promise<{ sha256: string; bytes: number }> {
  const mode = options.mode ?? 0o600;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new HostError('BadInput', `file mode ${mode} is not a permission mode`);
  }
  const bytes = Buffer.from(content);
  const sha256 = sha256Hex(bytes);
  const result = await runScript(
    connection,
    'vup-write-file',
    WRITE_SCRIPT,
    [path, mode.toString(8), sha256, tempSuffix()],
    {
      stdin: bytes,
      signal: options.signal,
    },
  );
  if (result.exitCode !== 0) throw failure(connection, `writing ${path}`, result);
  return { sha256, bytes: bytes.length };
}

const SHA256_SCRIPT = `[ -e "$1" ] || { echo "$1 does not exist" >&2; exit ${MISSING}; }
[ -f "$1" ] || { echo "$1 is not a regular file" >&2; exit ${NOT_A_FILE}; }
sha256sum < "$1"`;

export async function sha256OfFile(
  connection: SshConnection,
  path: string,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  const result = await runScript(connection, 'vup-sha256', SHA256_SCRIPT, [path], options);
  if (result.exitCode !== 0) throw failure(connection, `hashing ${path}`, result);
  const hex = /^[0-9a-f]{64}/.exec(result.stdout.toString('latin1'))?.[0];
  if (!hex) throw new HostError('RemoteCommandFailed', `sha256sum printed no hash for ${path}`);
  return hex;
}

export async function freeDisk(connection: SshConnection, path: string): Promise<FreeDisk> {
  const result = await runScript(
    connection,
    'vup-df',
    `[ -e "$1" ] || { echo "$1 does not exist" >&2; exit ${MISSING}; }; df -Pk -- "$1"`,
    [path],
  );
  if (result.exitCode !== 0) throw failure(connection, `measuring free space of ${path}`, result);
  // POSIX format: one header line, then "filesystem blocks used available capacity% mountpoint".
  const line = result.stdout.toString('utf8').split('\n')[1] ?? '';
  const match = /^(.*\S)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+|-)%?\s+(\/.*)$/.exec(line);
  if (!match) throw new HostError('RemoteCommandFailed', `cannot read df output for ${path}: ${line}`);
  const [, filesystem = '', total = '0', used = '0', available = '0', , mountPoint = ''] = match;
  return {
    path,
    filesystem,
    mountPoint,
    totalBytes: Number(total) * 1024,
    usedBytes: Number(used) * 1024,
    availableBytes: Number(available) * 1024,
  };
}

const INSTALL_SCRIPT = `set -eu
src=$1; dst=$2; want=$3
hash() { h=$(sha256sum < "$1"); echo "\${h%% *}"; }
[ -e "$src" ] || { echo "staged binary $src does not exist" >&2; exit ${MISSING}; }
[ -f "$src" ] || { echo "staged binary $src is not a regular file" >&2; exit ${NOT_A_FILE}; }
got=$(hash "$src")
[ "$got" = "$want" ] || { echo "staged binary $src has sha256 $got, expected $want; not installed" >&2; exit ${MISMATCH}; }
dir=$(dirname -- "$dst")
[ -d "$dir" ] || { echo "directory $dir does not exist" >&2; exit ${MISSING}; }
if [ -d "$dst" ] || { [ -e "$dst" ] && [ ! -f "$dst" ]; }; then echo "$dst exists and is not a regular file" >&2; exit ${NOT_A_FILE}; fi
if [ -f "$dst" ] && [ -x "$dst" ] && [ "$(hash "$dst")" = "$want" ]; then echo unchanged; exit 0; fi
${CREATE_TEMP('.vup-install')}
cp -- "$src" "$tmp"
got=$(hash "$tmp")
[ "$got" = "$want" ] || { echo "copy of $src has sha256 $got, expected $want; not installed" >&2; exit ${MISMATCH}; }
chmod 0755 "$tmp"
sync -- "$tmp"
mv -fT -- "$tmp" "$dst"
trap - EXIT
sync -- "$dir" 2>/dev/null || true
echo installed`;

/**
 * Installs a staged binary: its sha256 must match before anything is touched, then a verified copy is made
 * executable and renamed over the destination. A destination that already holds it is left as is.
 */
export async function installBinary(
  connection: SshConnection,
  input: { source: string; destination: string; sha256: string },
  options: { signal?: AbortSignal } = {},
): Promise<{ changed: boolean }> {
  const want = input.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(want)) throw new HostError('BadInput', `"${input.sha256}" is not a sha256 hex digest`);
  const result = await runScript(
    connection,
    'vup-install',
    INSTALL_SCRIPT,
    [input.source, input.destination, want, tempSuffix()],
    options,
  );
  if (result.exitCode !== 0) throw failure(connection, `installing ${input.destination}`, result);
  return { changed: result.stdout.toString().trim() === 'installed' };
}
