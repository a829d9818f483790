/** The notify activity's contract: an event in, delivered to every webhook of the worker's configuration. */
import { notificationEventSchema } from '../notifications.js';
import { activity } from './activity.js';

export interface NotifyAnswer {
  /** The webhooks (by id) that took the event, in this attempt or an earlier one. */
  delivered: string[];
}

export const notifyContracts = {
  notify: activity(notificationEventSchema).returns<NotifyAnswer>(),
};
