/**
 * The NEAR activities' inputs and outputs: the contract between the NEAR workflows and the activities
 * that touch NEAR nodes and the chain. Plain JSON, no secrets: keys are named by signer references and
 * validator keys never leave the host they were generated on.
 */
import type { HostSpec } from '../../src/config/host.js';
import type { SignerSpec } from '../../src/config/inventory.js';
import type { ChainObservation } from '../../src/api/chain-observation.js';
import type { SignerObservation } from '../../src/api/signer-evidence.js';
import type { ValidatorCounters } from '../../src/api/validator-counters.js';

/** A NEAR node as the activities see it: where it runs and how to reach its RPC. */
export interface NearNodeRef {
  host: HostSpec;
  /** The neard home (config.json, data/, validator_key.json). */
  home: string;
  service: string;
  /** The node's own JSON-RPC (its `status` tells the key it signs with). */
  rpcUrl: string;
  /** The neard the service runs (generateValidatorKey runs its `init`); `neard` on the host's PATH when absent. */
  binary?: string;
}

export interface NodeStatus {
  chainId: string;
  version: string;
  protocolVersion: number;
  syncing: boolean;
  latestBlockHeight: number;
  /** The account and key this node signs with now (absent on a non-validator node). */
  validatorAccountId?: string;
  validatorPublicKey?: string;
  /** What the chain counts for validatorAccountId (nodeStatus reads it, from the node's RPC, for a validator node). */
  counters?: ValidatorCounters;
}

export interface EpochInfo {
  epochHeight: number;
  epochStartHeight: number;
  epochLength: number;
  headHeight: number;
  /** Block time observed over recent blocks (ms), not a constant. */
  observedBlockTimeMs: number;
  /** Estimated ms until the next epoch boundary: blocks left × observed block time. */
  nextBoundaryEtaMs: number;
}

/** Where a key stands for an account: proposed in this epoch, in next_validators, or current. */
export type KeyStage = 'absent' | 'proposed' | 'next' | 'current';

export interface KeyStanding {
  accountId: string;
  publicKey: string;
  stage: KeyStage;
  epochHeight: number;
  /** The key the account validates with in the current epoch, if it is a current validator. */
  currentKey?: string;
  /** The key the account will validate with once pending changes apply: its proposal, else next, else current. */
  intendedKey?: string;
  /** What the chain counts for the account now (missed blocks and chunks, double signs), when it could be read. */
  counters?: ValidatorCounters;
}

export interface StakeWithKeyInput {
  /** An RPC of the network (any synced node or a public endpoint) to read and submit through. */
  rpcUrl: string;
  networkId: string;
  /** The validator account (the pool account for a pool). */
  accountId: string;
  staking: { type: 'pool'; ownerId: string; signer: SignerSpec } | { type: 'direct'; signer: SignerSpec };
  newPublicKey: string;
}

export interface StakeWithKeyResult {
  /** True when the chain already had this key staked (nothing submitted). */
  alreadyStaked: boolean;
  txHash?: string;
}

export interface DatabaseCheck {
  /** DB version of the node's data, when it is known (see src/near/database-check.ts). */
  dataDbVersion?: number;
  /** Where dataDbVersion comes from, or why it is unknown, in words for the operator. */
  dataDbVersionSource: string;
  /** DB version the binary writes. */
  binaryDbVersion: number;
  binaryVersion: string;
  /** The new binary will (or, with an unknown data version, may) migrate the data on start; never interrupt it. */
  migrationNeeded: boolean;
  /** data/migration-snapshot exists: a migration runs now, or one was interrupted (neard then refuses to start). */
  migrationSnapshot?: boolean;
}

export interface HandOverValidatorKeyInput {
  primary: NearNodeRef;
  standby: NearNodeRef;
  networkRpcUrl: string;
  accountId: string;
  publicKey: string;
  /** The tag the key was staged with; also names the primary's parked key file. */
  tag: string;
  /** How long to wait for a block of the account at the head before handing over anyway (default 10 min). */
  slotWaitMs?: number;
}

export interface HandOverValidatorKeyResult {
  primaryKeyParkedAt: string;
  /** How the primary was shown not to sign before the standby got the key (absent when nothing was handed). */
  primaryEvidence?: string;
  /** From the fence (or stop) of the primary to the standby reporting the key, ms (absent on a retry). */
  keyOffMs?: number;
  /** The head block the account had just produced when the primary was stopped; absent when none was seen. */
  afterOwnBlock?: number;
  /** False when a retry found the primary already stopped. */
  stoppedPrimary: boolean;
}

