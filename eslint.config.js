// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// Workflow code runs in Temporal's deterministic sandbox: no Node builtins, and no Temporal package
// other than @temporalio/workflow and @temporalio/common (the bundler rejects the rest at worker start;
// failing at lint time is cheaper).
const forbiddenInWorkflows = [
  ...builtinModules.flatMap((m) => [m, `node:${m}`]),
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/testing',
  '@temporalio/envconfig',
  '@temporalio/core-bridge',
  '@temporalio/common/lib/internal-non-workflow',
  'ssh2',
  'near-api-js',
  '@polkadot/api',
];

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
  {
    // Also the zod-only config modules that workflow inputs are built from: they must stay sandbox-safe.
    files: [
      'workflows/**/*.ts',
      'test/workflows/fixtures/**/*.ts',
      'src/api/**/*.ts',
      'src/config/{primitives,host,signers,identities,ss58,ssh-host-key}.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbiddenInWorkflows.map((name) => ({
            name,
            message: 'Workflow code must stay deterministic: do I/O in an activity and import it with `import type`.',
          })),
          patterns: [
            {
              group: [
                '**/activities/**',
                '**/src/ssh/**',
                '**/src/config/*',
                '!**/src/config/{primitives,host,signers,identities,ss58,ssh-host-key}.js',
              ],
              allowTypeImports: true,
            },
          ],
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
