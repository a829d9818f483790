/**
 * The four NEAR upgrade workflows, in two schemas each:
 *
 * - the **input** a person or a service starts the workflow with: the validator (its on-chain identity), the
 *   inventory node ids that play each role when not the validator's primary and standby, the release and
 *   options. It names no host, path, command, RPC or signer: those come only from the worker's inventory.
 *   It gives the TypeScript type, the JSON Schema under schemas/ and the messages an operator reads.
 * - the **targets** the workflow runs on: the same input with every role resolved against the worker's
 *   inventory (hosts, homes, services, binaries, RPCs, signer references) by the resolveUpgradeTargets
 *   activity. Runs started before inputs named ids carried their targets in the input (and replay so).
 *
 * The workflows parse both inside the sandbox, so this module imports only zod and the zod-only parts of
 * src/config (hosts, signers, paths), which the inventory uses too. Neither holds a secret.
 */
import { z } from 'zod';
import type { NodeRole } from './strategies.js';
import { nearAccountId } from '../config/identities.js';
import { absolutePath, httpRpcUrl, identifier, sha256Hex, waitLimit, waitLimits } from '../config/primitives.js';
import { signerSchema } from '../config/signers.js';
import { nearNodeRefSchema } from './contracts/near.js';
import type { ValidatorIdentity } from './identity.js';
import { deadlineField } from './deadline.js';

// --- the NEAR parts every workflow shares ---

export const nearValidatorRef = z
  .strictObject({
    network: z.enum(['mainnet', 'testnet', 'localnet']),
    accountId: nearAccountId.describe('The validator account: the staking pool, or the directly staking account.'),
  })
  .describe('The validator identity; the workflow id must be upgrade-near-<network>-<accountId>.');

/** A node the upgrade runs on: the activities' node reference, with the binary the upgrade installs to. */
const nearTargetNode = nearNodeRefSchema
  .extend({ binary: absolutePath.describe('The neard the service runs; an upgrade installs the new release here.') })
  .describe('A neard node: where it runs and how to reach it.');

export const nearReleaseSchema = z
  .strictObject({
    staged: absolutePath.describe(
      'Where the new neard waits on the host it is installed on (copied there beforehand).',
    ),
    sha256: sha256Hex.describe('Its sha256; the install refuses anything else.'),
    version: z.string().min(1).optional().describe('The release, for the operator ("2.4.0").'),
  })
  .describe('The neard release to install.');

export const nearStakingInput = z
  .discriminatedUnion('type', [
    z
      .strictObject({ type: z.literal('pool'), ownerId: nearAccountId, signer: signerSchema })
      .describe('A staking pool: its owner calls update_staking_key.'),
    z
      .strictObject({ type: z.literal('direct'), signer: signerSchema })
      .describe('The account stakes itself with a Stake action.'),
  ])
  .describe('Who stakes with the new key, and with which signer.');

const requestCommon = {
  validator: nearValidatorRef,
  manualApproval: z.boolean().default(false).describe('Hold for an `approve` update before each irreversible step.'),
  deadline: deadlineField,
};

const common = {
  ...requestCommon,
  networkRpcUrl: httpRpcUrl.describe(
    'An RPC of the network (a synced node or a public endpoint) for epochs and staking.',
  ),
};

/** A role played by one of the validator's nodes, named by its id in the worker's inventory. */
export const roleNode = (defaultRole: NodeRole, what: string) =>
  identifier
    .optional()
    .describe(
      `${what}: the id of one of the validator's nodes in the worker's inventory (default: its ${defaultRole}).`,
    );

/**
 * The nodes a strategy runs on, each written once: the inventory role that plays it by default and what it
 * does in the upgrade. The input names each by id (`input`), the targets carry it resolved (`targets`), and the
 * strategy table reads the roles (`roles`).
 */
