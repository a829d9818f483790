/**
 * A neard node's files as seen from its host, read and written over SSH by small POSIX scripts:
 * - validator_key.json is generated on the host by the node's own binary (`neard --home <tmp> init
 *   --account-id <id>`, as an operator would) and linked into place only if absent; only the account id
 *   and the public key are ever printed, so the secret key never crosses the wire;
 * - the version banners (`neard --version`: "... (protocol 73) (db 42)") of the installed binary and of the
 *   one to install, whether the node has a database, and whether a migration snapshot is there.
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

// The data folder's own DB version sits inside RocksDB, which no shell tool reads; what is readable is the
// `(db N)` of the installed binary, the one that last opened the data (neard migrates on open).
const DATABASE_SCRIPT = `set -u
home=$1; bin=$2; installed=$3
banner=$("$bin" --version) || { echo "$bin --version failed" >&2; exit 11; }
printf 'binary %s\\n' "$banner"
if [ -x "$installed" ] && installed_banner=$("$installed" --version 2>/dev/null); then
  printf 'installed %s\\n' "$installed_banner"
else echo 'installed none'; fi
if [ -d "$home/data" ] && [ -n "$(ls -A "$home/data" 2>/dev/null)" ]; then echo 'data yes'; else echo 'data no'; fi
if [ -e "$home/data/migration-snapshot" ]; then echo 'snapshot yes'; else echo 'snapshot no'; fi`;

/** The scripts by the name they run under (`sh -c <script> <name> ...`), which error messages quote. */
const SCRIPTS = {
  'vup-read-validator-key': READ_KEY_SCRIPT,
  'vup-generate-validator-key': GENERATE_KEY_SCRIPT,
  'vup-check-database': DATABASE_SCRIPT,
};

export async function readValidatorKeyOnHost(
  connection: SshConnection,
  home: string,
  options: { signal?: AbortSignal } = {},
): Promise<ValidatorKeyOnHost | null> {
  const out = await run(connection, 'vup-read-validator-key', [home], options);
  if (out.trim() === 'absent') return null;
  return parseKeyLine(out, connection, home);
}

export async function generateValidatorKeyOnHost(
  connection: SshConnection,
  input: { home: string; binary: string; accountId: string },
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ValidatorKeyOnHost & { created: boolean }> {
  const out = await run(connection, 'vup-generate-validator-key', [input.home, input.binary, input.accountId], options);
  const key = parseKeyLine(out, connection, input.home);
  return { ...key, created: out.startsWith('created ') };
}

export interface NeardBanner {
  banner: string;
  version: string;
  dbVersion: number;
}

export interface DatabaseVersions {
  /** The binary to be installed. */
  target: NeardBanner;
  /** The binary installed now (absent if there is none at that path). */
  installed?: NeardBanner;
  /** The node has a database (a non-empty data folder). */
  hasData: boolean;
  /** data/migration-snapshot exists: a migration runs now, or one was interrupted. */
  migrationSnapshot: boolean;
}

export async function readDatabaseVersions(
  connection: SshConnection,
  input: { home: string; binary: string; installedBinary: string },
  options: { signal?: AbortSignal } = {},
): Promise<DatabaseVersions> {
  const out = await run(connection, 'vup-check-database', [input.home, input.binary, input.installedBinary], options);
  const line = (tag: string) =>
    out
      .split('\n')
      .find((l) => l.startsWith(`${tag} `))
      ?.slice(tag.length + 1)
      .trim() ?? '';
  const target = parseBanner(line('binary'));
  if (!target) {
    throw new NearError(
      'BadInput',
      `${input.binary} on ${describeHost(connection.host)} is not a neard binary: "${line('binary')}"`,
    );
  }
  const installed = line('installed') === 'none' ? undefined : parseBanner(line('installed'));
  return {
    target,
    ...(installed ? { installed } : {}),
    hasData: line('data') === 'yes',
    migrationSnapshot: line('snapshot') === 'yes',
  };
}

/** `neard (release 2.4.0) (build ...) (protocol 73) (db 42)`; older builds print `neard 2.4.0 (... db 42)`. */
function parseBanner(banner: string): NeardBanner | undefined {
  const db = /\(?db (\d+)\)/.exec(banner);
  const release = /\(release ([^)]+)\)/.exec(banner) ?? /^neard\s+(\S+)/.exec(banner);
  return db && release ? { banner, version: release[1]!, dbVersion: Number(db[1]) } : undefined;
}

async function run(
  connection: SshConnection,
  name: keyof typeof SCRIPTS,
  args: string[],
  options: { signal?: AbortSignal; timeoutMs?: number },
): Promise<string> {
  const result: CapturedResult = await execCapture(connection, ['sh', '-c', SCRIPTS[name], name, ...args], {
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
