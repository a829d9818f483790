/**
 * The notify activity: delivers a run's event to the webhooks in the worker's inventory. A webhook that
 * took the event is remembered in the heartbeat details, so a retry (another webhook failed) does not send
 * it twice. No webhooks configured: nothing to do.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { notifyContracts } from '../../src/api/contracts/notify.js';
import type { InventorySource } from '../../src/config/inventory-source.js';
import { deliver, webhooksFor } from '../../src/notify/webhooks.js';
import { implement } from '../contract.js';

export interface NotifyActivityDeps {
  inventory?: InventorySource;
  /** Where webhook references to environment variables are read (the worker's environment by default). */
  env?: NodeJS.ProcessEnv;
}

export function createNotifyActivities(deps: NotifyActivityDeps) {
  return implement(notifyContracts, {
    notify: async (event) => {
      const webhooks = webhooksFor(deps.inventory?.current().notifications?.webhooks ?? [], event);
      const context = Context.current();
      const delivered = new Set<string>((context.info.heartbeatDetails as string[] | undefined) ?? []);
      const failures: string[] = [];
      for (const webhook of webhooks) {
        if (delivered.has(webhook.id)) continue;
        try {
          await deliver(webhook, event, deps.env);
          delivered.add(webhook.id);
          context.heartbeat([...delivered]);
        } catch (err) {
          failures.push(err instanceof Error ? err.message : String(err));
        }
      }
      if (failures.length > 0) throw ApplicationFailure.retryable(failures.join('; '), 'WebhookNotDelivered');
      return { delivered: [...delivered] };
    },
  });
}
