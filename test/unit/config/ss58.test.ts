/**
 * The sandbox's SS58 decoder against polkadot-js's: the same prefix and public key for addresses of every
 * network's prefix (one- and two-byte prefixes), and nothing for a bad checksum, a hex key or garbage.
 */
import { randomBytes } from 'node:crypto';
import { encodeAddress } from '@polkadot/util-crypto';
import { decodeSs58, ss58PrefixOf } from '../../../src/config/ss58.js';

describe('decodeSs58', () => {
  it.each([0, 2, 42, 63, 64, 1284, 16383])(
    'reads prefix %i and the public key as polkadot-js writes them',
    (prefix) => {
      for (let i = 0; i < 20; i++) {
        const key = new Uint8Array(randomBytes(32));
        const address = encodeAddress(key, prefix);
        const decoded = decodeSs58(address);
        expect(decoded?.prefix).toBe(prefix);
        expect(Buffer.from(decoded!.publicKey).equals(Buffer.from(key))).toBe(true);
      }
    },
  );

  it('refuses a bad checksum, a hex key, a short index and garbage', () => {
    const address = encodeAddress(new Uint8Array(randomBytes(32)), 0);
    const flipped = `${address.slice(0, 10)}${address[10] === '2' ? '3' : '2'}${address.slice(11)}`;
    expect(ss58PrefixOf(flipped)).toBeUndefined();
    expect(ss58PrefixOf(`0x${'ab'.repeat(32)}`)).toBeUndefined();
    expect(ss58PrefixOf(encodeAddress(new Uint8Array([1, 2, 3, 4]), 0))).toBeUndefined();
    expect(ss58PrefixOf('not an address')).toBeUndefined();
    expect(ss58PrefixOf('')).toBeUndefined();
  });
});
