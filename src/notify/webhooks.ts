/**
 * Delivers a run's event to the worker's webhooks: reads each webhook's URL and token from their
 * references, formats the event (generic JSON or Slack-compatible text) and POSTs it. An error names the
 * webhook by id and says what went wrong, never its URL or token (a Slack webhook URL is a secret too).
 */
import { readFile } from 'node:fs/promises';
import type { NotificationEvent } from '../api/notifications.js';
import type { SecretReference, WebhookSpec } from '../config/notifications.js';

/** How long one POST may take before the attempt counts as failed. */
const POST_TIMEOUT_MS = 10_000;

export class WebhookError extends Error {
  override name = 'WebhookError';
}

/** The webhooks that take events of this kind. */
export function webhooksFor(webhooks: readonly WebhookSpec[], event: NotificationEvent): WebhookSpec[] {
  return webhooks.filter((w) => !w.events || w.events.includes(event.kind));
}

/** POSTs the event to one webhook; throws a WebhookError unless it answers 2xx. */
export async function deliver(
  webhook: WebhookSpec,
  event: NotificationEvent,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const url = await readReference(webhook.url, `webhook ${webhook.id}: its URL`, env);
  const token = webhook.token && (await readReference(webhook.token, `webhook ${webhook.id}: its token`, env));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(webhook.format === 'slack' ? { text: slackText(event) } : event),
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new WebhookError(`webhook ${webhook.id}: not delivered (${causeOf(err)})`);
  }
  await response.body?.cancel();
  if (!response.ok) throw new WebhookError(`webhook ${webhook.id}: answered HTTP ${response.status}`);
}

/** One line for a chat channel: what happened, to which validators, where, and the run to look at. */
export function slackText(event: NotificationEvent): string {
  const who = event.validators.length > 0 ? ` ${event.validators.join(', ')}` : '';
  const step = event.step ? ` at "${event.step}"` : '';
  const strategy = event.strategy ? ` (${event.strategy})` : '';
  return `[${event.kind}]${who}${step}: ${event.message}${strategy}; workflow ${event.workflowId}, ${event.time}`;
}

async function readReference(ref: SecretReference, what: string, env: NodeJS.ProcessEnv): Promise<string> {
  if ('env' in ref) {
    const value = env[ref.env]?.trim();
    if (!value) throw new WebhookError(`${what} is not set (environment variable ${ref.env} is empty or unset)`);
    return value;
  }
  try {
    const value = (await readFile(ref.file, 'utf8')).trim();
    if (!value) throw new WebhookError(`${what} is empty (file ${ref.file})`);
    return value;
  } catch (err) {
    if (err instanceof WebhookError) throw err;
    throw new WebhookError(
      `${what} cannot be read (file ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/** fetch's own message is "fetch failed"; the cause's code (ECONNREFUSED, a timeout) says why. */
function causeOf(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${POST_TIMEOUT_MS / 1000} s`;
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err instanceof Error ? err.name : 'error');
}
