/**
 * workflows/shared-modules.ts preloads every module of ours the workflows import, so no run evaluates its
 * schemas again, and freezes each one's exports so the SDK's deep freeze leaves the zod schemas under them
 * writable. Both hold only if its list is the whole set: a module the workflows reach that is missing is
 * evaluated per run again (memory), and one a listed module imports is frozen deep (a parse in the sandbox
 * throws). Read from the source's value imports (type-only imports are erased from the bundle).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../../../src/repo-root.js';

const root = repoRoot();

/** The relative modules a file imports or re-exports as values, as repository paths of .ts files. */
function valueImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement))) continue;
    const specifier = statement.moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause?.isTypeOnly ||
        (clause && !clause.name && named && ts.isNamedImports(named) && named.elements.every((e) => e.isTypeOnly));
      if (onlyTypes) continue;
    } else if (statement.isTypeOnly) continue;
    found.push(path.join(path.dirname(file), specifier.text).replace(/\.js$/, '.ts'));
  }
  return found;
}

/** Every module reached from `entry` through value imports. */
function reached(entry: string): Set<string> {
  const seen = new Set<string>();
  const next = [entry];
  while (next.length) {
    const file = next.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    next.push(...valueImports(file));
  }
  return seen;
}

const ours = (files: Iterable<string>) => [...files].filter((f) => f.startsWith('src/')).sort();
/** It imports @temporalio/workflow, which must stay per run: left to each run. */
const perRun = ['src/api/messages.ts'];

it('shares every module of ours the workflows reach, except the one that imports @temporalio/workflow (and holds no schema)', () => {
  const listed = ours(valueImports('workflows/shared-modules.ts'));
  expect(listed).toEqual(ours(reached('workflows/index.ts')).filter((f) => !perRun.includes(f)));
  // So nothing a shared module imports goes unlisted (frozen deep), and the per-run one is not reached.
  expect(ours(reached('workflows/shared-modules.ts'))).toEqual(listed);
  for (const file of perRun) {
    const text = readFileSync(path.join(root, file), 'utf8');
    expect(text).toContain("from '@temporalio/workflow'");
    // A schema there would be built again by every run the worker holds.
    expect(text).not.toMatch(/from 'zod'/);
  }
});
