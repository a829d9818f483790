/** The shipped example inventory loads, in YAML and as JSON, into exactly the values the file states. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { loadInventory, parseInventory } from '../../../src/config/load-inventory.js';
import { repoRoot } from '../../../src/repo-root.js';

const examplePath = path.join(repoRoot(), 'examples', 'inventory.yaml');

describe('examples/inventory.yaml', () => {
  let tempDir: string;
  beforeAll(async () => {
    tempDir = await mkdtemp(path.join(tmpdir(), 'inventory-example-'));
  });
  afterAll(async () => {
    await rm(tempDir, { recursive: true, force: true });
  });

  it('loads, with defaults filled in and every value as written', async () => {
    const inventory = await loadInventory(examplePath);

    expect(inventory.hosts.map((h) => [h.id, h.address, h.port, h.user])).toEqual([
      ['near-a', 'near-a.example.net', 22, 'vup'],
      ['near-b', '10.20.0.12', 2222, 'vup'],
      ['dot-a', 'dot-a.example.net', 22, 'vup'],
      ['dot-b', 'dot-b.example.net', 22, 'vup'],
    ]);
    expect(inventory.hosts[1]?.auth).toEqual({
      type: 'keyFile',
      path: '/home/operator/.ssh/id_ed25519',
      passphraseEnv: 'FLEET_SSH_PASSPHRASE',
    });
    expect(inventory.hosts[2]?.hostKey).toBe('SHA256:atmwo39nj1vKY3710DuZTMnhk9BT8fjLkajmfxr+8lw');

    expect(inventory.nodes[0]).toEqual({
      id: 'near-a',
      chain: 'near',
      host: 'near-a',
      service: 'neard',
      home: '/home/near/.near',
      binary: '/opt/near/bin/neard',
      rpc: 'http://near-a.example.net:3030',
    });
    expect(inventory.nodes[3]).toEqual({
      id: 'dot-b',
      chain: 'polkadot',
      host: 'dot-b',
      service: 'polkadot-validator',
      basePath: '/var/lib/polkadot',
      binary: '/opt/polkadot/bin/polkadot',
      rpc: 'ws://dot-b.example.net:9944',
    });

    const [near, polkadot] = inventory.validators;
    if (near?.chain !== 'near' || polkadot?.chain !== 'polkadot')
      throw new Error('expected a NEAR then a Polkadot validator');
    // The narrowed types expose chain-specific fields without casts.
    expect([near.network, near.accountId, near.staking]).toEqual([
      'mainnet',
      'mypool.poolv1.near',
      { type: 'pool', owner: 'mypool-owner.near', signer: 'near-pool-owner' },
    ]);
    expect(near.nodes).toEqual({ primary: 'near-a', standby: 'near-b', sync: 'near-a-sync' });
    expect([polkadot.network, polkadot.stash]).toEqual([
      'polkadot',
      '16gZkmxLqqshTxCpaAKegp8KTATwNa1S7SRhbSeuxU2Qw3Su',
    ]);
    expect(polkadot.setKeys).toEqual({
      submitTo: 'asset-hub',
      rpc: 'wss://asset-hub-polkadot.example.net',
      signedBy: {
        type: 'proxy',
        proxyType: 'StakingOperator',
        account: '12e7ec4F4kTxzQSeRTcFm5Xv8RzkzBZLrkLD4FrveVeGkQE5',
        signer: 'dot-staking-operator',
      },
    });

    expect(inventory.signers).toEqual([
      { id: 'near-pool-owner', type: 'keystore-dir', path: '/home/operator/.near-credentials' },
      {
        id: 'dot-staking-operator',
        type: 'file',
        path: '/etc/validator-upgrades/dot-staking-operator.json',
        passphraseEnv: 'DOT_STAKING_OPERATOR_PASSWORD',
      },
    ]);
  });

  it('loads the same inventory from its JSON form', async () => {
    const yamlText = await readFile(examplePath, 'utf8');
    const jsonPath = path.join(tempDir, 'inventory.json');
    await writeFile(jsonPath, JSON.stringify(parse(yamlText), null, 2));
    expect(await loadInventory(jsonPath)).toEqual(parseInventory(yamlText));
  });
});
