/**
 * Host key pinning. The inventory pins each host's key as an OpenSSH public key line or its SHA256
 * fingerprint; any other key (unknown or changed) is refused before authentication, so nothing runs.
 */
import { createHash } from 'node:crypto';
import type { ServerHostKeyAlgorithm } from 'ssh2';

export interface HostKeyPin {
  fingerprint: string;
  /** Host key algorithms to offer, so a server with several host keys presents the pinned one. */
  algorithms?: ServerHostKeyAlgorithm[];
}

const algorithmsByKeyType: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
};

/** OpenSSH's fingerprint format: `SHA256:` and unpadded base64 of the SHA-256 of the key blob. */
export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

export function parseHostKeyPin(pinned: string): HostKeyPin {
  const value = pinned.trim();
  if (value.startsWith('SHA256:')) return { fingerprint: value.replace(/=+$/, '') };
  const [type = '', base64 = ''] = value.split(/\s+/);
  const blob = Buffer.from(base64, 'base64');
  // The blob starts with its own key type; a line whose two disagree is not a key OpenSSH would write.
  const innerLength = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  if (blob.subarray(4, 4 + innerLength).toString('latin1') !== type) {
    throw new Error(`pinned host key is not a valid ${type} public key line`);
  }
  return { fingerprint: fingerprintOf(blob), algorithms: algorithmsByKeyType[type] };
}

/** The key type named inside a host key blob, for error messages. */
export function keyTypeOf(keyBlob: Buffer): string {
  const length = keyBlob.length >= 4 ? keyBlob.readUInt32BE(0) : 0;
  return keyBlob.subarray(4, 4 + length).toString('latin1') || 'unknown';
}
