/**
 * The plans are the one place each runbook is written: docs/strategies.md and the README's strategy table are
 * what `npm run docs` renders from them now, and the plans themselves hold together.
 */
import { readFile } from 'node:fs/promises';
import {
  ONE_STEP_RESTART_PATCH,
  SYNC_STOP_IN_SWAP_PATCH,
  plannedSteps,
  planPatches,
  plans,
  retiredSteps,
  stepsOf,
} from '../../../src/api/plans.js';
import { strategies, type StrategyName } from '../../../src/api/strategies.js';
import { strategyDiagram } from '../../../src/api/strategy-docs.js';
import { renderedStrategyDocs } from '../../../src/write-strategy-docs.js';

const names = Object.keys(plans) as StrategyName[];

describe('the strategy docs', () => {
  it('are committed as `npm run docs` renders them from the plans', async () => {
    for (const { file, text } of await renderedStrategyDocs()) {
      expect({ file, text: await readFile(file, 'utf8') }).toEqual({ file, text });
    }
  });

  it.each(names)('draw every step of %s in its diagram, and every undo in its compensation', (name) => {
    const diagram = strategyDiagram(name);
    for (const step of stepsOf(name)) {
      expect(diagram).toContain(`${step.id.replace(/-/g, '_')}: `);
      if (step.undo) expect(diagram).toContain(`undo_${step.id.replace(/-/g, '_')}: `);
    }
  });
});

describe('the plans', () => {
  it('cover exactly the strategies the workers run', () => {
    expect(names.sort()).toEqual(Object.keys(strategies).sort());
  });

  it.each(names)('of %s name each step once, by its key in camel case', (name) => {
    const steps = plans[name].steps as Record<string, { id: string }>;
    const ids = Object.values(steps).map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [key, step] of Object.entries(steps))
      expect(key).toBe(step.id.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()));
  });

  it('leave out the Polkadot steps an input does not bring in', () => {
    const ids = (input: Parameters<typeof plannedSteps>[1]) =>
      plannedSteps('polkadotValidatorSwapUpgrade', input).map((s) => s.id);
    const full = ids({ releaseB: {}, release: {}, handBack: true });
    expect(full).toHaveLength(17);
    expect(ids({})).toEqual(full.filter((id) => !['install-b', 'upgrade-a'].includes(id)));
    expect(ids({ release: {}, handBack: false })).toEqual(
      full.slice(0, full.indexOf('upgrade-a') + 1).filter((id) => id !== 'install-b'),
    );
  });

  it('name the sync-and-swap gate for the step it guards, still accepting its old name', () => {
    const gated = stepsOf('nearSyncAndSwapUpgrade').filter((s) => s.gate);
    expect(gated.map((s) => [s.id, s.gate?.alsoAccepts])).toEqual([
      ['stop-swap-and-restart', ['stop-sync-node', 'swap-data-folder']],
    ]);
  });

  it('give sync-and-swap runs the steps of the patches they took, a newer patch only on top of the older', () => {
    const ids = (...taken: string[]) =>
      stepsOf('nearSyncAndSwapUpgrade', (p) => taken.includes(p))
        .map((s) => s.id)
        .filter((id) => !/^(check|install-sync|start-sync|wait)-/.test(id));
    expect(planPatches('nearSyncAndSwapUpgrade').sort()).toEqual([ONE_STEP_RESTART_PATCH, SYNC_STOP_IN_SWAP_PATCH]);
    const stepByStep = ['stop-sync-node', 'stop-validator', 'swap-data-folder', 'install-release', 'start-validator'];
    expect(ids()).toEqual(stepByStep);
    // A run that began before both and continued as new on a newer worker keeps the steps it was planned with.
    expect(ids(SYNC_STOP_IN_SWAP_PATCH)).toEqual(stepByStep);
    expect(ids(ONE_STEP_RESTART_PATCH)).toEqual(['stage-release', 'stop-sync-node', 'swap-and-restart']);
    expect(ids(ONE_STEP_RESTART_PATCH, SYNC_STOP_IN_SWAP_PATCH)).toEqual(['stage-release', 'stop-swap-and-restart']);
    expect(retiredSteps('nearSyncAndSwapUpgrade', SYNC_STOP_IN_SWAP_PATCH).map((s) => s.id)).toEqual([
      'stop-sync-node',
      'swap-and-restart',
    ]);
  });
});
