/**
 * The NEAR activities' contract: the inputs (plain JSON naming RPC endpoints, accounts, keys by their public
 * part, nodes and signer references, never a secret), the answers, and, in failures.ts, the failures. The
 * activities, the NEAR workflows and src/near all take their types from here. Look* activities answer one
 * look of a chain wait (workflows/common/chain-wait.ts): `reached`, a detail for the operator, and the ETA of
 * the next boundary.
 */
import { z } from 'zod';
import { hostSchema } from '../../config/host.js';
import { nearAccountId, nearNetwork } from '../../config/identities.js';
import { absolutePath, httpRpcUrl, identifier, serviceName, sha256Hex } from '../../config/primitives.js';
import { signerSchema } from '../../config/signers.js';
import { SYNCED_LAG_BLOCKS, type ChainObservation } from '../chain-observation.js';
import type { SignerObservation } from '../signer-evidence.js';
import type { ValidatorCounters } from '../validator-counters.js';
import { activity } from './activity.js';
import type { SwapOutcome } from './host.js';

const publicKey = z.string().regex(/^ed25519:[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'must be an ed25519 public key');

/** Where a key stands for an account: proposed in this epoch, in next_validators, or current. */
export const keyStage = z.enum(['absent', 'proposed', 'next', 'current']);
export type KeyStage = z.infer<typeof keyStage>;

export const nearNodeRefSchema = z
  .strictObject({
    host: hostSchema,
    home: absolutePath.describe('The neard home (config.json, data/, validator_key.json).'),
    service: serviceName.describe('The service that runs neard on the host.'),
    rpcUrl: httpRpcUrl.describe("The node's own JSON-RPC; its status tells the key it signs with."),
    binary: absolutePath
      .optional()
      .describe(
        "The neard the service runs (generateValidatorKey runs its `init`); `neard` on the host's PATH when absent.",
      ),
  })
  .describe('A neard node: where it runs and how to reach it.');
/** A NEAR node as the activities see it: where it runs and how to reach its RPC. */
export type NearNodeRef = z.infer<typeof nearNodeRefSchema>;

export const rpcInput = z.strictObject({ rpcUrl: httpRpcUrl });
export const migrationStateInput = z.strictObject({ node: nearNodeRefSchema });
/** The chain every RPC of a check must answer for: the inventory's network (neard's chain_id). */
const expectedChain = nearNetwork.describe(
  "The inventory's network: the node (and the network RPC, when given) must answer with this chain_id.",
);
export const nodeStatusInput = rpcInput.extend({
  chainId: expectedChain.optional(),
  networkRpcUrl: httpRpcUrl.optional().describe('Also checked to answer for `chainId` (a check before acting).'),
});
export const keyStandingInput = z.strictObject({ rpcUrl: httpRpcUrl, accountId: nearAccountId, publicKey });
export const lookNodeSyncedInput = z.strictObject({
  nodeRpcUrl: httpRpcUrl,
  networkRpcUrl: httpRpcUrl,
  maxLagBlocks: z.number().int().nonnegative().default(SYNCED_LAG_BLOCKS),
  chainId: expectedChain.optional(),
});
export const lookKeyStageInput = keyStandingInput.extend({ want: keyStage });
export const lookNodeSigningInput = z.strictObject({
  nodeRpcUrl: httpRpcUrl,
  networkRpcUrl: httpRpcUrl,
  accountId: nearAccountId,
  sinceHeight: z.number().int().nonnegative(),
});
export const generateValidatorKeyInput = z.strictObject({ node: nearNodeRefSchema, accountId: nearAccountId });
export const readValidatorKeyInput = z.strictObject({ node: nearNodeRefSchema });
export const stakeWithKeyInput = z.strictObject({
  /** An RPC of the network (any synced node or a public endpoint) to read and submit through. */
  rpcUrl: httpRpcUrl,
  networkId: nearNetwork,
  /** The validator account (the pool account for a pool). */
  accountId: nearAccountId,
  staking: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('pool'), ownerId: nearAccountId, signer: signerSchema }),
    z.strictObject({ type: z.literal('direct'), signer: signerSchema }),
  ]),
  newPublicKey: publicKey,
});
/** Names the staged and parked key files of one hot swap (validator_key.json.pending-<tag>). */
const keyFileTag = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, - or _');
export const stageValidatorKeyInput = z.strictObject({
  from: nearNodeRefSchema,
  to: nearNodeRefSchema,
  accountId: nearAccountId,
  expectedPublicKey: publicKey,
  tag: keyFileTag,
});
export const handOverValidatorKeyInput = z.strictObject({
  primary: nearNodeRefSchema,
  standby: nearNodeRefSchema,
  networkRpcUrl: httpRpcUrl,
  accountId: nearAccountId,
  publicKey,
  /** The tag the key was staged with; also names the primary's parked key file. */
  tag: keyFileTag,
  /** How long to wait for a block of the account at the head before handing over anyway (default 10 min). */
  slotWaitMs: z.number().int().nonnegative().optional(),
});
export type HandOverValidatorKeyInput = z.infer<typeof handOverValidatorKeyInput>;
export const reloadValidatorKeyInput = z.strictObject({ node: nearNodeRefSchema });
/** The binary is run (`--version`) only once its sha256 is the release's: an input must not run any file. */
export const checkDatabaseInput = z.strictObject({
  node: nearNodeRefSchema,
  binaryPath: absolutePath,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
});
export const observeSignerInput = z.strictObject({
  node: nearNodeRefSchema,
  publicKey: publicKey.optional(),
  knownHolderHomes: z.array(absolutePath).optional(),
});
export const restartOnReleaseInput = z.strictObject({
  node: nearNodeRefSchema,
  /** The new release, staged (checksum verified) beside the node's binary: renamed into its place. */
  staged: z.strictObject({ path: absolutePath, sha256: sha256Hex }),
  /** A data-folder swap made while the node is stopped (sync-and-swap), journaled as `swapDataFolder`'s. */
  dataSwap: z.strictObject({ target: absolutePath, staging: absolutePath, swapId: identifier }).optional(),
  /** Services on the host that must be inactive when the node starts: never two nodes with one key. */
  mustBeStopped: z.array(serviceName).default([]),
  /** The validator key: after the stop, no other process on the host may run with a home holding it. */
  publicKey: publicKey.optional(),
  /**
   * A node on the same host stopped just before `node` (sync-and-swap's sync node, whose data folder the swap
   * takes), and seen stopped by the host's records like `node` before any folder moves.
   */
  stopFirst: nearNodeRefSchema.optional(),
});

