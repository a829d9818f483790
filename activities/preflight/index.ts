/**
 * Read-only checks for `vup plan` that no other activity answers: whether the worker can resolve a signer
 * reference. They load the key to prove it is there and answer only with its public part; the secret never
 * leaves the worker's memory.
 */
import { ApplicationFailure } from '@temporalio/common';
import { preflightContracts } from '../../src/api/contracts/preflight.js';
import { SignerError } from '../../src/secrets/errors.js';
import { resolveNearSigner, type NearSignerResolver } from '../../src/secrets/near-signer.js';
import { resolveSubstrateSigner, type SubstrateSignerResolver } from '../../src/secrets/substrate-signer.js';
import { implement } from '../contract.js';

export interface PreflightActivityDeps {
  resolveNearSigner?: NearSignerResolver;
  resolveSubstrateSigner?: SubstrateSignerResolver;
}

async function reportingSignerErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SignerError) throw ApplicationFailure.nonRetryable(err.message, err.type);
    throw err;
  }
}

export function createPreflightActivities(deps: PreflightActivityDeps) {
  const resolveNear = deps.resolveNearSigner ?? resolveNearSigner;
  const resolveSubstrate = deps.resolveSubstrateSigner ?? resolveSubstrateSigner;
  return implement(preflightContracts, {
    /** Resolves a NEAR signer reference for `accountId` as the stake would, and returns its public key only. */
    checkNearSigner: async (input) => {
      return reportingSignerErrors(async () => {
        const found = await resolveNear(input.signer, { networkId: input.networkId, accountId: input.accountId });
        return { publicKey: found.publicKey };
      });
    },

    /** Resolves a Substrate signer reference for `address` as set-keys would, and returns the address only. */
    checkSubstrateSigner: async (input) => {
      return reportingSignerErrors(async () => {
        const pair = await resolveSubstrate(input.signer, { address: input.address, role: input.role });
        return { publicKey: pair.address };
      });
    },
  });
}
