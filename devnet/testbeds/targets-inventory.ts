/**
 * The local networks describe an upgrade by its targets (the nodes, RPCs and signers it runs on, as the
 * worker resolves them). This splits such a description into what each side holds in production: the
 * worker's inventory (hosts, nodes, the validator, signer references) and the workflow input (the validator
 * by identity, its nodes by id, the release and options). The testbeds, the demo and the tests use it, so
 * every run goes through the worker's resolution exactly as a deployed one does.
 */
import { strategies, type StrategyInput, type StrategyName, type StrategyTargets } from '../../src/api/strategies.js';
import type { HostSpecInput } from '../../src/config/host.js';
import type { Inventory, InventoryInput, SignerSpec } from '../../src/config/inventory.js';
import type { InventorySource } from '../../src/config/inventory-source.js';
import { validateInventory } from '../../src/config/load-inventory.js';

export interface TargetsInventoryOptions {
  /** The inventory id of the node playing each role field (default: the field's name in lower case). */
  nodeIds?: Record<string, string>;
  /** The validator's inventory id (default "validator"). */
  validatorId?: string;
  /** Polkadot: the binary a node's service runs, where no release in the targets says it. */
  binaries?: Record<string, string>;
}

export interface InventoryAndInput<N extends StrategyName> {
  inventory: Inventory;
  input: StrategyInput<N>;
}

type Entry = Record<string, unknown>;
type NodeRefLike = { host: HostSpecInput; service: string; rpcUrl: string } & Entry;

export function inventoryForTargets<N extends StrategyName>(
  strategy: N,
  targets: StrategyTargets<N>,
  options: TargetsInventoryOptions = {},
): InventoryAndInput<N> {
  const all = targets as Entry;
  const roles = strategies[strategy].roles;
  const chain = strategy === 'polkadotValidatorSwapUpgrade' ? 'polkadot' : 'near';
  const hosts = new Map<string, HostSpecInput>();
  const nodes: Entry[] = [];
  const validatorNodes: Record<string, string> = {};
  const input: Entry = { ...all };
  for (const field of ['networkRpcUrl', 'relayRpcUrl', 'genesisHash', 'staking', 'setKeys']) delete input[field];

  for (const [field, role] of Object.entries(roles)) {
    const ref = all[field] as NodeRefLike;
    const id = options.nodeIds?.[field] ?? field.toLowerCase();
    hosts.set(ref.host.id, ref.host);
    const { host, rpcUrl, ...rest } = ref;
    if (chain === 'near') nodes.push({ id, chain, host: host.id, ...rest, rpc: rpcUrl });
    else {
      const release = (field === 'nodeA' ? all.release : all.releaseB) as { installTo?: string } | undefined;
      const binary = release?.installTo ?? options.binaries?.[field] ?? '/usr/local/bin/polkadot';
      nodes.push({ id, chain, host: host.id, ...rest, binary, rpc: rpcUrl });
    }
    validatorNodes[role] = id;
    input[field] = id;
  }

  const signers: SignerSpec[] = [];
  const signerId = (spec: SignerSpec) => {
    if (!signers.some((s) => s.id === spec.id)) signers.push(spec);
    return spec.id;
  };
  const id = options.validatorId ?? 'validator';
  const identity = all.validator as Entry;
  let validator: Entry;
  if (chain === 'near') {
    const staking = all.staking as { type: 'pool' | 'direct'; ownerId?: string; signer: SignerSpec } | undefined;
    validator = {
      id,
      chain,
      network: identity.network,
      accountId: identity.accountId,
      staking: !staking
        ? { type: 'direct' }
        : staking.type === 'pool'
          ? { type: 'pool', owner: staking.ownerId, signer: signerId(staking.signer) }
          : { type: 'direct', signer: signerId(staking.signer) },
      nodes: validatorNodes,
      networkRpc: all.networkRpcUrl,
    };
  } else {
    const setKeys = all.setKeys as { submitTo: string; rpcUrl: string; signedBy: Entry & { signer: SignerSpec } };
    const { signer, ...signedBy } = setKeys.signedBy;
    validator = {
      id,
      chain,
      network: identity.network,
      stash: identity.stash,
      setKeys: {
        submitTo: setKeys.submitTo,
        rpc: setKeys.rpcUrl,
        signedBy: { ...signedBy, signer: signerId(signer) },
      },
      nodes: validatorNodes,
      networkRpc: all.relayRpcUrl,
      ...(all.genesisHash ? { genesisHash: all.genesisHash } : {}),
    };
    for (const field of ['release', 'releaseB']) {
      const release = input[field] as { installTo?: string } | undefined;
      if (release) {
        const { installTo: _, ...rest } = release;
        input[field] = rest;
      }
    }
  }

  const inventory: InventoryInput = {
    version: 1,
    hosts: [...hosts.values()],
    nodes: nodes as InventoryInput['nodes'],
    validators: [validator as InventoryInput['validators'][number]],
    signers,
  };
  return { inventory: validateInventory(inventory, `the ${strategy} targets`), input: input as StrategyInput<N> };
}

/** Several inventories as one (a worker serving several testbeds): the first listed wins an id. */
export function joinInventories(inventories: Inventory[]): Inventory {
  return {
    version: 1,
    hosts: inventories.flatMap((i) => i.hosts),
    nodes: inventories.flatMap((i) => i.nodes),
    validators: inventories.flatMap((i) => i.validators),
    signers: inventories.flatMap((i) => i.signers),
  };
}

/**
 * One fleet's inventory from each validator's: machines several validators share are listed once, and every
 * validator carries `label` (what a fleet selects by).
 */
export function fleetInventory(parts: Inventory[], label: string): Inventory {
  const joined = joinInventories(parts);
  return {
    ...joined,
    hosts: [...new Map(joined.hosts.map((h) => [h.id, h])).values()],
    validators: joined.validators.map((v) => ({ ...v, labels: [label] })),
  };
}

/** The inventory of a worker serving several testbeds at once: each adds its own and removes it when done. */
export class InventoryBook implements InventorySource {
  private inventories: Inventory[] = [];

  /** The newest first, so that of two testbeds with the same ids the one just started resolves. */
  add(inventory: Inventory): () => void {
    this.inventories.unshift(inventory);
    return () => {
      this.inventories = this.inventories.filter((i) => i !== inventory);
    };
  }

  current(): Inventory {
    return joinInventories(this.inventories);
  }
}
