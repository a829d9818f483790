/**
 * SSH host key pins, checked in full: an OpenSSH public key line (`<type> <base64 blob> [comment]`) whose blob is
 * a complete key of the type its label names, or a `SHA256:` fingerprint of exactly 32 bytes. A key cut short
 * when copied, or a label pasted in front of another key's blob, is refused where it is written, not at the
 * first connection. Pure JS (no Node builtins, no Buffer): the inventory loader, the SDK and the workflow
 * sandbox run the same check, and the SSH client (src/ssh/host-key.ts) reads pins through it too.
 */
import { base64 } from '@scure/base';

/** The host key types a pin may name: those OpenSSH writes and ssh2 can verify. */
export const hostKeyTypes = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
] as const;
export type HostKeyType = (typeof hostKeyTypes)[number];

/** A pin, decoded: the SHA-256 of a key blob, or a whole key. */
export type HostKeyPinValue =
  { kind: 'fingerprint'; sha256: Uint8Array } | { kind: 'key'; type: HostKeyType; blob: Uint8Array };

export type HostKeyPinResult = { ok: true; pin: HostKeyPinValue } | { ok: false; problem: string };

/** The length of each uncompressed curve point (0x04 ‖ x ‖ y) by curve name. */
const ecdsaPointLength: Readonly<Record<string, number>> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** RSA moduli below this are refused (OpenSSH's own floor is 1024; NIST retired 1024-bit RSA in 2013). */
export const MIN_RSA_BITS = 2048;
/** OpenSSH refuses larger moduli (SSHBUF_MAX_BIGNUM). */
const MAX_RSA_BITS = 16384;

const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);

/** Reads SSH wire-format fields (RFC 4251 §5) from a blob, front to back. */
class WireReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** A uint32-length-prefixed string, or undefined if the blob ends before it does. */
  string(): Uint8Array | undefined {
    const { bytes, offset } = this;
    if (offset + 4 > bytes.length) return undefined;
    const length =
      ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
    if (offset + 4 + length > bytes.length) return undefined;
    this.offset = offset + 4 + length;
    return bytes.subarray(offset + 4, offset + 4 + length);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }
}

/** The key type written at the start of a key blob (its first wire string), or undefined if there is none. */
export function keyTypeInBlob(blob: Uint8Array): string | undefined {
  const name = new WireReader(blob).string();
  return name === undefined ? undefined : latin1(name);
}

/** The number of significant bits of a positive mpint, or undefined if it is empty, negative or not minimal. */
function positiveMpintBits(value: Uint8Array): number | undefined {
  const first = value[0];
  if (first === undefined || first & 0x80) return undefined;
  // A leading zero byte is only written to keep the next byte's high bit from reading as a sign.
  if (first === 0 && (value.length === 1 || !(value[1]! & 0x80))) return undefined;
  const start = first === 0 ? 1 : 0;
  return (value.length - start - 1) * 8 + (32 - Math.clz32(value[start]!));
}

/**
 * Why a key blob is not a complete key of the named type, or undefined if it is one. The blob must hold the
 * type's fields and nothing after them, so a truncated or padded blob is refused as well as a mislabelled one.
 * The message follows the field path (`hosts[1].hostKey: is …`) and quotes key type names only.
 */
