/**
 * A node's local keystore, laid out like Substrate's (`<base>/chains/<chain>/keystore/<hex key type><hex
 * public key>`, each file a JSON string holding the secret phrase, mode 0600). Secrets are only read to sign;
 * nothing here returns or logs them.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeyringPair } from '@polkadot/keyring/types';
import { hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { mnemonicGenerate } from '@polkadot/util-crypto';
import {
  type KeyCrypto,
  type SessionKeyField,
  createOwnershipProof,
  keyPair,
  keyTypeHex,
  splitSessionKeys,
} from './session-keys.js';

export class Keystore {
  readonly dir: string;

  constructor(basePath: string, chainId: string) {
    this.dir = path.join(basePath, 'chains', chainId, 'keystore');
  }

  private file(keyType: string, publicKey: Uint8Array): string {
    return path.join(this.dir, `${keyTypeHex(keyType).slice(2)}${u8aToHex(publicKey).slice(2)}`);
  }

  async insert(keyType: string, crypto: KeyCrypto, suri: string, publicKey?: Uint8Array): Promise<Uint8Array> {
    const pair = keyPair(crypto, suri);
    if (publicKey && u8aToHex(publicKey) !== u8aToHex(pair.publicKey)) {
      throw new Error(`the secret does not derive the given ${keyType} public key`);
    }
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(keyType, pair.publicKey);
    await writeFile(file, JSON.stringify(suri), { mode: 0o600 });
    await chmod(file, 0o600);
    return pair.publicKey;
  }

  has(keyType: string, publicKey: Uint8Array): boolean {
    return existsSync(this.file(keyType, publicKey));
  }

  async pair(keyType: string, crypto: KeyCrypto, publicKey: Uint8Array): Promise<KeyringPair | undefined> {
    if (!this.has(keyType, publicKey)) return undefined;
    const suri = JSON.parse(await readFile(this.file(keyType, publicKey), 'utf8')) as string;
    return keyPair(crypto, suri);
  }

  /** Public keys (hex) stored for a key type. */
  async publicKeys(keyType: string): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    const prefix = keyTypeHex(keyType).slice(2);
    return (await readdir(this.dir)).filter((f) => f.startsWith(prefix)).map((f) => `0x${f.slice(prefix.length)}`);
  }

  /** `author_rotateKeys(WithOwner)`: one new key per SessionKeys field, stored here; the proof if owner given. */
  async rotate(layout: SessionKeyField[], owner?: Uint8Array): Promise<{ keys: string; proof?: string }> {
    const pairs: KeyringPair[] = [];
    for (const field of layout) {
      const suri = mnemonicGenerate();
      await this.insert(field.keyType, field.crypto, suri);
      pairs.push(keyPair(field.crypto, suri));
    }
    const keys = u8aToHex(u8aConcat(...pairs.map((p) => p.publicKey)));
    return owner ? { keys, proof: u8aToHex(createOwnershipProof(pairs, owner)) } : { keys };
  }

  /** `author_hasSessionKeys`: every key of the encoded SessionKeys is in this keystore. */
  hasSessionKeys(layout: SessionKeyField[], keysHex: string): boolean {
    const parts = splitSessionKeys(layout, hexToU8a(keysHex));
    return parts !== undefined && parts.every(({ field, publicKey }) => this.has(field.keyType, publicKey));
  }
}
