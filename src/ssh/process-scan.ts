/**
 * Who runs with a node's folder on its host, read from the host's own records (Linux /proc) over SSH: the
 * processes started with the folder as their home (by argument, or a node binary's default home), the ones
 * holding a lock on a database LOCK file under it, and the ones with a file under it open. It also lists the
 * other node processes on the host, with the keys their homes hold, so a signer started by hand with another
 * home and a copy of a key is seen too.
 *
 * The scan is the evidence for "this node is not running": a node whose RPC does not answer may be starting,
 * busy or behind a closed port, so silence proves nothing. It looks several times across a short window, and
 * whatever it cannot read (another user's process, a home it cannot stat) is reported as unreadable, never as
 * absent. Parameters reach the script on stdin, so the scan's own command line never matches what it looks for.
 */
import type { SignerObservation } from '../api/signer-evidence.js';
import { describeHost, type SshConnection } from './connection.js';
import { HostError } from './errors.js';
import { execCapture } from './exec.js';

export interface FolderScanSpec {
  /** The node's home (NEAR) or base path (Polkadot): absolute. */
  folder: string;
  /** Arguments that name a node's home: `--home`, `--base-path`. Both `--flag value` and `--flag=value`. */
  homeFlags: string[];
  /** A program whose name starts with this runs with `defaultHome` under its user's home when no flag is given. */
  programName: string;
  /** Relative to the user's home: `.near`, `.local/share/polkadot`. */
  defaultHome: string;
  /**
   * A shell function body `keys_of() { ... }` printing, for the home in $1, the keys it holds (comma-separated),
   * `none`, or `unreadable`. Constant per chain: never built from input.
   */
  keysOfScript: string;
}

export interface ScannedProcess {
  pid: number;
  /** The home the process runs with, as resolved on the host. */
  home: string;
  /** Its home is the scanned folder (same device and inode, or the same path when it cannot be stat'ed). */
  sameFolder: boolean | 'unreadable';
  /** What keys_of printed for its home. */
  keys: string;
  /** It was started with --validator (Polkadot). */
  validatorFlag: boolean;
}

export interface FolderScan {
  looks: number;
  windowMs: number;
  /** Node processes seen in any look (the folder's own and others). */
  processes: ScannedProcess[];
  /** Processes holding a lock on a LOCK file under the folder (/proc/locks), in any look. */
  lockHolders: number[];
  /** Processes with a file under the folder open (only those whose fds the SSH user may read), in any look. */
  openers: number[];
}

export interface FolderScanOptions {
  looks?: number;
  gapMs?: number;
  signal?: AbortSignal;
}

