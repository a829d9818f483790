/**
 * Observing whether a NEAR node signs with a key, for the checks that must rest on positive evidence
 * (src/api/signer-evidence.ts): the node's own RPC `status` (which key it runs with), and its host's records
 * (neard processes with its home, holders of its database lock, other neards whose home holds the key).
 */
import type { SignerObservation } from '../api/signer-evidence.js';
import type { SshConnection } from '../ssh/connection.js';
import { observeSigner } from '../ssh/process-scan.js';
import { messageOf } from './rpc.js';

export interface ObservedNearNode {
  connection: SshConnection;
  home: string;
  rpcUrl: string;
  /** `neard on val-a`. */
  name?: string;
}

export interface NearSignerQuestion {
  /** The key to look for; absent: only whether the node runs. */
  publicKey?: string;
  /** Homes of the upgrade's own nodes, which may hold the key (not counted as other holders). */
  knownHolderHomes?: string[];
  looks?: number;
  gapMs?: number;
  signal?: AbortSignal;
}

/** Prints the public key in $1/validator_key.json, `none`, or `unreadable`: never the secret. */
const NEAR_KEYS_OF = `keys_of() { f="$1/validator_key.json"
  if [ ! -e "$f" ]; then echo none; return 0; fi
  [ -r "$f" ] || { echo unreadable; return 0; }
  k=$(sed -n 's/.*"public_key"[[:space:]]*:[[:space:]]*"\\(ed25519:[1-9A-HJ-NP-Za-km-z]*\\)".*/\\1/p' "$f" | head -n 1)
  echo "\${k:-none}"; }`;

const RPC_TIMEOUT_MS = 2_000;

export async function observeNearSigner(
  node: ObservedNearNode,
  q: NearSignerQuestion = {},
): Promise<SignerObservation> {
  const { publicKey, ...rest } = q;
  return observeSigner(
    node,
    {
      folder: node.home,
      homeFlags: ['--home'],
      programName: 'neard',
      defaultHome: '.near',
      keysOfScript: NEAR_KEYS_OF,
    },
    () => askNodeStatus(node.rpcUrl, publicKey, q.signal),
    { ...rest, ...(publicKey ? { holdsKey: (keys: string) => keys === publicKey } : {}) },
  );
}

/** One `status` call, no retries: an answer is evidence, and anything else is only "did not answer". */
async function askNodeStatus(rpcUrl: string, publicKey: string | undefined, signal?: AbortSignal) {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'vup-signer', method: 'status', params: [] }),
      signal: signal
        ? AbortSignal.any([signal, AbortSignal.timeout(RPC_TIMEOUT_MS)])
        : AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    const body = (await res.json()) as {
      result?: { validator_public_key?: string | null; validator_account_id?: string | null };
    };
    if (!res.ok || !body.result) return { answered: false as const, error: `HTTP ${res.status} without a status` };
    const key = body.result.validator_public_key ?? null;
    const says = key
      ? `runs with ${key} of ${body.result.validator_account_id ?? '(no account)'}`
      : 'runs with no validator key';
    return { answered: true as const, holdsKey: publicKey !== undefined && key === publicKey, says };
  } catch (err) {
    signal?.throwIfAborted();
    return { answered: false as const, error: messageOf(err) };
  }
}
