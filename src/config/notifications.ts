/**
 * Where the worker sends notifications: webhooks in the inventory's `notifications` section. A webhook's
 * URL (a Slack incoming-webhook URL is itself a secret) and its bearer token are references to an
 * environment variable or a file of the worker, never the value, and never in a workflow input.
 */
import { z } from 'zod';
import { absolutePath, envVarName, identifier } from './primitives.js';

/** The events a run tells webhooks about (an upgrade's gates and end; a fleet's waves, halts and deadline). */
export const NOTIFICATION_KINDS = [
  'awaiting-approval',
  'wave-done',
  'halted',
  'failed',
  'aborted',
  'completed',
  'deadline-at-risk',
] as const;

export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const secretReferenceSchema = z
  .union([
    z.strictObject({ env: envVarName.describe("An environment variable of the worker's process.") }),
    z.strictObject({ file: absolutePath.describe("A file on the worker's machine (surrounding whitespace ignored).") }),
  ])
  .describe('Where the worker reads the value: {"env": "NAME"} or {"file": "/path"}.');

export const webhookSchema = z
  .strictObject({
    id: identifier,
    url: secretReferenceSchema.describe('Where the worker reads the webhook URL (http or https).'),
    format: z
      .enum(['json', 'slack'])
      .default('json')
      .describe('"json": the event as a JSON object; "slack": {"text": …} for Slack-compatible incoming webhooks.'),
    token: secretReferenceSchema
      .optional()
      .describe('Where the worker reads a bearer token, sent as "Authorization: Bearer <token>".'),
    events: z
      .array(z.enum(NOTIFICATION_KINDS))
      .optional()
      .describe('The kinds of event this webhook gets (all when absent).'),
  })
  .describe('A webhook the worker POSTs events to.');

export const notificationsSchema = z
  .strictObject({ webhooks: z.array(webhookSchema).default([]) })
  .describe('Notifications of the runs this worker serves (gates, failures, completion, fleet waves and halts).');

export type SecretReference = z.infer<typeof secretReferenceSchema>;
export type WebhookSpec = z.infer<typeof webhookSchema>;
export type NotificationsConfig = z.infer<typeof notificationsSchema>;

/**
 * The kinds of event at least one of the webhooks takes, in NOTIFICATION_KINDS order: a run schedules the
 * notify activity for these only (none configured: it schedules none).
 */
export function eventsTaken(webhooks: readonly WebhookSpec[]): NotificationKind[] {
  return NOTIFICATION_KINDS.filter((kind) => webhooks.some((w) => !w.events || w.events.includes(kind)));
}