const SCAN_SCRIPT = `IFS= read -r folder; IFS= read -r flags; IFS= read -r program; IFS= read -r default_home
IFS= read -r looks; IFS= read -r gap
real=$(readlink -f -- "$folder" 2>/dev/null) || real=$folder
folder_id=$(stat -L -c '%d:%i' -- "$folder" 2>/dev/null) || folder_id=none
lock_inodes=" $(find "$real" -maxdepth 8 \\( -name LOCK -o -name lock \\) -type f -printf '%i ' 2>/dev/null)"
set -- -e "$real" -e "$folder" -e "$program"
for f in $flags; do set -- "$@" -e "$f"; done
seen=" "
me=$$
scan_proc() {
  pid=$1; home=; prev=; first=; n=0; validator=0
  while IFS= read -r a; do
    n=$((n+1)); [ "$n" -eq 1 ] && first=$a
    for f in $flags; do
      [ "$prev" = "$f" ] && home=$a
      case "$a" in "$f="*) home=\${a#"$f="} ;; esac
    done
    [ "$a" = --validator ] && validator=1
    prev=$a
  done <<EOF
$(tr '\\000' '\\n' < "/proc/$pid/cmdline" 2>/dev/null)
EOF
  if [ -z "$home" ]; then
    case "\${first##*/}" in "$program"*) ;; *) return 0 ;; esac
    h=$(tr '\\000' '\\n' < "/proc/$pid/environ" 2>/dev/null | sed -n 's/^HOME=//p' | head -n 1)
    if [ -z "$h" ]; then
      uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
      h=$(getent passwd "$uid" | cut -d: -f6)
    fi
    home="$h/$default_home"
  fi
  case "$home" in
    /*) ;;
    *) cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || { printf 'proc\\t%s\\tunreadable\\t%s\\tunreadable\\t%s\\n' "$pid" "$validator" "$home"; return 0; }
       home="$cwd/$home" ;;
  esac
  root=$(readlink "/proc/$pid/root" 2>/dev/null)
  [ -n "$root" ] && [ "$root" != / ] && home="/proc/$pid/root$home"
  if [ "$home" = "$folder" ] || [ "$home" = "$real" ]; then same=1
  elif id=$(stat -L -c '%d:%i' -- "$home" 2>/dev/null); then
    if [ "$id" = "$folder_id" ]; then same=1; else same=0; fi
  else
    # A home that does not exist is not this folder; one that cannot be looked at may be.
    case $(LC_ALL=C stat -L -c '%i' -- "$home" 2>&1) in *"Permission denied"*) same=unreadable ;; *) same=0 ;; esac
  fi
  printf 'proc\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$pid" "$same" "$validator" "$(keys_of "$home")" "$home"
}
i=1
while [ "$i" -le "$looks" ]; do
  [ "$i" -gt 1 ] && sleep "$gap"
  echo "look $i"
  for c in $(grep -l -a -F "$@" /proc/[0-9]*/cmdline 2>/dev/null); do
    pid=\${c#/proc/}; pid=\${pid%/cmdline}
    [ "$pid" = "$me" ] && continue
    case "$seen" in *" $pid "*) continue ;; esac
    [ -r "/proc/$pid/cmdline" ] || continue
    seen="$seen$pid "
    scan_proc "$pid"
  done
  if [ "$lock_inodes" != " " ]; then
    awk -v inodes="$lock_inodes" '{ o = ($2 == "->") ? 1 : 0; n = split($(6 + o), d, ":");
      if (index(inodes, " " d[n] " ")) print "lock\\t" $(5 + o) }' /proc/locks 2>/dev/null
  fi
  find /proc/[0-9]*/fd -maxdepth 1 \\( -lname "$real/*" -o -lname "$real" \\) 2>/dev/null | sed -n 's|^/proc/\\([0-9]*\\)/fd/.*|open\\t\\1|p' | sort -u
  i=$((i+1))
done
echo done`;

export async function scanFolderUsers(
  connection: SshConnection,
  spec: FolderScanSpec,
  options: FolderScanOptions = {},
): Promise<FolderScan> {
  const looks = options.looks ?? 3;
  const gapMs = options.gapMs ?? 300;
  if (spec.folder.includes('\n')) throw new HostError('BadInput', 'a scanned folder cannot contain a newline');
  for (const word of [spec.programName, spec.defaultHome, ...spec.homeFlags]) {
    if (/\s/.test(word)) throw new HostError('BadInput', `"${word}" holds white space`);
  }
  const stdin = [
    spec.folder,
    spec.homeFlags.join(' '),
    spec.programName,
    spec.defaultHome,
    String(looks),
    (gapMs / 1000).toFixed(3),
    '',
  ].join('\n');
  const result = await execCapture(connection, ['sh', '-c', `${spec.keysOfScript}\n${SCAN_SCRIPT}`, 'vup-scan'], {
    stdin,
    signal: options.signal,
    timeoutMs: 60_000 + looks * gapMs,
  });
  const out = result.stdout.toString('utf8');
  if (result.exitCode !== 0 || !/^done$/m.test(out)) {
    throw new HostError(
      'RemoteCommandFailed',
      `scanning the processes on ${describeHost(connection.host)} failed (exit ${result.exitCode}): ` +
        result.stderr.toString().trim(),
    );
  }
  return parseFolderScan(out, (looks - 1) * gapMs);
}

