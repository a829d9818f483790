/**
 * The trust boundary in both directions, on the example inventory: an operator's request becomes a workflow
 * input that names the validator by its on-chain identity and nothing else the worker holds; the worker
 * resolves that input against its own inventory into targets the strategies' schemas accept, and refuses,
 * naming the field, a validator or node it does not hold or a node that is not the validator's.
 */
import path from 'node:path';
import { encodeAddress } from '@polkadot/util-crypto';
import { decodeSs58 } from '../../../src/config/ss58.js';
import { checkUpgradeInput } from '../../../src/client/upgrades.js';
import { strategies, type StrategyName } from '../../../src/api/strategies.js';
import { loadInventory, validateInventory } from '../../../src/config/load-inventory.js';
import { resolveUpgradeTargets, upgradeInputFor, UpgradeRequestError } from '../../../src/api/upgrade-request.js';
import type { Inventory } from '../../../src/config/inventory.js';
import { repoRoot } from '../../../src/repo-root.js';

const release = { staged: '/var/tmp/new-release', sha256: 'ab'.repeat(32), version: '9.9.9' };
let inventory: Inventory;

beforeAll(async () => {
  inventory = await loadInventory(path.join(repoRoot(), 'examples', 'inventory.yaml'));
});

const inputFor = (strategy: StrategyName, extra: object = {}, validator = 'mypool') =>
  upgradeInputFor(inventory, { validator, strategy, release, ...extra });

/** The input resolved on the worker, then checked by the strategy's targets schema as the workflow does. */
function targets(strategy: StrategyName, input: Record<string, unknown>, on = inventory) {
  return strategies[strategy].targets.parse(resolveUpgradeTargets(on, strategy, input)) as Record<string, unknown>;
}

describe('upgradeInputFor (what vup start sends)', () => {
  it('names the validator by its on-chain identity and carries no host, RPC or signer', () => {
    const input = inputFor('nearZeroDowntimeUpgrade', { manualApproval: true });
    expect(input).toEqual({
      validator: { network: 'mainnet', accountId: 'mypool.poolv1.near' },
      manualApproval: true,
      release,
    });
    expect(checkUpgradeInput('nearZeroDowntimeUpgrade', input).workflowId).toBe(
      'upgrade-near-mainnet-mypool.poolv1.near',
    );
    const dot = inputFor('polkadotValidatorSwapUpgrade', { handBack: false }, 'dot-validator');
    expect(dot).toEqual({
      validator: { chain: 'polkadot', network: 'polkadot', stash: '16gZkmxLqqshTxCpaAKegp8KTATwNa1S7SRhbSeuxU2Qw3Su' },
      release,
      handBack: false,
    });
  });

  it('refuses a validator the inventory does not hold, or the wrong chain, naming it', () => {
    expect(() => inputFor('nearStopAndRestartUpgrade', {}, 'nobody')).toThrow(
      new UpgradeRequestError('no validator "nobody" in the inventory (it has: mypool, dot-validator)'),
    );
    expect(() => inputFor('polkadotValidatorSwapUpgrade')).toThrow(
      'polkadotValidatorSwapUpgrade does not upgrade near validator "mypool"',
    );
  });
});

