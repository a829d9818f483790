/**
 * The strategies as people read them, rendered from their plans (src/api/plans.ts): the README's strategy
 * table and docs/strategies.md (each runbook's steps, gates and undos, and a Mermaid state diagram).
 * `npm run docs` writes both; a test fails when the committed text differs from what the plans render.
 */
import { plans, stepsOf, type PlanStep } from './plans.js';
import type { StrategyName } from './strategies.js';

/** Each strategy's example input under examples/ (its JSON Schema is schemas/<strategy>.input.schema.json). */
const EXAMPLES: Record<StrategyName, string> = {
  nearZeroDowntimeUpgrade: 'near-zero-downtime.input.json',
  nearSyncAndSwapUpgrade: 'near-sync-and-swap.input.json',
  nearStopAndRestartUpgrade: 'near-stop-and-restart.input.json',
  nearValidatorKeyHotSwap: 'near-key-hot-swap.input.json',
  polkadotValidatorSwapUpgrade: 'polkadot-validator-swap.input.json',
};

const strategyNames = Object.keys(plans) as StrategyName[];
const gatesOf = (strategy: StrategyName) => stepsOf(strategy).filter((s) => s.gate);
const code = (text: string) => `\`${text}\``;

/** Markdown table: one row per strategy (`linkBase` leads from the file it is in to the repository root). */
export function strategyTable(linkBase = ''): string {
  const rows = strategyNames.map((name) => [
    code(name),
    plans[name].chain,
    plans[name].runbook,
    gatesOf(name)
      .map((s) => code(s.id))
      .join(', '),
    `[example](${linkBase}examples/${EXAMPLES[name]})`,
    `[schema](${linkBase}schemas/${name}.input.schema.json)`,
  ]);
  const head = ['workflow type', 'chain', 'runbook', 'approval gates', 'example input', 'JSON Schema'];
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const stateName = (step: PlanStep) => step.id.replace(/-/g, '_');
/** Mermaid labels end at a colon or a semicolon; the rest is kept. */
const label = (text: string) => text.replace(/[:;]/g, ',').replace(/"/g, "'");

/**
 * A Mermaid state diagram of one plan: the steps in order; a step only some inputs take can be passed by;
 * a gate is a note on its step; a failure or an abort leads to compensation, which undoes the finished steps
 * that have an undo, newest first.
 */
export function strategyDiagram(strategy: StrategyName): string {
  const steps = stepsOf(strategy);
  const lines = ['stateDiagram-v2'];
  for (const step of steps) lines.push(`  ${stateName(step)}: ${label(step.title)}`);
  let from = ['[*]'];
  for (const step of steps) {
    for (const f of from) lines.push(`  ${f} --> ${stateName(step)}`);
    // An optional step can be passed by: the next step is reached from before it too.
    from = step.onlyWith ? [...from, stateName(step)] : [stateName(step)];
    if (step.onlyWith) lines.push(`  note right of ${stateName(step)}: only with ${step.onlyWith}`);
    if (step.skippedWhen) lines.push(`  note right of ${stateName(step)}: skipped when ${label(step.skippedWhen)}`);
    if (step.gate) lines.push(`  note left of ${stateName(step)}: gate ${step.id} (manual approval)`);
  }
  for (const f of from) lines.push(`  ${f} --> [*]`);
  const undone = steps.filter((s) => s.undo).reverse();
  if (undone.length > 0) {
    lines.push('  state compensation {');
    lines.push('    direction LR');
    let prev = '[*]';
    for (const step of undone) {
      const name = `undo_${stateName(step)}`;
      lines.push(`    ${name}: ${label(step.undo!)}`);
      lines.push(`    ${prev} --> ${name}`);
      prev = name;
    }
    lines.push(`    ${prev} --> [*]`);
    lines.push('  }');
    lines.push('  note right of compensation: entered from any step on a failure or an abort');
    lines.push('  compensation --> [*]');
  }
  return lines.join('\n');
}

/** docs/strategies.md */
export function strategiesDoc(): string {
  const parts = [
    '# Strategies',
    '',
    '<!-- Generated from src/api/plans.ts by `npm run docs`; a test fails when this file is stale. -->',
    '',
    'Each strategy is one workflow type, and its runbook is one plan in [src/api/plans.ts](../src/api/plans.ts):',
    'the workflow runs the plan’s steps by reference, its `status` query and `vup plan` list them, and this page',
    'is rendered from it. With `"manualApproval": true` a run holds before each gated step until `approve` names',
    'the gate. On a failure, or an abort at a safe point, the finished steps that have an undo are undone, newest',
    'first (the compensation box below each diagram).',
    '',
    strategyTable('../'),
  ];
  for (const name of strategyNames) {
    parts.push('', `## ${code(name)}`, '', plans[name].runbook, '');
    parts.push('| step | title | gate | undo |', '| --- | --- | --- | --- |');
    for (const step of stepsOf(name)) {
      const when = step.onlyWith ? ` (only with ${code(step.onlyWith)})` : '';
      const skipped = step.skippedWhen ? ` (skipped when ${step.skippedWhen})` : '';
      const gate = step.gate
        ? `${step.gate.why}${step.gate.alsoAccepts ? ` (also accepts ${step.gate.alsoAccepts.map(code).join(', ')})` : ''}`
        : '';
      parts.push(`| ${code(step.id)} | ${step.title}${when}${skipped} | ${gate} | ${step.undo ?? ''} |`);
    }
    parts.push('', '```mermaid', strategyDiagram(name), '```');
  }
  return parts.join('\n') + '\n';
}

const BEGIN = '<!-- strategies: generated from src/api/plans.ts by `npm run docs` -->';
const END = '<!-- /strategies -->';

/** The README with its strategy table (between the markers) as the plans render it. */
export function readmeWithStrategyTable(readme: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no strategy table between ${BEGIN} and ${END}`);
  return `${readme.slice(0, begin + BEGIN.length)}\n\n${strategyTable()}\n\n${readme.slice(end)}`;
}
