/** Writes the JSON Schema files under schemas/ (`npm run schemas`); a test fails when they are stale. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../repo-root.js';
import { inventoryJsonSchemaText } from './inventory-json-schema.js';
import { workflowInputJsonSchemaFiles } from './workflow-input-json-schemas.js';

const schemas: [fileName: string, render: () => string][] = [
  ['inventory.schema.json', inventoryJsonSchemaText],
  ...workflowInputJsonSchemaFiles(),
];

const folder = path.join(repoRoot(), 'schemas');
await mkdir(folder, { recursive: true });
for (const [fileName, render] of schemas) {
  await writeFile(path.join(folder, fileName), render());
  console.log(`wrote schemas/${fileName}`);
}
