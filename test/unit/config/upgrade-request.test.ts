/**
 * Inventory requests resolve into the workflow input of each strategy: the example inventory's validators,
 * checked against the strategies' own schemas (what `vup plan` and `vup start` send), and the requests the
 * inventory cannot serve, refused with a message that names what is missing.
 */
import path from 'node:path';
import { checkUpgradeInput } from '../../../src/client/upgrades.js';
import type { StrategyName } from '../../../src/api/strategies.js';
import { loadInventory, validateInventory } from '../../../src/config/load-inventory.js';
import { resolveUpgradeInput, UpgradeRequestError } from '../../../src/config/upgrade-request.js';
import type { Inventory } from '../../../src/config/inventory.js';
import { repoRoot } from '../../../src/repo-root.js';

const release = { staged: '/var/tmp/new-release', sha256: 'ab'.repeat(32), version: '9.9.9' };
let inventory: Inventory;

beforeAll(async () => {
  inventory = await loadInventory(path.join(repoRoot(), 'examples', 'inventory.yaml'));
});

const resolve = (strategy: StrategyName, extra: object = {}, validator = 'mypool') =>
  resolveUpgradeInput(inventory, {
    validator,
    strategy,
    release,
    networkRpcUrl: 'https://rpc.mainnet.near.org',
    ...extra,
  });

describe('resolveUpgradeInput', () => {
  it('zero downtime: the primary is the old node, the standby the new one, the pool owner stakes', () => {
    const input = resolve('nearZeroDowntimeUpgrade', { manualApproval: true });
    const { workflowId } = checkUpgradeInput('nearZeroDowntimeUpgrade', input);
    expect(workflowId).toBe('upgrade-near-mainnet-mypool.poolv1.near');
    expect(input).toMatchObject({
      validator: { network: 'mainnet', accountId: 'mypool.poolv1.near' },
      manualApproval: true,
      staking: { type: 'pool', ownerId: 'mypool-owner.near', signer: { id: 'near-pool-owner', type: 'keystore-dir' } },
      oldNode: { host: { id: 'near-a', address: 'near-a.example.net' }, home: '/home/near/.near', service: 'neard' },
      newNode: { host: { id: 'near-b', port: 2222 }, home: '/srv/near', rpcUrl: 'http://10.20.0.12:3030' },
      release,
    });
  });

  it('stop and restart and the hot swap resolve to inputs their schemas accept; one RPC URL for both nodes is refused', () => {
    const restart = resolve('nearStopAndRestartUpgrade');
    expect(() => checkUpgradeInput('nearStopAndRestartUpgrade', restart)).not.toThrow();
    expect(restart).toMatchObject({ node: { host: { id: 'near-a' }, binary: '/opt/near/bin/neard' } });
    expect(() => checkUpgradeInput('nearValidatorKeyHotSwap', resolve('nearValidatorKeyHotSwap'))).not.toThrow();
    // Each node on its own host's localhost is one URL to the worker: the hot swap refuses that.
    const localhost = structuredClone(inventory);
    for (const node of localhost.nodes) if (node.chain === 'near') node.rpc = 'http://127.0.0.1:3030';
    const hotSwap = resolveUpgradeInput(localhost, {
      validator: 'mypool',
      strategy: 'nearValidatorKeyHotSwap',
      release,
      networkRpcUrl: 'https://rpc.mainnet.near.org',
    });
    expect(() => checkUpgradeInput('nearValidatorKeyHotSwap', hotSwap)).toThrow(
      /standby: primary and standby must be different nodes/,
    );
  });

  it('sync and swap: the schema refuses a sync node on another host, naming the field', () => {
    expect(() => checkUpgradeInput('nearSyncAndSwapUpgrade', resolve('nearSyncAndSwapUpgrade'))).toThrow(
      /syncNode\.host: syncNode must be on the same host as node/,
    );
  });

  it('Polkadot: A and B, the set-keys route with its proxy signer, releases installed over each node’s binary', () => {
    const input = resolveUpgradeInput(inventory, {
      validator: 'dot-validator',
      strategy: 'polkadotValidatorSwapUpgrade',
      release,
      networkRpcUrl: 'wss://rpc.polkadot.example.net',
      handBack: false,
    });
    const { workflowId } = checkUpgradeInput('polkadotValidatorSwapUpgrade', input);
    expect(workflowId).toBe('upgrade-polkadot-polkadot-16gZkmxLqqshTxCpaAKegp8KTATwNa1S7SRhbSeuxU2Qw3Su');
    expect(input).toMatchObject({
      nodeA: { host: { id: 'dot-a' }, basePath: '/var/lib/polkadot', rpcUrl: 'ws://dot-a.example.net:9944' },
      relayRpcUrl: 'wss://rpc.polkadot.example.net',
      nodeB: { host: { id: 'dot-b' }, rpcUrl: 'ws://dot-b.example.net:9944' },
      release: { ...release, installTo: '/opt/polkadot/bin/polkadot' },
      setKeys: {
        submitTo: 'asset-hub',
        rpcUrl: 'wss://asset-hub-polkadot.example.net',
        signedBy: { type: 'proxy', proxyType: 'StakingOperator', signer: { id: 'dot-staking-operator' } },
      },
      handBack: false,
    });
  });

  it('refuses what the inventory cannot serve, naming it', () => {
    expect(() => resolve('nearStopAndRestartUpgrade', {}, 'nobody')).toThrow(
      new UpgradeRequestError('no validator "nobody" in the inventory (it has: mypool, dot-validator)'),
    );
    expect(() => resolve('polkadotValidatorSwapUpgrade')).toThrow(
      'polkadotValidatorSwapUpgrade does not upgrade near validator "mypool"',
    );
    expect(() => resolve('nearStopAndRestartUpgrade', { networkRpcUrl: undefined })).toThrow(
      "the network's RPC URL is required",
    );

    const noStandby = structuredClone(inventory) as Inventory & { validators: { nodes: { standby?: string } }[] };
    delete noStandby.validators[0]!.nodes.standby;
    expect(() =>
      resolveUpgradeInput(validateInventory(noStandby), {
        validator: 'mypool',
        strategy: 'nearZeroDowntimeUpgrade',
        networkRpcUrl: 'https://rpc.mainnet.near.org',
        release,
      }),
    ).toThrow('validator "mypool" has no standby node in the inventory');

    const noSigner = structuredClone(inventory);
    const pool = noSigner.validators[0]!;
    if (pool.chain === 'near') delete pool.staking.signer;
    expect(() =>
      resolveUpgradeInput(noSigner, {
        validator: 'mypool',
        strategy: 'nearZeroDowntimeUpgrade',
        networkRpcUrl: 'https://rpc.mainnet.near.org',
      }),
    ).toThrow('validator "mypool" has no staking signer: staking with a new key needs one');
  });
});
