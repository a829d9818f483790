/**
 * The secret scan (test/helpers/secret-scan.ts) can fail: a history or a log holding a fixture's secret is
 * found, and what is public (public keys, //Alice dev URIs, block hashes, prose) is not.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto';
import { KeyPair } from 'near-api-js';
import { FIXTURE_SECRETS, findSecrets, scanFolder } from '../helpers/secret-scan.js';

beforeAll(async () => {
  await cryptoWaitReady();
});

/** A history as the helper writes it: events whose payloads hold JSON text. */
const historyWith = (payload: unknown) =>
  JSON.stringify({
    events: [
      {
        eventId: '5',
        activityTaskCompletedEventAttributes: {
          result: { payloads: [{ metadata: { encoding: 'json/plain' }, data: JSON.stringify(payload) }] },
        },
      },
    ],
  });

describe('findSecrets', () => {
  const near = KeyPair.fromRandom('ed25519');
  const mnemonic = mnemonicGenerate();

  it.each([
    ['a NEAR secret key', () => historyWith({ key: near.toString() }), 'NEAR ed25519 secret key'],
    ['a key file', () => historyWith({ secret_key: 'ed25519:abc', account_id: 'a.near' }), 'key file secret field'],
    [
      'an SSH private key',
      () => '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n',
      'PEM or OpenSSH private key',
    ],
    ['a PEM private key', () => '-----BEGIN EC PRIVATE KEY-----', 'PEM or OpenSSH private key'],
    ['a mnemonic', () => historyWith({ suri: `${mnemonic}//stash` }), 'BIP39 mnemonic'],
    ['a fixture password', () => `worker said: ${FIXTURE_SECRETS[0]}`, 'fixture secret'],
  ])('finds %s', (_, text, kind) => {
    const hits = findSecrets(text(), 'h.json');
    expect(hits.map((h) => h.kind)).toContain(kind);
    // The report masks what it found.
    for (const h of hits) expect(h.masked.length).toBeLessThan(40);
  });

  it('passes what is public', () => {
    const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const text = [
      historyWith({ publicKey: near.getPublicKey().toString(), suri: '//Alice//stash', address: alice.address }),
      historyWith({ blockHash: `0x${'ab'.repeat(32)}`, keys: `0x${'cd'.repeat(192)}` }),
      'the new node is synced and the old node is stopped so the key moves to the new node now and then',
    ].join('\n');
    expect(findSecrets(text, 'h.json')).toEqual([]);
  });
});

describe('scanFolder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vup-scan-test-'));
    await mkdir(path.join(dir, 'histories'));
    await mkdir(path.join(dir, 'logs'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts histories and log lines, and finds a runtime secret the run registered', async () => {
    const password = '0x5f1c0de2a9b84e7d3f6a1c2b9e8d7f60';
    await writeFile(path.join(dir, 'histories', 'a.json'), historyWith({ ok: true }));
    await writeFile(path.join(dir, 'histories', 'b.json'), historyWith({ passphrase: password }));
    await writeFile(path.join(dir, 'logs', 'worker.log'), 'line one\nline two\n');
    await writeFile(path.join(dir, 'secrets.txt'), `${password}\n//Alice\n`);

    const report = scanFolder(dir);
    expect(report).toMatchObject({ histories: 2, logFiles: 1, logLines: 2 });
    expect(report.hits).toEqual([expect.objectContaining({ kind: 'fixture secret', source: 'histories/b.json' })]);
  });

  it('finds nothing in a clean run', async () => {
    await writeFile(path.join(dir, 'histories', 'a.json'), historyWith({ ok: true }));
    expect(scanFolder(dir).hits).toEqual([]);
  });
});
