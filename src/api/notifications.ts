/**
 * What the operators' webhooks are told: one event of a run (an upgrade or a fleet). Zod only: the
 * workflows build events in their sandbox, the notify activity checks them at the worker.
 */
import { z } from 'zod';
import { NOTIFICATION_KINDS } from '../config/notifications.js';

export { NOTIFICATION_KINDS, type NotificationKind } from '../config/notifications.js';

export const notificationEventSchema = z.strictObject({
  kind: z.enum(NOTIFICATION_KINDS),
  workflowId: z.string().min(1),
  /** The validator the run upgrades, or a fleet's validators the event is about. */
  validators: z.array(z.string()),
  strategy: z.string().optional(),
  /** The step the run is at (the gate's step, the failed step). */
  step: z.string().optional(),
  message: z.string(),
  /** When it happened (ISO 8601, workflow time). */
  time: z.string(),
});

export type NotificationEvent = z.infer<typeof notificationEventSchema>;
