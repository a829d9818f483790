/**
 * The project is ESM because near-api-js 7 ships only ESM. This proves, inside the ordinary `npm test`
 * run, that both chain client libraries load and do real cryptographic work under jest's ESM mode.
 */
import { KeyPair } from 'near-api-js';
import { Keyring } from '@polkadot/keyring';
import { TypeRegistry, Metadata } from '@polkadot/types';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { hexToU8a } from '@polkadot/util';
import { ApiPromise } from '@polkadot/api';
import metadataPolkadot from '@polkadot/types-support/metadata/v15/polkadot-hex';

describe('module system', () => {
  it('loads near-api-js 7 (ESM-only) and verifies an ed25519 signature with it', () => {
    const key = KeyPair.fromRandom('ed25519');
    const message = new TextEncoder().encode('validator upgrade');
    const { signature } = key.sign(message);
    expect(key.verify(message, signature)).toBe(true);
    expect(key.verify(new TextEncoder().encode('tampered'), signature)).toBe(false);
  });

  it('loads @polkadot/api and decodes the shipped v15 runtime metadata', async () => {
    await cryptoWaitReady();
    const registry = new TypeRegistry();
    // The v15 file holds what `Metadata_metadata_at_version` returns: Option<OpaqueMetadata>.
    const opaque = registry.createType('Option<OpaqueMetadata>', hexToU8a(metadataPolkadot)).unwrap();
    const metadata = new Metadata(registry, opaque.toU8a(true));
    registry.setMetadata(metadata);
    const pallets = metadata.asLatest.pallets.map((p) => p.name.toString());
    expect(pallets).toEqual(expect.arrayContaining(['Session', 'Babe', 'Proxy']));

    const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const signature = alice.sign('session keys');
    expect(signatureVerify('session keys', signature, alice.publicKey).isValid).toBe(true);
    expect(typeof ApiPromise.create).toBe('function');
  });
});
