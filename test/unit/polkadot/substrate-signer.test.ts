/**
 * Substrate signer references resolve to the right key pair (secret URI in an environment variable, or an
 * encrypted polkadot-js JSON keystore with its password in another), refuse a key of another account, and never
 * quote a secret, a password or a keystore in their errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto';
import type { SignerSpec } from '../../../src/config/inventory.js';
import { SignerError } from '../../../src/secrets/errors.js';
import { resolveSubstrateSigner } from '../../../src/secrets/substrate-signer.js';

let dir: string;
let mnemonic: string;
let address: string;
const password = 'correct horse battery staple';

beforeAll(async () => {
  await cryptoWaitReady();
  dir = await mkdtemp(path.join(tmpdir(), 'vup-substrate-signer-'));
  mnemonic = mnemonicGenerate();
  address = new Keyring({ type: 'sr25519' }).addFromUri(`${mnemonic}//stash`).address;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function signerError(promise: Promise<unknown>): Promise<SignerError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SignerError);
  const text = `${(error as Error).message}\n${(error as Error).stack ?? ''}\n${JSON.stringify(error)}`;
  for (const secret of [
    mnemonic,
    password,
    ...mnemonic
      .split(' ')
      .filter((w) => w.length > 4)
      .slice(0, 3),
  ]) {
    expect(text).not.toContain(secret);
  }
  return error as SignerError;
}

describe('environment variable with a secret URI', () => {
  const spec: SignerSpec = { id: 'stash', type: 'env', variable: 'STASH_SURI' };

  it('resolves a mnemonic with a derivation path to the account', async () => {
    const pair = await resolveSubstrateSigner(spec, { address }, { STASH_SURI: `${mnemonic}//stash` });
    expect(pair.address).toBe(address);
    expect(pair.isLocked).toBe(false);
  });

  it('refuses the key of another account and names both accounts, not the secret', async () => {
    const error = await signerError(resolveSubstrateSigner(spec, { address, role: 'stash' }, { STASH_SURI: mnemonic }));
    expect(error.type).toBe('SignerAccountMismatch');
    expect(error.message).toContain(address);
    expect(error.message).toContain('STASH_SURI');
  });

  it('says a missing or malformed variable is missing or invalid, without quoting it', async () => {
    expect((await signerError(resolveSubstrateSigner(spec, { address }, {}))).type).toBe('SignerMissing');
    const malformed = `${mnemonic.split(' ').slice(0, 11).join(' ')} notaword`;
    const error = await signerError(resolveSubstrateSigner(spec, { address }, { STASH_SURI: malformed }));
    expect(error.type).toBe('SignerInvalid');
    expect(error.message).not.toContain('notaword');
  });
});

describe('polkadot-js JSON keystore with its password in an environment variable', () => {
  let file: string;
  const spec = (): SignerSpec => ({ id: 'proxy', type: 'file', path: file, passphraseEnv: 'PROXY_PASSWORD' });

  beforeAll(async () => {
    file = path.join(dir, 'proxy.json');
    const json = new Keyring({ type: 'sr25519' }).addFromUri(`${mnemonic}//stash`).toJson(password);
    await writeFile(file, JSON.stringify(json), { mode: 0o600 });
  });

  it('decrypts the keystore with the password', async () => {
    const pair = await resolveSubstrateSigner(spec(), { address }, { PROXY_PASSWORD: password });
    expect(pair.address).toBe(address);
    expect(pair.isLocked).toBe(false);
    const signature = pair.sign(new Uint8Array([1, 2, 3]));
    expect(pair.verify(new Uint8Array([1, 2, 3]), signature, pair.publicKey)).toBe(true);
  });

  it('a wrong password, a missing password and a missing passphraseEnv are refused without quoting anything secret', async () => {
    const wrong = await signerError(resolveSubstrateSigner(spec(), { address }, { PROXY_PASSWORD: 'wrong' }));
    expect(wrong.type).toBe('SignerInvalid');
    expect(wrong.message).toContain('PROXY_PASSWORD');
    expect((await signerError(resolveSubstrateSigner(spec(), { address }, {}))).type).toBe('SignerMissing');
    const noEnv: SignerSpec = { id: 'proxy', type: 'file', path: file };
    expect((await signerError(resolveSubstrateSigner(noEnv, { address }, { PROXY_PASSWORD: password }))).type).toBe(
      'SignerInvalid',
    );
  });

  it('a file that is not a keystore, or not there, is refused without quoting its content', async () => {
    const notKeystore = path.join(dir, 'not-keystore.json');
    await writeFile(notKeystore, JSON.stringify({ secret: mnemonic }));
    const garbled = path.join(dir, 'garbled.json');
    await writeFile(garbled, `{${mnemonic}`);
    for (const p of [notKeystore, garbled]) {
      const error = await signerError(resolveSubstrateSigner({ id: 'x', type: 'file', path: p }, { address }, {}));
      expect(error.type).toBe('SignerInvalid');
    }
    const missing = await signerError(
      resolveSubstrateSigner({ id: 'x', type: 'file', path: path.join(dir, 'absent.json') }, { address }, {}),
    );
    expect(missing.type).toBe('SignerMissing');
  });

  it('a near-cli credentials folder is not a Substrate signer', async () => {
    const error = await signerError(
      resolveSubstrateSigner({ id: 'near', type: 'keystore-dir', path: dir }, { address }, {}),
    );
    expect(error.type).toBe('SignerUnsupported');
  });
});