/**
 * What the NEAR workflows call. Look* activities answer one look of a chain wait (see
 * workflows/common/chain-wait.ts): `reached`, a detail for the operator, and the ETA of the next boundary.
 */
export interface NearActivities {
  nodeStatus(req: { rpcUrl: string }): Promise<NodeStatus>;
  epochInfo(req: { rpcUrl: string }): Promise<EpochInfo>;
  keyStanding(req: { rpcUrl: string; accountId: string; publicKey: string }): Promise<KeyStanding>;

  /** Reached when the node reports synced and within `maxLagBlocks` of the network head. */
  lookNodeSynced(req: {
    nodeRpcUrl: string;
    networkRpcUrl: string;
    maxLagBlocks?: number;
  }): Promise<ChainObservation<NodeStatus>>;
  /** Reached when the key is at `want` (or beyond) for the account; ETA is the next epoch boundary. */
  lookKeyStage(req: {
    rpcUrl: string;
    accountId: string;
    publicKey: string;
    want: KeyStage;
  }): Promise<ChainObservation<KeyStanding>>;
  /** Reached when the node runs a validator key for the account and the account produced blocks or chunks since `sinceHeight`. */
  lookNodeSigning(req: {
    nodeRpcUrl: string;
    networkRpcUrl: string;
    accountId: string;
    sinceHeight: number;
  }): Promise<ChainObservation<{ producedSince: number }>>;

  /**
   * Generates validator_key.json for the account on the node's host, unless one for the account is there
   * already. Returns only the public key: the secret never leaves the host.
   */
  generateValidatorKey(req: { node: NearNodeRef; accountId: string }): Promise<{ publicKey: string; created: boolean }>;
  /** The public part of the node's validator_key.json, if it has one. */
  readValidatorKey(req: { node: NearNodeRef }): Promise<{ accountId: string; publicKey: string } | null>;
  /**
   * What the node's RPC says about `publicKey` and what its host shows (neard processes with its home, holders
   * of its database lock, other neards whose home holds the key, except `knownHolderHomes`), looked at several
   * times across a short window. The workflow judges it (src/api/signer-evidence.ts): silence is no evidence.
   */
  observeSigner(req: {
    node: NearNodeRef;
    publicKey?: string;
    knownHolderHomes?: string[];
  }): Promise<SignerObservation>;

  /** Stakes with the new key: pool owner `update_staking_key`, or a direct Stake action. Idempotent. */
  stakeWithKey(req: StakeWithKeyInput): Promise<StakeWithKeyResult>;

  /**
   * Hot swap: stages the primary's validator_key.json on the standby as `validator_key.json.pending-<tag>`, a
   * file neard does not read (mode 0600), through the worker only: the secret never enters an activity result
   * or the history. Refuses (non-retryably) when the source key is not for `accountId`/`expectedPublicKey` or
   * the standby's validator_key.json holds a key; does nothing when the staged file is already there.
   * Optional: the key hot swap workflow needs it.
   */
  stageValidatorKey?(req: {
    from: NearNodeRef;
    to: NearNodeRef;
    accountId: string;
    expectedPublicKey: string;
    tag: string;
  }): Promise<{ publicKey: string; copied: boolean }>;
  /**
   * Hot swap, in one go: waits (up to `slotWaitMs`) until the account has just produced the head block, stops
   * the primary and sees it stopped (service inactive, RPC down), moves its key file aside, renames the staged
   * key to validator_key.json on the standby, SIGHUPs it and sees its status report the key. Idempotent: a
   * retry picks up where the last attempt stopped. Refuses non-retryably when the key would be on two running
   * nodes or the stopped primary's RPC still answers.
   */
  handOverValidatorKey?(req: HandOverValidatorKeyInput): Promise<HandOverValidatorKeyResult>;
  /**
   * Hot swap compensation: moves validator_key.json and the key staged with `tag` off the node (into
   * `validator_key.json.withdrawn-<tag>`) and SIGHUPs it if it runs. Idempotent.
   */
  withdrawValidatorKey?(req: {
    node: NearNodeRef;
    tag: string;
  }): Promise<{ withdrawnFiles: number; reloaded: boolean }>;
  /** Hot swap: makes the running node reload validator_key.json (SIGHUP to neard), as nearcore's hot swap does. */
  reloadValidatorKey?(req: { node: NearNodeRef }): Promise<void>;

  /** Compares the DB version of the node's data with what a binary writes (run on the node's host). */
  checkDatabase(req: { node: NearNodeRef; binaryPath: string; sha256: string }): Promise<DatabaseCheck>;
}
