/**
 * `vup plan`: the dry run. Resolves and validates the input, runs the read-only preflight workflow on the
 * worker (where SSH and signers are), checks here that no upgrade of this validator runs, and prints the
 * checks and the steps `start` would take. Changes nothing; exits 1 when a check fails.
 */
import { plannedSteps, stepsOf } from '../../api/plans.js';
import type { PreflightCheck } from '../../api/preflight.js';
import { runningUpgrade } from '../../client/inspect.js';
import { hasWorkflowPollers, runPreflight } from '../../client/preflight.js';
import type { Connected } from '../connect.js';
import { CliError, EXIT } from '../errors.js';
import type { ResolvedUpgrade } from '../upgrade-request.js';

const MARK = { pass: '✓', fail: '✗', note: '·' } as const;

export interface PlanOptions {
  taskQueue: string;
  minFreeDisk: number;
  timeout: string;
}

export async function plan(upgrade: ResolvedUpgrade, connect: () => Promise<Connected>, options: PlanOptions) {
  const { client, close } = await connect();
  try {
    if (!(await hasWorkflowPollers(client, options.taskQueue))) {
      throw new CliError(
        `no worker polls task queue "${options.taskQueue}": the checks run on the worker, start it first (npm run worker)`,
        EXIT.failed,
      );
    }
    const [report, running] = await Promise.all([
      runPreflight(
        client,
        {
          strategy: upgrade.strategy,
          input: upgrade.input,
          minFreeDiskBytes: Math.round(options.minFreeDisk * 1024 ** 3),
        },
        { taskQueue: options.taskQueue, timeout: options.timeout },
      ),
      runningUpgrade(client, upgrade.identity),
    ]);
    const checks: PreflightCheck[] = [
      ...report.checks,
      running
        ? {
            name: 'no other upgrade of this validator running',
            outcome: 'fail',
            detail: `${running.workflowType} runs since ${running.startTime.toISOString()} (run ${running.runId})`,
          }
        : { name: 'no other upgrade of this validator running', outcome: 'pass', detail: 'none open' },
    ];
    const input = upgrade.input as {
      manualApproval?: boolean;
      release?: unknown;
      releaseB?: unknown;
      handBack?: boolean;
    };
    const steps = plannedSteps(upgrade.strategy, input);
    const gates = stepsOf(upgrade.strategy)
      .filter((s) => s.gate && steps.some((p) => p.id === s.id))
      .map((s) => s.id)
      .join(', ');
    const failed = checks.filter((c) => c.outcome === 'fail').length;

    const out = [
      `plan for ${upgrade.workflowId} (${upgrade.strategy})`,
      `  ${upgrade.summary}`,
      '',
      'preflight checks (read-only, run by the worker):',
      ...checks.map((c) => `  ${MARK[c.outcome]} ${c.name}: ${c.detail}`),
      '',
      'steps it would take:',
      ...steps.map((s, i) => `  ${String(i + 1).padStart(2)}. ${s.title}  [${s.id}]`),
      input.manualApproval
        ? `  (holds for \`vup approve\` at the gates before irreversible steps: ${gates})`
        : `  (no manual approval: the gated steps ${gates} run without holding)`,
      '',
      failed === 0
        ? `all ${checks.length} checks passed`
        : `${failed} of ${checks.length} checks failed: fix ${failed === 1 ? 'it' : 'them'} before \`vup start\``,
    ];
    process.stdout.write(out.join('\n') + '\n');
    return failed === 0 ? EXIT.ok : EXIT.failed;
  } finally {
    await close();
  }
}
