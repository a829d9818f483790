/**
 * The NEAR workflow inputs: the committed JSON Schemas are what the generator writes now, the examples
 * pass both the zod schemas and a real JSON Schema validator, and wrong inputs get messages that name the
 * field.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import {
  nearKeyHotSwapInput,
  nearStopAndRestartInput,
  nearSyncAndSwapInput,
  nearWorkflowInputs,
  nearZeroDowntimeInput,
} from '../../../src/api/near-inputs.js';
import { workflowInputJsonSchemaFiles } from '../../../src/config/workflow-input-json-schemas.js';
import { repoRoot } from '../../../src/repo-root.js';

const examples: [workflowType: keyof typeof nearWorkflowInputs, file: string][] = [
  ['nearZeroDowntimeUpgrade', 'near-zero-downtime.input.json'],
  ['nearSyncAndSwapUpgrade', 'near-sync-and-swap.input.json'],
  ['nearStopAndRestartUpgrade', 'near-stop-and-restart.input.json'],
  ['nearValidatorKeyHotSwap', 'near-key-hot-swap.input.json'],
];

const readJson = async (...parts: string[]) =>
  JSON.parse(await readFile(path.join(repoRoot(), ...parts), 'utf8')) as Record<string, unknown>;

function messages(schema: z.ZodType, input: unknown): string {
  const parsed = schema.safeParse(input);
  if (parsed.success) throw new Error('expected the input to be refused');
  return z.prettifyError(parsed.error);
}

describe('NEAR workflow input schemas', () => {
  it.each(workflowInputJsonSchemaFiles())('schemas/%s is what `npm run schemas` writes', async (fileName, render) => {
    expect(await readFile(path.join(repoRoot(), 'schemas', fileName), 'utf8')).toBe(render());
  });

  it.each(examples)('the %s example passes the zod schema and the committed JSON Schema', async (type, file) => {
    const example = await readJson('examples', file);
    const parsed = nearWorkflowInputs[type].safeParse(example);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);

    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(await readJson('schemas', `${type}.input.schema.json`));
    expect(validate(example) ? [] : validate.errors).toEqual([]);
    expect(validate({ ...example, privateKey: 'ed25519:…' })).toBe(false);
  });

  it('turns durations into milliseconds and fills in the default waits', async () => {
    const example = await readJson('examples', 'near-stop-and-restart.input.json');
    const parsed = nearStopAndRestartInput.parse(example);
    expect(parsed.timeouts).toEqual({ migration: 12 * 3_600_000, sync: 6 * 3_600_000, signing: 3_600_000 });
    expect(messages(nearStopAndRestartInput, { ...example, timeouts: { migration: 'forever' } })).toContain(
      'must be a duration such as "30s", "90 minutes", "6 hours" or "3 days"',
    );
  });

  it('names the field and the problem when an input is wrong', async () => {
    const example = await readJson('examples', 'near-zero-downtime.input.json');
    const text = messages(nearZeroDowntimeInput, {
      ...example,
      validator: { network: 'mainnet', accountId: 'MyPool' },
      release: { staged: 'neard', sha256: 'abc' },
      extra: 1,
    });
    expect(text).toContain('→ at validator.accountId');
    expect(text).toContain('must be a NEAR account id');
    expect(text).toContain('→ at release.staged');
    expect(text).toContain('must be an absolute path');
    expect(text).toContain('→ at release.sha256');
    expect(text).toMatch(/Unrecognized key: "extra"/);
  });

  it('refuses a sync node that shares the validator’s binary or sits on another host', async () => {
    const example = await readJson('examples', 'near-sync-and-swap.input.json');
    const node = example.node as Record<string, unknown>;
    const syncNode = example.syncNode as Record<string, unknown>;
    expect(messages(nearSyncAndSwapInput, { ...example, syncNode: { ...syncNode, binary: node.binary } })).toContain(
      'syncNode needs its own home, service and binary',
    );
    const otherHost = { ...(syncNode.host as object), id: 'elsewhere' };
    expect(messages(nearSyncAndSwapInput, { ...example, syncNode: { ...syncNode, host: otherHost } })).toContain(
      'syncNode must be on the same host as node',
    );
  });

  it('refuses a hot swap onto the primary itself', async () => {
    const example = await readJson('examples', 'near-key-hot-swap.input.json');
    expect(messages(nearKeyHotSwapInput, { ...example, standby: example.primary })).toContain(
      'primary and standby must be different nodes',
    );
  });
});
