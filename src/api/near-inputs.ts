/**
 * The inputs of the four NEAR upgrade workflows: one strict zod schema each, giving the TypeScript type,
 * the JSON Schema under schemas/ (src/config/write-json-schema.ts) and the messages an operator reads when
 * an input is wrong. The workflows parse their input with these first thing, inside the sandbox, so this
 * module imports nothing but zod (src/config's schemas pull in Node builtins and chain libraries).
 *
 * Inputs name hosts, paths, services and signer references, never a secret.
 */
import { z } from 'zod';
import type { ValidatorIdentity } from './identity.js';

// --- small pieces (sandbox-safe twins of src/config/primitives.ts; a unit test keeps them in step) ---

const identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting alphanumeric');

const absolutePath = z.string().superRefine((p, ctx) => {
  const problem = absolutePathProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The first thing wrong with a path (what src/config/primitives.ts says, without node:path). */
function absolutePathProblem(p: string): string | undefined {
  if (!p.startsWith('/')) return 'must be an absolute path (starting with "/")';
  const segments = p.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return 'must not contain "." or ".." segments';
  if (p.includes('//') || (p !== '/' && p.endsWith('/'))) return 'must be a normalized path (no "//")';
  if (/[\0\n]/.test(p)) return 'must not contain NUL or newline characters';
  return undefined;
}

const serviceName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$/,
    'must be a plain service name (letters, digits, "_", ".", "@", ":", "-"; no spaces or shell characters)',
  );

const commandArgv = z.array(z.string().min(1)).min(1, 'must name a command');

const httpRpcUrl = z.url({
  protocol: /^https?$/,
  error: 'must be an http(s):// URL (neard serves JSON-RPC over HTTP)',
});

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, "_"), not its value');

/** NEAR account ids: 2-64 characters, lowercase alphanumerics separated by single ".", "-" or "_". */
export const nearAccountId = z
  .string()
  .regex(
    /^(?=.{2,64}$)(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/,
    'must be a NEAR account id: 2-64 characters, lowercase letters and digits joined by single ".", "-" or "_" (e.g. "mypool.poolv1.near")',
  );

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 digest: 64 lowercase hex characters');

const durationUnits: Record<string, number> = {
  ms: 1,
  s: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** A duration as people write it ("90 minutes", "2 days", "30s"), turned into milliseconds. */
export const duration = z
  .string()
  .regex(
    /^\d+(\.\d+)?\s*(ms|s|m|h|d|seconds?|minutes?|hours?|days?)$/,
    'must be a duration such as "30s", "90 minutes", "6 hours" or "3 days"',
  )
  .transform((text) => {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*(\w+)$/.exec(text)!;
    return Math.round(Number(amount) * durationUnits[unit!]!);
  });

// --- hosts and signers (twins of src/config/host.ts and the inventory's signers) ---

const pinnedHostKey = z
  .string()
  .trim()
  .refine(
    (v) =>
      /^SHA256:[A-Za-z0-9+/]{43}=?$/.test(v) ||
      /^(ssh-ed25519|ecdsa-sha2-nistp\d+|ssh-rsa) [A-Za-z0-9+/]+={0,3}( .*)?$/.test(v),
    {
      message: 'must be a pinned host key: an OpenSSH public key line ("ssh-ed25519 AAAA…") or "SHA256:<fingerprint>"',
    },
  );

export const nearHostSchema = z
  .strictObject({
    id: identifier,
    address: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9.:\-[\]]+$/, 'must be a hostname or an IP address'),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().regex(/^[a-z_][a-z0-9_-]*[$]?$/, 'must be a POSIX user name'),
    hostKey: pinnedHostKey,
    auth: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('agent') }),
      z.strictObject({
        type: z.literal('keyFile'),
        path: absolutePath,
        passphraseEnv: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
          .optional(),
      }),
    ]),
    serviceManager: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('systemd'), sudo: z.boolean().default(false) }),
        z.strictObject({ type: z.literal('commands'), start: commandArgv, stop: commandArgv, isActive: commandArgv }),
      ])
      .default({ type: 'systemd', sudo: false }),
  })
  .describe('How to reach the machine over SSH, with its host key pinned.');

export const signerSpecSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ id: identifier, type: z.literal('env'), variable: envVarName }),
    z.strictObject({
      id: identifier,
      type: z.literal('file'),
      path: absolutePath,
      passphraseEnv: envVarName.optional(),
    }),
    z.strictObject({ id: identifier, type: z.literal('keystore-dir'), path: absolutePath }),
  ])
  .describe('Where the worker finds the key at run time (an environment variable, a key file, a near-cli folder).');

// --- the NEAR parts every workflow shares ---

export const nearValidatorRef = z
  .strictObject({
    network: z.enum(['mainnet', 'testnet', 'localnet']),
    accountId: nearAccountId.describe('The validator account: the staking pool, or the directly staking account.'),
  })
  .describe('The validator identity; the workflow id must be upgrade-near-<network>-<accountId>.');

