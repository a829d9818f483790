/**
 * The layers are lint rules (eslint.config.js, tools/eslint-layers.js). The bundler finds a forbidden import
 * in workflow code only when a worker starts, and nothing at all finds a library reaching up into the
 * activities: ESLint finds both at the desk. Each rule is shown firing on a bad import and passing a good one,
 * through ESLint's Node API with the project's own config.
 */
import { ESLint } from 'eslint';

const eslint = new ESLint();

/** The messages of the layer rules (and of any other import rule) for a snippet linted as `filePath`. */
async function importFindings(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId?.startsWith('layers/') || m.ruleId === 'no-restricted-imports' || m.fatal)
    .map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

/** A module that imports `name` from `from` and uses it (so nothing else in the config complains). */
const importing = (name: string, from: string, kind: 'value' | 'type' = 'value') =>
  kind === 'type'
    ? `import type { ${name} } from '${from}';\nexport type Uses = ${name};\n`
    : `import { ${name} } from '${from}';\nexport const uses = [${name}];\n`;

describe('layers/sandbox-imports: workflow code imports by value only what the sandbox allows', () => {
  it.each([
    ['a Node builtin', 'workflows/index.ts', importing('readFileSync', 'node:fs')],
    ['a Node builtin without node:', 'workflows/common/near.ts', importing('exec', 'child_process')],
    ['the Temporal client', 'workflows/index.ts', importing('Client', '@temporalio/client')],
    ['the activity package', 'workflows/index.ts', importing('Context', '@temporalio/activity')],
    ['the worker package', 'workflows/index.ts', importing('Worker', '@temporalio/worker')],
    [
      "@temporalio/common's non-workflow half",
      'workflows/index.ts',
      importing('x', '@temporalio/common/lib/internal-non-workflow'),
    ],
    ['an SSH client', 'workflows/common/polkadot.ts', importing('Client', 'ssh2')],
    ['the activities by value', 'workflows/index.ts', importing('createActivities', '../activities/index.js')],
    // What the old deny-list (by package name) let through: a library of ours that does I/O.
    [
      'the NEAR library by value',
      'workflows/near-zero-downtime.ts',
      importing('nodeStatus', '../src/near/node-status.js'),
    ],
    [
      'the Polkadot library by value',
      'workflows/common/polkadot.ts',
      importing('withApi', '../../src/polkadot/connection.js'),
    ],
    ['the inventory loader', 'workflows/index.ts', importing('loadInventory', '../src/config/load-inventory.js')],
    ['the worker', 'workflows/index.ts', importing('main', '../worker/main.js')],
    // The contracts are bundled with the workflows, so they keep to the same list.
    ['an SSH library from a contract', 'src/api/contracts/host.ts', importing('exec', '../../ssh/exec.js')],
    [
      'the inventory (polkadot-js inside) from src/api',
      'src/api/strategies.ts',
      importing('inventorySchema', '../config/inventory.js'),
    ],
    ['a Node builtin in a test workflow', 'test/workflows/fixtures/index.ts', importing('readFileSync', 'node:fs')],
  ])('refuses %s (%s)', async (_what, filePath, code) => {
    const findings = await importFindings(code, filePath);
    expect(findings).toEqual([expect.stringMatching(/^layers\/sandbox-imports: .* is not sandbox-safe/)]);
  });

  it('allows the workflow package, zod, the contracts, src/api, the zod-only config and type-only imports', async () => {
    const code = [
      "import { sleep } from '@temporalio/workflow';",
      "import type { Duration } from '@temporalio/common';",
      "import { z } from 'zod';",
      "import type { Activities } from '../activities/index.js';",
      "import type { SshConnection } from '../src/ssh/connection.js';",
      "import { nearContracts } from '../src/api/contracts/near.js';",
      "import { plannedSteps } from '../src/api/plans.js';",
      "import { hostSchema } from '../src/config/host.js';",
      "import { UNSAFE_ERROR_TYPE } from './common/activity-options.js';",
      'export const uses = [sleep, z, nearContracts, plannedSteps, hostSchema, UNSAFE_ERROR_TYPE];',
      'export type Uses = [Duration, Activities, SshConnection];',
      '',
    ].join('\n');
    expect(await importFindings(code, 'workflows/index.ts')).toEqual([]);
  });

  it('does not restrict activities', async () => {
    const code = "import { readFileSync } from 'node:fs';\nexport const read = () => readFileSync('/etc/hostname');\n";
    expect(await importFindings(code, 'activities/index.ts')).toEqual([]);
  });
});

describe('layers/no-imports-from: src/ never imports activities/, workflows/ or worker/', () => {
  it.each([
    [
      'src/near/database-check.ts',
      'activities/',
      importing('NearActivities', '../../activities/near/index.js', 'type'),
    ],
    ['src/api/plans.ts', 'workflows/', importing('nearZeroDowntimeUpgrade', '../../workflows/index.js')],
    ['src/client/upgrades.ts', 'worker/', importing('createWorker', '../../worker/main.js')],
    ['src/config/inventory.ts', 'activities/', importing('Activities', '../../activities/index.js', 'type')],
  ])('refuses an import in %s from %s (a type import too)', async (filePath, folder, code) => {
    expect(await importFindings(code, filePath)).toEqual([
      expect.stringMatching(new RegExp(`^layers/no-imports-from: .* is in ${folder}:`)),
    ]);
  });
});

describe('layers/no-imports-from: the product never imports devnet/', () => {
  it.each([
    ['src/cli/main.ts', importing('startNearDevnet', '../../devnet/near/index.js')],
    ['worker/main.ts', importing('freePort', '../devnet/ports.js')],
    ['activities/index.ts', importing('Teardown', '../devnet/teardown.js', 'type')],
  ])('refuses devnet/ in %s', async (filePath, code) => {
    expect(await importFindings(code, filePath)).toEqual([
      expect.stringMatching(/^layers\/no-imports-from: .* is in devnet\/:/),
    ]);
  });

  it('lets devnet/ use the product', async () => {
    const code = importing('createActivities', '../../activities/index.js');
    expect(await importFindings(code, 'devnet/demo/main.ts')).toEqual([]);
  });
});

describe('layers/no-imports-from: src/config never imports src/api (no cycle between them)', () => {
  it('refuses src/api in src/config', async () => {
    const code = importing('nearWorkflowInputs', '../api/near-inputs.js');
    expect(await importFindings(code, 'src/config/inventory-json-schema.ts')).toEqual([
      expect.stringMatching(/^layers\/no-imports-from: .* is in src\/api\/:/),
    ]);
  });

  it('allows src/config in src/api', async () => {
    const code = importing('hostSchema', '../config/host.js');
    expect(await importFindings(code, 'src/api/near-inputs.ts')).toEqual([]);
  });
});
