/**
 * Workflow code must stay deterministic. The bundler only finds a forbidden import when a worker starts;
 * ESLint finds it at the desk. This proves the rule covers workflow files and spares activities.
 */
import { ESLint } from 'eslint';

const eslint = new ESLint();

async function restrictedImports(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('workflow import rule', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';", 'node:fs'],
    ["import { exec } from 'child_process';", 'child_process'],
    ["import { Client } from '@temporalio/client';", '@temporalio/client'],
    ["import { Context } from '@temporalio/activity';", '@temporalio/activity'],
    ["import { Worker } from '@temporalio/worker';", '@temporalio/worker'],
    ["import { Client as Ssh } from 'ssh2';", 'ssh2'],
    ["import { createActivities } from '../activities/index.js';", 'activities by value'],
  ])('refuses %s in a workflow file (%s)', async (line) => {
    const messages = await restrictedImports(
      `${line}\nexport const x = [${line.match(/\{ (\w+)/)?.[1]}];\n`,
      'workflows/index.ts',
    );
    expect(messages.length).toBeGreaterThan(0);
  });

  it('allows the workflow API, common types and type-only activity imports', async () => {
    const code = [
      "import { sleep } from '@temporalio/workflow';",
      "import type { Duration } from '@temporalio/common';",
      "import type { Activities } from '../activities/index.js';",
      'export async function wf(d: Duration): Promise<Activities | undefined> { await sleep(d); return undefined; }',
      '',
    ].join('\n');
    expect(await restrictedImports(code, 'workflows/index.ts')).toEqual([]);
  });

  it('does not restrict activities', async () => {
    const code = "import { readFileSync } from 'node:fs';\nexport const read = () => readFileSync('/etc/hostname');\n";
    expect(await restrictedImports(code, 'activities/index.ts')).toEqual([]);
  });
});