export const nearNodeRefSchema = z
  .strictObject({
    host: nearHostSchema,
    home: absolutePath.describe('The neard home (config.json, data/, validator_key.json).'),
    service: serviceName.describe('The service that runs neard on the host.'),
    rpcUrl: httpRpcUrl.describe("The node's own JSON-RPC; its status tells the key it signs with."),
    binary: absolutePath.describe('The neard the service runs; an upgrade installs the new release here.'),
  })
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
      .strictObject({ type: z.literal('pool'), ownerId: nearAccountId, signer: signerSpecSchema })
      .describe('A staking pool: its owner calls update_staking_key.'),
    z
      .strictObject({ type: z.literal('direct'), signer: signerSpecSchema })
      .describe('The account stakes itself with a Stake action.'),
  ])
  .describe('Who stakes with the new key, and with which signer.');

const common = {
  validator: nearValidatorRef,
  networkRpcUrl: httpRpcUrl.describe(
    'An RPC of the network (a synced node or a public endpoint) for epochs and staking.',
  ),
  manualApproval: z.boolean().default(false).describe('Hold for an `approve` update before each irreversible step.'),
};

/** Upper bounds of the waits (durations such as "6 hours"); the defaults fit mainnet's ~12-hour epochs. */
const timeoutsDescription = 'How long each wait may take before the upgrade gives up.';

// --- the four inputs ---

export const nearZeroDowntimeInput = z
  .strictObject({
    ...common,
    staking: nearStakingInput,
    oldNode: nearNodeRefSchema.describe('The node validating now; stopped once the new key is current.'),
    newNode: nearNodeRefSchema.describe('The node to take over, with a validator key of its own (generated there).'),
    release: nearReleaseSchema.describe('The release the new node runs (staged on its host).'),
    timeouts: z
      .strictObject({
        sync: duration.prefault('2 days').describe('The new node reaching the head.'),
        keyActive: duration.prefault('3 days').describe('The new key becoming current (T+2 epochs).'),
        signing: duration.prefault('1 hour').describe('The new node producing once its key is current.'),
      })
      .prefault({})
      .describe(timeoutsDescription),
  })
  .meta({ title: 'nearZeroDowntimeUpgrade input' });

export const nearSyncAndSwapInput = z
  .strictObject({
    ...common,
    node: nearNodeRefSchema.describe(
      'The validator node: it keeps its key and gets the synced data and the new binary.',
    ),
    syncNode: nearNodeRefSchema.describe(
      'A node without a validator key on the same host and filesystem, that syncs with the new binary.',
    ),
    release: nearReleaseSchema.describe('The release, staged on the host.'),
    timeouts: z
      .strictObject({
        sync: duration.prefault('2 days').describe('The sync node reaching the head.'),
        resync: duration.prefault('2 hours').describe('The validator node catching up after the swap.'),
        signing: duration.prefault('1 hour').describe('The validator node producing again.'),
      })
      .prefault({})
      .describe(timeoutsDescription),
  })
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
  .meta({ title: 'nearSyncAndSwapUpgrade input' });

export const nearStopAndRestartInput = z
  .strictObject({
    ...common,
    node: nearNodeRefSchema.describe('The validator node to upgrade in place.'),
    release: nearReleaseSchema.describe('The release, staged on the host.'),
    timeouts: z
      .strictObject({
        migration: duration
          .prefault('7 days')
          .describe('Only a limit for reporting: a running database migration is never interrupted.'),
        sync: duration.prefault('6 hours').describe('The node catching up after the restart.'),
        signing: duration.prefault('1 hour').describe('The node producing again.'),
      })
      .prefault({})
      .describe(timeoutsDescription),
  })
  .meta({ title: 'nearStopAndRestartUpgrade input' });

export const nearKeyHotSwapInput = z
  .strictObject({
    ...common,
    primary: nearNodeRefSchema.describe('The node validating now; it is stopped before the standby gets the key.'),
    standby: nearNodeRefSchema.describe('A synced node (tracking the validator’s shard) that takes over the key.'),
    release: nearReleaseSchema
      .optional()
      .describe('A release to install on the standby before it takes over (staged on its host).'),
    timeouts: z
      .strictObject({
        sync: duration.prefault('2 days').describe('The standby reaching the head.'),
        signing: duration.prefault('30 minutes').describe('The standby producing with the key.'),
      })
      .prefault({})
      .describe(timeoutsDescription),
  })
  .refine((i) => i.primary.rpcUrl !== i.standby.rpcUrl, {
    message: 'primary and standby must be different nodes',
    path: ['standby'],
  })
  .meta({ title: 'nearValidatorKeyHotSwap input' });

export type NearZeroDowntimeInput = z.input<typeof nearZeroDowntimeInput>;
export type NearSyncAndSwapInput = z.input<typeof nearSyncAndSwapInput>;
export type NearStopAndRestartInput = z.input<typeof nearStopAndRestartInput>;
export type NearKeyHotSwapInput = z.input<typeof nearKeyHotSwapInput>;

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
