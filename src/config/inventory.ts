/**
 * The inventory: the operator's description of their fleet (hosts, nodes, validators, signer references).
 * Workflow inputs are resolved from it. It names secrets by reference only, never by value.
 */
import { z } from 'zod';
import { genesisHash, nearAccountId, nearNetwork, polkadotNetwork, setKeysChain, ss58Address } from './chains.js';
import { hostSchema } from './host.js';
import { notificationsSchema } from './notifications.js';
import { checkInventoryReferences } from './inventory-references.js';
import { signerSchema } from './signers.js';
import { absolutePath, httpRpcUrl, identifier, rpcUrl, serviceName } from './primitives.js';

const signerRef = identifier.describe('The id of an entry in "signers".');

// --- signers: references only (signers.ts) ---

export { envSignerSchema, fileSignerSchema, keystoreDirSignerSchema, signerSchema } from './signers.js';

// --- nodes: one node process on one host ---

const nodeFields = {
  id: identifier,
  host: identifier.describe('The id of the host (in "hosts") this node runs on.'),
  service: serviceName.describe('The service (systemd unit) that runs the node, e.g. "neard" or "polkadot".'),
};

export const nearNodeSchema = z
  .strictObject({
    ...nodeFields,
    chain: z.literal('near'),
    home: absolutePath.describe(
      'The neard home folder (--home): config.json, node_key.json, validator_key.json and the data/ folder.',
    ),
    binary: absolutePath.describe('Where the service runs neard from; upgrades install the new binary here.'),
    rpc: httpRpcUrl.describe(
      'The node\'s JSON-RPC endpoint as the worker reaches it, e.g. "http://near-a.example.net:3030".',
    ),
  })
  .describe('A neard node.');

export const polkadotNodeSchema = z
  .strictObject({
    ...nodeFields,
    chain: z.literal('polkadot'),
    basePath: absolutePath.describe("The node's --base-path: chains/<chain id>/db and chains/<chain id>/keystore."),
    keystorePath: absolutePath
      .optional()
      .describe("The node's --keystore-path, when the keystore is not the default under basePath."),
    binary: absolutePath.describe(
      'Where the service runs polkadot from; its polkadot-prepare-worker and polkadot-execute-worker sit beside it.',
    ),
    rpc: rpcUrl.describe('The node\'s RPC endpoint as the worker reaches it, e.g. "ws://dot-a.example.net:9944".'),
  })
  .describe('A Polkadot (relay-chain) node.');

export const nodeSchema = z.discriminatedUnion('chain', [nearNodeSchema, polkadotNodeSchema]);

// --- validators: one on-chain identity, the nodes that run it, and who signs for it ---

const validatorNodesSchema = z
  .strictObject({
    primary: identifier.describe('The id of the node (in "nodes") that runs the validator now.'),
    standby: identifier
      .optional()
      .describe('The id of a second node that syncs and takes over during an upgrade (new node, swap target).'),
    sync: identifier
      .optional()
      .describe(
        "NEAR sync and swap: the id of a node on the primary's machine, without a validator key, that syncs the new release for the primary to take its data folder.",
      ),
  })
  .describe('The nodes that run this validator. Only one of them ever signs at a time.');

export const nearStakingSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('pool'),
      owner: nearAccountId.describe(
        "The pool's owner_id: the only account allowed to call update_staking_key on the pool contract.",
      ),
      signer: signerRef
        .optional()
        .describe('A signer with a full-access key of the owner account (needed to stake with a new key).'),
    })
    .describe('The validator account is a staking-pool contract; its owner changes the staking key.'),
  z
    .strictObject({
      type: z.literal('direct'),
      signer: signerRef
        .optional()
        .describe('A signer with a full-access key of the validator account (needed to stake with a new key).'),
    })
    .describe('The validator account stakes itself with Stake actions.'),
]);

/** Free-form tags a fleet selects validators by (e.g. "eu", "canary-ok"). */
const validatorLabels = z
  .array(z.string().min(1).max(63))
  .optional()
  .describe('Labels a fleet upgrade can select this validator by (`select.labels`).');

