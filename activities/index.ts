/**
 * Every activity the worker registers, built from its dependencies (no globals), so tests build the same
 * set against their own hosts and chains.
 */
import type { SshConnectionProvider } from '../src/ssh/connection.js';
import type { NearSignerResolver } from '../src/secrets/near-signer.js';
import type { SubstrateSignerResolver } from '../src/secrets/substrate-signer.js';
import { createHostActivities } from './host/index.js';
import { createNearActivities } from './near/index.js';
import type { NearActivities } from './near/types.js';
import { createPolkadotActivities } from './polkadot/index.js';
import type { PolkadotActivities } from './polkadot/types.js';

export interface ActivityDeps {
  connections: SshConnectionProvider;
  heartbeatIntervalMs?: number;
  /** Resolves NEAR signer references (default: the worker's environment and files). */
  resolveNearSigner?: NearSignerResolver;
  /** Resolves Substrate signer references (default: the worker's environment and files). */
  resolveSubstrateSigner?: SubstrateSignerResolver;
}

export function createActivities(deps: ActivityDeps) {
  const near = createNearActivities(deps);
  const polkadot = createPolkadotActivities(deps);
  return {
    ...createHostActivities(deps),
    ...near,
    ...polkadot,
    lookNodeSynced: lookNodeSyncedOfEitherChain(near, polkadot),
  };
}

/**
 * Both runbooks wait for sync under the one activity name `lookNodeSynced`, with the same input shape: a
 * Polkadot node is reached over WebSocket (ws://, wss://), a NEAR node over HTTP.
 */
function lookNodeSyncedOfEitherChain(
  near: Pick<NearActivities, 'lookNodeSynced'>,
  polkadot: Pick<PolkadotActivities, 'lookNodeSynced'>,
) {
  const isWebSocket = (input: unknown) =>
    typeof input === 'object' &&
    input !== null &&
    /^wss?:/i.test(String((input as { nodeRpcUrl?: unknown }).nodeRpcUrl));
  return ((input: Parameters<NearActivities['lookNodeSynced']>[0]) =>
    isWebSocket(input)
      ? polkadot.lookNodeSynced(input)
      : near.lookNodeSynced(input)) as NearActivities['lookNodeSynced'] & PolkadotActivities['lookNodeSynced'];
}

export type Activities = ReturnType<typeof createActivities>;
