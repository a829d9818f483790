/**
 * The two ends of the trust boundary between whoever starts an upgrade and the worker that runs it:
 *
 * - `upgradeInputFor` turns an operator's request ("upgrade validator mypool with strategy X to this
 *   release") into the workflow input `start` sends: the validator by its on-chain identity, the release and
 *   options. Only the identity is read from the inventory the operator has at hand.
 * - `resolveUpgradeTargets` runs on the worker (the resolveUpgradeTargets activity): it finds the input's
 *   validator in the worker's own inventory and fills in everything an input may not name (hosts, homes,
 *   services, binaries, RPCs and signer references). Roles come from the inventory: the validator's primary
 *   node is the one validating now, its standby the node that syncs or takes over; an input may swap them,
 *   never name a node that is not the validator's.
 */
import { strategies, type NodeRole, type StrategyName } from './strategies.js';
import type { Inventory, NearNodeSpec, NodeSpec, PolkadotNodeSpec, ValidatorSpec } from '../config/inventory.js';
import { decodeSs58 } from '../config/ss58.js';
import { KNOWN_GENESIS_HASHES } from '../config/identities.js';

export interface UpgradeRequest {
  /** The id of an entry of the inventory's "validators". */
  validator: string;
  strategy: StrategyName;
  release?: { staged: string; sha256: string; version?: string };
  /** Polkadot: a release to install on the standby (B) before it starts. */
  releaseB?: { staged: string; sha256: string; version?: string };
  manualApproval?: boolean;
  /** Polkadot: false to end once B validates (default: hand back to A). */
  handBack?: boolean;
  /** When the upgrade must be done (ISO time); a fleet gives its members its own. */
  deadline?: string;
}

/** The request or input names something the inventory does not hold, or a role the strategy needs is missing. */
export class UpgradeRequestError extends Error {
  override readonly name = 'UpgradeRequestError';
}

/** The workflow input for an operator's request: the validator by identity, never its hosts or signers. */
export function upgradeInputFor(inventory: Inventory, request: UpgradeRequest): Record<string, unknown> {
  const validator = inventory.validators.find((v) => v.id === request.validator);
  if (!validator) {
    const known = inventory.validators.map((v) => v.id).join(', ') || 'none';
    throw new UpgradeRequestError(`no validator "${request.validator}" in the inventory (it has: ${known})`);
  }
  checkChain(request.strategy, validator);
  const options = {
    ...(request.manualApproval === undefined ? {} : { manualApproval: request.manualApproval }),
    ...(request.release ? { release: request.release } : {}),
    ...(request.deadline ? { deadline: request.deadline } : {}),
  };
  return validator.chain === 'near'
    ? { validator: { network: validator.network, accountId: validator.accountId }, ...options }
    : {
        validator: { chain: 'polkadot', network: validator.network, stash: validator.stash },
        ...options,
        ...(request.releaseB ? { releaseB: request.releaseB } : {}),
        ...(request.handBack === undefined ? {} : { handBack: request.handBack }),
      };
}

function checkChain(strategy: StrategyName, validator: ValidatorSpec): void {
  const isPolkadot = strategy === 'polkadotValidatorSwapUpgrade';
  if (isPolkadot !== (validator.chain === 'polkadot')) {
    throw new UpgradeRequestError(`${strategy} does not upgrade ${validator.chain} validator "${validator.id}"`);
  }
}

/**
 * The targets of a (valid) workflow input: the input with its roles, RPCs and signer references taken from
 * the inventory. Durations and other fields pass through as the input wrote them; the workflow parses the
 * result with the strategy's targets schema.
 */
export function resolveUpgradeTargets(
  inventory: Inventory,
  strategy: StrategyName,
  input: Record<string, unknown>,
): Record<string, unknown> {
  const validator = findValidator(inventory, input.validator);
  checkChain(strategy, validator);
  const roles = strategies[strategy].roles;
  const nodes: Record<string, NodeSpec> = {};
  for (const [field, defaultRole] of Object.entries(roles))
    nodes[field] = roleNode(inventory, validator, input, field, defaultRole);
  const fields = Object.keys(nodes);
  for (const [i, field] of fields.entries()) {
    const same = fields.slice(0, i).find((other) => nodes[other]!.id === nodes[field]!.id);
    if (same) throw new UpgradeRequestError(`${field}: node "${nodes[field]!.id}" already plays ${same}`);
  }
  return validator.chain === 'near'
    ? nearTargets(inventory, validator, input, nodes as Record<string, NearNodeSpec>, strategy)
    : polkadotTargets(inventory, validator, input, nodes as Record<string, PolkadotNodeSpec>);
}