describe('resolveUpgradeTargets (on the worker)', () => {
  it('zero downtime: the primary is the old node, the standby the new one, the pool owner stakes', () => {
    const resolved = targets('nearZeroDowntimeUpgrade', inputFor('nearZeroDowntimeUpgrade'));
    expect(resolved).toMatchObject({
      validator: { network: 'mainnet', accountId: 'mypool.poolv1.near' },
      networkRpcUrl: 'https://rpc.mainnet.near.org',
      staking: { type: 'pool', ownerId: 'mypool-owner.near', signer: { id: 'near-pool-owner', type: 'keystore-dir' } },
      oldNode: { host: { id: 'near-a', address: 'near-a.example.net' }, home: '/home/near/.near', service: 'neard' },
      newNode: { host: { id: 'near-b', port: 2222 }, home: '/srv/near', rpcUrl: 'http://10.20.0.12:3030' },
      release,
    });
  });

  it('lets the input swap the roles between the validator’s own nodes', () => {
    const input = { ...inputFor('nearZeroDowntimeUpgrade'), oldNode: 'near-b', newNode: 'near-a' };
    const resolved = targets('nearZeroDowntimeUpgrade', input);
    expect(resolved).toMatchObject({ oldNode: { host: { id: 'near-b' } }, newNode: { host: { id: 'near-a' } } });
  });

  it('refuses a node that is not the validator’s, one node in two roles, and an unknown validator, naming the field', () => {
    const input = inputFor('nearZeroDowntimeUpgrade');
    expect(() => resolveUpgradeTargets(inventory, 'nearZeroDowntimeUpgrade', { ...input, newNode: 'dot-a' })).toThrow(
      'newNode: "dot-a" is not a node of validator "mypool" in the worker\'s inventory (its nodes: near-a, near-b, near-a-sync)',
    );
    expect(() => resolveUpgradeTargets(inventory, 'nearZeroDowntimeUpgrade', { ...input, newNode: 'near-a' })).toThrow(
      'newNode: node "near-a" already plays oldNode',
    );
    const stranger = { ...input, validator: { network: 'mainnet', accountId: 'someone-else.poolv1.near' } };
    expect(() => resolveUpgradeTargets(inventory, 'nearZeroDowntimeUpgrade', stranger)).toThrow(
      "validator: someone-else.poolv1.near on mainnet is not in the worker's inventory",
    );
    const testnet = { ...input, validator: { network: 'testnet', accountId: 'mypool.poolv1.near' } };
    expect(() => resolveUpgradeTargets(inventory, 'nearZeroDowntimeUpgrade', testnet)).toThrow(
      "validator: mypool.poolv1.near on testnet is not in the worker's inventory",
    );
  });

  it('stop and restart and the hot swap resolve to targets their schemas accept; one RPC URL for both nodes is refused', () => {
    expect(targets('nearStopAndRestartUpgrade', inputFor('nearStopAndRestartUpgrade'))).toMatchObject({
      node: { host: { id: 'near-a' }, binary: expect.stringMatching(/neard$/) as unknown },
    });
    expect(() => targets('nearValidatorKeyHotSwap', inputFor('nearValidatorKeyHotSwap'))).not.toThrow();
    // Each node on its own host's localhost is one URL to the worker: the hot swap refuses that.
    const localhost = structuredClone(inventory);
    for (const node of localhost.nodes) if (node.chain === 'near') node.rpc = 'http://127.0.0.1:3030';
    expect(() => targets('nearValidatorKeyHotSwap', inputFor('nearValidatorKeyHotSwap'), localhost)).toThrow(
      /primary and standby must be different nodes/,
    );
  });

  it('sync and swap: the sync node on the primary’s machine by default; the targets refuse one on another host', () => {
    const input = inputFor('nearSyncAndSwapUpgrade');
    expect(targets('nearSyncAndSwapUpgrade', input)).toMatchObject({
      node: { host: { id: 'near-a' }, service: 'neard' },
      syncNode: { host: { id: 'near-a' }, service: 'neard-sync', home: '/home/near/.near-sync' },
    });
    expect(() => targets('nearSyncAndSwapUpgrade', { ...input, syncNode: 'near-b' })).toThrow(
      /syncNode must be on the same host as node/,
    );
  });

  it('Polkadot: A and B, the relay RPC, the set-keys route with its proxy signer, releases installed over each node’s binary', () => {
    const input = inputFor('polkadotValidatorSwapUpgrade', { handBack: false }, 'dot-validator');
    const dotA = inventory.nodes.find((n) => n.id === 'dot-a')!;
    expect(targets('polkadotValidatorSwapUpgrade', input)).toMatchObject({
      nodeA: { host: { id: 'dot-a' }, basePath: '/var/lib/polkadot', rpcUrl: 'ws://dot-a.example.net:9944' },
      relayRpcUrl: 'wss://rpc.polkadot.example.net',
      // Polkadot's own, known without the inventory naming it: every RPC read must answer for it.
      genesisHash: '0x91b171bb158e2d3848fa23a9f1c25182fb8e20313b2c1eb49219da7a70ce90c3',
      nodeB: { host: { id: 'dot-b' }, rpcUrl: 'ws://dot-b.example.net:9944' },
      release: { ...release, installTo: dotA.binary },
      setKeys: {
        submitTo: 'asset-hub',
        rpcUrl: 'wss://asset-hub-polkadot.example.net',
        signedBy: { type: 'proxy', proxyType: 'StakingOperator', signer: { id: 'dot-staking-operator' } },
      },
      handBack: false,
    });
  });

  it('finds a stash by its account, whichever SS58 form the inventory wrote it in', () => {
    const generic = structuredClone(inventory);
    const dot = generic.validators.find((v) => v.chain === 'polkadot')!;
    if (dot.chain === 'polkadot') dot.stash = encodeAddress(decodeSs58(dot.stash)!.publicKey, 42);
    const input = inputFor('polkadotValidatorSwapUpgrade', { handBack: false }, 'dot-validator');
    expect(targets('polkadotValidatorSwapUpgrade', input, validateInventory(generic))).toMatchObject({
      nodeA: { host: { id: 'dot-a' } },
    });
  });

  it('refuses a role the inventory lacks, and staking without a signer', () => {
    const noStandby = structuredClone(inventory) as Inventory & { validators: { nodes: { standby?: string } }[] };
    delete noStandby.validators[0]!.nodes.standby;
    expect(() =>
      resolveUpgradeTargets(
        validateInventory(noStandby),
        'nearZeroDowntimeUpgrade',
        inputFor('nearZeroDowntimeUpgrade'),
      ),
    ).toThrow('newNode: validator "mypool" has no standby node in the worker\'s inventory');

    const noSigner = structuredClone(inventory);
    const pool = noSigner.validators[0]!;
    if (pool.chain === 'near') delete pool.staking.signer;
    expect(() =>
      resolveUpgradeTargets(noSigner, 'nearZeroDowntimeUpgrade', inputFor('nearZeroDowntimeUpgrade')),
    ).toThrow('validator "mypool" has no staking signer in the worker\'s inventory: staking with a new key needs one');
  });
});
