/**
 * `polkadotValidatorSwapUpgrade` in two schemas, as the NEAR workflows (near-inputs.ts): the **input** names
 * the validator (network and stash), which of its inventory nodes are A and B when not its primary and
 * standby, the releases and options; the **targets** are that input with A, B, the relay RPC and the
 * set-keys route resolved against the worker's inventory. The workflow parses both inside the sandbox, so
 * this module imports only zod and the zod-only parts of src/config. Neither holds a secret.
 */
import { z } from 'zod';
import { genesisHash, polkadotNetwork, type PolkadotNetwork } from '../config/identities.js';
import { absolutePath, rpcUrl, sha256Hex, waitLimit, waitLimits } from '../config/primitives.js';
import { differentNodes, strategyNodes } from './near-inputs.js';
import { ss58Address, stashPrefixIssue } from '../config/ss58.js';
import { polkadotNodeRefSchema, setKeysRouteSchema } from './contracts/polkadot.js';
import type { IdentityIssue, ValidatorIdentity } from './identity.js';
import { deadlineField } from './deadline.js';

export { ss58Address };

export const polkadotValidatorRef = z
  .strictObject({
    chain: z.literal('polkadot').default('polkadot'),
    network: polkadotNetwork.describe('The relay chain; "local" is a local test network.'),
    stash: ss58Address.describe(
      "The stash account, in its network's SS58 form: the session keys and their ownership proof are for it.",
    ),
  })
  .describe('The validator identity; the workflow id must be upgrade-polkadot-<network>-<stash>.');

const releaseFields = {
  staged: absolutePath.describe('Where the new polkadot binary waits on the host (copied there beforehand).'),
  sha256: sha256Hex.describe('Its sha256; the install refuses anything else.'),
  version: z.string().min(1).optional().describe('The release, for the operator ("1.20.0").'),
};

/** A release as the input names it: installed where the inventory says the node's service runs polkadot. */
export const polkadotReleaseRequest = z
  .strictObject(releaseFields)
  .describe('A polkadot release to install on one node (where its service runs polkadot, per the inventory).');

export const polkadotReleaseSchema = z
  .strictObject({
    ...releaseFields,
    installTo: absolutePath.describe(
      'The binary the service runs (e.g. /usr/local/bin/polkadot); replaced by the install.',
    ),
  })
  .describe('A polkadot release to install on one node.');

/** The route of the targets: the worker reads NextKeys on the relay the targets name (relayRpcUrl). */
const targetsSetKeysRoute = setKeysRouteSchema
  .omit({ relayRpcUrl: true })
  .describe('How the new session keys reach the chain.');

const handBack = z
  .boolean()
  .default(true)
  .describe(
    'true: the full round trip A → B → A (B stops at the end). false: end once B validates and A is stopped (upgraded if a release is given, else decommissioned).',
  );
const manualApproval = z
  .boolean()
  .default(false)
  .describe('Hold for an `approve` update before each irreversible step.');
const swapTimeouts = waitLimits({
  sync: waitLimit('2 days', 'A node reaching the head of the chain.'),
  keysActive: waitLimit(
    '1 day',
    'New keys becoming active: two to three sessions (4 h each on Polkadot, 1 h on Kusama).',
  ),
});
const needsReleaseToHandBack = {
  message: 'handing back to A needs the release to install on A',
  path: ['release'],
};

export const validatorSwapNodes = strategyNodes(polkadotNodeRefSchema, {
  nodeA: { role: 'primary', does: 'Node A, validating now; it is upgraded while B validates' },
  nodeB: {
    role: 'standby',
    does: 'Node B, the standby that takes over while A is upgraded: synced or able to sync, holding no keys of A',
  },
});

export const polkadotValidatorSwapInput = z
  .strictObject({
    validator: polkadotValidatorRef,
    ...validatorSwapNodes.input,
    release: polkadotReleaseRequest
      .optional()
      .describe('The release installed on A once B validates (staged on A’s host). Required when handing back.'),
    releaseB: polkadotReleaseRequest
      .optional()
      .describe('A release to install on B before it starts (staged on B’s host), if B is not on it already.'),
    handBack,
    manualApproval,
    deadline: deadlineField,
    timeouts: swapTimeouts,
  })
  .refine((i) => !i.handBack || i.release !== undefined, needsReleaseToHandBack)
  .refine(...differentNodes('nodeA', 'nodeB'))
  .meta({ title: 'polkadotValidatorSwapUpgrade input' });

export const polkadotValidatorSwapTargets = z
  .strictObject({
    validator: polkadotValidatorRef,
    relayRpcUrl: rpcUrl.describe(
      'An RPC of the relay chain (a synced node or an endpoint you trust) for sessions, keys and finality.',
    ),
    genesisHash: genesisHash
      .optional()
      .describe(
        "The relay chain's genesis hash: the check before acting, the waits and the set-keys refuse an RPC of another chain (WrongChain).",
      ),
    ...validatorSwapNodes.targets,
    release: polkadotReleaseSchema
      .optional()
      .describe('The release installed on A once B validates (staged on A’s host). Required when handing back.'),
    releaseB: polkadotReleaseSchema
      .optional()
      .describe('A release to install on B before it starts (staged on B’s host), if B is not on it already.'),
    setKeys: targetsSetKeysRoute,
    handBack,
    manualApproval,
    deadline: deadlineField,
    timeouts: swapTimeouts,
  })
  .refine((i) => !i.handBack || i.release !== undefined, needsReleaseToHandBack)
  .refine(
    (i) =>
      i.nodeA.rpcUrl !== i.nodeB.rpcUrl &&
      (i.nodeA.host.id !== i.nodeB.host.id || i.nodeA.basePath !== i.nodeB.basePath),
    {
      message: 'nodeA and nodeB must be different nodes (their own RPC and keystore)',
      path: ['nodeB'],
    },
  )
  .meta({ title: 'polkadotValidatorSwapUpgrade targets' });

export type PolkadotValidatorSwapInput = z.input<typeof polkadotValidatorSwapInput>;
export type PolkadotValidatorSwapTargets = z.input<typeof polkadotValidatorSwapTargets>;
export type PolkadotValidatorSwapParsed = z.output<typeof polkadotValidatorSwapTargets>;

/** The schema of each Polkadot workflow type's input (for the JSON Schema files and clients). */
export const polkadotWorkflowInputs = {
  polkadotValidatorSwapUpgrade: polkadotValidatorSwapInput,
} as const;

/**
 * The stash is one identity written one way, its network's SS58 form (see src/config/ss58.ts). Kept out of the
 * schema so that runs started before the rule replay as they ran (the workflow applies it behind a patch).
 */
export function polkadotIdentityIssue(validator: {
  network: PolkadotNetwork;
  stash: string;
}): IdentityIssue | undefined {
  const message = stashPrefixIssue(validator.network, validator.stash);
  return message ? { path: 'validator.stash', message } : undefined;
}

export function polkadotIdentity(validator: { network: string; stash: string }): ValidatorIdentity {
  return { chain: 'polkadot', network: validator.network, validator: validator.stash };
}
