/**
 * The contract of the read-only checks for `vup plan` that no other activity answers: whether the worker can
 * resolve a signer reference. They answer only with the key's public part.
 */
import { z } from 'zod';
import { nearAccountId } from '../../config/identities.js';
import { signerSchema } from '../../config/signers.js';
import { activity } from './activity.js';

export const nearSignerCheckInput = z.strictObject({
  signer: signerSchema,
  networkId: z.string().min(1),
  accountId: nearAccountId,
});

export const substrateSignerCheckInput = z.strictObject({
  signer: signerSchema,
  /** The SS58 account the key must be of. */
  address: z.string().min(1),
  role: z.string().optional(),
});

export interface SignerFound {
  /** The public key (NEAR) or the SS58 address (Substrate) of the key the reference leads to. */
  publicKey: string;
}

export const preflightContracts = {
  /** Resolves a NEAR signer reference for `accountId` as the stake would, and returns its public key only. */
  checkNearSigner: activity(nearSignerCheckInput).returns<SignerFound>(),
  /** Resolves a Substrate signer reference for `address` as set-keys would, and returns the address only. */
  checkSubstrateSigner: activity(substrateSignerCheckInput).returns<SignerFound>(),
};
