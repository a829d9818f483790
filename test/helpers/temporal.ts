/**
 * Real Temporal servers for tests, found by test/global-setup.js (devnet/servers/temporal-servers.ts):
 * the Java time-skipping server and the `temporal` CLI's dev server, both as `existing-path` executables.
 * Without them (a machine with internet and no Go/Maven), the SDK downloads its own.
 */
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { upgradeSearchAttributes } from '../../src/api/search-attributes.js';
import { recordHistories, recordLogLine } from './secret-scan.js';
import { bundleUpgradeWorkflows as bundleWorkerWorkflows } from '../../worker/create-worker.js';

function executable(envVar: 'TEMPORAL_CLI_PATH' | 'TEMPORAL_TEST_SERVER_PATH') {
  const path = process.env[envVar];
  return path ? ({ type: 'existing-path', path } as const) : ({ type: 'cached-download' } as const);
}

/**
 * Quiet the SDK's own logging (warnings and errors on stderr); every entry from INFO up also goes to the run's
 * secret scan (test/helpers/secret-scan.ts). Must run before any Temporal connection in this test file.
 */
export function installTestRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('INFO', ({ level, message, meta, timestampNanos }) => {
        const line = `${new Date(Number(timestampNanos / 1_000_000n)).toISOString()} [${level}] ${message}${meta ? ` ${inspect(meta, { depth: 6, breakLength: Infinity })}` : ''}`;
        recordLogLine(line);
        if (level === 'WARN' || level === 'ERROR') process.stderr.write(`${line}\n`);
      }),
    });
  } catch {
    // Already installed for this module registry.
  }
}

/** Before the server goes, every history it holds goes to the run's secret scan. */
function scanningHistories(env: TestWorkflowEnvironment, server: string): TestWorkflowEnvironment {
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    await recordHistories(env.client, server);
    await teardown();
  };
  return env;
}

/**
 * sdk-core gives a server it starts 5 s to answer (not configurable) and kills it when it does not. A loaded
 * machine can take longer (seen at load 28: the JVM of the time-skipping server), so such a start is tried
 * again, on a fresh port; any other failure is the test's.
 */
async function startedServer(start: () => Promise<TestWorkflowEnvironment>): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 4 || !/did not start within/.test(err instanceof Error ? err.message : String(err))) throw err;
      process.stderr.write(`Temporal test server slow to start (attempt ${attempt}); starting another\n`);
    }
  }
}

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const env = await startedServer(() =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: executable('TEMPORAL_TEST_SERVER_PATH') } }),
  );
  // The Java test server has no --search-attribute flag: register ours through the operator service.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      upgradeSearchAttributes.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return scanningHistories(env, 'time-skipping');
}

/** The dev server; with `uiPort` it also serves the Temporal UI there (http://127.0.0.1:<uiPort>). */
export async function createDevServerEnv(
  extraArgs: string[] = [],
  options: { uiPort?: number } = {},
): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const env = await startedServer(() =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: executable('TEMPORAL_CLI_PATH'),
        searchAttributes: upgradeSearchAttributes,
        extraArgs,
        ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
      },
    }),
  );
  return scanningHistories(env, 'dev-server');
}

/** Bundles the upgrade workflows (workflows/index.ts) once per file, as the worker factory does. */
export function bundleUpgradeWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkerWorkflows(new DefaultLogger('WARN'));
}

/** Bundles test workflows once per file (bundling takes seconds; every Worker of the file reuses it). */
export async function bundleFixtures(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../workflows/fixtures/index.ts', import.meta.url)),
    logger: new DefaultLogger('WARN'),
  });
}