/** The inventory's entry for the input's validator, compared in canonical form (a stash by its public key). */
function findValidator(inventory: Inventory, ref: unknown): ValidatorSpec {
  const wanted = ref as { network: string; accountId?: string; stash?: string };
  const found = inventory.validators.find((v) =>
    v.chain === 'near'
      ? v.network === wanted.network && v.accountId === wanted.accountId
      : v.network === wanted.network && wanted.stash !== undefined && samePublicKey(v.stash, wanted.stash),
  );
  if (!found) {
    const name = wanted.accountId ?? wanted.stash;
    throw new UpgradeRequestError(`validator: ${name} on ${wanted.network} is not in the worker's inventory`);
  }
  return found;
}

function samePublicKey(a: string, b: string): boolean {
  const [ka, kb] = [decodeSs58(a)?.publicKey, decodeSs58(b)?.publicKey];
  return ka !== undefined && kb !== undefined && ka.length === kb.length && ka.every((byte, i) => byte === kb[i]);
}

/** The node playing `field`: the input's choice among the validator's nodes, else the default role's node. */
function roleNode(
  inventory: Inventory,
  validator: ValidatorSpec,
  input: Record<string, unknown>,
  field: string,
  defaultRole: NodeRole,
): NodeSpec {
  const own = Object.values(validator.nodes);
  const chosen = input[field];
  let id: string | undefined;
  if (typeof chosen === 'string') {
    if (!own.includes(chosen)) {
      throw new UpgradeRequestError(
        `${field}: "${chosen}" is not a node of validator "${validator.id}" in the worker's inventory (its nodes: ${own.join(', ')})`,
      );
    }
    id = chosen;
  } else {
    id = validator.nodes[defaultRole];
    if (id === undefined) {
      throw new UpgradeRequestError(
        `${field}: validator "${validator.id}" has no ${defaultRole} node in the worker's inventory`,
      );
    }
  }
  // The inventory's reference checks guarantee the node exists and runs the validator's chain.
  return inventory.nodes.find((n) => n.id === id)!;
}

function hostOf(inventory: Inventory, node: NodeSpec) {
  return inventory.hosts.find((h) => h.id === node.host)!;
}

function signerOf(inventory: Inventory, id: string | undefined) {
  return id === undefined ? undefined : inventory.signers.find((s) => s.id === id);
}

function nearTargets(
  inventory: Inventory,
  validator: Extract<ValidatorSpec, { chain: 'near' }>,
  input: Record<string, unknown>,
  nodes: Record<string, NearNodeSpec>,
  strategy: StrategyName,
): Record<string, unknown> {
  const refs = Object.fromEntries(
    Object.entries(nodes).map(([field, node]) => [
      field,
      { host: hostOf(inventory, node), home: node.home, service: node.service, rpcUrl: node.rpc, binary: node.binary },
    ]),
  );
  const targets: Record<string, unknown> = { ...input, ...refs, networkRpcUrl: validator.networkRpc };
  if (strategy === 'nearZeroDowntimeUpgrade') {
    const { staking } = validator;
    const signer = signerOf(inventory, staking.signer);
    if (!signer) {
      throw new UpgradeRequestError(
        `validator "${validator.id}" has no staking signer in the worker's inventory: staking with a new key needs one`,
      );
    }
    targets.staking =
      staking.type === 'pool' ? { type: 'pool', ownerId: staking.owner, signer } : { type: 'direct', signer };
  }
  return targets;
}

function polkadotTargets(
  inventory: Inventory,
  validator: Extract<ValidatorSpec, { chain: 'polkadot' }>,
  input: Record<string, unknown>,
  nodes: Record<string, PolkadotNodeSpec>,
): Record<string, unknown> {
  const a = nodes.nodeA!;
  const b = nodes.nodeB!;
  const ref = (node: PolkadotNodeSpec) => ({
    host: hostOf(inventory, node),
    basePath: node.basePath,
    service: node.service,
    rpcUrl: node.rpc,
  });
  const { setKeys } = validator;
  const signer = signerOf(inventory, setKeys.signedBy.signer)!;
  const signedBy =
    setKeys.signedBy.type === 'proxy'
      ? { type: 'proxy', proxyType: setKeys.signedBy.proxyType, account: setKeys.signedBy.account, signer }
      : { type: 'stash', signer };
  const release = input.release as object | undefined;
  const releaseB = input.releaseB as object | undefined;
  const genesis = validator.genesisHash ?? KNOWN_GENESIS_HASHES[validator.network];
  return {
    ...input,
    relayRpcUrl: validator.networkRpc,
    ...(genesis ? { genesisHash: genesis } : {}),
    nodeA: ref(a),
    nodeB: ref(b),
    // The release is installed where each node's service runs its binary.
    ...(release ? { release: { ...release, installTo: a.binary } } : {}),
    ...(releaseB ? { releaseB: { ...releaseB, installTo: b.binary } } : {}),
    setKeys: { submitTo: setKeys.submitTo, rpcUrl: setKeys.rpc, signedBy },
  };
}
