/**
 * Every example input (examples/*.input.json) is valid by its committed JSON Schema and accepted by its
 * workflow on the dev server; a copy missing a required field is refused by the JSON Schema, the client SDK
 * and the workflow alike, each naming that field, the workflow in the same words as the schema outside the sandbox
 * (the sandbox's schemas are shared by every run, workflows/shared-modules.ts). The worker serves the production workflows with no
 * activities, so an accepted run waits at its first activity (resolving its nodes in the inventory).
 * (test/unit/api/*-inputs.test.ts check the examples against the zod schemas and the schemas' freshness.)
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import { upgradeIdPolicy } from '../../src/api/identity.js';
import { strategies } from '../../src/api/strategies.js';
import { INVALID_INPUT_ERROR_TYPE } from '../../src/api/near-inputs.js';
import { InvalidUpgradeInput, checkUpgradeInput, startUpgrade, type StrategyName } from '../../src/client/index.js';
import { loadInventory } from '../../src/config/load-inventory.js';
import { repoRoot } from '../../src/repo-root.js';
import { createDevServerEnv } from '../helpers/temporal.js';
import {
  startWorkflowsOnlyWorker,
  waitUntilAccepted,
  type WorkflowsOnlyWorker,
} from '../helpers/unserved-activities.js';

const exampleOf: Record<string, StrategyName> = {
  'near-zero-downtime.input.json': 'nearZeroDowntimeUpgrade',
  'near-sync-and-swap.input.json': 'nearSyncAndSwapUpgrade',
  'near-stop-and-restart.input.json': 'nearStopAndRestartUpgrade',
  'near-key-hot-swap.input.json': 'nearValidatorKeyHotSwap',
  'polkadot-validator-swap.input.json': 'polkadotValidatorSwapUpgrade',
};
const examples = Object.entries(exampleOf);
const taskQueue = 'example-inputs';

interface ObjectSchema {
  required: string[];
  properties: Record<string, { required?: string[] }>;
}

const readJson = async <T>(...parts: string[]) =>
  JSON.parse(await readFile(path.join(repoRoot(), ...parts), 'utf8')) as T;

async function compiledSchema(type: StrategyName) {
  const schema = await readJson<ObjectSchema>('schemas', `${type}.input.schema.json`);
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return { schema, validate: ajv.compile(schema) };
}

/** The dotted path of the field each `required` error says is missing. */
const missingFields = (errors: ErrorObject[]) =>
  errors
    .filter((e) => e.keyword === 'required')
    .map((e) =>
      [...e.instancePath.split('/').filter(Boolean), (e.params as { missingProperty: string }).missingProperty].join(
        '.',
      ),
    );

/** The example without the field at `dotted` (one or two levels deep). */
function without(example: Record<string, unknown>, dotted: string): Record<string, unknown> {
  const [head, leaf] = dotted.split('.') as [string, string | undefined];
  if (leaf === undefined) {
    const { [head]: _gone, ...rest } = example;
    return rest;
  }
  const { [leaf]: _gone, ...inner } = example[head] as Record<string, unknown>;
  return { ...example, [head]: inner };
}

let env: TestWorkflowEnvironment | undefined;
let worker: WorkflowsOnlyWorker | undefined;
beforeAll(async () => {
  env = await createDevServerEnv();
  worker = await startWorkflowsOnlyWorker(
    env,
    taskQueue,
    await loadInventory(path.join(repoRoot(), 'examples', 'inventory.yaml')),
  );
}, 300_000);
afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

it('every example input in examples/ has a strategy here', async () => {
  const files = (await readdir(path.join(repoRoot(), 'examples'))).filter((f) => f.endsWith('.input.json'));
  expect(files.sort()).toEqual(Object.keys(exampleOf).sort());
});

describe.each(examples)('examples/%s', (file, type) => {
  it(`is valid by schemas/${type}.input.schema.json and accepted by ${type}`, async () => {
    const example = await readJson<Record<string, unknown>>('examples', file);
    const { validate } = await compiledSchema(type);
    expect(validate(example) ? [] : validate.errors).toEqual([]);

    const started = await startUpgrade(env!.client, type, example as never, { taskQueue });
    const handle = env!.client.workflow.getHandle(started.workflowId);
    try {
      // Past its input: the first step runs and has scheduled its activity (nothing serves it here).
      const status = await waitUntilAccepted(env!.client, started.workflowId);
      expect(status).toMatchObject({ workflowId: started.workflowId, strategy: type, state: 'running' });
    } finally {
      await handle.terminate('example accepted');
    }
  });

  it('without a required field, is refused by the JSON Schema, the SDK and the workflow, each naming it', async () => {
    const example = await readJson<Record<string, unknown>>('examples', file);
    const { schema, validate } = await compiledSchema(type);
    const { workflowId } = checkUpgradeInput(type, example);
    // A required field besides the validator (the release, where it is required), and one of the validator's.
    const topLevel = schema.required.find((name) => name !== 'validator');
    const nested = `validator.${schema.properties.validator!.required!.at(-1)!}`;
    for (const field of topLevel ? [topLevel, nested] : [nested]) {
      const broken = without(example, field);
      expect(validate(broken)).toBe(false);
      expect(missingFields(validate.errors ?? [])).toEqual([field]);

      const refused = (() => {
        try {
          checkUpgradeInput(type, broken);
        } catch (err) {
          return err;
        }
      })();
      expect(refused).toBeInstanceOf(InvalidUpgradeInput);
      expect((refused as InvalidUpgradeInput).problems).toEqual([expect.stringMatching(new RegExp(`^${field}: `))]);

      // Past the SDK's check, straight to the server: the workflow parses the input itself.
      const handle = await env!.client.workflow.start(type, {
        args: [broken],
        taskQueue,
        workflowId,
        ...upgradeIdPolicy(),
      });
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ type: INVALID_INPUT_ERROR_TYPE, nonRetryable: true });
      const named = [...(cause as ApplicationFailure).message.matchAll(/→ at (\S+)/g)].map((m) => m[1]);
      expect(named).toEqual([field]);
      // The schemas in the sandbox are the worker's shared ones (workflows/shared-modules.ts), used by every run
      // before this one: they say exactly what a schema fresh from its module says.
      const outside = strategies[type].input.safeParse(broken);
      expect((cause as ApplicationFailure).message).toBe(
        `invalid input to ${type}:\n${z.prettifyError(outside.error!)}`,
      );
      expect((await handle.describe()).raw.pendingActivities ?? []).toEqual([]);
    }
  });
});
