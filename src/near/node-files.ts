/**
 * A neard node's files as seen from its host, read and written over SSH by small POSIX scripts:
 * - validator_key.json is generated on the host by the node's own binary (`neard --home <tmp> init
 *   --account-id <id>`, as an operator would) and linked into place only if absent; only the account id
 *   and the public key are ever printed, so the secret key never crosses the wire;
 * - the database version of the data folder (data/DB_MARKER.json on the simulated neard) and the version
 *   banner of a binary (`neard --version`: "... (protocol 73) (db 42)").
 */
import { HostError } from '../ssh/errors.js';
import { execCapture, type CapturedResult } from '../ssh/exec.js';
import { describeHost, type SshConnection } from '../ssh/connection.js';
import { NearError } from './errors.js';

export interface ValidatorKeyOnHost {
  accountId: string;
  publicKey: string;
}

/** Prints "<account_id> <public_key>" of a key file: sed keeps only those two JSON string values. */
const KEY_FIELDS = `key_fields() {
  a=$(sed -n 's/.*"account_id"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p' "$1" | head -n 1)
  p=$(sed -n 's/.*"public_key"[[:space:]]*:[[:space:]]*"\\(ed25519:[1-9A-HJ-NP-Za-km-z]*\\)".*/\\1/p' "$1" | head -n 1)
  printf '%s %s\\n' "$a" "$p"
}`;

const READ_KEY_SCRIPT = `${KEY_FIELDS}
key="$1/validator_key.json"
if [ -f "$key" ]; then printf 'existing '; key_fields "$key"; else echo absent; fi`;

const GENERATE_KEY_SCRIPT = `${KEY_FIELDS}
set -u
home=$1; bin=$2; account=$3
key="$home/validator_key.json"
if [ -f "$key" ]; then printf 'existing '; key_fields "$key"; exit 0; fi
mkdir -p "$home" || exit 10
umask 077
tmp=$(mktemp -d "$home/.validator-key.XXXXXX") || exit 10
trap 'rm -rf "$tmp"' EXIT
if ! "$bin" --home "$tmp/home" init --account-id "$account" >"$tmp/init.log" 2>&1; then
  echo "neard init failed:" >&2; tail -n 20 "$tmp/init.log" >&2; exit 11
fi
[ -f "$tmp/home/validator_key.json" ] || { echo "neard init wrote no validator_key.json" >&2; exit 11; }
chmod 600 "$tmp/home/validator_key.json"
# A hard link creates the file only if it is absent (atomically), on the same filesystem as $tmp.
if ln "$tmp/home/validator_key.json" "$key" 2>/dev/null; then printf 'created '; key_fields "$key"
elif [ -f "$key" ]; then printf 'existing '; key_fields "$key"
else echo "cannot create $key" >&2; exit 12; fi`;

const DATABASE_SCRIPT = `set -u
home=$1; bin=$2
banner=$("$bin" --version) || { echo "$bin --version failed" >&2; exit 11; }
printf 'binary %s\\n' "$banner"
marker="$home/data/DB_MARKER.json"
if [ -f "$marker" ]; then
  printf 'data %s\\n' "$(sed -n 's/.*"db_version"[[:space:]]*:[[:space:]]*\\([0-9][0-9]*\\).*/\\1/p' "$marker" | head -n 1)"
else echo 'data none'; fi
if [ -e "$home/data/migration-snapshot" ]; then echo 'snapshot yes'; else echo 'snapshot no'; fi`;

export async function readValidatorKeyOnHost(
  connection: SshConnection,
  home: string,
  options: { signal?: AbortSignal } = {},
): Promise<ValidatorKeyOnHost | null> {
  const out = await run(connection, 'vup-read-validator-key', READ_KEY_SCRIPT, [home], options);
  if (out.trim() === 'absent') return null;
  return parseKeyLine(out, connection, home);
}

export async function generateValidatorKeyOnHost(
  connection: SshConnection,
  input: { home: string; binary: string; accountId: string },
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ValidatorKeyOnHost & { created: boolean }> {
  const out = await run(
    connection,
    'vup-generate-validator-key',
    GENERATE_KEY_SCRIPT,
    [input.home, input.binary, input.accountId],
    options,
  );
  const key = parseKeyLine(out, connection, input.home);
  return { ...key, created: out.startsWith('created ') };
}

export interface DatabaseVersions {
  banner: string;
  binaryVersion: string;
  binaryDbVersion: number;
  dataDbVersion?: number;
  migrationSnapshot: boolean;
}

export async function readDatabaseVersions(
  connection: SshConnection,
  input: { home: string; binary: string },
  options: { signal?: AbortSignal } = {},
): Promise<DatabaseVersions> {
  const out = await run(connection, 'vup-check-database', DATABASE_SCRIPT, [input.home, input.binary], options);
  const line = (tag: string) =>
    out
      .split('\n')
      .find((l) => l.startsWith(`${tag} `))
      ?.slice(tag.length + 1)
      .trim() ?? '';
  const banner = line('binary');
  const db = /\(db (\d+)\)/.exec(banner);
  const release = /\(release ([^)]+)\)/.exec(banner) ?? /^neard\s+(\S+)/.exec(banner);
  if (!db || !release) {
    throw new NearError(
      'BadInput',
      `${input.binary} on ${describeHost(connection.host)} is not a neard binary: "${banner}"`,
    );
  }
  const data = line('data');
  if (data !== 'none' && !/^\d+$/.test(data)) {
    throw new NearError(
      'BadInput',
      `the database marker in ${input.home}/data on ${describeHost(connection.host)} has no db_version`,
    );
  }
  return {
    banner,
    binaryVersion: release[1]!,
    binaryDbVersion: Number(db[1]),
    ...(data === 'none' ? {} : { dataDbVersion: Number(data) }),
    migrationSnapshot: line('snapshot') === 'yes',
  };
}

async function run(
  connection: SshConnection,
  name: string,
  script: string,
  args: string[],
  options: { signal?: AbortSignal; timeoutMs?: number },
): Promise<string> {
  const result: CapturedResult = await execCapture(connection, ['sh', '-c', script, name, ...args], {
    timeoutMs: options.timeoutMs ?? 120_000,
    signal: options.signal,
    maxStdoutBytes: 64 * 1024,
  });
  if (result.exitCode !== 0) {
    throw new HostError(
      'RemoteCommandFailed',
      `${name} on ${describeHost(connection.host)} exited with ${result.exitCode}: ${result.stderr.trim()}`,
      // The binary or the folder is wrong (exit 10, 11): a retry runs the same command again.
      { nonRetryable: result.exitCode === 10 || result.exitCode === 11 },
    );
  }
  return result.stdout.toString('utf8');
}

function parseKeyLine(out: string, connection: SshConnection, home: string): ValidatorKeyOnHost {
  const match = /^(?:existing|created) (\S*) (ed25519:[1-9A-HJ-NP-Za-km-z]+)\s*$/.exec(out.trim());
  if (!match) {
    throw new NearError(
      'BadInput',
      `${home}/validator_key.json on ${describeHost(connection.host)} has no readable account_id and public_key`,
    );
  }
  return { accountId: match[1]!, publicKey: match[2]! };
}
