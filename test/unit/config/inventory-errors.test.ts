/**
 * Every way an inventory can be wrong is refused with a message that names the field the operator wrote.
 * Each case starts from the valid example, breaks one thing, and loads the result through the real loader.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeAddress, decodeAddress } from '@polkadot/util-crypto';
import { parse, stringify } from 'yaml';
import type { InventoryInput } from '../../../src/config/inventory.js';
import {
  InventoryError,
  loadInventory,
  parseInventory,
  type InventoryProblem,
} from '../../../src/config/load-inventory.js';
import { repoRoot } from '../../../src/repo-root.js';

const exampleText = readFileSync(path.join(repoRoot(), 'examples', 'inventory.yaml'), 'utf8');

function example(): InventoryInput {
  return parse(exampleText) as InventoryInput;
}

function nearValidator(inventory: InventoryInput) {
  const validator = inventory.validators[0];
  if (validator?.chain !== 'near') throw new Error('the example lists the NEAR validator first');
  return validator;
}

function polkadotValidator(inventory: InventoryInput) {
  const validator = inventory.validators[1];
  if (validator?.chain !== 'polkadot') throw new Error('the example lists the Polkadot validator second');
  return validator;
}

function nearNode(inventory: InventoryInput) {
  const node = inventory.nodes[0];
  if (node?.chain !== 'near') throw new Error('the example lists a NEAR node first');
  return node;
}

function polkadotNode(inventory: InventoryInput) {
  const node = inventory.nodes[2];
  if (node?.chain !== 'polkadot') throw new Error('the example lists Polkadot nodes third and fourth');
  return node;
}

/** Loads the text and returns the InventoryError it must raise. */
function errorOf(text: string, source = 'fleet.yaml'): InventoryError {
  try {
    parseInventory(text, source);
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  throw new Error('the inventory was accepted');
}

/** Applies one change to the example, loads it, and returns the problems reported. */
function problemsAfter(change: (inventory: InventoryInput) => void): readonly InventoryProblem[] {
  const inventory = example();
  change(inventory);
  return errorOf(stringify(inventory)).problems;
}

/** expect.stringMatching, typed as the string it stands for. */
function matching(pattern: RegExp): string {
  return expect.stringMatching(pattern) as string;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value as Record<string, unknown>;
}

describe('inventory problems', () => {
  it('accepts the unchanged example (the baseline every case below breaks)', () => {
    expect(() => parseInventory(stringify(example()))).not.toThrow();
  });

  it('refuses an unknown field, naming it', () => {
    expect(problemsAfter((inv) => (asRecord(inv.hosts[1]).adress = 'near-b.example.net'))).toEqual([
      { path: 'hosts[1].adress', message: 'unknown field' },
    ]);
  });

  it('refuses an inline secret, tells the operator to use a signer reference, and never repeats the secret', () => {
    const mnemonic = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
    const inventory = example();
    asRecord(inventory.signers?.[1]).mnemonic = mnemonic;
    asRecord(nearValidator(inventory).staking).privateKey =
      'ed25519:3D4YudUahN1nawWogh8pAKSj92sUNMdbZGjn7kERKzYoTy8tnFQuwoGUC51DowKqorvkr2pytJSnwuSbsNVfqygr';
    const error = errorOf(stringify(inventory));
    expect(error.problems).toEqual([
      { path: 'validators[0].staking.privateKey', message: matching(/reference one in "signers"/) },
      { path: 'signers[1].mnemonic', message: matching(/secrets are not written in the inventory/) },
    ]);
    expect(error.message).not.toContain('bottom drive');
    expect(error.message).not.toContain('3D4Yud');
  });

  it('refuses a secret pasted where an environment variable name belongs, without repeating it', () => {
    const inventory = example();
    inventory.signers = [
      ...(inventory.signers ?? []),
      { id: 'pasted', type: 'env', variable: 'ed25519:3D4YudUahN1nawWogh8pAKSj92sUNMdbZ' },
    ];
    const error = errorOf(stringify(inventory));
    expect(error.problems).toEqual([
      { path: 'signers[2].variable', message: matching(/environment variable name.*not its value/) },
    ]);
    expect(error.message).not.toContain('3D4Yud');
  });

  it('refuses a host without a pinned host key', () => {
    expect(problemsAfter((inv) => delete asRecord(inv.hosts[1]).hostKey)).toEqual([
      { path: 'hosts[1].hostKey', message: matching(/^required: pin the host key/) },
    ]);
  });

  it.each(['ssh-ed25519', 'ssh-ed25519 not*base64', 'SHA256:short', 'AAAAC3NzaC1lZDI1NTE5AAAAIDHWBe'])(
    'refuses the malformed host key %j',
    (hostKey) => {
      expect(problemsAfter((inv) => (inv.hosts[1]!.hostKey = hostKey))).toEqual([
        { path: 'hosts[1].hostKey', message: matching(/^must be a pinned host key/) },
      ]);
    },
  );

  describe('host keys checked in full', () => {
    const ed25519Blob = () =>
      Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIBYY9nNhSj/AOMhZvh+UkSYiTnqcEItkEQCTfl8Zsg8j', 'base64');

    it('refuses a truncated host key, saying it was cut short', () => {
      const truncated = `ssh-ed25519 ${ed25519Blob().subarray(0, 48).toString('base64')}`;
      expect(problemsAfter((inv) => (inv.hosts[1]!.hostKey = truncated))).toEqual([
        {
          path: 'hosts[1].hostKey',
          message: 'is not a complete ssh-ed25519 key: its key data ends after 48 bytes (cut short when copied?)',
        },
      ]);
    });

    it('refuses a host key whose type label does not match its key', () => {
      const relabelled = `ecdsa-sha2-nistp256 ${ed25519Blob().toString('base64')}`;
      expect(problemsAfter((inv) => (inv.hosts[1]!.hostKey = relabelled))).toEqual([
        {
          path: 'hosts[1].hostKey',
          message:
            'is labelled "ecdsa-sha2-nistp256" but its key data holds an "ssh-ed25519" key: the label and the key do not belong together',
        },
      ]);
    });

    it('refuses a SHA256 fingerprint that is not 32 bytes', () => {
      const short = `SHA256:${Buffer.alloc(31, 7).toString('base64')}`;
      expect(problemsAfter((inv) => (inv.hosts[2]!.hostKey = short))).toEqual([
        { path: 'hosts[2].hostKey', message: matching(/^must be a pinned host key: "SHA256:" and 43 base64/) },
      ]);
    });
  });

  describe('collisions', () => {
    it('refuses two host ids for one address and port', () => {
      expect(
        problemsAfter((inv) => {
          inv.hosts[3]!.address = 'DOT-A.example.net';
        }),
      ).toEqual([{ path: 'hosts[3].address', message: 'same address and port as host "dot-a"' }]);
    });

    it('compares IPv6 addresses bracketed or not, in any of their written forms', () => {
      expect(
        problemsAfter((inv) => {
          inv.hosts[2]!.address = '[fd00::12]';
          inv.hosts[3]!.address = 'FD00:0:0:0:0:0:0:12';
        }),
      ).toEqual([{ path: 'hosts[3].address', message: 'same address and port as host "dot-a"' }]);
    });

    it('counts a missing port as 22', () => {
      expect(
        problemsAfter((inv) => {
          inv.hosts[3]!.address = 'dot-a.example.net';
          inv.hosts[3]!.port = 22;
        }),
      ).toEqual([{ path: 'hosts[3].address', message: 'same address and port as host "dot-a"' }]);
    });

    it('accepts one address on two ports, and two names without resolving them (localhost, 127.0.0.1)', () => {
      const inventory = example();
      inventory.hosts[2]!.address = 'localhost';
      inventory.hosts[3]!.address = '127.0.0.1';
      inventory.hosts[0]!.address = '10.20.0.12';
      expect(() => parseInventory(stringify(inventory))).not.toThrow();
    });

    it('refuses one host id for two machines (the same id with another address)', () => {
      expect(
        problemsAfter((inv) => {
          inv.hosts.push({ ...inv.hosts[1]!, address: '10.20.0.13' });
        }),
      ).toEqual([{ path: 'hosts[4].id', message: 'duplicate id "near-b" (also hosts[1])' }]);
    });

    it('refuses two nodes behind one RPC URL, written the same or another way', () => {
      expect(problemsAfter((inv) => (inv.nodes[1]!.rpc = 'http://NEAR-A.example.net:3030/'))).toEqual([
        { path: 'nodes[1].rpc', message: 'same RPC as node "near-a"' },
      ]);
      expect(
        problemsAfter((inv) => {
          inv.nodes[0]!.rpc = 'http://near-a.example.net';
          inv.nodes[1]!.rpc = 'http://near-a.example.net:80/';
        }),
      ).toEqual([{ path: 'nodes[1].rpc', message: 'same RPC as node "near-a"' }]);
    });

    it('takes ws:// and http:// on one port as one endpoint', () => {
      expect(problemsAfter((inv) => (inv.nodes[3]!.rpc = 'http://dot-a.example.net:9944'))).toEqual([
        { path: 'nodes[3].rpc', message: 'same RPC as node "dot-a"' },
      ]);
    });

    it('accepts RPC URLs that differ in port, path or name (localhost and 127.0.0.1 are not resolved)', () => {
      const inventory = example();
      inventory.nodes[0]!.rpc = 'http://localhost:3030';
      inventory.nodes[1]!.rpc = 'http://127.0.0.1:3030';
      inventory.nodes[2]!.rpc = 'wss://rpc.example.net/dot-a';
      inventory.nodes[3]!.rpc = 'wss://rpc.example.net/dot-b';
      expect(() => parseInventory(stringify(inventory))).not.toThrow();
    });
  });

  it('refuses a relative path', () => {
    expect(problemsAfter((inv) => (nearNode(inv).home = 'home/near/.near'))).toEqual([
      { path: 'nodes[0].home', message: 'must be an absolute path (starting with "/")' },
    ]);
  });

  it("refuses a genesis hash that is not the network's known one, naming it", () => {
    expect(
      problemsAfter((inv) => Object.assign(polkadotValidator(inv), { genesisHash: '0x' + 'ab'.repeat(32) })),
    ).toEqual([
      {
        path: 'validators[1].genesisHash',
        message: "is not polkadot's genesis hash (0x91b171bb158e2d3848fa23a9f1c25182fb8e20313b2c1eb49219da7a70ce90c3)",
      },
    ]);
    expect(problemsAfter((inv) => Object.assign(polkadotValidator(inv), { genesisHash: '0x12' }))).toEqual([
      { path: 'validators[1].genesisHash', message: 'must be a block hash: "0x" and 64 lowercase hex characters' },
    ]);
  });

  it('refuses a path that traverses with "..", with one message', () => {
    expect(problemsAfter((inv) => (polkadotNode(inv).basePath = '/srv/../etc'))).toEqual([
      { path: 'nodes[2].basePath', message: 'must not contain "." or ".." segments' },
    ]);
  });

  it.each(['near; rm -rf /', '$(x)', 'near d', '`id`', '-near', 'near|tee'])(
    'refuses the service name %j',
    (service) => {
      expect(problemsAfter((inv) => (nearNode(inv).service = service))).toEqual([
        { path: 'nodes[0].service', message: matching(/^must be a plain service name/) },
      ]);
    },
  );

  describe('duplicate ids', () => {
    it('refuses a repeated host id', () => {
      expect(problemsAfter((inv) => (inv.hosts[3]!.id = 'near-b'))).toContainEqual({
        path: 'hosts[3].id',
        message: 'duplicate id "near-b" (also hosts[1])',
      });
    });

    it('refuses a repeated node id', () => {
      expect(problemsAfter((inv) => (inv.nodes[3]!.id = 'dot-a'))).toContainEqual({
        path: 'nodes[3].id',
        message: 'duplicate id "dot-a" (also nodes[2])',
      });
    });

    it('refuses a repeated validator id', () => {
      expect(problemsAfter((inv) => (inv.validators[1]!.id = 'mypool'))).toEqual([
        { path: 'validators[1].id', message: 'duplicate id "mypool" (also validators[0])' },
      ]);
    });

    it('refuses a repeated signer id', () => {
      expect(problemsAfter((inv) => (inv.signers![1]!.id = 'near-pool-owner'))).toContainEqual({
        path: 'signers[1].id',
        message: 'duplicate id "near-pool-owner" (also signers[0])',
      });
    });
  });

  describe('references', () => {
    it('refuses a node on an unknown host', () => {
      expect(problemsAfter((inv) => (inv.nodes[1]!.host = 'near-c'))).toEqual([
        { path: 'nodes[1].host', message: 'unknown host "near-c"' },
      ]);
    });

    it('refuses a validator on an unknown node', () => {
      expect(problemsAfter((inv) => (nearValidator(inv).nodes.standby = 'near-c'))).toEqual([
        { path: 'validators[0].nodes.standby', message: 'unknown node "near-c"' },
      ]);
    });

    it('refuses an unknown signer', () => {
      expect(
        problemsAfter((inv) => {
          polkadotValidator(inv).setKeys.signedBy.signer = 'dot-operator';
        }),
      ).toEqual([{ path: 'validators[1].setKeys.signedBy.signer', message: 'unknown signer "dot-operator"' }]);
    });

    it('refuses a near-cli credentials folder as a Polkadot signer', () => {
      expect(
        problemsAfter((inv) => {
          polkadotValidator(inv).setKeys.signedBy.signer = 'near-pool-owner';
        }),
      ).toEqual([{ path: 'validators[1].setKeys.signedBy.signer', message: matching(/holds NEAR keys only/) }]);
    });

    it('refuses a node of another chain than its validator', () => {
      expect(problemsAfter((inv) => (nearValidator(inv).nodes.standby = 'dot-b'))).toContainEqual({
        path: 'validators[0].nodes.standby',
        message: 'node "dot-b" is a polkadot node, not near',
      });
    });

    it('refuses one node serving two validators', () => {
      const problems = problemsAfter((inv) => {
        inv.validators.push({ ...polkadotValidator(example()), id: 'dot-second', stash: otherStash() });
      });
      expect(problems).toEqual([
        { path: 'validators[2].nodes.primary', message: 'node "dot-a" already runs validator "dot-validator"' },
        { path: 'validators[2].nodes.standby', message: 'node "dot-b" already runs validator "dot-validator"' },
      ]);
    });

    it('refuses a standby that is the primary', () => {
      expect(problemsAfter((inv) => (nearValidator(inv).nodes.standby = 'near-a'))).toEqual([
        { path: 'validators[0].nodes.standby', message: 'must be a different node than the primary' },
      ]);
    });

    it('refuses two nodes on one host with the same service or folder', () => {
      const problems = problemsAfter((inv) => {
        inv.nodes[1]!.host = 'near-a';
        if (inv.nodes[1]?.chain === 'near') inv.nodes[1].home = '/home/near/.near';
      });
      expect(problems).toEqual([
        { path: 'nodes[1].service', message: 'node "near-a" on host "near-a" already uses this service' },
        { path: 'nodes[1].home', message: 'node "near-a" on host "near-a" already uses this folder' },
      ]);
    });

    it('refuses two entries for the same NEAR account on one network', () => {
      const problems = problemsAfter((inv) => {
        inv.nodes.push({ ...nearNode(example()), id: 'near-c', host: 'dot-a', rpc: 'http://dot-a.example.net:3030' });
        inv.validators.push({ ...nearValidator(example()), id: 'mypool-again', nodes: { primary: 'near-c' } });
      });
      expect(problems).toEqual([
        {
          path: 'validators[2].accountId',
          message: 'same accountId as validators[0] on mainnet: each on-chain identity gets one entry',
        },
      ]);
    });

    it('refuses two entries for the same on-chain identity, even under another SS58 prefix', () => {
      const problems = problemsAfter((inv) => {
        const stash = encodeAddress(decodeAddress(polkadotValidator(inv).stash), 42);
        inv.nodes.push({
          ...polkadotNode(example()),
          id: 'dot-c',
          host: 'near-a',
          rpc: 'ws://near-a.example.net:9944',
        });
        inv.validators.push({ ...polkadotValidator(example()), id: 'dot-again', stash, nodes: { primary: 'dot-c' } });
      });
      expect(problems).toEqual([
        {
          path: 'validators[2].stash',
          message: 'same stash as validators[1] on polkadot: each on-chain identity gets one entry',
        },
      ]);
    });
  });

  describe('RPC URLs', () => {
    it.each(['ftp://127.0.0.1:9944', '127.0.0.1:9944', 'localhost:9944', 'ws//127.0.0.1:9944'])(
      'refuses the Polkadot RPC %j',
      (rpc) => {
        expect(problemsAfter((inv) => (polkadotNode(inv).rpc = rpc))).toEqual([
          { path: 'nodes[2].rpc', message: 'must be an http(s):// or ws(s):// URL' },
        ]);
      },
    );

    it.each(['ftp://127.0.0.1:3030', 'ws://127.0.0.1:3030', '127.0.0.1:3030'])('refuses the NEAR RPC %j', (rpc) => {
      expect(problemsAfter((inv) => (nearNode(inv).rpc = rpc))).toEqual([
        { path: 'nodes[0].rpc', message: matching(/^must be an http\(s\):\/\/ URL/) },
      ]);
    });

    it('refuses a set-keys RPC without a scheme', () => {
      expect(problemsAfter((inv) => (polkadotValidator(inv).setKeys.rpc = 'asset-hub.example.net'))).toEqual([
        { path: 'validators[1].setKeys.rpc', message: 'must be an http(s):// or ws(s):// URL' },
      ]);
    });
  });

  describe('on-chain identities', () => {
    it.each(['MyPool.poolv1.near', 'a', 'pool..near', '-pool.near', 'pool_.near', 'pool near', 'x'.repeat(65)])(
      'refuses the NEAR account id %j',
      (accountId) => {
        expect(problemsAfter((inv) => (nearValidator(inv).accountId = accountId))).toEqual([
          { path: 'validators[0].accountId', message: matching(/^must be a NEAR account id/) },
        ]);
      },
    );

    it('refuses a bad pool owner account id', () => {
      expect(
        problemsAfter((inv) => {
          const staking = nearValidator(inv).staking;
          if (staking.type === 'pool') staking.owner = 'Owner.near';
        }),
      ).toEqual([{ path: 'validators[0].staking.owner', message: matching(/^must be a NEAR account id/) }]);
    });

    it.each(['mypool.pool.f863973.m0', 'a1', '98793cd91a3f870fb126f66285808c7e094afcfc4eda8a970f6648cdf0dbd6de'])(
      'accepts the NEAR account id %j',
      (accountId) => {
        const inventory = example();
        nearValidator(inventory).accountId = accountId;
        expect(() => parseInventory(stringify(inventory))).not.toThrow();
      },
    );

    const stash = '16gZkmxLqqshTxCpaAKegp8KTATwNa1S7SRhbSeuxU2Qw3Su';
    it.each([
      ['a broken checksum', stash.slice(0, -1) + (stash.endsWith('u') ? 'v' : 'u')],
      ['a hex public key', '0x' + '11'.repeat(32)],
      ['a NEAR account', 'mypool.poolv1.near'],
      ['an account index', encodeAddress(new Uint8Array([1, 2, 3, 4]), 0)],
    ])('refuses a stash that is %s', (_what, address) => {
      expect(problemsAfter((inv) => (polkadotValidator(inv).stash = address))).toEqual([
        { path: 'validators[1].stash', message: matching(/^must be an SS58 address/) },
      ]);
    });

    it("refuses an address printed for another network than the validator's", () => {
      const kusamaStash = encodeAddress(decodeAddress(stash), 2);
      expect(problemsAfter((inv) => (polkadotValidator(inv).stash = kusamaStash))).toEqual([
        {
          path: 'validators[1].stash',
          message: 'is an address with SS58 prefix 2, but polkadot addresses use prefix 0',
        },
      ]);
    });

    it('accepts the generic Substrate form (prefix 42) of a stash', () => {
      const inventory = example();
      polkadotValidator(inventory).stash = encodeAddress(decodeAddress(stash), 42);
      expect(() => parseInventory(stringify(inventory))).not.toThrow();
    });
  });

  describe('YAML', () => {
    it('reports malformed YAML with its line and column', () => {
      const text = exampleText.replace('    user: vup\n', '    user: vup: x\n');
      const line = text.split('\n').indexOf('    user: vup: x') + 1;
      expect(errorOf(text).problems).toEqual([{ path: `line ${line}, column 11`, message: matching(/mapping/i) }]);
    });

    it('refuses a duplicate key, naming its line', () => {
      const text = exampleText.replace('    user: vup\n', '    user: vup\n    user: root\n');
      const line = text.split('\n').indexOf('    user: root') + 1;
      expect(errorOf(text).problems).toEqual([{ path: `line ${line}, column 5`, message: matching(/unique/) }]);
    });

    it('refuses a duplicate key in JSON too', () => {
      expect(errorOf('{ "version": 1, "version": 1 }').problems).toEqual([
        { path: 'line 1, column 17', message: matching(/unique/) },
      ]);
    });

    it('refuses a file that is not a mapping', () => {
      expect(errorOf('- hosts\n').problems).toEqual([{ path: '(top level)', message: matching(/mapping/) }]);
    });
  });

  it('reports every problem at once, in file order, each on its own line', () => {
    const inventory = example();
    inventory.hosts[2]!.hostKey = 'not a key';
    nearValidator(inventory).nodes.primary = 'nowhere';
    nearNode(inventory).home = 'relative';
    const error = errorOf(stringify(inventory), 'fleet.yaml');
    expect(error.problems.map((p) => p.path)).toEqual([
      'hosts[2].hostKey',
      'nodes[0].home',
      'validators[0].nodes.primary',
    ]);
    expect(error.message).toBe(
      [
        'fleet.yaml: 3 problems in the inventory:',
        '  hosts[2].hostKey: must be a pinned host key: an OpenSSH public key line ("ssh-ed25519 AAAA…") or "SHA256:<fingerprint>"',
        '  nodes[0].home: must be an absolute path (starting with "/")',
        '  validators[0].nodes.primary: unknown node "nowhere"',
      ].join('\n'),
    );
  });

  it('reports missing fields and wrong enum values in plain words', () => {
    const problems = problemsAfter((inv) => {
      delete asRecord(inv).version;
      asRecord(inv.validators[0]).network = 'betanet';
      asRecord(inv.signers![0]).type = 'vault';
    });
    expect(problems).toEqual([
      { path: 'validators[0].network', message: 'must be one of "mainnet", "testnet", "localnet"' },
      { path: 'signers[0].type', message: 'must be one of "env", "file", "keystore-dir"' },
      { path: 'version', message: 'required: 1' },
    ]);
  });

  describe('files', () => {
    let tempDir: string;
    beforeAll(async () => {
      tempDir = await mkdtemp(path.join(tmpdir(), 'inventory-errors-'));
    });
    afterAll(async () => {
      await rm(tempDir, { recursive: true, force: true });
    });

    it('names the file in the error', async () => {
      const file = path.join(tempDir, 'fleet.yaml');
      await writeFile(file, exampleText.replace('service: neard', 'service: "neard; reboot"'));
      const error = await loadInventory(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InventoryError);
      expect((error as InventoryError).source).toBe(file);
      expect((error as InventoryError).message).toMatch(
        new RegExp(`^${file}: 1 problem in the inventory:\n  nodes\\[0\\].service: `),
      );
    });

    it('reports a file that cannot be read', async () => {
      const file = path.join(tempDir, 'missing.yaml');
      await expect(loadInventory(file)).rejects.toThrow(
        `${file}: 1 problem in the inventory:\n  (file): cannot read it (ENOENT)`,
      );
    });
  });
});

/** A second, valid Polkadot stash address. */
function otherStash(): string {
  return encodeAddress(new Uint8Array(32).fill(9), 0);
}
