/**
 * Turns an operator's request ("upgrade validator mypool with strategy X to this release") and the inventory
 * into the workflow input of that strategy, the one `start` sends. Roles come from the inventory: the
 * validator's primary node is the one validating now, its standby the node that syncs or takes over. The
 * result is not validated here: the caller checks it against the strategy's schema (checkUpgradeInput), as it
 * does an input file.
 */
import type { StrategyName } from '../api/strategies.js';
import type { Inventory, NearNodeSpec, NodeSpec, PolkadotNodeSpec, ValidatorSpec } from './inventory.js';

export interface UpgradeRequest {
  /** The id of an entry of the inventory's "validators". */
  validator: string;
  strategy: StrategyName;
  release?: { staged: string; sha256: string; version?: string };
  /** Polkadot: a release to install on the standby (B) before it starts. */
  releaseB?: { staged: string; sha256: string; version?: string };
  /** NEAR: an RPC of the network for epochs and staking; Polkadot: the relay chain's RPC. */
  networkRpcUrl?: string;
  manualApproval?: boolean;
  /** Polkadot: false to end once B validates (default: hand back to A). */
  handBack?: boolean;
}

/** The request names something the inventory does not hold, or a role the strategy needs is missing. */
export class UpgradeRequestError extends Error {
  override readonly name = 'UpgradeRequestError';
}

export function resolveUpgradeInput(inventory: Inventory, request: UpgradeRequest): unknown {
  const validator = inventory.validators.find((v) => v.id === request.validator);
  if (!validator) {
    const known = inventory.validators.map((v) => v.id).join(', ') || 'none';
    throw new UpgradeRequestError(`no validator "${request.validator}" in the inventory (it has: ${known})`);
  }
  const isPolkadot = request.strategy === 'polkadotValidatorSwapUpgrade';
  if (isPolkadot !== (validator.chain === 'polkadot')) {
    throw new UpgradeRequestError(
      `${request.strategy} does not upgrade ${validator.chain} validator "${validator.id}"`,
    );
  }
  if (request.networkRpcUrl === undefined) {
    throw new UpgradeRequestError(`${isPolkadot ? 'the relay chain' : 'the network'}'s RPC URL is required`);
  }
  return validator.chain === 'near'
    ? nearInput(inventory, validator, request, request.networkRpcUrl)
    : polkadotInput(inventory, validator, request, request.networkRpcUrl);
}

function nodeOf<C extends NodeSpec['chain']>(
  inventory: Inventory,
  validator: ValidatorSpec,
  role: 'primary' | 'standby',
  chain: C,
) {
  const id = validator.nodes[role];
  if (id === undefined)
    throw new UpgradeRequestError(`validator "${validator.id}" has no ${role} node in the inventory`);
  // The inventory's reference checks guarantee the node exists and runs this chain.
  const node = inventory.nodes.find((n) => n.id === id && n.chain === chain)!;
  return node as Extract<NodeSpec, { chain: C }>;
}

function hostOf(inventory: Inventory, node: NodeSpec) {
  return inventory.hosts.find((h) => h.id === node.host)!;
}

function signerOf(inventory: Inventory, id: string | undefined) {
  return id === undefined ? undefined : inventory.signers.find((s) => s.id === id);
}

function nearNodeRef(inventory: Inventory, node: NearNodeSpec) {
  return {
    host: hostOf(inventory, node),
    home: node.home,
    service: node.service,
    rpcUrl: node.rpc,
    binary: node.binary,
  };
}

function nearInput(
  inventory: Inventory,
  validator: Extract<ValidatorSpec, { chain: 'near' }>,
  request: UpgradeRequest,
  networkRpcUrl: string,
) {
  const common = {
    validator: { network: validator.network, accountId: validator.accountId },
    networkRpcUrl,
    ...(request.manualApproval === undefined ? {} : { manualApproval: request.manualApproval }),
    ...(request.release ? { release: request.release } : {}),
  };
  const primary = () => nearNodeRef(inventory, nodeOf(inventory, validator, 'primary', 'near'));
  const standby = () => nearNodeRef(inventory, nodeOf(inventory, validator, 'standby', 'near'));
  switch (request.strategy) {
    case 'nearZeroDowntimeUpgrade': {
      const { staking } = validator;
      const signer = signerOf(inventory, staking.signer);
      if (!signer) {
        throw new UpgradeRequestError(
          `validator "${validator.id}" has no staking signer: staking with a new key needs one`,
        );
      }
      const stakingInput =
        staking.type === 'pool' ? { type: 'pool', ownerId: staking.owner, signer } : { type: 'direct', signer };
      return { ...common, staking: stakingInput, oldNode: primary(), newNode: standby() };
    }
    case 'nearSyncAndSwapUpgrade':
      return { ...common, node: primary(), syncNode: standby() };
    case 'nearStopAndRestartUpgrade':
      return { ...common, node: primary() };
    case 'nearValidatorKeyHotSwap':
      return { ...common, primary: primary(), standby: standby() };
    default:
      throw new UpgradeRequestError(`${request.strategy} is not a NEAR strategy`);
  }
}

function polkadotNodeRef(inventory: Inventory, node: PolkadotNodeSpec) {
  return { host: hostOf(inventory, node), basePath: node.basePath, service: node.service, rpcUrl: node.rpc };
}

function polkadotInput(
  inventory: Inventory,
  validator: Extract<ValidatorSpec, { chain: 'polkadot' }>,
  request: UpgradeRequest,
  relayRpcUrl: string,
) {
  const a = nodeOf(inventory, validator, 'primary', 'polkadot');
  const b = nodeOf(inventory, validator, 'standby', 'polkadot');
  const { setKeys } = validator;
  const signer = signerOf(inventory, setKeys.signedBy.signer)!;
  const signedBy =
    setKeys.signedBy.type === 'proxy'
      ? { type: 'proxy', proxyType: setKeys.signedBy.proxyType, account: setKeys.signedBy.account, signer }
      : { type: 'stash', signer };
  return {
    validator: { chain: 'polkadot', network: validator.network, stash: validator.stash },
    relayRpcUrl,
    nodeA: polkadotNodeRef(inventory, a),
    nodeB: polkadotNodeRef(inventory, b),
    // The release is installed where each node's service runs its binary.
    ...(request.release ? { release: { ...request.release, installTo: a.binary } } : {}),
    ...(request.releaseB ? { releaseB: { ...request.releaseB, installTo: b.binary } } : {}),
    setKeys: { submitTo: setKeys.submitTo, rpcUrl: setKeys.rpc, signedBy },
    ...(request.handBack === undefined ? {} : { handBack: request.handBack }),
    ...(request.manualApproval === undefined ? {} : { manualApproval: request.manualApproval }),
  };
}
