/**
 * The Polkadot activities' inputs and outputs: the contract between `polkadotValidatorSwapUpgrade` and the
 * activities that touch Substrate nodes and the chain. Plain JSON, no secrets: signers are references, and
 * session keys are public keys (their secrets stay in the node's keystore).
 */
import type { SignerObservation } from '../../src/api/signer-evidence.js';
import type { ChainObservation } from '../../src/api/chain-observation.js';
import type { HostSpec } from '../../src/config/host.js';
import type { SignerSpec } from '../../src/config/inventory.js';
import type { ValidatorCounters } from '../../src/api/validator-counters.js';

/** A polkadot node: where it runs, its base path (keystore below it) and its own RPC. */
export interface PolkadotNodeRef {
  host: HostSpec;
  basePath: string;
  service: string;
  /** The node's own RPC (ws:// or http://); the key RPCs (author_*) are served only by the node itself. */
  rpcUrl: string;
}

/** How session keys reach the chain: relay `session.setKeys` or Asset Hub `stakingRcClient.setKeys`. */
export interface SetKeysRoute {
  submitTo: 'relay' | 'asset-hub';
  /** The RPC of the chain the call is submitted to (relay or Asset Hub). */
  rpcUrl: string;
  /**
   * The relay's RPC, where Session.NextKeys is read before submitting (idempotency) and after. Needed when
   * submitTo is 'asset-hub' (Asset Hub keeps no Session pallet); for 'relay' it defaults to rpcUrl.
   */
  relayRpcUrl?: string;
  signedBy:
    | { type: 'stash'; signer: SignerSpec }
    | { type: 'proxy'; proxyType: 'Staking' | 'StakingOperator'; account: string; signer: SignerSpec };
}

export interface NodeHealth {
  chain: string;
  version: string;
  peers: number;
  isSyncing: boolean;
  bestBlock: number;
  /** The network's best block seen by the node (system_syncState.highestBlock), if known. */
  highestBlock?: number;
}

export interface SessionInfo {
  /** Session.CurrentIndex. */
  currentIndex: number;
  /** Babe.EpochIndex (the slot maths use it; sessions and epochs advance together). */
  epochIndex: number;
  sessionLengthSlots: number;
  slotInSession: number;
  slotDurationMs: number;
  /** Estimated ms until the next session: slots left × slot duration. */
  nextSessionEtaMs: number;
  finalizedBlock: number;
  bestBlock: number;
}

export interface RotatedKeys {
  /** SCALE-encoded SessionKeys (hex). */
  keys: string;
  /** Ownership proof for the stash (hex), absent on runtimes whose node cannot make one. */
  proof?: string;
  method: 'author_rotateKeysWithOwner' | 'author_rotateKeys';
  /** True when this call found keys it had already generated for the same upgrade (a retry). */
  reused: boolean;
}

/** Where a stash's keys stand: NextKeys (set), QueuedKeys (next session), active (in Session.Validators with them). */
export type KeysStage = 'unset' | 'next' | 'queued' | 'active';

export interface KeysStanding {
  stash: string;
  stage: KeysStage;
  currentIndex: number;
  /** The session in which the keys became active and a block of it was finalized, when stage is active. */
  activeSince?: number;
  /** What the chain counts for the stash (missed slots, equivocations), when it reports them. */
  counters?: ValidatorCounters;
}

export interface SetKeysResult {
  /** True when NextKeys already held these keys for the stash (nothing submitted). */
  alreadySet: boolean;
  txHash?: string;
  blockHash?: string;
}

/** The session keys the chain holds for a stash now (relay Session pallet). */
export interface StashKeys {
  stash: string;
  currentIndex: number;
  /** Session.NextKeys(stash): what the stash last set (queued at the next rotation). Absent if never set. */
  nextKeys?: string;
  /** The stash's keys in Session.QueuedKeys (active from the next session), if it is queued. */
  queuedKeys?: string;
}

export interface PolkadotActivities {
  nodeHealth(req: { rpcUrl: string }): Promise<NodeHealth>;
  /** Reached when the node is not syncing, has peers (where it should), and is within `maxLagBlocks` of the network. */
  lookPolkadotNodeSynced(req: {
    nodeRpcUrl: string;
    networkRpcUrl: string;
    maxLagBlocks?: number;
  }): Promise<ChainObservation<NodeHealth>>;
  sessionInfo(req: { rpcUrl: string }): Promise<SessionInfo>;

  /**
   * Generates session keys on the node: `author_rotateKeysWithOwner(stash)` with its proof, falling back to
   * `author_rotateKeys` where the node lacks it. Persists the public keys on the node's host
   * (<basePath>/upgrade-keys/<upgradeId>.json) BEFORE returning, and on a retry for the same upgradeId returns
   * those keys when the node still holds them, so a crash never loses keys or rotates twice.
   */
  rotateKeys(req: { node: PolkadotNodeRef; stash: string; upgradeId: string }): Promise<RotatedKeys>;
  /** author_hasSessionKeys on the node. */
  nodeHasKeys(req: { nodeRpcUrl: string; keys: string }): Promise<boolean>;
  /**
   * What the node's RPC says about `keys` and what its host shows (processes with its base path, holders of its
   * database lock, other nodes whose keystore holds one of the keys, except `knownHolderHomes`), looked at
   * several times across a short window. The workflow judges it (src/api/signer-evidence.ts).
   */
  observePolkadotSigner(req: {
    node: PolkadotNodeRef;
    keys?: string;
    knownHolderHomes?: string[];
  }): Promise<SignerObservation>;

  /**
   * Sets the stash's session keys through the route. Idempotent: reads NextKeys first and submits nothing if
   * they are already these keys. Waits for inclusion and finality; a dispatch error is named
   * (session.InvalidProof, proxy.NotProxy, system.CallFiltered…) and non-retryable.
   */
  setKeys(req: { route: SetKeysRoute; stash: string; keys: string; proof?: string }): Promise<SetKeysResult>;

  keysStanding(req: { rpcUrl: string; stash: string; keys: string }): Promise<KeysStanding>;
  /**
   * The stash's keys on chain (NextKeys, QueuedKeys): how the swap learns A's keys before handing over, so it
   * can check that no other node holds them and that A is the one signing with them.
   */
  stashKeys?(req: { rpcUrl: string; stash: string }): Promise<StashKeys>;
  /**
   * Reached when the keys are active for the stash (queued → in the active set), the node reports it holds
   * them, and a block of that session is finalized. ETA: the next session boundary.
   */
  lookKeysActive(req: {
    rpcUrl: string;
    nodeRpcUrl: string;
    stash: string;
    keys: string;
  }): Promise<ChainObservation<KeysStanding>>;
}
