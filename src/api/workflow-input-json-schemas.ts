/**
 * JSON Schemas of the workflow inputs (schemas/<workflowType>.input.schema.json), for the Temporal CLI,
 * the UI's input editor and other services. Described as what a client writes (`io: 'input'`: fields
 * with defaults are optional); checks across fields live only in the zod schemas the workflows run.
 */
import { z } from 'zod';
import { FLEET_WORKFLOW_TYPE, fleetInputSchema } from './fleet.js';
import { nearWorkflowInputs } from './near-inputs.js';
import { polkadotWorkflowInputs } from './polkadot-inputs.js';

export function workflowInputJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
}

/** [file name under schemas/, the file's exact text] for every workflow type with a zod input. */
export function workflowInputJsonSchemaFiles(): [fileName: string, render: () => string][] {
  return Object.entries({
    ...nearWorkflowInputs,
    ...polkadotWorkflowInputs,
    [FLEET_WORKFLOW_TYPE]: fleetInputSchema,
  }).map(([workflowType, schema]) => [
    `${workflowType}.input.schema.json`,
    () => `${JSON.stringify(workflowInputJsonSchema(schema), null, 2)}\n`,
  ]);
}