export function keyBlobProblem(type: HostKeyType, blob: Uint8Array): string | undefined {
  const reader = new WireReader(blob);
  const name = reader.string();
  const incomplete = (detail: string) => `is not a complete ${type} key: ${detail}`;
  const cutShort = incomplete(`its key data ends after ${blob.length} bytes (cut short when copied?)`);
  if (name === undefined) return cutShort;
  const inner = latin1(name);
  if (inner !== type) {
    const holds = /^[a-z0-9@.-]{1,64}$/.test(inner) ? `an "${inner}" key` : 'no key type OpenSSH writes';
    return `is labelled "${type}" but its key data holds ${holds}: the label and the key do not belong together`;
  }

  if (type === 'ssh-ed25519') {
    const publicKey = reader.string();
    if (publicKey === undefined) return cutShort;
    if (publicKey.length !== 32) return incomplete(`its public key is ${publicKey.length} bytes, not 32`);
  } else if (type === 'ssh-rsa') {
    const e = reader.string();
    const n = reader.string();
    if (e === undefined || n === undefined) return cutShort;
    const eBits = positiveMpintBits(e);
    if (eBits === undefined || eBits < 2 || !(e[e.length - 1]! & 1)) {
      return incomplete('its public exponent is not an odd number above 1');
    }
    const nBits = positiveMpintBits(n);
    if (nBits === undefined) return incomplete('its modulus is not a positive number in minimal form');
    if (nBits < MIN_RSA_BITS) return `is a ${nBits}-bit ssh-rsa key; at least ${MIN_RSA_BITS} bits are required`;
    if (nBits > MAX_RSA_BITS) return `is a ${nBits}-bit ssh-rsa key, more than OpenSSH accepts (${MAX_RSA_BITS})`;
  } else {
    const curve = type.slice('ecdsa-sha2-'.length);
    const curveName = reader.string();
    const point = reader.string();
    if (curveName === undefined || point === undefined) return cutShort;
    if (latin1(curveName) !== curve) return `is labelled "${type}" but its key data names another curve`;
    const expected = ecdsaPointLength[curve]!;
    if (point.length !== expected || point[0] !== 0x04) {
      return incomplete(`its public point is ${point.length} bytes; an uncompressed ${curve} point is ${expected}`);
    }
  }
  return reader.remaining === 0
    ? undefined
    : incomplete(`${reader.remaining} bytes follow the key, which OpenSSH never writes`);
}

/** The message for text that is neither a key line nor a fingerprint (also the start of every other one). */
export const NOT_A_PIN =
  'must be a pinned host key: an OpenSSH public key line ("ssh-ed25519 AAAA…") or "SHA256:<fingerprint>"';

const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/;
const KEY_LINE = /^(\S+)[ \t]+(\S+)(?:[ \t]+.*)?$/;

/**
 * Decodes a pin, or says what is wrong with it, in words that follow the field path (`hosts[1].hostKey: …`).
 * Problems name key types and lengths, never more of the input than that.
 */
export function decodeHostKeyPin(text: string): HostKeyPinResult {
  const value = text.trim();
  if (value.startsWith('SHA256:')) {
    const match = FINGERPRINT.exec(value);
    let sha256: Uint8Array | undefined;
    try {
      // 43 base64 characters carry 258 bits; the strict decoder refuses non-zero bits beyond the 32 bytes.
      sha256 = match ? base64.decode(`${match[1]}=`) : undefined;
    } catch {
      sha256 = undefined;
    }
    if (sha256?.length !== 32) {
      const problem =
        'must be a pinned host key: "SHA256:" and 43 base64 characters (the 32-byte hash ssh-keygen -l prints)';
      return { ok: false, problem };
    }
    return { ok: true, pin: { kind: 'fingerprint', sha256 } };
  }
  const [, label = '', data = ''] = KEY_LINE.exec(value) ?? [];
  const type = hostKeyTypes.find((t) => t === label);
  if (type === undefined) {
    const otherType = label !== '' && /^(ssh|ecdsa|sk)-/.test(label) && data !== '';
    const problem = otherType ? `${NOT_A_PIN}; host key types: ${hostKeyTypes.join(', ')}` : NOT_A_PIN;
    return { ok: false, problem };
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
    return { ok: false, problem: `must be a pinned host key: the text after "${type}" is not base64` };
  }
  let blob: Uint8Array;
  try {
    blob = base64.decode(data);
  } catch {
    return {
      ok: false,
      problem: `is not a complete ${type} key: its key data is not whole base64 (cut short when copied?)`,
    };
  }
  const problem = keyBlobProblem(type, blob);
  return problem === undefined ? { ok: true, pin: { kind: 'key', type, blob } } : { ok: false, problem };
}
