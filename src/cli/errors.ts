/**
 * How the CLI fails: one line on stderr and an exit code that says which kind of failure it was, so scripts
 * can tell a typo from an outage.
 */
import {
  QueryNotRegisteredError,
  ServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { createSearchAttributesCommand } from '../client/cluster.js';
import { CODEC_KEYS_ENV, ENCRYPTED_ENCODING } from '../codec/index.js';
import { InvalidUpgradeInput, UpgradeAlreadyRunning } from '../client/upgrades.js';
import { InventoryError } from '../config/load-inventory.js';
import { UpgradeRequestError } from '../api/upgrade-request.js';

export const EXIT = {
  ok: 0,
  /** A check failed, or the server refused what was asked (an upgrade already runs, a wrong gate). */
  failed: 1,
  /** Bad usage or bad input: nothing was contacted. */
  usage: 2,
  /** The Temporal server could not be reached. */
  unreachable: 3,
  /** No upgrade with that id. */
  notFound: 4,
} as const;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const oneLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');

/** The line and exit code an error ends the CLI with. */
export function describeFailure(err: unknown): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: oneLine(err.message), exitCode: err.exitCode };
  if (err instanceof InvalidUpgradeInput) {
    return { message: `invalid ${err.strategy} input: ${err.problems.join('; ')}`, exitCode: EXIT.usage };
  }
  if (err instanceof InventoryError) {
    return {
      message: `${err.source}: ${err.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      exitCode: EXIT.usage,
    };
  }
  if (err instanceof UpgradeRequestError) return { message: err.message, exitCode: EXIT.usage };
  if (err instanceof UpgradeAlreadyRunning) return { message: err.message, exitCode: EXIT.failed };
  if (err instanceof WorkflowNotFoundError) {
    return { message: `no upgrade with id ${err.workflowId}`, exitCode: EXIT.notFound };
  }
  if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowFailedError) {
    return { message: oneLine(err.cause?.message ?? err.message), exitCode: EXIT.failed };
  }
  if (err instanceof QueryNotRegisteredError) {
    return { message: `the run does not answer the status query (${oneLine(err.message)})`, exitCode: EXIT.failed };
  }
  if (err instanceof ServiceError) return { message: oneLine(serviceFailure(err)), exitCode: EXIT.failed };
  if (err instanceof Error && err.message.includes(`Unknown encoding: ${ENCRYPTED_ENCODING}`)) {
    return {
      message: `the run's payloads are encrypted: set ${CODEC_KEYS_ENV} to the payload keys file`,
      exitCode: EXIT.failed,
    };
  }
  return { message: oneLine(err instanceof Error ? err.message : String(err)), exitCode: EXIT.failed };
}

/**
 * The SDK's ServiceError says only what failed ("Failed to start Workflow"); the server's reason is in its
 * gRPC cause. A search attribute the namespace does not know gets the command that registers them.
 */
function serviceFailure(err: ServiceError): string {
  const cause = err.cause as { details?: unknown; message?: unknown } | undefined;
  const reason = typeof cause?.details === 'string' && cause.details ? cause.details : cause?.message;
  if (typeof reason !== 'string' || !reason) return err.message;
  const line = `${err.message}: ${reason}`;
  return /search attribute/i.test(reason)
    ? `${line}; the namespace lacks the upgrades' search attributes: ${createSearchAttributesCommand()}`
    : line;
}
