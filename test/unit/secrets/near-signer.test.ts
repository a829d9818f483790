/**
 * Signer references resolve to near-api-js signers from the worker's environment and files, and every
 * failure names the reference but never the key it holds.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeyPair } from 'near-api-js';
import { SignerError } from '../../../src/secrets/errors.js';
import { resolveNearSigner } from '../../../src/secrets/near-signer.js';
import type { SignerSpec } from '../../../src/config/inventory.js';

const key = KeyPair.fromRandom('ed25519');
const secret = key.toString();
const secretBody = secret.slice('ed25519:'.length);
const publicKey = key.getPublicKey().toString();
const context = { networkId: 'localnet', accountId: 'owner.near' };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vup-signers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function credentials(file: string, content: unknown) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
  return file;
}

async function failure(spec: SignerSpec, env: NodeJS.ProcessEnv = {}, ctx = context): Promise<SignerError> {
  const err = await resolveNearSigner(spec, ctx, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SignerError);
  const signerError = err as SignerError;
  expect(signerError.nonRetryable).toBe(true);
  expect(signerError.message).not.toContain(secretBody);
  expect(signerError.message).not.toContain(secretBody.slice(0, 12));
  return signerError;
}

describe('environment variable', () => {
  const spec: SignerSpec = { id: 'owner', type: 'env', variable: 'OWNER_KEY' };

  it('resolves a secret key to a signer of its public key', async () => {
    const resolved = await resolveNearSigner(spec, context, { OWNER_KEY: secret });
    expect(resolved.publicKey).toBe(publicKey);
    expect((await resolved.signer.getPublicKey()).toString()).toBe(publicKey);
    expect(resolved.accountId).toBeUndefined();
  });

  it('names the missing variable', async () => {
    const err = await failure(spec, {});
    expect(err.type).toBe('SignerMissing');
    expect(err.message).toContain('OWNER_KEY');
  });

  it('refuses a malformed key without quoting it', async () => {
    const err = await failure(spec, { OWNER_KEY: `ed25519:${secretBody}xyz0OIl` });
    expect(err.type).toBe('SignerInvalid');
    expect(err.message).toContain('OWNER_KEY');
    const bare = await failure(spec, { OWNER_KEY: secretBody });
    expect(bare.type).toBe('SignerInvalid');
  });
});

describe('credentials file', () => {
  it('resolves a near-cli credentials file and reports its account', async () => {
    const file = credentials(path.join(dir, 'owner.json'), {
      account_id: 'owner.near',
      public_key: publicKey,
      private_key: secret,
    });
    const resolved = await resolveNearSigner({ id: 'owner', type: 'file', path: file }, context);
    expect(resolved).toMatchObject({ publicKey, accountId: 'owner.near' });
  });

  it("accepts nearcore's secret_key spelling", async () => {
    const file = credentials(path.join(dir, 'nearcore.json'), { account_id: 'owner.near', secret_key: secret });
    expect((await resolveNearSigner({ id: 'owner', type: 'file', path: file }, context)).publicKey).toBe(publicKey);
  });

  it('refuses a key of another account, naming both accounts but not the key', async () => {
    const file = credentials(path.join(dir, 'other.json'), {
      account_id: 'mallory.near',
      public_key: publicKey,
      private_key: secret,
    });
    const err = await failure({ id: 'owner', type: 'file', path: file });
    expect(err.type).toBe('SignerAccountMismatch');
    expect(err.message).toContain('mallory.near');
    expect(err.message).toContain('owner.near');
  });

  it('refuses a public key that does not match the private key', async () => {
    const file = credentials(path.join(dir, 'mismatch.json'), {
      account_id: 'owner.near',
      public_key: KeyPair.fromRandom('ed25519').getPublicKey().toString(),
      private_key: secret,
    });
    expect((await failure({ id: 'owner', type: 'file', path: file })).type).toBe('SignerInvalid');
  });

  it('never quotes a file that is not JSON (JSON.parse would)', async () => {
    const file = credentials(path.join(dir, 'broken.json'), `{"private_key": "${secret}",`);
    const err = await failure({ id: 'owner', type: 'file', path: file });
    expect(err.message).toContain(file);
  });

  it('names a missing file', async () => {
    const file = path.join(dir, 'absent.json');
    const err = await failure({ id: 'owner', type: 'file', path: file });
    expect(err.type).toBe('SignerMissing');
    expect(err.message).toContain(file);
  });
});

describe('credentials folder', () => {
  it('reads <path>/<network>/<account>.json', async () => {
    const folder = path.join(dir, 'near-credentials');
    credentials(path.join(folder, 'localnet', 'owner.near.json'), {
      account_id: 'owner.near',
      public_key: publicKey,
      private_key: secret,
    });
    const spec: SignerSpec = { id: 'creds', type: 'keystore-dir', path: folder };
    expect((await resolveNearSigner(spec, context)).publicKey).toBe(publicKey);
    const err = await failure(spec, {}, { networkId: 'testnet', accountId: 'owner.near' });
    expect(err.type).toBe('SignerMissing');
    expect(err.message).toContain(path.join(folder, 'testnet', 'owner.near.json'));
  });
});
