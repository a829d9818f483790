/**
 * `vup fleet plan|start|status|approve|skip|pause|resume|abort`: a fleet upgrade (workflows/fleet-upgrade.ts)
 * from a terminal. The input is a JSON file (schemas/fleetUpgrade.input.schema.json); the worker selects the
 * validators from its own inventory. Who acts is --by (default: the local user), recorded in the history.
 */
import { readFile } from 'node:fs/promises';
import type { FleetInput, FleetStatus } from '../../api/fleet.js';
import {
  approveFleet,
  checkFleetInput,
  deadlineProblem,
  fleetIdOf,
  fleetStatus,
  planFleet,
  skipFleetMember,
  startFleet,
} from '../../client/fleet.js';
import { abort, pause, resume } from '../../client/upgrades.js';
import type { Connected } from '../connect.js';
import { CliError, EXIT } from '../errors.js';
import { clock, duration } from '../format.js';

type Connect = () => Promise<Connected>;

export async function readFleetInput(file: string): Promise<FleetInput> {
  let input: FleetInput;
  try {
    input = JSON.parse(await readFile(file, 'utf8')) as FleetInput;
  } catch (err) {
    throw new CliError(`${file}: cannot read a JSON fleet input (${(err as Error).message})`, EXIT.usage);
  }
  checkFleetInput(input, { fieldsOnly: true });
  return input;
}

async function withClient(connect: Connect, act: (client: Connected['client']) => Promise<number>) {
  const { client, close } = await connect();
  try {
    return await act(client);
  } finally {
    await close();
  }
}

/** Prints the waves and the projected finish; refuses (exit 1) a plan that ends past its deadline. */
export function plan(input: FleetInput, connect: Connect, options: { taskQueue: string }) {
  return withClient(connect, async (client) => {
    const planned = await planFleet(client, input, options);
    process.stdout.write(renderPlan(planned));
    const problem = deadlineProblem(planned);
    if (problem) throw new CliError(`refused: ${problem}`, EXIT.failed);
    return EXIT.ok;
  });
}

export function renderPlan(p: FleetStatus): string {
  const lines = [
    `fleet ${p.name}: ${p.totals.members} validators in ${p.waves.length} waves, ${p.maxConcurrent} at once`,
  ];
  for (const [i, size] of p.waves.entries()) {
    const ids = p.members.filter((m) => m.wave === i + 1).map((m) => m.id);
    lines.push(`  wave ${i + 1}${i === 0 && size < (p.waves[1] ?? Infinity) ? ' (canary)' : ''}: ${ids.join(', ')}`);
  }
  for (const pace of p.paces)
    lines.push(`  ${pace.chain}/${pace.network}: ${pace.source} = ${duration(pace.periodMs)}`);
  lines.push(
    p.projectedFinish
      ? `  projected finish: ${p.projectedFinish} (an estimate: each strategy's chain periods at the pace read now)`
      : '  projected finish: unknown (a network pace could not be read; give perUpgrade in the input)',
  );
  if (p.deadline) lines.push(`  deadline: ${p.deadline.at}${p.deadline.behind ? ' — PROJECTED PAST IT' : ' (met)'}`);
  return `${lines.join('\n')}\n`;
}

export function start(
  input: FleetInput,
  connect: Connect,
  options: { taskQueue: string; by: string; pastDeadline?: boolean },
) {
  return withClient(connect, async (client) => {
    if (input.deadline && !options.pastDeadline) {
      const problem = deadlineProblem(await planFleet(client, input, options));
      if (problem) throw new CliError(`not started: ${problem} (--past-deadline to start anyway)`, EXIT.failed);
    }
    const started = await startFleet(client, input, options);
    process.stdout.write(
      `started ${started.workflowId} (run ${started.runId})\nfollow it: vup fleet status ${input.name}\n`,
    );
    return EXIT.ok;
  });
}