export function strategyNodes<T extends z.ZodType, R extends Record<string, { role: NodeRole; does: string }>>(
  targetNode: T,
  nodes: R,
) {
  const each = <V>(part: (node: R[keyof R]) => V) =>
    Object.fromEntries(Object.entries(nodes).map(([field, node]) => [field, part(node as R[keyof R])])) as {
      [K in keyof R]: V;
    };
  return {
    roles: each((node) => node.role),
    input: each((node) => roleNode(node.role, node.does)),
    targets: each((node) => targetNode.describe(`${node.does}.`)),
  };
}

/** Two roles an input names must be two nodes (which node plays a role left out, the worker decides). */
export const differentNodes = <A extends string, B extends string>(a: A, b: B) =>
  [
    (input: Partial<Record<A | B, string>>) => input[a] === undefined || input[a] !== input[b],
    { message: `${b} must be another node than ${a}`, path: [b] as PropertyKey[] },
  ] as const;

/** Upper bounds of the waits (durations such as "6 hours"); the defaults fit mainnet's ~12-hour epochs. */

const zeroDowntimeTimeouts = waitLimits({
  sync: waitLimit('2 days', 'The new node reaching the head.'),
  keyActive: waitLimit('3 days', 'The new key becoming current (T+2 epochs).'),
  signing: waitLimit('1 hour', 'The new node producing once its key is current.'),
});

const syncAndSwapTimeouts = waitLimits({
  sync: waitLimit('2 days', 'The sync node reaching the head.'),
  resync: waitLimit('2 hours', 'The validator node catching up after the swap.'),
  signing: waitLimit('1 hour', 'The validator node producing again.'),
});

const stopAndRestartTimeouts = waitLimits({
  migration: waitLimit('7 days', 'Only a limit for reporting: a running database migration is never interrupted.'),
  sync: waitLimit('6 hours', 'The node catching up after the restart.'),
  signing: waitLimit('1 hour', 'The node producing again.'),
});

const hotSwapTimeouts = waitLimits({
  sync: waitLimit('2 days', 'The standby reaching the head.'),
  signing: waitLimit('30 minutes', 'The standby producing with the key.'),
});

// --- the four strategies: their nodes, then the input (nodes by id) and the targets (nodes resolved) ---

export const zeroDowntimeNodes = strategyNodes(nearTargetNode, {
  oldNode: { role: 'primary', does: 'The node validating now; stopped once the new key is current' },
  newNode: { role: 'standby', does: 'The node to take over, with a validator key of its own (generated there)' },
});
const zeroDowntimeRest = {
  release: nearReleaseSchema.describe('The release the new node runs (staged on its host).'),
  timeouts: zeroDowntimeTimeouts,
};

export const nearZeroDowntimeInput = z
  .strictObject({ ...requestCommon, ...zeroDowntimeNodes.input, ...zeroDowntimeRest })
  .refine(...differentNodes('oldNode', 'newNode'))
  .meta({ title: 'nearZeroDowntimeUpgrade input' });

export const nearZeroDowntimeTargets = z
  .strictObject({ ...common, staking: nearStakingInput, ...zeroDowntimeNodes.targets, ...zeroDowntimeRest })
  .meta({ title: 'nearZeroDowntimeUpgrade targets' });

export const syncAndSwapNodes = strategyNodes(nearTargetNode, {
  node: {
    role: 'primary',
    does: 'The validator node: it keeps its key and gets the synced data and the new binary',
  },
  syncNode: {
    role: 'sync',
    does: 'A node without a validator key on the same host and filesystem, that syncs with the new binary',
  },
});
const syncAndSwapRest = {
  release: nearReleaseSchema.describe('The release, staged on the host.'),
  timeouts: syncAndSwapTimeouts,
};

export const nearSyncAndSwapInput = z
  .strictObject({ ...requestCommon, ...syncAndSwapNodes.input, ...syncAndSwapRest })
  .refine(...differentNodes('node', 'syncNode'))
  .meta({ title: 'nearSyncAndSwapUpgrade input' });

