/**
 * Moving a validator key between a node's hosts for nearcore's hot swap, and making neard reload it.
 *
 * The key file is read over SSH into the worker's memory, checked (account, public key, and that the secret
 * derives that public key), written to the target through the atomic write (stdin, mode 0600) and wiped from
 * memory. Nothing but the public key is returned or put in an error. The target is a file neard does not read
 * (`validator_key.json.pending-<tag>`): the key is staged on the standby ahead of the hand-over, and a restart
 * of the standby cannot pick it up.
 */
import { KeyPair, type KeyPairString } from 'near-api-js';
import type { ServiceManagerSpec } from '../config/host.js';
import { describeHost, type SshConnection } from '../ssh/connection.js';
import { HostError } from '../ssh/errors.js';
import { execCapture } from '../ssh/exec.js';
import { writeFileAtomic } from '../ssh/files.js';
import { NearError } from './errors.js';
import { readValidatorKeyOnHost } from './node-files.js';

export interface KeyTransferEnd {
  connection: SshConnection;
  home: string;
}

/** The staged key's file name: neard reads only validator_key.json. */
export function pendingKeyFile(tag: string): string {
  return `validator_key.json.pending-${tag}`;
}

/** Prints "present <account_id> <public_key>" of the key file $1, or "absent": never the secret. */
export const KEY_FILE_FIELDS_SCRIPT = `f=$1
[ -f "$f" ] || { echo absent; exit 0; }
a=$(sed -n 's/.*"account_id"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p' "$f" | head -n 1)
p=$(sed -n 's/.*"public_key"[[:space:]]*:[[:space:]]*"\\(ed25519:[1-9A-HJ-NP-Za-km-z]*\\)".*/\\1/p' "$f" | head -n 1)
printf 'present %s %s\\n' "$a" "$p"`;

/** The account and public key of a key file on a host, or null when there is no such file. */
export async function readKeyFileFields(
  connection: SshConnection,
  path: string,
  options: { signal?: AbortSignal } = {},
): Promise<{ accountId: string; publicKey: string } | null> {
  const result = await execCapture(connection, ['sh', '-c', KEY_FILE_FIELDS_SCRIPT, 'vup-key-fields', path], {
    signal: options.signal,
    timeoutMs: 60_000,
  });
  if (result.exitCode !== 0) {
    throw new HostError('RemoteCommandFailed', `reading ${path} on ${describeHost(connection.host)} failed`);
  }
  return parseKeyFileFields(result.stdout.toString('utf8'));
}

/** The last line KEY_FILE_FIELDS_SCRIPT printed, as the key's account and public key (null: absent). */
export function parseKeyFileFields(output: string): { accountId: string; publicKey: string } | null {
  const line = output.trim().split('\n').pop() ?? '';
  if (!line.startsWith('present ')) return null;
  const [, accountId = '', publicKey = ''] = line.split(' ');
  return { accountId, publicKey };
}

/**
 * Copies the node's validator_key.json to `<to.home>/<asName>` (validator_key.json by default). Does nothing
 * when the target already holds the expected key; refuses another key there, and refuses to stage while the
 * target's validator_key.json holds a key.
 */
