/**
 * Resolves a signer reference of the inventory (src/config/signers.ts) to a Substrate key pair, at run time
 * in the worker: an environment variable holding a secret URI (mnemonic, hex seed or dev phrase, with an
 * optional derivation path), or a polkadot-js JSON keystore export whose password is in an environment
 * variable. Errors name the reference, never the secret, the password or the parser's message (which may
 * quote them).
 */
import { readFile } from 'node:fs/promises';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair, KeyringPair$Json } from '@polkadot/keyring/types';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';
import type { SignerSpec } from '../config/inventory.js';
import { SignerError } from './errors.js';

export interface SubstrateSignerContext {
  /** The account (SS58) the key must sign as. */
  address: string;
  /** What the account is, for messages ("stash", "proxy"). */
  role?: string;
}

/** The key pair a signer reference stands for, refused unless it is the key of `context.address`. */
export async function resolveSubstrateSigner(
  spec: SignerSpec,
  context: SubstrateSignerContext,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KeyringPair> {
  await cryptoWaitReady();
  const pair = await loadPair(spec, env);
  let wanted: string;
  try {
    wanted = u8aToHex(decodeAddress(context.address));
  } catch {
    throw new SignerError('SignerInvalid', `signer ${spec.id}: ${context.address} is not an SS58 address`);
  }
  if (u8aToHex(pair.publicKey) !== wanted) {
    throw new SignerError(
      'SignerAccountMismatch',
      `${whereOf(spec)} holds the key of ${pair.address}, but the ${context.role ?? 'account'} ${context.address} must sign`,
    );
  }
  return pair;
}

export type SubstrateSignerResolver = typeof resolveSubstrateSigner;

function whereOf(spec: SignerSpec): string {
  if (spec.type === 'env') return `environment variable ${spec.variable} (signer ${spec.id})`;
  return `${spec.type === 'file' ? 'keystore file' : 'folder'} ${spec.path} (signer ${spec.id})`;
}

async function loadPair(spec: SignerSpec, env: NodeJS.ProcessEnv): Promise<KeyringPair> {
  switch (spec.type) {
    case 'env': {
      const where = whereOf(spec);
      const suri = env[spec.variable]?.trim();
      if (suri === undefined || suri === '') throw new SignerError('SignerMissing', `${where} is not set`);
      try {
        return new Keyring({ type: 'sr25519' }).addFromUri(suri);
      } catch {
        throw new SignerError('SignerInvalid', `${where} does not hold a valid secret URI (mnemonic or seed)`);
      }
    }
    case 'file':
      return readKeystoreFile(spec.path, spec.passphraseEnv, whereOf(spec), env);
    case 'keystore-dir':
      throw new SignerError(
        'SignerUnsupported',
        `signer ${spec.id}: a near-cli credentials folder holds no Substrate key; use an env or file signer`,
      );
  }
}

async function readKeystoreFile(
  file: string,
  passphraseEnv: string | undefined,
  where: string,
  env: NodeJS.ProcessEnv,
): Promise<KeyringPair> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SignerError(
      'SignerMissing',
      `${where} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  let json: KeyringPair$Json;
  try {
    json = JSON.parse(text) as KeyringPair$Json;
  } catch {
    throw new SignerError('SignerInvalid', `${where} is not JSON`);
  }
  const content = json?.encoding?.content;
  if (typeof json?.encoded !== 'string' || !Array.isArray(content) || content[0] !== 'pkcs8') {
    throw new SignerError('SignerInvalid', `${where} is not a polkadot-js JSON keystore export`);
  }
  const keyType = content[1];
  if (keyType !== 'sr25519' && keyType !== 'ed25519' && keyType !== 'ecdsa') {
    throw new SignerError('SignerUnsupported', `${where} holds a key of unsupported type ${String(keyType)}`);
  }
  const encrypted = Array.isArray(json.encoding.type) && json.encoding.type.includes('xsalsa20-poly1305');
  let password: string | undefined;
  if (encrypted) {
    if (passphraseEnv === undefined)
      throw new SignerError('SignerInvalid', `${where} is encrypted but names no passphraseEnv`);
    password = env[passphraseEnv];
    if (password === undefined || password === '') {
      throw new SignerError('SignerMissing', `${where}: its password variable ${passphraseEnv} is not set`);
    }
  }
  let pair: KeyringPair;
  try {
    pair = new Keyring({ type: keyType }).addFromJson(json);
  } catch {
    throw new SignerError('SignerInvalid', `${where} is not a valid polkadot-js keystore export`);
  }
  try {
    pair.decodePkcs8(password);
  } catch {
    throw new SignerError(
      'SignerInvalid',
      encrypted ? `${where} cannot be decrypted with the password in ${passphraseEnv}` : `${where} cannot be decoded`,
    );
  }
  return pair;
}
