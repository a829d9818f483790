/**
 * Host key pins are checked in full by the sandbox-safe parser every channel uses: real keys of every type
 * ssh-keygen writes are accepted (and give the fingerprint ssh-keygen prints); a key cut short, padded, or
 * with a label that does not match its blob is refused with a message that says which.
 */
import { decodeHostKeyPin, keyBlobProblem } from '../../../src/config/ssh-host-key.js';
import { hostSchema } from '../../../src/config/host.js';
import { parseHostKeyPin } from '../../../src/ssh/host-key.js';

/** Public key lines and fingerprints from `ssh-keygen -t … -f k && ssh-keygen -lf k.pub` (OpenSSH 9). */
const real = {
  'ssh-ed25519': [
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGdtxPEGP2qnFQIYKN5YFb+DUFgVGPRShu3FU20sT21L test-ed25519',
    'SHA256:o6hHJOyTOVfXCF0kCQhyAXPqWUAyJBMEJaHv962QAtk',
  ],
  'ecdsa-sha2-nistp256': [
    'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKDGGPi4hVVcvgwSZJWjP5JHYOBJNoDUYR38iNM0qCCRvXbov/1SCZbK8EQ4Mt8OOa4OT/YxiYkfpqfckWiID/8= test-ecdsa256',
    'SHA256:MSgOLkESIVd+WEk7bUdxdTRdVTsYuyZOX2WM74RJioc',
  ],
  'ecdsa-sha2-nistp384': [
    'ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBE0KdhXREnwVTIkEPuVKRSZwudbe5FHBrrS/iARMb0hQ83XkgHFWzT2TA8wO+xbO/wLze+X2jrOpBRsFn8CcaadWypSO7lTxiwFZ5PNxAnoE335605VC9D/RDDpa3jjepQ== test-ecdsa384',
    'SHA256:TvKY6BJJYtrzzQAO1CTre13X92HPinznj0LmKejMNiU',
  ],
  'ecdsa-sha2-nistp521': [
    'ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAHev2O6kvakCJ26lk7BtiU6zBZJnVEyjZ7mnSFLaumQIRchC4W6REzKCDeOIdSan0/4oESAX9vMBaFq0NdoZnSecgBy9i8RTuewhqjkAb0VAkDmtFvmg4feb+X+WRivetNn23ow+o3k8hrniuMPkpUCJrNgpYKdfI182LrStQ8y1uTqiA== test-ecdsa521',
    'SHA256:JppuDXyoOiVz7TEqgvDgmYP4g3hZNMoCRB7AyW3vt/M',
  ],
  'ssh-rsa': [
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC9Dq1hL2Qyd3/ziuyRSdXHc0VDMnwQlRzuDDXb8uFXNx7Y8oMv+F2uLjUzi5+V0elx2keinAynSs49/2cQ8BgWlxeQSqLGL9hLDYHsG1mfMMBP9TfagufYA1oK4otUbnk/OWBLo5gJFH5LdggeE61D7BE3t+OmpJzfKAc7RYWf29AfJDtaIwd0Irx7zAeLx9Vog1JtDySJgnZO44GOjRB+xW2oCnecNH9jxt62NwkPPr54lc7CIN/lHQOGWxPMO3FYgBZYRlDD2TVf+GfR0eBn8cDiOIIL0J9NyvFjanORP6VUEfT/JTYtinJU/KPyfL06c5G7qZ9ikEvruD8Nf0h5 test-rsa2048',
    'SHA256:coPUaB7YWy95yajWXA2I7R+BJESL4kt5F0HvLYfRyxY',
  ],
} as const;

const rsa1024 =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDm3IaxcuMINS9rXvkuPikUY/kuDKCt6GwSMC1Od3TKmdtJ8Pv/pc32rDNomhrds8OW4zYn3f3hAlv5E329hFsk/1vVO1q9Rp+uGdrSX+EsXanh59WeD/m70Jr+7x4K38SbQgPnbH4q40vP408fPucX2Oj+mXVHmLeptxE9WiMAfQ==';

function blobOf(line: string): Buffer {
  return Buffer.from(line.split(' ')[1]!, 'base64');
}

function line(type: string, blob: Uint8Array): string {
  return `${type} ${Buffer.from(blob).toString('base64')}`;
}

/** SSH wire strings (uint32 big-endian length, then the bytes), concatenated. */
function wire(...fields: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(
    fields.map((field) => {
      const bytes = typeof field === 'string' ? Buffer.from(field, 'latin1') : Buffer.from(field);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return Buffer.concat([length, bytes]);
    }),
  );
}

