/**
 * Writes the JSON Schema files under schemas/ (`npm run schemas`): the inventory's (src/config) and the
 * workflow inputs' (src/api). A test fails when they are stale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { workflowInputJsonSchemaFiles } from './api/workflow-input-json-schemas.js';
import { inventoryJsonSchemaText } from './config/inventory-json-schema.js';
import { repoRoot } from './repo-root.js';

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
