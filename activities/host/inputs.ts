/**
 * Inputs of the host activities: plain JSON naming a host, paths and arguments, never a secret.
 */
import { z } from 'zod';
import { hostSchema } from '../../src/config/host.js';
import { absolutePath, identifier, serviceName } from '../../src/config/primitives.js';

const onHost = { host: hostSchema };

export const runCommandInput = z.strictObject({
  ...onHost,
  argv: z.array(z.string()).min(1),
  /** Kill the command after this long (it is killed on cancellation in any case). */
  timeoutMs: z.number().int().positive().optional(),
  /** How much of the end of stdout and of stderr to return. */
  tailBytes: z.number().int().nonnegative().max(1_000_000).default(16_384),
});

export const serviceInput = z.strictObject({ ...onHost, service: serviceName });

export const stopServiceInput = serviceInput.extend({
  /** How long to keep observing the service after the stop command before failing (retryably). */
  observeMs: z.number().int().positive().optional(),
});

export const writeFileInput = z.strictObject({
  ...onHost,
  path: absolutePath,
  /** Not for secrets: activity inputs are stored in the workflow history. */
  content: z.string(),
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
  mode: z.number().int().min(0).max(0o7777).default(0o600),
});

export const pathInput = z.strictObject({ ...onHost, path: absolutePath });

export const installBinaryInput = z.strictObject({
  ...onHost,
  source: absolutePath,
  destination: absolutePath,
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be a sha256 hex digest'),
});

export const dataSwapInput = z.strictObject({
  ...onHost,
  target: absolutePath,
  staging: absolutePath,
  swapId: identifier,
});

export type RunCommandInput = z.input<typeof runCommandInput>;
export type ServiceInput = z.input<typeof serviceInput>;
export type StopServiceInput = z.input<typeof stopServiceInput>;
export type WriteFileInput = z.input<typeof writeFileInput>;
export type PathInput = z.input<typeof pathInput>;
export type InstallBinaryInput = z.input<typeof installBinaryInput>;
export type DataSwapActivityInput = z.input<typeof dataSwapInput>;
