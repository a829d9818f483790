/**
 * The committed schemas/inventory.schema.json is what the generator writes now (so it cannot drift from the
 * zod schema), and a real JSON Schema 2020-12 validator accepts the example and refuses unknown fields.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { inventoryJsonSchemaText } from '../../../src/config/inventory-json-schema.js';
import { repoRoot } from '../../../src/repo-root.js';

const schemaPath = path.join(repoRoot(), 'schemas', 'inventory.schema.json');
const examplePath = path.join(repoRoot(), 'examples', 'inventory.yaml');

async function compileCommittedSchema() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(await readFile(schemaPath, 'utf8')) as object);
}

async function exampleData(): Promise<Record<string, unknown>> {
  return parse(await readFile(examplePath, 'utf8')) as Record<string, unknown>;
}

describe('schemas/inventory.schema.json', () => {
  it('is exactly what `npm run schemas` generates from the zod schema', async () => {
    expect(await readFile(schemaPath, 'utf8')).toBe(inventoryJsonSchemaText());
  });

  it('is the 2020-12 draft and carries the field descriptions', async () => {
    const schema = JSON.parse(await readFile(schemaPath, 'utf8')) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(JSON.stringify(schema)).toContain('The neard home folder (--home)');
  });

  it('accepts the example inventory', async () => {
    const validate = await compileCommittedSchema();
    const valid = validate(await exampleData());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('refuses an unknown field and a wrong enum value in the example', async () => {
    const validate = await compileCommittedSchema();
    const data = await exampleData();
    const hosts = data.hosts as Record<string, unknown>[];
    hosts[0] = { ...hosts[0], privateKey: 'ed25519:not-here' };
    expect(validate(data)).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ instancePath: '/hosts/0', keyword: 'additionalProperties' }),
    );

    const other = await exampleData();
    (other.validators as Record<string, unknown>[])[0]!.network = 'betanet';
    expect(validate(other)).toBe(false);
  });
});