export interface RestartOnReleaseResult {
  /** Whether the service was running when the step began (false on a retry after the stop). */
  wasActive: boolean;
  swap?: SwapOutcome;
  /** How long the node was down in this attempt: from the stop's confirmation to the start's. */
  downMs: number;
}

export const withdrawValidatorKeyInput = z.strictObject({ node: nearNodeRefSchema, tag: keyFileTag });

/** A node's own view (RPC `status`): version, sync state, head and the validator key it signs with. */
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
  /** When the head block was made (ISO 8601): a head that stays old is a halted chain. */
  headTime?: string;
  /** Block time observed over recent blocks (ms), not a constant. */
  observedBlockTimeMs: number;
  /** Estimated ms until the next epoch boundary: blocks left × observed block time. */
  nextBoundaryEtaMs: number;
}

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

export interface HandOverValidatorKeyResult {
  /** The primary's key file, moved aside. */
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

/** A look at a node that may not be up yet: its status, or in words why it does not answer. */
export type NodeProbe = { answering: true; status: NodeStatus } | { answering: false; reason: string };

/** A migrating node as one look sees it: whether its service still runs, and whether its RPC opened. */
export interface MigrationState {
  serviceActive: boolean;
  probe: NodeProbe;
}

export const nearContracts = {
  /** With `chainId`: refused (WrongChain) when the node, or the network RPC, answers for another chain. */
  nodeStatus: activity(nodeStatusInput).returns<NodeStatus>(),
  /** Like nodeStatus, but a node that does not answer is an answer, not a failure (a wait expects it). */
  probeNodeStatus: activity(rpcInput).returns<NodeProbe>(),
  /** One look of a migration wait: is the service still active (on its host), does the RPC answer yet. */
  migrationState: activity(migrationStateInput).returns<MigrationState>(),
  epochInfo: activity(rpcInput).returns<EpochInfo>(),
  keyStanding: activity(keyStandingInput).returns<KeyStanding>(),

  /**
   * Reached when the node reports synced and within `maxLagBlocks` of the network head. Refused (WrongChain)
   * when the node and the network RPC answer for different chains, or either not for `chainId`.
   */
  lookNodeSynced: activity(lookNodeSyncedInput).returns<ChainObservation<NodeStatus>>(),
  /** Reached when the key is at `want` (or beyond) for the account; ETA is the next epoch boundary. */
  lookKeyStage: activity(lookKeyStageInput).returns<ChainObservation<KeyStanding>>(),
  /** Reached when the node runs a validator key for the account and the account produced blocks or chunks since `sinceHeight`. */
  lookNodeSigning: activity(lookNodeSigningInput).returns<ChainObservation<{ producedSince: number }>>(),

  /**
   * Generates validator_key.json for the account on the node's host, unless one for the account is there
   * already. Returns only the public key: the secret never leaves the host.
   */
  generateValidatorKey: activity(generateValidatorKeyInput).returns<{ publicKey: string; created: boolean }>(),
  /** The public part of the node's validator_key.json, if it has one. */
  readValidatorKey: activity(readValidatorKeyInput).returns<{ accountId: string; publicKey: string } | null>(),
  /**
   * What the node's RPC says about `publicKey` and what its host shows (neard processes with its home, holders
   * of its database lock, other neards whose home holds the key, except `knownHolderHomes`), looked at several
   * times across a short window. The workflow judges it (src/api/signer-evidence.ts): silence is no evidence.
   */
  observeSigner: activity(observeSignerInput).returns<SignerObservation>(),

  /**
   * Stop the node (after `stopFirst`, when given; each observed inactive, and by its host's records no process
   * runs with its home), swap its
   * data folder when asked, rename the staged release over its binary, start it: one activity on one
   * connection, so the node is down for the host's commands only. Every part is idempotent.
   */
  restartOnRelease: activity(restartOnReleaseInput).returns<RestartOnReleaseResult>(),

  /** Stakes with the new key: pool owner `update_staking_key`, or a direct Stake action. Idempotent. */
  stakeWithKey: activity(stakeWithKeyInput).returns<StakeWithKeyResult>(),

  /**
   * Hot swap: stages the primary's validator_key.json on the standby as `validator_key.json.pending-<tag>`, a
   * file neard does not read (mode 0600), through the worker only: the secret never enters an activity result
   * or the history. Refuses (non-retryably) when the source key is not for `accountId`/`expectedPublicKey` or
   * the standby's validator_key.json holds a key; does nothing when the staged file is already there.
   */
  stageValidatorKey: activity(stageValidatorKeyInput).returns<{ publicKey: string; copied: boolean }>(),
  /**
   * Hot swap, in one go: waits (up to `slotWaitMs`) until the account has just produced the head block, stops
   * the primary and sees it stopped (service inactive, RPC down), moves its key file aside, renames the staged
   * key to validator_key.json on the standby, SIGHUPs it and sees its status report the key. Idempotent: a
   * retry picks up where the last attempt stopped. Refuses non-retryably when the key would be on two running
   * nodes or the stopped primary's RPC still answers.
   */
  handOverValidatorKey: activity(handOverValidatorKeyInput).returns<HandOverValidatorKeyResult>(),
  /**
   * Hot swap compensation: moves validator_key.json and the key staged with `tag` off the node (into
   * `validator_key.json.withdrawn-<tag>`) and SIGHUPs it if it runs. Idempotent.
   */
  withdrawValidatorKey: activity(withdrawValidatorKeyInput).returns<{ withdrawnFiles: number; reloaded: boolean }>(),
  /** Hot swap: makes the running node reload validator_key.json (SIGHUP to neard), as nearcore's hot swap does. */
  reloadValidatorKey: activity(reloadValidatorKeyInput).returns<void>(),

  /** Compares the DB version of the node's data with what a binary writes (run on the node's host). */
  checkDatabase: activity(checkDatabaseInput).returns<DatabaseCheck>(),
};
