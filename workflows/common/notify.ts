/**
 * Notifications from a run: each event starts the notify activity (the worker's webhooks) and the run goes
 * on without waiting for it; a delivery that fails for good is logged and swallowed, never the run's
 * failure. Before the run closes (completes, fails, continues as new) it waits for the deliveries still in
 * flight: the server drops the pending activities of a closed run, so a "completed" event sent just before
 * the end would otherwise be lost with its retries. The wait is bounded by the activity's schedule-to-close.
 * Once the worker has said which events its webhooks take (with the run's targets, or a fleet's members), an
 * event no webhook takes schedules nothing: with no webhooks configured, a run has no notify activity at all.
 */
import { log, patched, proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { ActivityFunctions } from '../../src/api/contracts/activity.js';
import type { notifyContracts } from '../../src/api/contracts/notify.js';
import type { NotificationEvent, NotificationKind } from '../../src/api/notifications.js';
import { summarized } from './summaries.js';

/** Runs from this patch on notify; recorded histories replay without the activity. */
export const NOTIFY_PATCH = 'notify-webhooks';

/**
 * A webhook gets quick retries (a receiver that answers 500 twice has the event on the third try, 3 s after
 * the first), and one that stays down is given up after 30 s: that is the longest a run's close waits for it.
 */
export const notifyOptions: ActivityOptions = {
  startToCloseTimeout: '12 seconds',
  scheduleToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
};

const { notify } = proxyActivities<ActivityFunctions<typeof notifyContracts>>(notifyOptions);

export interface NotifyDetails {
  validators: string[];
  strategy?: string;
  step?: string;
  message: string;
}

export class Notifier {
  private readonly inFlight = new Set<Promise<void>>();
  /** The events the worker's webhooks take; unknown (every event is sent) until the worker says. */
  private taken?: readonly NotificationKind[];

  constructor(private readonly enabled: boolean) {}

  /** What the worker said its webhooks take (`undefined`: a result recorded before it said, so all). */
  webhooksTake(kinds: readonly NotificationKind[] | undefined): void {
    this.taken = kinds;
  }

  /** Starts the delivery of an event and returns at once. */
  send(kind: NotificationKind, details: NotifyDetails): void {
    if (!this.enabled || (this.taken && !this.taken.includes(kind)) || !patched(NOTIFY_PATCH)) return;
    const event: NotificationEvent = {
      kind,
      workflowId: workflowInfo().workflowId,
      ...details,
      time: new Date().toISOString(),
    };
    const delivery = summarized(
      notify,
      `notify webhooks: ${kind}`,
    )(event).then(
      () => undefined,
      (err: unknown) => log.warn('a notification was not delivered', { kind, error: String(err) }),
    );
    this.inFlight.add(delivery);
    void delivery.then(() => this.inFlight.delete(delivery));
  }

  /** Resolves when every delivery started so far is done or given up. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
