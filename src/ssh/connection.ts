/**
 * SSH connections with pinned host keys, and a small pool that reuses one connection per host.
 */
import { readFile } from 'node:fs/promises';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { HostSpec } from '../config/host.js';
import { HostError } from './errors.js';
import { fingerprintOf, keyTypeOf, parseHostKeyPin } from './host-key.js';

export interface ConnectOptions {
  /** How long the TCP connect, handshake and authentication may take. */
  readyTimeoutMs?: number;
}

export function describeHost(host: HostSpec): string {
  return `${host.id} (${host.user}@${host.address}:${host.port})`;
}

export class SshConnection {
  private open = true;

  constructor(
    readonly host: HostSpec,
    private readonly client: Client,
  ) {
    client.on('close', () => (this.open = false));
    client.on('end', () => (this.open = false));
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Starts one remote command string (build it with commandLine; exec.ts does). */
  openExec(command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (!this.open) {
        reject(new HostError('ConnectionLost', `SSH connection to ${describeHost(this.host)} is closed`));
        return;
      }
      this.client.exec(command, (err, channel) => {
        if (err) {
          reject(
            new HostError('ConnectionLost', `cannot start a command on ${describeHost(this.host)}: ${err.message}`),
          );
        } else resolve(channel);
      });
    });
  }

  close(): void {
    this.open = false;
    this.client.end();
  }

  /** Drops the TCP connection at once, as a crash or a network cut would. */
  destroy(): void {
    this.open = false;
    this.client.destroy();
  }
}

export async function connectSsh(host: HostSpec, options: ConnectOptions = {}): Promise<SshConnection> {
  let pin;
  try {
    pin = parseHostKeyPin(host.hostKey);
  } catch (err) {
    throw new HostError('BadInput', `host ${describeHost(host)}: ${(err as Error).message}`);
  }
  const auth = await authConfig(host);
  const client = new Client();
  let refusedKey: { fingerprint: string; type: string } | undefined;
  const config: ConnectConfig = {
    host: host.address,
    port: host.port,
    username: host.user,
    readyTimeout: options.readyTimeoutMs ?? 30_000,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    ...auth,
    ...(pin.algorithms ? { algorithms: { serverHostKey: pin.algorithms } } : {}),
    hostVerifier: (key: Buffer) => {
      const seen = fingerprintOf(key);
      if (seen === pin.fingerprint) return true;
      refusedKey = { fingerprint: seen, type: keyTypeOf(key) };
      return false;
    },
  };
  return new Promise((resolve, reject) => {
    const onError = (err: Error & { level?: string }) => {
      client.removeListener('ready', onReady);
      client.destroy();
      if (refusedKey) {
        reject(
          new HostError(
            'HostKeyMismatch',
            `host key of ${describeHost(host)} is ${refusedKey.type} ${refusedKey.fingerprint}, which does not match ` +
              `the pinned key ${pin.fingerprint}; refusing to connect (update the pin only after verifying the host)`,
          ),
        );
      } else if (err.level === 'client-authentication') {
        reject(new HostError('AuthFailed', `SSH authentication as ${describeHost(host)} failed (${host.auth.type})`));
      } else if (/passphrase|private key|Cannot parse privateKey/i.test(err.message)) {
        reject(new HostError('AuthFailed', `SSH key for ${describeHost(host)} is unusable: ${err.message}`));
      } else {
        reject(new HostError('HostUnreachable', `cannot connect to ${describeHost(host)}: ${err.message}`));
      }
    };
    const onReady = () => {
      client.removeListener('error', onError);
      // Errors after the handshake surface as closed channels; keep a listener so they never go unhandled.
      client.on('error', () => undefined);
      resolve(new SshConnection(host, client));
    };
    client.once('error', onError);
    client.once('ready', onReady);
    try {
      client.connect(config);
    } catch (err) {
      onError(err as Error);
    }
  });
}

async function authConfig(host: HostSpec): Promise<Partial<ConnectConfig>> {
  const auth = host.auth;
  if (auth.type === 'agent') {
    const socket = process.env.SSH_AUTH_SOCK;
    if (!socket) {
      throw new HostError('AuthFailed', `host ${describeHost(host)} uses ssh-agent, but SSH_AUTH_SOCK is not set`);
    }
    return { agent: socket };
  }
  let privateKey: Buffer;
  try {
    privateKey = await readFile(auth.path);
  } catch (err) {
    throw new HostError(
      'AuthFailed',
      `cannot read the SSH key file ${auth.path} for ${describeHost(host)}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  if (auth.passphraseEnv === undefined) return { privateKey };
  const passphrase = process.env[auth.passphraseEnv];
  if (passphrase === undefined) {
    throw new HostError(
      'AuthFailed',
      `the passphrase for ${auth.path} is read from $${auth.passphraseEnv}, which is not set on this worker`,
    );
  }
  return { privateKey, passphrase };
}

/** Hands out connections; activities depend on this, not on a global. */
export interface SshConnectionProvider {
  get(host: HostSpec): Promise<SshConnection>;
}

/** Keeps one open connection per host and spec, and reconnects once it closes. */
export class SshConnectionPool implements SshConnectionProvider {
  private readonly connections = new Map<string, Promise<SshConnection>>();

  constructor(private readonly options: ConnectOptions = {}) {}

  async get(host: HostSpec): Promise<SshConnection> {
    const key = JSON.stringify([host.address, host.port, host.user, host.hostKey, host.auth]);
    const cached = this.connections.get(key);
    if (cached) {
      const connection = await cached.catch(() => undefined);
      if (connection?.isOpen) return connection;
      if (this.connections.get(key) === cached) this.connections.delete(key);
    }
    const fresh = connectSsh(host, this.options);
    this.connections.set(key, fresh);
    fresh.catch(() => {
      if (this.connections.get(key) === fresh) this.connections.delete(key);
    });
    return fresh;
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const connection of await Promise.allSettled(all)) {
      if (connection.status === 'fulfilled') connection.value.close();
    }
  }
}