export function parseFolderScan(output: string, windowMs: number): FolderScan {
  const scan: FolderScan = { looks: 0, windowMs, processes: [], lockHolders: [], openers: [] };
  for (const line of output.split('\n')) {
    const [kind, ...fields] = line.split('\t');
    if (line.startsWith('look ')) scan.looks++;
    else if (kind === 'proc' && fields.length >= 5) {
      const [pid, same, validator, keys, ...home] = fields;
      scan.processes.push({
        pid: Number(pid),
        home: home.join('\t'),
        sameFolder: same === 'unreadable' ? 'unreadable' : same === '1',
        keys: keys!,
        validatorFlag: validator === '1',
      });
    } else if (kind === 'lock' && !scan.lockHolders.includes(Number(fields[0])))
      scan.lockHolders.push(Number(fields[0]));
    else if (kind === 'open' && !scan.openers.includes(Number(fields[0]))) scan.openers.push(Number(fields[0]));
  }
  return scan;
}

/**
 * What a scan says about one node, in the terms of a signer observation: evidence that it runs, other
 * processes whose home holds the key (`holdsKey` judges a keys_of line; absent: no key is asked about), and
 * what could not be read. Homes in `knownHolderHomes` are the upgrade's own nodes, which may hold the key.
 */
export function scanEvidence(
  scan: FolderScan,
  opts: { holdsKey?: (keys: string) => boolean; knownHolderHomes?: string[] } = {},
): Pick<SignerObservation, 'running' | 'otherHolders' | 'unreadable' | 'window'> {
  const running = new Map<number, string[]>();
  const runs = (pid: number, why: string) => running.set(pid, [...(running.get(pid) ?? []), why]);
  const otherHolders: string[] = [];
  const unreadable: string[] = [];
  for (const p of scan.processes) {
    const flags = p.validatorFlag ? ' --validator' : '';
    if (p.sameFolder === true) runs(p.pid, `runs with this home${flags}`);
    else if (p.sameFolder === 'unreadable')
      unreadable.push(`pid ${p.pid} runs with home ${p.home}, which cannot be read`);
    else if (opts.holdsKey && !opts.knownHolderHomes?.includes(p.home)) {
      if (p.keys === 'unreadable') unreadable.push(`the keys in ${p.home} of pid ${p.pid} cannot be read`);
      else if (opts.holdsKey(p.keys))
        otherHolders.push(`pid ${p.pid} runs with home ${p.home}${flags}, which holds it`);
    }
  }
  for (const pid of scan.lockHolders) runs(pid, 'holds the lock of its database');
  for (const pid of scan.openers) runs(pid, 'has files under its home open');
  return {
    running: [...running].map(([pid, why]) => `pid ${pid} ${why.join(', ')}`),
    otherHolders,
    unreadable,
    window: `${scan.looks} looks over ${(scan.windowMs / 1000).toFixed(1)} s`,
  };
}

export interface SignerScanQuestion {
  /** Judges a keys_of line: does that home hold the key asked about? Absent: no key is asked about. */
  holdsKey?: (keys: string) => boolean;
  knownHolderHomes?: string[];
  looks?: number;
  gapMs?: number;
  signal?: AbortSignal;
}

/**
 * One observation of a node as a signer: what its own RPC answered (`askRpc`, run alongside) and what its
 * host's records show about its folder and the key, in the shape the judgement takes (src/api/signer-evidence.ts).
 */
export async function observeSigner(
  node: { connection: SshConnection; name?: string },
  spec: FolderScanSpec,
  askRpc: () => Promise<SignerObservation['rpc']>,
  q: SignerScanQuestion = {},
): Promise<SignerObservation> {
  const [rpc, scan] = await Promise.all([
    askRpc(),
    scanFolderUsers(node.connection, spec, { looks: q.looks, gapMs: q.gapMs, signal: q.signal }),
  ]);
  return {
    node: node.name ?? `the node at ${spec.folder} on ${describeHost(node.connection.host)}`,
    rpc,
    ...scanEvidence(scan, { holdsKey: q.holdsKey, knownHolderHomes: q.knownHolderHomes }),
  };
}
