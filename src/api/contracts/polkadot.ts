/**
 * The Polkadot activities' contract: the inputs (plain JSON naming RPC endpoints, accounts in SS58, session
 * keys by their public part, nodes and signer references, never a secret), the answers, and, in failures.ts,
 * the failures. The activities, `polkadotValidatorSwapUpgrade` and src/polkadot all take their types from
 * here. Session keys are public keys: their secrets stay in the node's keystore.
 */
import { z } from 'zod';
import { hostSchema } from '../../config/host.js';
import { absolutePath, rpcUrl, serviceName } from '../../config/primitives.js';
import { signerSchema } from '../../config/signers.js';
import { genesisHash, setKeysChain } from '../../config/identities.js';
import { ss58Address } from '../../config/ss58.js';
import { SYNCED_LAG_BLOCKS, type ChainObservation } from '../chain-observation.js';
import type { SignerObservation } from '../signer-evidence.js';
import type { ValidatorCounters } from '../validator-counters.js';
import { activity } from './activity.js';

const hexBytes = z.string().regex(/^0x([0-9a-fA-F]{2})+$/, 'must be hex bytes ("0x…")');
/** Becomes a file name on the node's host: no separators, no dot files. */
const upgradeId = z
  .string()
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/, 'must be letters, digits, ".", "_" or "-" (a file name)');

export const polkadotNodeRefSchema = z
  .strictObject({
    host: hostSchema,
    basePath: absolutePath.describe("The node's --base-path (its keystore lives below it)."),
    service: serviceName.describe('The service that runs the node on the host.'),
    rpcUrl: rpcUrl.describe(
      "The node's own RPC (localhost on its host or tunnelled): the key RPCs (author_*) are served only by the node itself.",
    ),
  })
  .describe('A polkadot node: where it runs and how to reach it.');
/** A polkadot node: where it runs, its base path (keystore below it) and its own RPC. */
export type PolkadotNodeRef = z.infer<typeof polkadotNodeRefSchema>;

/** How session keys reach the chain: relay `session.setKeys` or Asset Hub `stakingRcClient.setKeys`. */
export const setKeysRouteSchema = z
  .strictObject({
    submitTo: setKeysChain,
    rpcUrl: rpcUrl.describe('An RPC of that chain, used to submit the call.'),
    /**
     * The relay's RPC, where Session.NextKeys is read before submitting (idempotency) and after. Needed when
     * submitTo is 'asset-hub' (Asset Hub keeps no Session pallet); for 'relay' it defaults to rpcUrl.
     */
    relayRpcUrl: rpcUrl.optional(),
    signedBy: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('stash'), signer: signerSchema }).describe('The stash signs the call itself.'),
        z
          .strictObject({
            type: z.literal('proxy'),
            proxyType: z
              .enum(['Staking', 'StakingOperator'])
              .describe('The proxy type the stash granted; the call is wrapped in proxy.proxy(stash, Some(type), …).'),
            account: ss58Address.describe('The proxy account.'),
            signer: signerSchema,
          })
          .describe('A proxy of the stash signs, wrapping the call in proxy.proxy.'),
      ])
      .describe(
        'Who signs: the stash, or a Staking / StakingOperator proxy of it (a reference to the key, never the key).',
      ),
  })
  .describe('How the new session keys reach the chain.');
export type SetKeysRoute = z.infer<typeof setKeysRouteSchema>;