export async function copyValidatorKeyBetweenHosts(
  from: KeyTransferEnd,
  to: KeyTransferEnd,
  expected: { accountId: string; publicKey: string },
  options: { signal?: AbortSignal; asName?: string } = {},
): Promise<{ publicKey: string; copied: boolean }> {
  const asName = options.asName ?? 'validator_key.json';
  if (asName !== 'validator_key.json') {
    const live = await readValidatorKeyOnHost(to.connection, to.home, options);
    if (live) {
      throw new NearError(
        'ValidatorKeyConflict',
        `${to.home}/validator_key.json on ${describeHost(to.connection.host)} already holds ${live.publicKey} of ` +
          `${live.accountId || '(no account)'}: not staging another key next to it`,
      );
    }
  }
  const present = await readKeyFileFields(to.connection, `${to.home}/${asName}`, options);
  const target = `${to.home}/${asName} on ${describeHost(to.connection.host)}`;
  if (present) {
    if (present.accountId === expected.accountId && present.publicKey === expected.publicKey) {
      return { publicKey: present.publicKey, copied: false };
    }
    throw new NearError(
      'ValidatorKeyConflict',
      `${target} already holds ${present.publicKey} of ${present.accountId || '(no account)'}: refusing to replace it`,
    );
  }
  const source = `${from.home}/validator_key.json on ${describeHost(from.connection.host)}`;
  const read = await execCapture(from.connection, ['cat', '--', `${from.home}/validator_key.json`], {
    signal: options.signal,
    timeoutMs: 60_000,
    maxStdoutBytes: 16 * 1024,
  });
  const content = read.stdout;
  try {
    if (read.exitCode !== 0) {
      throw new HostError('RemoteFileMissing', `${source} cannot be read: ${read.stderr.trim()}`);
    }
    checkKeyFile(content, source, expected);
    await writeFileAtomic(to.connection, `${to.home}/${asName}`, content, {
      mode: 0o600,
      signal: options.signal,
    });
  } finally {
    content.fill(0);
  }
  return { publicKey: expected.publicKey, copied: true };
}

function checkKeyFile(content: Buffer, source: string, expected: { accountId: string; publicKey: string }): void {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(content.toString('utf8')) as Record<string, unknown>;
  } catch {
    // JSON.parse quotes what it failed on, which may be the secret.
    throw new NearError('BadInput', `${source} is not a JSON key file`);
  }
  if (fields.account_id !== expected.accountId || fields.public_key !== expected.publicKey) {
    throw new NearError(
      'ValidatorKeyConflict',
      `${source} is ${String(fields.public_key)} of ${String(fields.account_id)}, not ${expected.publicKey} of ` +
        `${expected.accountId}: nothing was copied`,
    );
  }
  const secret = fields.secret_key ?? fields.private_key;
  let derived: string | undefined;
  try {
    derived =
      typeof secret === 'string'
        ? KeyPair.fromString(secret as KeyPairString)
            .getPublicKey()
            .toString()
        : undefined;
  } catch {
    derived = undefined;
  }
  if (derived !== expected.publicKey) {
    throw new NearError(
      'BadInput',
      `${source}: the secret key does not belong to ${expected.publicKey}; nothing was copied`,
    );
  }
}

/**
 * Finds the neard run with `--home <home>` on the host and sends it SIGHUP. systemd hosts use
 * `systemctl kill --signal=SIGHUP` on the service's main process instead.
 */
const HUP_BY_HOME_SCRIPT = `home=$1; n=0
for d in /proc/[0-9]*; do
  [ -r "$d/cmdline" ] || continue
  args=$(tr '\\000' '\\n' < "$d/cmdline" 2>/dev/null) || continue
  case "$args" in *"--home
$home
"*run*) ;; *) continue ;; esac
  kill -s HUP "\${d#/proc/}" 2>/dev/null && n=$((n+1))
done
echo "$n"`;

export async function reloadValidatorKeyOnHost(
  connection: SshConnection,
  input: { manager: ServiceManagerSpec; service: string; home: string },
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const where = `${input.service} on ${describeHost(connection.host)}`;
  if (input.manager.type === 'systemd') {
    const argv = ['systemctl', 'kill', '--signal=SIGHUP', '--kill-whom=main', '--', input.service];
    const result = await execCapture(connection, input.manager.sudo ? ['sudo', '-n', ...argv] : argv, {
      signal: options.signal,
      timeoutMs: 60_000,
    });
    if (result.exitCode !== 0) {
      throw new HostError('RemoteCommandFailed', `SIGHUP to ${where} failed: ${result.stderr.trim()}`);
    }
    return;
  }
  const result = await execCapture(connection, ['sh', '-c', HUP_BY_HOME_SCRIPT, 'vup-reload-key', input.home], {
    signal: options.signal,
    timeoutMs: 60_000,
  });
  const signalled = Number(result.stdout.toString().trim());
  if (result.exitCode !== 0 || !(signalled > 0)) {
    throw new HostError(
      'RemoteCommandFailed',
      `no running neard with --home ${input.home} for ${where} to reload its validator key`,
    );
  }
}
