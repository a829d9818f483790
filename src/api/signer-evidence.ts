/**
 * "Nobody else signs with this key" rests on positive evidence only. An observation of a node says what its
 * own RPC answered and what its host's records show (processes with its home, holders of its database, other
 * node processes whose home holds the key); the judgement below turns it into safe, unsafe or unknown.
 *
 * A failed observation is not evidence: a node whose RPC does not answer may be starting, busy, or behind a
 * closed port while it signs. It counts as stopped only when its host shows nothing running with its home or
 * holding its database in every look of a short window; anything the check cannot read is unknown, never safe.
 *
 * Plain data and pure functions: the activities observe, and the workflows and the hand-over judge.
 */

export interface SignerObservation {
  /** The node as an operator names it: `neard on val-a`. */
  node: string;
  /** What the node's own RPC said about the key ('unknown': it answers but will not say), or why it said nothing. */
  rpc: { answered: true; holdsKey: boolean | 'unknown'; says: string } | { answered: false; error: string };
  /** Evidence that the node runs: a process with its home, a holder of its database lock or files. */
  running: string[];
  /** Other processes on the host whose home holds the key: signers nobody accounted for. */
  otherHolders: string[];
  /** What the check could not read, which is neither evidence for nor against. */
  unreadable: string[];
  /** How the host was looked at: `3 looks over 0.6 s`. */
  window: string;
}

/**
 * - `stopped`: the node itself must be down (before its data or binary is touched, before another node takes
 *   its key), and nothing else on its host holds the key;
 * - `not-signing`: the node may run, but must not sign with the key, and nothing else on its host holds it.
 */
export type SignerRequirement = 'stopped' | 'not-signing';

export interface SignerVerdict {
  verdict: 'safe' | 'unsafe' | 'unknown';
  because: string;
}

export function judgeSigner(seen: SignerObservation, require: SignerRequirement): SignerVerdict {
  const { node } = seen;
  if (seen.otherHolders.length > 0)
    return unsafe(`another process on the host of ${node} holds the key: ${seen.otherHolders.join('; ')}`);
  if (seen.rpc.answered) {
    if (require === 'stopped') return unsafe(`${node} still answers on its RPC (${seen.rpc.says})`);
    if (seen.rpc.holdsKey === true) return unsafe(`${node} signs with the key (${seen.rpc.says})`);
    if (seen.rpc.holdsKey === 'unknown') return unknown(`${node} ${seen.rpc.says}`);
    if (seen.unreadable.length > 0) return unknown(`${node} ${seen.rpc.says}, but ${seen.unreadable.join('; ')}`);
    return safe(`${node} answers that it ${seen.rpc.says}, and no other process on its host holds the key`);
  }
  if (seen.running.length > 0) {
    const runs = `${node} does not answer on its RPC (${seen.rpc.error}) but runs: ${seen.running.join('; ')}`;
    return require === 'stopped' ? unsafe(runs) : unknown(`${runs}; which key it signs with is unknown`);
  }
  if (seen.unreadable.length > 0)
    return unknown(`${node} does not answer on its RPC and ${seen.unreadable.join('; ')}, so it may still run`);
  return safe(
    `${node} is not running: its RPC does not answer (${seen.rpc.error}), and in ${seen.window} no process on ` +
      `its host ran with its home or held its database, and none held the key`,
  );
}

/**
 * The homes of the upgrade's own nodes that a scan of `node`'s machine may count as known holders: only those
 * on the same machine (one SSH address, one /proc). Homes are often the same path on every machine
 * (~/.near), so a known home elsewhere must not excuse a process with that path here.
 */
export function knownHomesOnMachine(node: { address: string }, known: { address: string; home: string }[]): string[] {
  return known.filter((k) => k.address === node.address).map((k) => k.home);
}

/**
 * Keystore files are named <key type hex (8 digits)><public key hex>, and SCALE-encoded session keys are the
 * public keys one after another: the names among `names` that hold a key of `sessionKeys`.
 */
export function keystoreEntriesHolding(names: string[], sessionKeys: string): string[] {
  const keysHex = sessionKeys.toLowerCase().replace(/^0x/, '');
  return names
    .map((name) => name.trim().toLowerCase())
    .filter((name) => /^[0-9a-f]{72,}$/.test(name))
    .filter((name) => keysHex.includes(name.slice(8)));
}

const safe = (because: string): SignerVerdict => ({ verdict: 'safe', because });
const unsafe = (because: string): SignerVerdict => ({ verdict: 'unsafe', because });
const unknown = (because: string): SignerVerdict => ({ verdict: 'unknown', because });
