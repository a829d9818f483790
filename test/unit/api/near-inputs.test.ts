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
  nearSyncAndSwapTargets,
  nearWorkflowInputs,
  nearZeroDowntimeInput,
} from '../../../src/api/near-inputs.js';
import { resolveUpgradeTargets } from '../../../src/api/upgrade-request.js';
import { loadInventory } from '../../../src/config/load-inventory.js';
import { workflowInputJsonSchemaFiles } from '../../../src/api/workflow-input-json-schemas.js';
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

  it('refuses one node named for two roles, and an input that names a host instead of a node id', async () => {
    const example = await readJson('examples', 'near-key-hot-swap.input.json');
    expect(messages(nearKeyHotSwapInput, { ...example, primary: 'near-a', standby: 'near-a' })).toContain(
      'standby must be another node than primary',
    );
    expect(nearKeyHotSwapInput.safeParse({ ...example, primary: 'near-b', standby: 'near-a' }).success).toBe(true);
    const host = { id: 'near-a', address: '10.0.0.1', user: 'root', hostKey: 'x', auth: { type: 'agent' } };
    expect(messages(nearSyncAndSwapInput, { ...example, node: { host, home: '/root' } })).toContain('→ at node');
  });

  it('the targets the worker resolves refuse a sync node on another host, or sharing the validator’s binary', async () => {
    const inventory = await loadInventory(path.join(repoRoot(), 'examples', 'inventory.yaml'));
    const example = await readJson('examples', 'near-sync-and-swap.input.json');
    const targets = resolveUpgradeTargets(inventory, 'nearSyncAndSwapUpgrade', { ...example, syncNode: 'near-b' }) as {
      node: { host: object; binary: string };
      syncNode: object;
    };
    expect(messages(nearSyncAndSwapTargets, targets)).toContain('syncNode must be on the same host as node');
    const onOneHost = {
      ...targets,
      syncNode: { ...targets.syncNode, host: targets.node.host, binary: targets.node.binary },
    };
    expect(messages(nearSyncAndSwapTargets, onOneHost)).toContain('syncNode needs its own home, service and binary');
  });
});