export const nearSyncAndSwapTargets = z
  .strictObject({ ...common, ...syncAndSwapNodes.targets, ...syncAndSwapRest })
  .refine((i) => i.node.host.id === i.syncNode.host.id, {
    message: 'syncNode must be on the same host as node (the data folder moves by an atomic rename)',
    path: ['syncNode', 'host'],
  })
  .refine(
    (i) =>
      i.node.home !== i.syncNode.home && i.node.service !== i.syncNode.service && i.node.binary !== i.syncNode.binary,
    {
      message:
        'syncNode needs its own home, service and binary (installing its release must not touch the running validator)',
      path: ['syncNode'],
    },
  )
  .meta({ title: 'nearSyncAndSwapUpgrade targets' });

export const stopAndRestartNodes = strategyNodes(nearTargetNode, {
  node: { role: 'primary', does: 'The validator node to upgrade in place' },
});
const stopAndRestartRest = {
  release: nearReleaseSchema.describe('The release, staged on the host.'),
  timeouts: stopAndRestartTimeouts,
};

export const nearStopAndRestartInput = z
  .strictObject({ ...requestCommon, ...stopAndRestartNodes.input, ...stopAndRestartRest })
  .meta({ title: 'nearStopAndRestartUpgrade input' });

export const nearStopAndRestartTargets = z
  .strictObject({ ...common, ...stopAndRestartNodes.targets, ...stopAndRestartRest })
  .meta({ title: 'nearStopAndRestartUpgrade targets' });

export const keyHotSwapNodes = strategyNodes(nearTargetNode, {
  primary: { role: 'primary', does: 'The node validating now; it is stopped before the standby gets the key' },
  standby: { role: 'standby', does: 'A synced node (tracking the validator’s shard) that takes over the key' },
});
const keyHotSwapRest = {
  release: nearReleaseSchema
    .optional()
    .describe('A release to install on the standby before it takes over (staged on its host).'),
  timeouts: hotSwapTimeouts,
};

export const nearKeyHotSwapInput = z
  .strictObject({ ...requestCommon, ...keyHotSwapNodes.input, ...keyHotSwapRest })
  .refine(...differentNodes('primary', 'standby'))
  .meta({ title: 'nearValidatorKeyHotSwap input' });

export const nearKeyHotSwapTargets = z
  .strictObject({ ...common, ...keyHotSwapNodes.targets, ...keyHotSwapRest })
  .refine((i) => i.primary.rpcUrl !== i.standby.rpcUrl, {
    message: 'primary and standby must be different nodes',
    path: ['standby'],
  })
  .meta({ title: 'nearValidatorKeyHotSwap targets' });

export type NearZeroDowntimeInput = z.input<typeof nearZeroDowntimeInput>;
export type NearSyncAndSwapInput = z.input<typeof nearSyncAndSwapInput>;
export type NearStopAndRestartInput = z.input<typeof nearStopAndRestartInput>;
export type NearKeyHotSwapInput = z.input<typeof nearKeyHotSwapInput>;
export type NearZeroDowntimeTargets = z.input<typeof nearZeroDowntimeTargets>;

/** The schema of each workflow type's input (for the JSON Schema files and clients). */
export const nearWorkflowInputs = {
  nearZeroDowntimeUpgrade: nearZeroDowntimeInput,
  nearSyncAndSwapUpgrade: nearSyncAndSwapInput,
  nearStopAndRestartUpgrade: nearStopAndRestartInput,
  nearValidatorKeyHotSwap: nearKeyHotSwapInput,
} as const;

export const INVALID_INPUT_ERROR_TYPE = 'InvalidInput';

/** The validator identity of a NEAR input (its workflow id is derived from it). */
export function nearIdentity(validator: { network: string; accountId: string }): ValidatorIdentity {
  return { chain: 'near', network: validator.network, validator: validator.accountId };
}