export function status(nameOrId: string, connect: Connect, options: { json?: boolean }) {
  return withClient(connect, async (client) => {
    const s = await fleetStatus(client, nameOrId, { steps: true });
    process.stdout.write(options.json ? `${JSON.stringify(s, null, 2)}\n` : renderFleetStatus(s));
    return EXIT.ok;
  });
}

export function renderFleetStatus(s: FleetStatus): string {
  const t = s.totals;
  const lines = [
    `${s.workflowId}: ${s.state}, wave ${s.wave} of ${s.waves.length} — ${t.completed} done, ${t.running} running, ` +
      `${t.failed + t.aborted} failed, ${t.skipped} skipped, ${t.pending} pending`,
  ];
  if (s.halt) lines.push(`HALTED: ${s.halt.reason} (vup fleet resume | skip | abort)`);
  if (s.pendingApproval)
    lines.push(
      `awaiting approval of ${s.pendingApproval.gate} (${s.pendingApproval.approvedBy.length} of ${s.pendingApproval.required}` +
        `${s.pendingApproval.approvedBy.length ? `: ${s.pendingApproval.approvedBy.join(', ')}` : ''}): ${s.pendingApproval.description}`,
    );
  if (s.pause) lines.push(`paused${s.pause.by ? ` by ${s.pause.by}` : ''}`);
  if (s.soakUntil) lines.push(`soaking until ${s.soakUntil}`);
  if (s.deadline)
    lines.push(
      `deadline ${s.deadline.at}, projected finish ${s.projectedFinish ?? 'unknown'}${s.deadline.behind ? ' — BEHIND' : ''}`,
    );
  for (const a of s.approvals) lines.push(`approved ${a.gate} by ${a.by} at ${a.at}${a.note ? `: ${a.note}` : ''}`);
  lines.push('', 'wave  state      started   ended     validator / step');
  for (const m of s.members) {
    lines.push(
      `${String(m.wave).padEnd(5)} ${m.state.padEnd(10)} ${clock(m.startedAt).padEnd(9)} ${clock(m.endedAt).padEnd(9)} ` +
        `${m.id}${m.step ? ` — ${m.step}` : ''}${m.detail ? ` — ${m.detail}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function approve(nameOrId: string, connect: Connect, options: { gate?: string; by: string; note?: string }) {
  return withClient(connect, async (client) => {
    const gate = options.gate ?? (await fleetStatus(client, nameOrId)).pendingApproval?.gate;
    if (!gate) throw new CliError(`${fleetIdOf(nameOrId)} waits at no gate now`, EXIT.failed);
    const r = await approveFleet(client, nameOrId, gate, {
      by: options.by,
      ...(options.note ? { note: options.note } : {}),
    });
    process.stdout.write(
      `approved ${r.gate} of ${fleetIdOf(nameOrId)} as ${options.by}: ` +
        `${r.remaining === 0 ? 'the gate opened' : `${r.remaining} more approver(s) needed`}\n`,
    );
    return EXIT.ok;
  });
}

export function skip(nameOrId: string, validator: string, connect: Connect, options: { by: string; reason?: string }) {
  return withClient(connect, async (client) => {
    await skipFleetMember(client, nameOrId, validator, options);
    process.stdout.write(`${validator} skipped in ${fleetIdOf(nameOrId)}\n`);
    return EXIT.ok;
  });
}

export function steer(
  kind: 'pause' | 'resume' | 'abort',
  nameOrId: string,
  connect: Connect,
  options: { by: string; reason?: string },
) {
  return withClient(connect, async (client) => {
    const id = fleetIdOf(nameOrId);
    const who = { by: options.by, ...(options.reason ? { reason: options.reason } : {}) };
    if (kind === 'pause') await pause(client, id, who);
    else if (kind === 'resume') await resume(client, id, who);
    else await abort(client, id, { ...who, reason: options.reason ?? '' });
    const effect = {
      pause: 'no member starts until resume; running ones go on',
      resume: 'members start again (a halt is cleared)',
      abort: 'no member starts; each running one is asked to abort its own safe way',
    }[kind];
    process.stdout.write(`${kind} sent to ${id}: ${effect}\n`);
    return EXIT.ok;
  });
}
