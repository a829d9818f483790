/**
 * How to reach one machine over SSH. Part of the inventory (inventory.ts) and carried, as plain JSON, in
 * workflow and activity inputs: it names the host and how to authenticate, never a secret value.
 */
import { z } from 'zod';
import { absolutePath, commandArgv, identifier } from './primitives.js';
import { decodeHostKeyPin } from './ssh-host-key.js';

/**
 * An OpenSSH public host key line (`ssh-ed25519 AAAA…`) or its SHA256 fingerprint (`SHA256:…`), checked in full
 * (ssh-host-key.ts): a truncated key, or a type label in front of another type's key, is refused here.
 */
export const pinnedHostKey = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'required: pin the host key ("ssh-ed25519 AAAA…" or "SHA256:<fingerprint>"); unpinned hosts are refused'
        : undefined,
  })
  .trim()
  .check((ctx) => {
    const decoded = decodeHostKeyPin(ctx.value);
    if (!decoded.ok) ctx.issues.push({ code: 'custom', message: decoded.problem, input: ctx.value });
  });

export const sshAuth = z.discriminatedUnion('type', [
  /** Keys held by the worker's ssh-agent (SSH_AUTH_SOCK). */
  z.strictObject({ type: z.literal('agent') }),
  /**
   * A private key file on the worker's machine. Its passphrase, if any, is named by an environment
   * variable of the worker, so the secret itself never enters an input or the history.
   */
  z.strictObject({
    type: z.literal('keyFile'),
    path: absolutePath,
    passphraseEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
      .optional(),
  }),
]);

/**
 * How a host starts and stops node services. `systemd` drives systemctl; `commands` runs argv templates
 * in which `{service}` stands for the service name (the local testbed uses this).
 */
export const serviceManager = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('systemd'), sudo: z.boolean().default(false) }),
  z.strictObject({
    type: z.literal('commands'),
    start: commandArgv,
    stop: commandArgv,
    /** Exits 0 while the service runs, non-zero once it is stopped. */
    isActive: commandArgv,
  }),
]);

export const hostSchema = z
  .strictObject({
    id: identifier,
    address: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9.:\-[\]]+$/, 'must be a hostname or an IP address'),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().regex(/^[a-z_][a-z0-9_-]*[$]?$/, 'must be a POSIX user name'),
    hostKey: pinnedHostKey,
    auth: sshAuth,
    serviceManager: serviceManager.default({ type: 'systemd', sudo: false }),
  })
  .describe('How to reach the machine over SSH, with its host key pinned.');

export type HostSpec = z.infer<typeof hostSchema>;
export type HostSpecInput = z.input<typeof hostSchema>;
export type ServiceManagerSpec = z.infer<typeof serviceManager>;
export type SshAuth = z.infer<typeof sshAuth>;
