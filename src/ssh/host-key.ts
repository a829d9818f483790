/**
 * Host key pinning. The inventory pins each host's key as an OpenSSH public key line or its SHA256
 * fingerprint; any other key (unknown or changed) is refused before authentication, so nothing runs.
 */
import { createHash } from 'node:crypto';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { decodeHostKeyPin, keyTypeInBlob, type HostKeyType } from '../config/ssh-host-key.js';

export interface HostKeyPin {
  fingerprint: string;
  /** Host key algorithms to offer, so a server with several host keys presents the pinned one. */
  algorithms?: ServerHostKeyAlgorithm[];
}

const algorithmsByKeyType: Record<HostKeyType, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
};

/** OpenSSH's fingerprint format: `SHA256:` and unpadded base64 of the SHA-256 of the key blob. */
export function fingerprintOf(keyBlob: Uint8Array): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/**
 * The fingerprint and algorithms of a pin. Pins are checked in full by the one parser the schemas use
 * (src/config/ssh-host-key.ts); a pin that skipped the schema is refused here with the same words.
 */
export function parseHostKeyPin(pinned: string): HostKeyPin {
  const decoded = decodeHostKeyPin(pinned);
  if (!decoded.ok) throw new Error(`hostKey ${decoded.problem}`);
  const { pin } = decoded;
  if (pin.kind === 'fingerprint')
    return { fingerprint: 'SHA256:' + Buffer.from(pin.sha256).toString('base64').replace(/=+$/, '') };
  return { fingerprint: fingerprintOf(pin.blob), algorithms: algorithmsByKeyType[pin.type] };
}

/** The key type named inside a host key blob, for error messages. */
export function keyTypeOf(keyBlob: Uint8Array): string {
  return keyTypeInBlob(keyBlob) || 'unknown';
}
