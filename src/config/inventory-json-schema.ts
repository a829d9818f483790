/** The inventory's JSON Schema, for editors (yaml-language-server) and other tools. */
import { z } from 'zod';
import { inventorySchema } from './inventory.js';

/**
 * Draft 2020-12, describing what an operator writes (`io: 'input'`: fields with defaults are optional).
 * Cross-entry checks (references, duplicates) and some field checks (paths, SS58 checksums) live only in
 * the loader: JSON Schema cannot say them.
 */
export function inventoryJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(inventorySchema, { target: 'draft-2020-12', io: 'input' });
}

/** The committed file's exact text. */
export function inventoryJsonSchemaText(): string {
  return `${JSON.stringify(inventoryJsonSchema(), null, 2)}\n`;
}
