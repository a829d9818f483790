// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { layers } from './tools/eslint-layers.js';

// Workflow code runs in Temporal's deterministic sandbox: it imports, by value, only what is listed here (the
// bundler finds anything else only when a worker starts; lint finds it at the desk). The contracts and the
// other modules of src/api, and the zod-only parts of src/config that they are built from, are bundled with
// the workflows, so they keep to the same list.
const sandboxSafeModules = [
  'workflows/',
  'src/api/',
  ...['primitives', 'host', 'signers', 'identities', 'ss58', 'ssh-host-key', 'notifications'].map(
    (m) => `src/config/${m}.ts`,
  ),
];
const sandboxSafePackages = [
  '@temporalio/workflow',
  '@temporalio/common',
  'zod',
  // SS58 and host-key encodings (src/config/ss58.ts, ssh-host-key.ts): pure JS.
  '@noble/hashes/blake2b',
  '@scure/base',
];

/** The layers above the libraries in src/. */
// What src/ never imports: the layers above it, and the local networks (not part of the product build).
const aboveLibraries = ['activities/', 'workflows/', 'worker/', 'devnet/'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { plugins: { layers } },
  {
    files: [
      'workflows/**/*.ts',
      ...sandboxSafeModules.filter((m) => m.startsWith('src/')).map((m) => (m.endsWith('/') ? `${m}**/*.ts` : m)),
    ],
    rules: {
      'layers/sandbox-imports': ['error', { modules: sandboxSafeModules, packages: sandboxSafePackages }],
    },
  },
  {
    // The test workflows are bundled too; they may also import their own fixtures.
    files: ['test/workflows/fixtures/**/*.ts'],
    rules: {
      'layers/sandbox-imports': [
        'error',
        { modules: [...sandboxSafeModules, 'test/workflows/fixtures/'], packages: sandboxSafePackages },
      ],
    },
  },
  {
    // Libraries serve activities, workflows, the worker and clients; they never reach up into them.
    files: ['src/**/*.ts'],
    rules: {
      'layers/no-imports-from': [
        'error',
        {
          folders: aboveLibraries,
          why: 'src/ holds the libraries that activities, workflows and the worker use, never the other way round',
        },
      ],
    },
  },
  {
    // The local networks, testbeds and demo drive the product; the product (what dist/ and the image hold)
    // never depends on them.
    // (src/ has the same ban in its own blocks: a later block's options for one rule replace an earlier one's.)
    files: ['workflows/**/*.ts', 'activities/**/*.ts', 'worker/**/*.ts'],
    rules: {
      'layers/no-imports-from': [
        'error',
        { folders: ['devnet/'], why: 'devnet/ is not part of the product build (dist/, the worker image)' },
      ],
    },
  },
  {
    // The inventory schema and its loader are below the API: src/api builds workflow inputs and contracts from
    // src/config's zod pieces, so src/config never imports src/api (no cycle between the two).
    files: ['src/config/**/*.ts'],
    rules: {
      'layers/no-imports-from': [
        'error',
        {
          folders: [...aboveLibraries, 'src/api/'],
          why: 'src/config is below src/api and the layers above it (src/api imports src/config, not the other way round)',
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
  prettier,
);
