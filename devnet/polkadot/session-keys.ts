/**
 * Session keys as the runtime defines them (`impl_opaque_keys!`): the field order and sizes come from the
 * metadata of `session.set_keys`, never from a hard-coded list. The ownership proof is the SCALE tuple of
 * one signature per key, in field order, each over `"POP_" ++ owner` (polkadot-sdk PR #1739).
 */
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { ed25519Verify, secp256k1Verify, sr25519Verify } from '@polkadot/util-crypto';
import type { Runtime } from './metadata.js';

export type KeyCrypto = 'ed25519' | 'sr25519' | 'ecdsa';

export interface SessionKeyField {
  /** Field name in the runtime's SessionKeys struct (camelCase as polkadot-js names it). */
  name: string;
  /** Four-letter key type id, as in `author_hasKey` and the keystore file names. */
  keyType: string;
  crypto: KeyCrypto;
  publicKeyLength: number;
}

const SIGNATURE_LENGTH: Record<KeyCrypto, number> = { ed25519: 64, sr25519: 64, ecdsa: 65 };

/** Key type ids of the runtime's app crypto modules (sp-consensus-*, polkadot-primitives, sp-authority-discovery). */
const KNOWN_FIELDS: Record<string, { keyType: string; crypto?: KeyCrypto }> = {
  grandpa: { keyType: 'gran', crypto: 'ed25519' },
  babe: { keyType: 'babe', crypto: 'sr25519' },
  imOnline: { keyType: 'imon', crypto: 'sr25519' },
  paraValidator: { keyType: 'para', crypto: 'sr25519' },
  paraAssignment: { keyType: 'asgn', crypto: 'sr25519' },
  authorityDiscovery: { keyType: 'audi', crypto: 'sr25519' },
  beefy: { keyType: 'beef', crypto: 'ecdsa' },
  aura: { keyType: 'aura' },
};

/** The SessionKeys layout of a runtime, read from the first argument of `session.set_keys`. */
export function sessionKeyLayout(runtime: Runtime): SessionKeyField[] {
  const setKeys = runtime.decorated.tx.session?.setKeys;
  if (!setKeys) throw new Error(`runtime ${runtime.name} has no session.setKeys`);
  const keysField = setKeys.meta.fields[0];
  if (!keysField) throw new Error('session.setKeys has no keys argument');
  const def = runtime.registry.lookup.getTypeDef(keysField.type);
  const fields = Array.isArray(def.sub) ? def.sub : [];
  return fields.map((sub) => {
    const name = sub.name ?? '';
    const known = KNOWN_FIELDS[name];
    if (!known || sub.length === undefined) throw new Error(`unknown session key field ${name} in ${runtime.name}`);
    const lookupName = sub.lookupName ?? '';
    const crypto: KeyCrypto =
      known.crypto ?? (/ecdsa/i.test(lookupName) ? 'ecdsa' : /ed25519/i.test(lookupName) ? 'ed25519' : 'sr25519');
    return { name, keyType: known.keyType, crypto, publicKeyLength: sub.length };
  });
}

export function sessionKeysLength(layout: SessionKeyField[]): number {
  return layout.reduce((sum, f) => sum + f.publicKeyLength, 0);
}

/** Splits encoded SessionKeys into [field, public key]; undefined when the length is wrong. */
export function splitSessionKeys(
  layout: SessionKeyField[],
  keys: Uint8Array,
): { field: SessionKeyField; publicKey: Uint8Array }[] | undefined {
  if (keys.length !== sessionKeysLength(layout)) return undefined;
  let offset = 0;
  return layout.map((field) => {
    const publicKey = keys.subarray(offset, offset + field.publicKeyLength);
    offset += field.publicKeyLength;
    return { field, publicKey };
  });
}

export function keyPair(crypto: KeyCrypto, suri: string): KeyringPair {
  return new Keyring({ type: crypto }).addFromUri(suri);
}

export function proofMessage(owner: Uint8Array): Uint8Array {
  return u8aConcat(stringToU8a('POP_'), owner);
}

/** The ownership proof for `owner`, signed by each session key pair (in layout order). */
export function createOwnershipProof(pairs: KeyringPair[], owner: Uint8Array): Uint8Array {
  const message = proofMessage(owner);
  return u8aConcat(...pairs.map((pair) => pair.sign(message)));
}

function verifyOne(crypto: KeyCrypto, message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    if (crypto === 'ed25519') return ed25519Verify(message, signature, publicKey);
    if (crypto === 'sr25519') return sr25519Verify(message, signature, publicKey);
    return secp256k1Verify(message, signature, publicKey, 'blake2');
  } catch {
    return false;
  }
}

/** What `keys.ownership_proof_is_valid(owner, proof)` decides in the runtime. */
export function isOwnershipProofValid(
  layout: SessionKeyField[],
  keys: Uint8Array,
  proof: Uint8Array,
  owner: Uint8Array,
): boolean {
  const parts = splitSessionKeys(layout, keys);
  if (!parts) return false;
  const expected = layout.reduce((sum, f) => sum + SIGNATURE_LENGTH[f.crypto], 0);
  if (proof.length !== expected) return false;
  const message = proofMessage(owner);
  let offset = 0;
  return parts.every(({ field, publicKey }) => {
    const signature = proof.subarray(offset, offset + SIGNATURE_LENGTH[field.crypto]);
    offset += SIGNATURE_LENGTH[field.crypto];
    return verifyOne(field.crypto, message, signature, publicKey);
  });
}

/** Dev-chain session keys of a named authority: every key derived from `//Name`, like `--alice`. */
export function devSessionKeys(layout: SessionKeyField[], suri: string): Uint8Array {
  return u8aConcat(...layout.map((f) => keyPair(f.crypto, suri).publicKey));
}

export function keyTypeHex(keyType: string): string {
  return u8aToHex(stringToU8a(keyType));
}
