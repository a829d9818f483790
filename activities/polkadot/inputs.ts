/**
 * Inputs of the Polkadot activities: plain JSON naming RPC endpoints, accounts (SS58), session keys by their
 * public part, nodes and signer references, never a secret. A malformed input is a caller's bug that no retry
 * fixes.
 */
import { z } from 'zod';
import { ss58Address } from '../../src/config/chains.js';
import { hostSchema } from '../../src/config/host.js';
import { signerSchema } from '../../src/config/inventory.js';
import { absolutePath, rpcUrl, serviceName } from '../../src/config/primitives.js';

const hexBytes = z.string().regex(/^0x([0-9a-fA-F]{2})+$/, 'must be hex bytes ("0x…")');
/** Becomes a file name on the node's host: no separators, no dot files. */
const upgradeId = z
  .string()
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/, 'must be letters, digits, ".", "_" or "-" (a file name)');

export const polkadotNodeRefSchema = z.strictObject({
  host: hostSchema,
  basePath: absolutePath,
  service: serviceName,
  rpcUrl,
});

export const rpcInput = z.strictObject({ rpcUrl });
export const lookNodeSyncedInput = z.strictObject({
  nodeRpcUrl: rpcUrl,
  networkRpcUrl: rpcUrl,
  maxLagBlocks: z.number().int().nonnegative().optional(),
});
export const rotateKeysInput = z.strictObject({ node: polkadotNodeRefSchema, stash: ss58Address, upgradeId });
export const nodeHasKeysInput = z.strictObject({ nodeRpcUrl: rpcUrl, keys: hexBytes });
export const observePolkadotSignerInput = z.strictObject({
  node: polkadotNodeRefSchema,
  keys: hexBytes.optional(),
  knownHolderHomes: z.array(absolutePath).optional(),
});
export const setKeysInput = z.strictObject({
  route: z.strictObject({
    submitTo: z.enum(['relay', 'asset-hub']),
    rpcUrl,
    relayRpcUrl: rpcUrl.optional(),
    signedBy: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('stash'), signer: signerSchema }),
      z.strictObject({
        type: z.literal('proxy'),
        proxyType: z.enum(['Staking', 'StakingOperator']),
        account: ss58Address,
        signer: signerSchema,
      }),
    ]),
  }),
  stash: ss58Address,
  keys: hexBytes,
  proof: hexBytes.optional(),
});
export const keysStandingInput = z.strictObject({ rpcUrl, stash: ss58Address, keys: hexBytes });
export const lookKeysActiveInput = keysStandingInput.extend({ nodeRpcUrl: rpcUrl });
export const stashKeysInput = z.strictObject({ rpcUrl, stash: ss58Address });