export const rpcInput = z.strictObject({ rpcUrl });
/** The chain every RPC of a read must answer for: the inventory's relay chain (its genesis hash). */
const expectedGenesis = { genesisHash: genesisHash.optional() };
export const nodeHealthInput = rpcInput.extend(expectedGenesis);
export const lookNodeSyncedInput = z.strictObject({
  nodeRpcUrl: rpcUrl,
  networkRpcUrl: rpcUrl,
  maxLagBlocks: z.number().int().nonnegative().default(SYNCED_LAG_BLOCKS),
  ...expectedGenesis,
});
export const rotateKeysInput = z.strictObject({ node: polkadotNodeRefSchema, stash: ss58Address, upgradeId });
export const nodeHasKeysInput = z.strictObject({ nodeRpcUrl: rpcUrl, keys: hexBytes });
export const nodesHoldKeysInput = z.strictObject({ checks: z.array(nodeHasKeysInput).min(1).max(8) });
export const observePolkadotSignerInput = z.strictObject({
  node: polkadotNodeRefSchema,
  keys: hexBytes.optional(),
  knownHolderHomes: z.array(absolutePath).optional(),
});
export const setKeysInput = z.strictObject({
  route: setKeysRouteSchema,
  stash: ss58Address,
  keys: hexBytes,
  proof: hexBytes.optional(),
  ...expectedGenesis,
});
export const keysStandingInput = z.strictObject({ rpcUrl, stash: ss58Address, keys: hexBytes });
export const lookKeysActiveInput = keysStandingInput.extend({ nodeRpcUrl: rpcUrl, ...expectedGenesis });
export const stashKeysInput = z.strictObject({ rpcUrl, stash: ss58Address, ...expectedGenesis });

export interface NodeHealth {
  chain: string;
  /** chain_getBlockHash(0) (absent in results recorded before it was read). */
  genesisHash?: string;
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
  /**
   * When the finalized head was made (its Timestamp.Now, ISO 8601): a head that stays old is a halted chain, no
   * new blocks or no finality. Absent in results recorded before it was read.
   */
  finalizedTime?: string;
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

/*
 * `genesisHash`, where an input takes it: the RPCs read (or submitted to) must answer for that chain, else the
 * activity fails with WrongChain (final) before anything read from them is used.
 */
export const polkadotContracts = {
  nodeHealth: activity(nodeHealthInput).returns<NodeHealth>(),
  /**
   * Reached when the node is not syncing, has peers (where it should), and is within `maxLagBlocks` of the
   * network. Refused (WrongChain) when the node and the network RPC answer for different chains.
   */
  lookPolkadotNodeSynced: activity(lookNodeSyncedInput).returns<ChainObservation<NodeHealth>>(),
  sessionInfo: activity(rpcInput).returns<SessionInfo>(),

  /**
   * Generates session keys on the node: `author_rotateKeysWithOwner(stash)` with its proof, falling back to
   * `author_rotateKeys` where the node lacks it. Persists the public keys on the node's host
   * (<basePath>/upgrade-keys/<upgradeId>.json) BEFORE returning, and on a retry for the same upgradeId returns
   * those keys when the node still holds them, so a crash never loses keys or rotates twice.
   */
  rotateKeys: activity(rotateKeysInput).returns<RotatedKeys>(),
  /** author_hasSessionKeys on the node. */
  nodeHasKeys: activity(nodeHasKeysInput).returns<boolean>(),
  /** author_hasSessionKeys for each check, in order (a hand-over's signer checks in one activity). */
  nodesHoldKeys: activity(nodesHoldKeysInput).returns<boolean[]>(),
  /**
   * What the node's RPC says about `keys` and what its host shows (processes with its base path, holders of its
   * database lock, other nodes whose keystore holds one of the keys, except `knownHolderHomes`), looked at
   * several times across a short window. The workflow judges it (src/api/signer-evidence.ts).
   */
  observePolkadotSigner: activity(observePolkadotSignerInput).returns<SignerObservation>(),

  /**
   * Sets the stash's session keys through the route. Idempotent: reads NextKeys first and submits nothing if
   * they are already these keys. Waits for inclusion and finality; a dispatch error is named
   * (session.InvalidProof, proxy.NotProxy, system.CallFiltered…) and non-retryable.
   */
  setKeys: activity(setKeysInput).returns<SetKeysResult>(),

  keysStanding: activity(keysStandingInput).returns<KeysStanding>(),
  /**
   * The stash's keys on chain (NextKeys, QueuedKeys): how the swap learns A's keys before handing over, so it
   * can check that no other node holds them and that A is the one signing with them.
   */
  stashKeys: activity(stashKeysInput).returns<StashKeys>(),
  /**
   * Reached when the keys are active for the stash (queued → in the active set), the node reports it holds
   * them, and a block of that session is finalized. ETA: the next session boundary.
   */
  lookKeysActive: activity(lookKeysActiveInput).returns<ChainObservation<KeysStanding>>(),
};
