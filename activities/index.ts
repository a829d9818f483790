/**
 * Every activity the worker registers, built from its dependencies (no globals), so tests build the same
 * set against their own hosts and chains.
 */
import type { InventorySource } from '../src/config/inventory-source.js';
import type { SshConnectionProvider } from '../src/ssh/connection.js';
import type { NearSignerResolver } from '../src/secrets/near-signer.js';
import type { SubstrateSignerResolver } from '../src/secrets/substrate-signer.js';
import { createHostActivities } from './host/index.js';
import { createInventoryActivities, withinInventory } from './inventory/index.js';
import { createNearActivities } from './near/index.js';
import { createNotifyActivities } from './notify/index.js';
import { createPolkadotActivities } from './polkadot/index.js';
import { createPreflightActivities } from './preflight/index.js';

export interface ActivityDeps {
  connections: SshConnectionProvider;
  heartbeatIntervalMs?: number;
  /** Resolves NEAR signer references (default: the worker's environment and files). */
  resolveNearSigner?: NearSignerResolver;
  /** Resolves Substrate signer references (default: the worker's environment and files). */
  resolveSubstrateSigner?: SubstrateSignerResolver;
  /**
   * The worker's inventory: upgrades resolve their targets from it, and with it every host and signer an
   * activity is handed must be the inventory's. Without it (some tests of single activities) nothing resolves
   * and nothing is checked.
   */
  inventory?: InventorySource;
}

export function createActivities(deps: ActivityDeps) {
  const checked = deps.inventory ? withinInventory(deps, deps.inventory) : deps;
  return {
    ...createInventoryActivities(deps),
    ...createHostActivities(checked),
    ...createNearActivities(checked),
    ...createPolkadotActivities(checked),
    ...createPreflightActivities(checked),
    ...createNotifyActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

// A worker registers each activity once, by name: the layers' activities must not share a name (this fails
// to compile if they do).
type Shared<A, B> = Extract<keyof A, keyof B>;
type NoneShared<T extends never> = T;
type HostActivitySet = ReturnType<typeof createHostActivities>;
type NearActivitySet = ReturnType<typeof createNearActivities>;
type PolkadotActivitySet = ReturnType<typeof createPolkadotActivities>;
type PreflightActivitySet = ReturnType<typeof createPreflightActivities>;
type InventoryActivitySet = ReturnType<typeof createInventoryActivities>;
type NotifyActivitySet = ReturnType<typeof createNotifyActivities>;
export type _ActivityNamesAreUnique = [
  NoneShared<
    Shared<InventoryActivitySet, HostActivitySet & NearActivitySet & PolkadotActivitySet & PreflightActivitySet>
  >,
  NoneShared<Shared<HostActivitySet, NearActivitySet>>,
  NoneShared<Shared<HostActivitySet, PolkadotActivitySet>>,
  NoneShared<Shared<NearActivitySet, PolkadotActivitySet>>,
  NoneShared<Shared<PreflightActivitySet, HostActivitySet & NearActivitySet & PolkadotActivitySet>>,
  NoneShared<
    Shared<
      NotifyActivitySet,
      InventoryActivitySet & HostActivitySet & NearActivitySet & PolkadotActivitySet & PreflightActivitySet
    >
  >,
];
