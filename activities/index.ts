/**
 * Every activity the worker registers, built from its dependencies (no globals), so tests build the same
 * set against their own hosts and chains.
 */
import type { SshConnectionProvider } from '../src/ssh/connection.js';
import type { NearSignerResolver } from '../src/secrets/near-signer.js';
import { createHostActivities } from './host/index.js';
import { createNearActivities } from './near/index.js';

export interface ActivityDeps {
  connections: SshConnectionProvider;
  heartbeatIntervalMs?: number;
  /** Resolves NEAR signer references (default: the worker's environment and files). */
  resolveNearSigner?: NearSignerResolver;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHostActivities(deps),
    ...createNearActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
