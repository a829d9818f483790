// @ts-check
/**
 * The layers, as lint rules that read where an import leads (the specifier resolved against the importing
 * file), not what a package is called:
 *
 * - `layers/sandbox-imports`: code that runs in Temporal's workflow sandbox imports, by value, only the
 *   modules and packages on an allow-list. `import type` is always allowed: it leaves nothing at run time
 *   (the workflows get their activity proxies from the activities' type this way).
 * - `layers/no-imports-from`: a layer never imports (not even a type) from the folders listed.
 */
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

/** The import's target as a repository path (`src/api/plans.ts`), or undefined for a package. */
function repoPathOf(filename, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const resolved = path.relative(root, path.resolve(path.dirname(filename), specifier));
  return resolved.replace(/\.js$/, '.ts');
}

/** `folder/` matches everything below the folder; anything else matches that one file. */
const matches = (entry, target) => (entry.endsWith('/') ? target.startsWith(entry) : target === entry);

/** Every import, export-from and dynamic import of a file, with whether it is for types only. */
function onEachImport(context, check) {
  const visit = (node, typeOnly) => {
    if (node.source && typeof node.source.value === 'string') check(node, node.source.value, typeOnly);
  };
  return {
    ImportDeclaration: (node) => visit(node, node.importKind === 'type'),
    ExportNamedDeclaration: (node) => visit(node, node.exportKind === 'type'),
    ExportAllDeclaration: (node) => visit(node, node.exportKind === 'type'),
    ImportExpression: (node) => visit(node, false),
  };
}

const sandboxImports = {
  meta: {
    type: 'problem',
    docs: { description: 'Sandboxed code imports by value only what is on the allow-list' },
    schema: [
      {
        type: 'object',
        properties: {
          modules: { type: 'array', items: { type: 'string' } },
          packages: { type: 'array', items: { type: 'string' } },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      notAllowed:
        "'{{specifier}}' is not sandbox-safe: code that runs in the workflow sandbox imports by value only {{allowed}}. " +
        'Do I/O in an activity, and import its types with `import type`.',
    },
  },
  create(context) {
    const { modules = [], packages = [] } = context.options[0] ?? {};
    const allowed = [...modules, ...packages].join(', ');
    return onEachImport(context, (node, specifier, typeOnly) => {
      if (typeOnly) return;
      const target = repoPathOf(context.filename, specifier);
      const ok = target === undefined ? packages.includes(specifier) : modules.some((m) => matches(m, target));
      if (!ok) context.report({ node, messageId: 'notAllowed', data: { specifier, allowed } });
    });
  },
};

const noImportsFrom = {
  meta: {
    type: 'problem',
    docs: { description: 'A layer never imports from the folders above it' },
    schema: [
      {
        type: 'object',
        properties: { folders: { type: 'array', items: { type: 'string' } }, why: { type: 'string' } },
        additionalProperties: false,
      },
    ],
    messages: { forbidden: "'{{specifier}}' is in {{folder}}: {{why}}" },
  },
  create(context) {
    const { folders = [], why = 'this layer must not depend on it' } = context.options[0] ?? {};
    return onEachImport(context, (node, specifier) => {
      const target = repoPathOf(context.filename, specifier);
      const folder = target === undefined ? undefined : folders.find((f) => matches(f, target));
      if (folder) context.report({ node, messageId: 'forbidden', data: { specifier, folder, why } });
    });
  },
};

export const layers = { rules: { 'sandbox-imports': sandboxImports, 'no-imports-from': noImportsFrom } };
