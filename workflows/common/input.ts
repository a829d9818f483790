/**
 * Every workflow parses its input first thing, before it touches anything: a bad input fails the run at
 * once, non-retryably, with zod's messages (which field, what is wrong), instead of failing some step later.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import { INVALID_INPUT_ERROR_TYPE } from '../../src/api/near-inputs.js';

export function parseWorkflowInput<S extends z.ZodType>(schema: S, input: unknown, workflowType: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `invalid input to ${workflowType}:\n${z.prettifyError(parsed.error)}`,
      INVALID_INPUT_ERROR_TYPE,
    );
  return parsed.data;
}