export const nearValidatorSchema = z
  .strictObject({
    id: identifier,
    chain: z.literal('near'),
    network: nearNetwork,
    accountId: nearAccountId.describe(
      'The validator account: the staking pool (e.g. "mypool.poolv1.near") or, for direct staking, the staking account. validator_key.json names it.',
    ),
    staking: nearStakingSchema,
    nodes: validatorNodesSchema,
    labels: validatorLabels,
    networkRpc: httpRpcUrl.describe(
      'An RPC of the network (a synced node of your own or an endpoint you trust) for epochs, staking and the chain waits.',
    ),
  })
  .describe('A NEAR validator.');

export const setKeysSignerSchema = z.discriminatedUnion('type', [
  z
    .strictObject({ type: z.literal('stash'), signer: signerRef.describe('A signer with the stash account key.') })
    .describe('The stash signs the call itself.'),
  z
    .strictObject({
      type: z.literal('proxy'),
      proxyType: z
        .enum(['Staking', 'StakingOperator'])
        .describe('The proxy type the stash granted; the call is wrapped in proxy.proxy(stash, Some(proxyType), …).'),
      account: ss58Address.describe('The proxy account.'),
      signer: signerRef.describe('A signer with the proxy account key.'),
    })
    .describe('A proxy of the stash signs, wrapping the call in proxy.proxy.'),
]);

export const setKeysSchema = z
  .strictObject({
    submitTo: setKeysChain,
    rpc: rpcUrl.describe('The RPC endpoint of that chain, used to submit the call.'),
    signedBy: setKeysSignerSchema,
  })
  .describe('How new session keys are registered on chain.');

export const polkadotValidatorSchema = z
  .strictObject({
    id: identifier,
    chain: z.literal('polkadot'),
    network: polkadotNetwork,
    genesisHash: genesisHash
      .optional()
      .describe(
        "The relay chain's genesis hash: every RPC the worker reads or submits to must answer for it. Known for polkadot, kusama, westend and paseo (leave it out, or give that one); give it for a local chain.",
      ),
    stash: ss58Address.describe('The stash account (SS58): the session keys and their ownership proof are for it.'),
    setKeys: setKeysSchema,
    nodes: validatorNodesSchema,
    labels: validatorLabels,
    networkRpc: rpcUrl.describe(
      'An RPC of the relay chain (a synced node of your own or an endpoint you trust) for sessions, keys and finality.',
    ),
  })
  .describe('A Polkadot, Kusama or test-network validator.');

export const validatorSchema = z.discriminatedUnion('chain', [nearValidatorSchema, polkadotValidatorSchema]);

export const inventorySchema = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema this file follows (for editors).'),
    version: z.literal(1).describe('The inventory format version.'),
    hosts: z.array(hostSchema).describe('Machines reached over SSH, each with a pinned host key.'),
    nodes: z.array(nodeSchema).describe('Node processes: which host, home folder, service, binary and RPC.'),
    validators: z.array(validatorSchema).describe('On-chain validator identities and the nodes that run them.'),
    signers: z
      .array(signerSchema)
      .default([])
      .describe('Where the worker finds signing keys at run time: references only, never the secret itself.'),
    notifications: notificationsSchema.optional(),
  })
  // `when`: run the reference checks even when some fields are invalid, so every problem is reported at once.
  .superRefine(
    (value, ctx) => {
      for (const problem of checkInventoryReferences(value)) ctx.addIssue({ code: 'custom', ...problem });
    },
    { when: () => true },
  )
  .meta({
    title: 'Validator fleet inventory',
    description:
      'Hosts, nodes, validators and signer references for NEAR and Polkadot validator upgrades. Secrets are referenced, never written here.',
  });

export type Inventory = z.infer<typeof inventorySchema>;
export type InventoryInput = z.input<typeof inventorySchema>;
export type { SignerSpec } from './signers.js';
export type NodeSpec = z.infer<typeof nodeSchema>;
export type NearNodeSpec = z.infer<typeof nearNodeSchema>;
export type PolkadotNodeSpec = z.infer<typeof polkadotNodeSchema>;
export type ValidatorSpec = z.infer<typeof validatorSchema>;
