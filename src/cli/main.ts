#!/usr/bin/env node
/**
 * vup: plan, start and steer validator upgrades from a terminal. Connects like the `temporal` CLI
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_PROFILE, temporal.toml). Every failure is one line on
 * stderr; exit codes: 0 ok, 1 failed (a check, a refusal, a failed run), 2 bad usage or input (nothing was
 * contacted), 3 Temporal unreachable, 4 no such upgrade.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../api/identity.js';
import { approveGate, defaultOperator, sendSignal } from './commands/steer.js';
import { codecServer, type CodecServerCliOptions } from './commands/codec-server.js';
import * as fleet from './commands/fleet.js';
import { history } from './commands/history.js';
import { list } from './commands/list.js';
import { plan } from './commands/plan.js';
import { start } from './commands/start.js';
import { status } from './commands/status.js';
import { connect } from './connect.js';
import { EXIT, describeFailure } from './errors.js';
import { resolveUpgradeRequest, upgradeRequestOptions, type UpgradeRequestOptions } from './upgrade-request.js';

const positiveNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
};
const taskQueue = () =>
  new Option('--task-queue <name>', "the worker's task queue").default(
    process.env.VUP_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
  );
const by = () => new Option('--by <who>', 'who does this (recorded in the history)').default(defaultOperator());

let exitCode: number = EXIT.ok;
const run =
  <A extends unknown[]>(action: (...args: A) => Promise<number>) =>
  async (...args: A) => {
    exitCode = await action(...args);
  };

const program = new Command('vup')
  .description('Plan, start and steer validator upgrades (Temporal workflows)')
  .exitOverride();

upgradeRequestOptions(
  program.command('plan').description('dry run: check the nodes, hosts and signers, print the steps'),
)
  .addOption(taskQueue())
  .option('--min-free-disk <GiB>', 'free disk each node needs', positiveNumber, 2)
  .option('--timeout <duration>', 'give up when no worker answers within this long', '5 minutes')
  .action(
    run(async (o: UpgradeRequestOptions & { taskQueue: string; minFreeDisk: number; timeout: string }) =>
      plan(await resolveUpgradeRequest(o), connect, o),
    ),
  );

upgradeRequestOptions(program.command('start').description('start the upgrade'))
  .addOption(taskQueue())
  .action(
    run(async (o: UpgradeRequestOptions & { taskQueue: string }) =>
      start(await resolveUpgradeRequest(o), connect, o.taskQueue),
    ),
  );

program
  .command('status <id>')
  .description("the upgrade's steps, what it waits for and when it next looks at the chain")
  .option('-w, --watch', 'keep redrawing until the run ends (exit 0 completed, 1 failed or aborted)')
  .option('--interval <seconds>', 'how often --watch looks', positiveNumber, 2)
  .option('--json', 'print the status query as JSON')
  .action(run((id: string, o: { watch?: boolean; interval: number; json?: boolean }) => status(id, connect, o)));

program
  .command('approve <id>')
  .description('let the run pass the gate it waits at')
  .option('--gate <gate>', 'the gate (default: the one the run waits at)')
  .addOption(by())
  .option('--note <text>', 'why')
  .action(run((id: string, o: { gate?: string; by: string; note?: string }) => approveGate(id, connect, o)));

for (const [kind, description] of [
  ['pause', 'hold the run at its next safe point'],
  ['resume', 'let a paused run continue'],
] as const) {
  program
    .command(`${kind} <id>`)
    .description(description)
    .addOption(by())
    .option('--reason <text>', 'why')
    .action(run((id: string, o: { by: string; reason?: string }) => sendSignal(kind, id, connect, o)));
}

program
  .command('abort <id>')
  .description('stop at the next safe point and undo the finished steps')
  .addOption(by())
  .requiredOption('--reason <text>', 'why (recorded in the history)')
  .action(run((id: string, o: { by: string; reason: string }) => sendSignal('abort', id, connect, o)));

program
  .command('list')
  .description('upgrades, filtered by their search attributes')
  .option('--chain <chain>')
  .option('--network <network>')
  .option('--validator <validator>', 'NEAR account id or Polkadot stash')
  .option('--strategy <name>')
  .option('--stage <stage>', 'a step id, awaiting-approval, or a final outcome')
  .option('--running', 'only open runs')
  .option('--limit <n>', 'at most this many', positiveNumber, 50)
  .option('--json')
  .action(
    run(({ limit, json, ...filter }: { limit: number; json?: boolean; running?: boolean; [k: string]: unknown }) =>
      list(connect, filter, { limit, json }),
    ),
  );

program
  .command('history <id>')
  .description("the run's timeline: steps, activities, waits, signals and updates with who and why, failures")
  .option('--run <runId>', 'a given run (default: the latest)')
  .action(run((id: string, o: { run?: string }) => history(id, connect, o)));

const fleetCommand = program
  .command('fleet')
  .description('upgrade many validators of the inventory as one plan: waves, canary, halts, approvals');
fleetCommand
  .command('plan')
  .description(
    "the waves and the projected finish (from the networks' epoch/session lengths); exit 1 if past the deadline",
  )
  .requiredOption('-f, --input-file <file>', 'the fleet input as JSON (schemas/fleetUpgrade.input.schema.json)')
  .addOption(taskQueue())
  .action(
    run(async (o: { inputFile: string; taskQueue: string }) =>
      fleet.plan(await fleet.readFleetInput(o.inputFile), connect, o),
    ),
  );
fleetCommand
  .command('start')
  .description('start the fleet (with a deadline, only when its plan meets it)')
  .requiredOption('-f, --input-file <file>', 'the fleet input as JSON')
  .addOption(taskQueue())
  .addOption(by())
  .option('--past-deadline', 'start even when the projected finish is past the deadline')
  .action(
    run(async (o: { inputFile: string; taskQueue: string; by: string; pastDeadline?: boolean }) =>
      fleet.start(await fleet.readFleetInput(o.inputFile), connect, o),
    ),
  );
fleetCommand
  .command('status <name>')
  .description('one row per validator (wave, state, step, times) and the totals')
  .option('--json', 'print the status query as JSON')
  .action(run((name: string, o: { json?: boolean }) => fleet.status(name, connect, o)));
fleetCommand
  .command('approve <name>')
  .description('approve the gate before the next wave (as --by; a fleet may need several distinct approvers)')
  .option('--gate <gate>', 'the gate (default: the one the fleet waits at)')
  .addOption(by())
  .option('--note <text>', 'why')
  .action(run((name: string, o: { gate?: string; by: string; note?: string }) => fleet.approve(name, connect, o)));
fleetCommand
  .command('skip <name> <validator>')
  .description('leave a validator out: one not started yet, or a running one not to wait for (it is not aborted)')
  .addOption(by())
  .option('--reason <text>', 'why')
  .action(
    run((name: string, validator: string, o: { by: string; reason?: string }) =>
      fleet.skip(name, validator, connect, o),
    ),
  );
for (const [kind, description] of [
  ['pause', 'start no more members until resume'],
  ['resume', 'start members again (clears a halt)'],
] as const) {
  fleetCommand
    .command(`${kind} <name>`)
    .description(description)
    .addOption(by())
    .option('--reason <text>', 'why')
    .action(run((name: string, o: { by: string; reason?: string }) => fleet.steer(kind, name, connect, o)));
}
fleetCommand
  .command('abort <name>')
  .description('start no more members; ask each running one to abort its own safe way')
  .addOption(by())
  .requiredOption('--reason <text>', 'why (recorded in the history)')
  .action(run((name: string, o: { by: string; reason: string }) => fleet.steer('abort', name, connect, o)));

program
  .command('codec-server')
  .description(
    'decrypt and encrypt payloads for the Temporal UI and `temporal --codec-endpoint` (keys: VUP_CODEC_KEYS; ' +
      'callers send the token of VUP_CODEC_TOKEN_FILE or VUP_CODEC_TOKEN as "Authorization: Bearer <token>")',
  )
  .option('--listen <host:port>', 'where to listen', '127.0.0.1:8888')
  .option('--ui-origin <origin...>', "the Temporal UI's origins (CORS)", [
    'http://localhost:8233',
    'http://127.0.0.1:8233',
  ])
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM); the UI sends a token only to https')
  .option('--tls-key <file>', "the certificate's private key (PEM)")
  .action(run((o: CodecServerCliOptions) => codecServer(o)));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has printed its own one-line message (or the help).
    exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    const failure = describeFailure(err);
    process.stderr.write(`vup: ${failure.message}\n`);
    exitCode = failure.exitCode;
  }
}
process.exitCode = exitCode;
