/**
 * Inputs of the NEAR activities: plain JSON naming RPC endpoints, accounts, keys by their public part, nodes
 * and signer references, never a secret. A malformed input is a caller's bug that no retry fixes.
 */
import { z } from 'zod';
import { nearAccountId, nearNetwork } from '../../src/config/chains.js';
import { hostSchema } from '../../src/config/host.js';
import { signerSchema } from '../../src/config/inventory.js';
import { absolutePath, httpRpcUrl, serviceName } from '../../src/config/primitives.js';

const publicKey = z.string().regex(/^ed25519:[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'must be an ed25519 public key');
const keyStage = z.enum(['absent', 'proposed', 'next', 'current']);

export const nearNodeRefSchema = z.strictObject({
  host: hostSchema,
  home: absolutePath,
  service: serviceName,
  rpcUrl: httpRpcUrl,
  binary: absolutePath.optional(),
});

export const rpcInput = z.strictObject({ rpcUrl: httpRpcUrl });
export const keyStandingInput = z.strictObject({ rpcUrl: httpRpcUrl, accountId: nearAccountId, publicKey });
export const lookNodeSyncedInput = z.strictObject({
  nodeRpcUrl: httpRpcUrl,
  networkRpcUrl: httpRpcUrl,
  maxLagBlocks: z.number().int().nonnegative().optional(),
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
  rpcUrl: httpRpcUrl,
  networkId: nearNetwork,
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
  tag: keyFileTag,
  slotWaitMs: z.number().int().nonnegative().optional(),
});
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
export const withdrawValidatorKeyInput = z.strictObject({ node: nearNodeRefSchema, tag: keyFileTag });
