/**
 * Resolves a signer reference of the inventory (src/config/inventory.ts) to a near-api-js signer, at run time
 * in the worker: an environment variable holding "ed25519:…", a near-cli credentials file
 * ({account_id, public_key, private_key}), or a near-cli credentials folder (<path>/<network>/<account>.json).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyPair, KeyPairSigner, type KeyPairString } from 'near-api-js';
import type { SignerSpec } from '../config/inventory.js';
import { SignerError } from './errors.js';

export interface ResolvedNearSigner {
  signer: KeyPairSigner;
  publicKey: string;
  /** The account a credentials file names; an environment variable names none. */
  accountId?: string;
}

export interface NearSignerContext {
  /** The network folder of a credentials folder ("mainnet", "testnet", "localnet"). */
  networkId: string;
  /** The account the key must sign for. */
  accountId: string;
}

/**
 * The key a signer reference stands for, refused unless it may sign for `context.accountId`. `env` is the
 * worker's environment unless a test hands it another.
 */
export async function resolveNearSigner(
  spec: SignerSpec,
  context: NearSignerContext,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedNearSigner> {
  switch (spec.type) {
    case 'env': {
      const value = env[spec.variable];
      const where = `environment variable ${spec.variable} (signer ${spec.id})`;
      if (value === undefined || value.trim() === '') throw new SignerError('SignerMissing', `${where} is not set`);
      return fromKeyPair(parseSecretKey(value.trim(), where));
    }
    case 'file': {
      if (spec.passphraseEnv !== undefined) {
        throw new SignerError(
          'SignerUnsupported',
          `signer ${spec.id}: a passphrase-protected keystore is a Substrate signer, not a NEAR credentials file`,
        );
      }
      return readCredentialsFile(spec.path, `credentials file ${spec.path} (signer ${spec.id})`, context);
    }
    case 'keystore-dir': {
      if (!/^[a-z0-9._-]+$/.test(context.networkId) || !/^[a-z0-9._-]+$/.test(context.accountId)) {
        throw new SignerError('SignerInvalid', `signer ${spec.id}: network or account id cannot name a file`);
      }
      const file = path.join(spec.path, context.networkId, `${context.accountId}.json`);
      return readCredentialsFile(file, `credentials file ${file} (signer ${spec.id})`, context);
    }
  }
}

export type NearSignerResolver = typeof resolveNearSigner;

async function readCredentialsFile(file: string, where: string, context: NearSignerContext) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SignerError('SignerMissing', `${where} cannot be read (${code})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text it failed on, which may be the key.
    throw new SignerError('SignerInvalid', `${where} is not JSON`);
  }
  const fields = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (fields.private_key !== undefined && fields.secret_key !== undefined) {
    throw new SignerError('SignerInvalid', `${where} has both private_key and secret_key`);
  }
  const secret = fields.private_key ?? fields.secret_key;
  if (typeof secret !== 'string') throw new SignerError('SignerInvalid', `${where} has no private_key`);
  const keyPair = parseSecretKey(secret, where);
  const publicKey = keyPair.getPublicKey().toString();
  if (fields.public_key !== undefined && fields.public_key !== publicKey) {
    throw new SignerError('SignerInvalid', `${where}: public_key does not match the private key`);
  }
  const accountId = typeof fields.account_id === 'string' && fields.account_id !== '' ? fields.account_id : undefined;
  if (accountId !== undefined && accountId !== context.accountId) {
    throw new SignerError(
      'SignerAccountMismatch',
      `${where} holds a key of ${accountId}, but ${context.accountId} must sign`,
    );
  }
  return { ...fromKeyPair(keyPair), accountId };
}

function parseSecretKey(value: string, where: string): KeyPair {
  if (!value.startsWith('ed25519:')) {
    throw new SignerError('SignerInvalid', `${where} does not hold an ed25519 secret key ("ed25519:…")`);
  }
  try {
    return KeyPair.fromString(value as KeyPairString);
  } catch {
    // The parser's message may quote the key; name only where it came from.
    throw new SignerError('SignerInvalid', `${where} does not hold a valid ed25519 secret key`);
  }
}

function fromKeyPair(keyPair: KeyPair): ResolvedNearSigner {
  return { signer: new KeyPairSigner(keyPair), publicKey: keyPair.getPublicKey().toString() };
}
