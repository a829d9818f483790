/**
 * Observing whether a Polkadot node signs with session keys, for the checks that must rest on positive
 * evidence (src/api/signer-evidence.ts): the node's own RPC (`author_hasSessionKeys`), and its host's
 * records (processes with its base path, holders of its database lock, other nodes whose keystore holds one
 * of the keys). A node started with --validator whose RPC does not answer counts as a signer until shown
 * otherwise.
 */
import { keystoreEntriesHolding, type SignerObservation } from '../api/signer-evidence.js';
import type { SshConnection } from '../ssh/connection.js';
import { observeSigner } from '../ssh/process-scan.js';
import { withProvider } from './connection.js';
import { PolkadotError, messageOf } from './errors.js';
import { hasSessionKeys } from './node.js';

export interface ObservedPolkadotNode {
  connection: SshConnection;
  basePath: string;
  rpcUrl: string;
  /** `polkadot on val-a`. */
  name?: string;
}

export interface PolkadotSignerQuestion {
  /** SCALE-encoded session keys (hex) to look for; absent: only whether the node runs. */
  keys?: string;
  /** Base paths of the upgrade's own nodes, which may hold the keys. */
  knownHolderHomes?: string[];
  looks?: number;
  gapMs?: number;
  signal?: AbortSignal;
}

/** Prints the keystore entries under the base path $1 (comma-separated), `none`, or `unreadable`. */
const POLKADOT_KEYS_OF = `keys_of() { out=
  for d in "$1"/chains/*/keystore; do
    [ -d "$d" ] || continue
    { [ -r "$d" ] && [ -x "$d" ]; } || { echo unreadable; return 0; }
    out="$out$(ls -- "$d" | tr '\\n' ',')"
  done
  echo "\${out:-none}"; }`;

const RPC_TIMEOUT_MS = 2_000;

export async function observePolkadotSigner(
  node: ObservedPolkadotNode,
  q: PolkadotSignerQuestion = {},
): Promise<SignerObservation> {
  const { keys, ...rest } = q;
  return observeSigner(
    node,
    {
      folder: node.basePath,
      homeFlags: ['--base-path', '-d'],
      programName: 'polkadot',
      defaultHome: '.local/share/polkadot',
      keysOfScript: POLKADOT_KEYS_OF,
    },
    () => askHasKeys(node.rpcUrl, keys),
    {
      ...rest,
      ...(keys ? { holdsKey: (listed: string) => keystoreEntriesHolding(listed.split(','), keys).length > 0 } : {}),
    },
  );
}

/** One question to the node, with a short timeout: an answer is evidence, anything else only "no answer". */
async function askHasKeys(rpcUrl: string, keys: string | undefined): Promise<SignerObservation['rpc']> {
  const timeouts = { connectTimeoutMs: RPC_TIMEOUT_MS, requestTimeoutMs: RPC_TIMEOUT_MS };
  try {
    if (keys === undefined) {
      const health = await withProvider(rpcUrl, (p) => p.send<{ peers: number }>('system_health', []), timeouts);
      return { answered: true, holdsKey: false, says: `answers (${health.peers} peers)` };
    }
    const holds = await hasSessionKeys(rpcUrl, keys, timeouts);
    return {
      answered: true,
      holdsKey: holds,
      says: holds ? 'holds the session keys' : 'does not hold the session keys',
    };
  } catch (err) {
    // A node that refuses the question (unsafe RPC methods off) still runs: which keys it holds is unknown.
    if (err instanceof PolkadotError && err.type !== 'RpcUnavailable')
      return {
        answered: true,
        holdsKey: 'unknown',
        says: `answers but does not say which keys it holds (${err.message})`,
      };
    return { answered: false, error: messageOf(err) };
  }
}