function problemOf(pin: string): string | undefined {
  const decoded = decodeHostKeyPin(pin);
  return decoded.ok ? undefined : decoded.problem;
}

const ed25519 = real['ssh-ed25519'][0];

describe('decodeHostKeyPin', () => {
  it.each(Object.entries(real))('accepts a real %s key and gives the fingerprint ssh-keygen prints', (_type, pair) => {
    const [keyLine, fingerprint] = pair;
    expect(problemOf(keyLine)).toBeUndefined();
    expect(problemOf(fingerprint)).toBeUndefined();
    expect(parseHostKeyPin(keyLine).fingerprint).toBe(fingerprint);
    expect(parseHostKeyPin(fingerprint).fingerprint).toBe(fingerprint);
  });

  it('accepts the key line without its comment, and a fingerprint with its "=" padding', () => {
    expect(problemOf(ed25519.split(' ').slice(0, 2).join(' '))).toBeUndefined();
    expect(problemOf(`${real['ssh-ed25519'][1]}=`)).toBeUndefined();
  });

  it('refuses an ed25519 key cut short at any length, whether or not the base64 still decodes', () => {
    const blob = blobOf(ed25519);
    expect(blob.length).toBe(51);
    for (let length = 1; length < 51; length++) {
      expect(problemOf(line('ssh-ed25519', blob.subarray(0, length)))).toBe(
        `is not a complete ssh-ed25519 key: its key data ends after ${length} bytes (cut short when copied?)`,
      );
    }
    const base64 = ed25519.split(' ')[1]!;
    expect(problemOf(`ssh-ed25519 ${base64.slice(0, 30)}`)).toBe(
      'is not a complete ssh-ed25519 key: its key data is not whole base64 (cut short when copied?)',
    );
  });

  it.each(Object.entries(real))('refuses a %s key with its last byte or last base64 block cut off', (type, pair) => {
    const blob = blobOf(pair[0]);
    expect(problemOf(line(type, blob.subarray(0, blob.length - 1)))).toMatch(
      new RegExp(`^is (not a complete ${type} key|a \\d+-bit ssh-rsa key)`),
    );
    const base64 = pair[0].split(' ')[1]!.replace(/=+$/, '');
    const cut = base64.slice(0, base64.length - (base64.length % 4 || 4));
    expect(problemOf(`${type} ${cut}`)).toMatch(/^is (not a complete|a \d+-bit)/);
  });

  it.each(Object.entries(real))('refuses a %s key with bytes after it', (type, pair) => {
    const padded = Buffer.concat([blobOf(pair[0]), Buffer.from([0, 0, 0, 0])]);
    expect(problemOf(line(type, padded))).toBe(
      `is not a complete ${type} key: 4 bytes follow the key, which OpenSSH never writes`,
    );
  });

  it('refuses a type label in front of another type of key', () => {
    const ecdsaBlob = blobOf(real['ecdsa-sha2-nistp256'][0]);
    expect(problemOf(line('ssh-rsa', blobOf(ed25519)))).toBe(
      'is labelled "ssh-rsa" but its key data holds an "ssh-ed25519" key: the label and the key do not belong together',
    );
    expect(problemOf(line('ssh-ed25519', ecdsaBlob))).toBe(
      'is labelled "ssh-ed25519" but its key data holds an "ecdsa-sha2-nistp256" key: the label and the key do not belong together',
    );
    expect(problemOf(line('ecdsa-sha2-nistp384', ecdsaBlob))).toMatch(/^is labelled "ecdsa-sha2-nistp384" but/);
    expect(problemOf(line('ssh-ed25519', blobOf(real['ssh-rsa'][0])))).toMatch(/holds an "ssh-rsa" key/);
    expect(problemOf(line('ssh-ed25519', wire('Not\ta key', Buffer.alloc(32))))).toBe(
      'is labelled "ssh-ed25519" but its key data holds no key type OpenSSH writes: the label and the key do not belong together',
    );
  });

  it('refuses an ECDSA key whose curve or point does not match its type', () => {
    const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]);
    expect(keyBlobProblem('ecdsa-sha2-nistp256', wire('ecdsa-sha2-nistp256', 'nistp256', point))).toBeUndefined();
    expect(keyBlobProblem('ecdsa-sha2-nistp256', wire('ecdsa-sha2-nistp256', 'nistp384', point))).toBe(
      'is labelled "ecdsa-sha2-nistp256" but its key data names another curve',
    );
    expect(keyBlobProblem('ecdsa-sha2-nistp256', wire('ecdsa-sha2-nistp256', 'nistp256', point.subarray(0, 64)))).toBe(
      'is not a complete ecdsa-sha2-nistp256 key: its public point is 64 bytes; an uncompressed nistp256 point is 65',
    );
    const compressed = Buffer.concat([Buffer.from([2]), Buffer.alloc(64, 7)]);
    expect(keyBlobProblem('ecdsa-sha2-nistp256', wire('ecdsa-sha2-nistp256', 'nistp256', compressed))).toMatch(
      /public point/,
    );
  });

  it('refuses an RSA key under 2048 bits, or with a malformed exponent or modulus', () => {
    expect(problemOf(rsa1024)).toBe('is a 1024-bit ssh-rsa key; at least 2048 bits are required');
    const modulus = Buffer.concat([Buffer.from([0]), Buffer.alloc(256, 0xff)]);
    const exponent = Buffer.from([1, 0, 1]);
    expect(keyBlobProblem('ssh-rsa', wire('ssh-rsa', exponent, modulus))).toBeUndefined();
    expect(keyBlobProblem('ssh-rsa', wire('ssh-rsa', Buffer.from([1, 0, 0]), modulus))).toBe(
      'is not a complete ssh-rsa key: its public exponent is not an odd number above 1',
    );
    expect(keyBlobProblem('ssh-rsa', wire('ssh-rsa', exponent, modulus.subarray(1)))).toBe(
      'is not a complete ssh-rsa key: its modulus is not a positive number in minimal form',
    );
    expect(keyBlobProblem('ssh-rsa', wire('ssh-rsa', exponent))).toMatch(/its key data ends after/);
  });

  it.each([
    ['too short', 'SHA256:short'],
    ['31 bytes', `SHA256:${Buffer.alloc(31, 1).toString('base64')}`],
    ['33 bytes', `SHA256:${Buffer.alloc(33, 1).toString('base64')}`],
    ['not base64', `SHA256:${'*'.repeat(43)}`],
    ['bits beyond the 32 bytes', 'SHA256:o6hHJOyTOVfXCF0kCQhyAXPqWUAyJBMEJaHv962QAtl'],
    ['hex', `SHA256:${'ab'.repeat(32)}`],
  ])('refuses a SHA256 fingerprint that is %s', (_what, pin) => {
    expect(problemOf(pin)).toBe(
      'must be a pinned host key: "SHA256:" and 43 base64 characters (the 32-byte hash ssh-keygen -l prints)',
    );
  });

  it('refuses other text, listing the key types when it looks like an unsupported one', () => {
    const general =
      'must be a pinned host key: an OpenSSH public key line ("ssh-ed25519 AAAA…") or "SHA256:<fingerprint>"';
    expect(problemOf('not a key')).toBe(general);
    expect(problemOf('ssh-ed25519')).toBe(general);
    expect(problemOf('AAAAC3NzaC1lZDI1NTE5AAAAIGdtxPEGP2qnFQIYKN5YFb+DUFgVGPRShu3FU20sT21L')).toBe(general);
    expect(problemOf('ssh-ed25519 not*base64')).toBe(
      'must be a pinned host key: the text after "ssh-ed25519" is not base64',
    );
    expect(problemOf('ssh-dss AAAAB3NzaC1kc3M=')).toBe(
      `${general}; host key types: ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa`,
    );
  });

  it('is the check of the host schema every channel uses, and of the SSH client', () => {
    const truncated = line('ssh-ed25519', blobOf(ed25519).subarray(0, 40));
    const host = { id: 'h', address: 'h.example.net', user: 'u', auth: { type: 'agent' } };
    expect(hostSchema.safeParse({ ...host, hostKey: ed25519 }).success).toBe(true);
    const refused = hostSchema.safeParse({ ...host, hostKey: truncated });
    expect(refused.error?.issues).toEqual([
      expect.objectContaining({
        path: ['hostKey'],
        message: 'is not a complete ssh-ed25519 key: its key data ends after 40 bytes (cut short when copied?)',
      }),
    ]);
    expect(() => parseHostKeyPin(truncated)).toThrow(
      'hostKey is not a complete ssh-ed25519 key: its key data ends after 40 bytes (cut short when copied?)',
    );
  });
});
