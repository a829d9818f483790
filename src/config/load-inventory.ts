/**
 * Reads an inventory file (YAML or JSON), validates it, and returns the typed inventory, or throws one
 * InventoryError that lists every problem as `<field path>: <message>`.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { inventorySchema, type Inventory } from './inventory.js';

export interface InventoryProblem {
  /** Where the operator wrote it: `hosts[1].hostKey`, or `line 3, column 5` for YAML syntax. */
  path: string;
  message: string;
}

export class InventoryError extends Error {
  override readonly name = 'InventoryError';

  constructor(
    /** The file name (or the label given for a string). */
    readonly source: string,
    readonly problems: readonly InventoryProblem[],
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${source}: ${count} in the inventory:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
}

export async function loadInventory(filePath: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new InventoryError(filePath, [{ path: '(file)', message: `cannot read it (${code})` }]);
  }
  return parseInventory(text, filePath);
}

/** Parses YAML or JSON text (JSON is read as YAML, which also catches its duplicate keys). */
export function parseInventory(text: string, source = '(inventory)'): Inventory {
  const lineCounter = new LineCounter();
  // prettyErrors off: its messages quote the source line, which could hold a pasted secret.
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const syntaxProblems = [...document.errors, ...document.warnings].map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { path: `line ${line}, column ${col}`, message: error.message };
  });
  if (syntaxProblems.length > 0) throw new InventoryError(source, syntaxProblems);
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    // e.g. an alias bomb beyond maxAliasCount
    throw new InventoryError(source, [{ path: '(document)', message: (error as Error).message }]);
  }
  return validateInventory(data, source);
}

/** Validates already-parsed data. */
export function validateInventory(data: unknown, source = '(inventory)'): Inventory {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    const message = 'must be a mapping with version, hosts, nodes, validators and signers';
    throw new InventoryError(source, [{ path: '(top level)', message }]);
  }
  const result = inventorySchema.safeParse(data, { error: plainMessage });
  if (result.success) return result.data;
  throw new InventoryError(source, inFileOrder(result.error.issues, Object.keys(data)).flatMap(toProblems));
}

/** Sorts issues by the entry they are about, in the order the file lists them (the sort is stable). */
function inFileOrder(issues: z.core.$ZodIssue[], topLevelKeys: string[]): z.core.$ZodIssue[] {
  const position = ({ path }: z.core.$ZodIssue) => {
    const key = topLevelKeys.indexOf(String(path[0]));
    // A missing top-level field has no place in the file: it goes last.
    const keyRank = path.length === 0 ? -1 : key === -1 ? topLevelKeys.length : key;
    return [keyRank, typeof path[1] === 'number' ? path[1] : -1] as const;
  };
  return issues.toSorted((a, b) => {
    const [keyA, indexA] = position(a);
    const [keyB, indexB] = position(b);
    return keyA - keyB || indexA - indexB;
  });
}

/** Operator-friendly wording for the issues whose default zod message is written for programmers. */
function plainMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const missing = issue.input === undefined;
  switch (issue.code) {
    case 'invalid_type':
      if (missing) return 'required';
      return `must be ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
    case 'invalid_value': {
      const expected = `${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      return missing ? `required: ${expected}` : `must be ${expected}`;
    }
    case 'invalid_union':
      if (issue.note === 'No matching discriminator') {
        const options = (issue.options as unknown[]).map((v) => JSON.stringify(v)).join(', ');
        return `${missing ? 'required: ' : 'must be '}one of ${options}`;
      }
      return undefined;
    default:
      return undefined;
  }
}

// Field names that only a pasted secret would have.
const SECRET_FIELD = /private|secret|mnemonic|seed|password|passwd|passphrase|phrase|suri|token|api.?key/i;

function toProblems(issue: z.core.$ZodIssue): InventoryProblem[] {
  if (issue.code !== 'unrecognized_keys') return [{ path: formatPath(issue.path), message: issue.message }];
  return issue.keys.map((key) => ({
    path: formatPath([...issue.path, key]),
    message: SECRET_FIELD.test(key)
      ? 'secrets are not written in the inventory: reference one in "signers" (type env, file or keystore-dir) and delete this field'
      : 'unknown field',
  }));
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const name = String(segment);
      if (!/^[A-Za-z_$][\w$-]*$/.test(name)) return `[${JSON.stringify(name)}]`;
      return i === 0 ? name : `.${name}`;
    })
    .join('');
}
