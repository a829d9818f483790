/**
 * Activities are implemented against their contract (src/api/contracts): `implement` checks each input
 * against the activity's schema before the implementation sees it, so no activity parses its own input, and
 * the type a workflow proxies (`typeof activities`) is the contract's. It is also where a failure leaves
 * the worker (see `forOperators`).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, TemporalFailure } from '@temporalio/common';
import { z } from 'zod';
import { errorText } from '../src/api/error-text.js';
import type { ActivityContracts, ActivityFunctions, ActivityImplementations } from '../src/api/contracts/activity.js';
import { BAD_INPUT_FAILURE } from '../src/api/contracts/failures.js';

export function implement<C extends ActivityContracts>(
  contracts: C,
  implementations: ActivityImplementations<C>,
): ActivityFunctions<C> {
  const checked: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of Object.keys(contracts)) {
    const run = implementations[name] as (input: unknown) => Promise<unknown>;
    const schema = contracts[name]!.input;
    checked[name] = async (input: unknown) => {
      try {
        return await run(parseInput(schema, input, name));
      } catch (err) {
        throw forOperators(err, name);
      }
    };
  }
  return checked as ActivityFunctions<C>;
}

/** Parses an activity input; a malformed one is a bug in the caller, which no retry fixes. */
function parseInput<S extends z.ZodType>(schema: S, input: unknown, activity: string): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid input to ${activity}: ${z.prettifyError(parsed.error)}`,
      BAD_INPUT_FAILURE,
    );
  }
  return parsed.data;
}

/**
 * A failure as it leaves the worker: an ApplicationFailure whose message is the cause in words and whose
 * stack trace (the `stack_trace` the UI and `temporal workflow show` print under the failure) is one line
 * saying where the stack is: the worker's log, written here. A stack of node_modules paths tells an on-call
 * engineer nothing, and the history is kept for as long as the run is. An error that is not a Temporal
 * failure yet (a library's, a bug's) becomes a retryable one of its name; cancellation passes unchanged.
 */
export function forOperators(err: unknown, activity: string): unknown {
  if (err instanceof CancelledFailure || (err instanceof Error && err.name === 'AbortError')) return err;
  if (err instanceof TemporalFailure && !(err instanceof ApplicationFailure)) return err;
  const failure =
    err instanceof ApplicationFailure
      ? err
      : ApplicationFailure.create({
          message: errorText(err),
          type: err instanceof Error && err.name !== 'Error' ? err.name : 'ActivityError',
          nonRetryable: false,
        });
  const context = currentContext();
  const stack = err instanceof Error ? err.stack : undefined;
  if (context) {
    const { activityType, attempt } = context.info;
    context.log.warn('activity failed; its stack stays in this log', {
      activity: activityType,
      attempt,
      type: failure.type,
      message: failure.message,
      stack,
    });
    failure.stack = `${activity} failed on attempt ${attempt}: the stack is in the worker's log`;
  } else {
    failure.stack = `${activity} failed: the stack is in the worker's log`;
  }
  return failure;
}

/** The running activity's context; none when an activity is called outside a worker (unit tests). */
function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
