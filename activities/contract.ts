/**
 * Activities are implemented against their contract (src/api/contracts): `implement` checks each input
 * against the activity's schema before the implementation sees it, so no activity parses its own input, and
 * the type a workflow proxies (`typeof activities`) is the contract's.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
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
    checked[name] = async (input: unknown) => run(parseInput(schema, input, name));
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
