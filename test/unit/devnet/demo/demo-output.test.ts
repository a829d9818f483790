/**
 * What the demo prints: a line per change of a run's status (and nothing when nothing changed), the closing
 * table's rows, and which strategies a --strategy name selects.
 */
import type { UpgradeStatus } from '../../../../src/api/status.js';
import { ChangeTracker } from '../../../../devnet/demo/progress.js';
import { selectStrategies } from '../../../../devnet/demo/strategies.js';
import { formatTable } from '../../../../devnet/demo/table.js';

const at = '2026-01-01T00:00:00.000Z';
function status(overrides: Partial<UpgradeStatus>): UpgradeStatus {
  return {
    workflowId: 'upgrade-near-localnet-pool.poolv1.near',
    strategy: 'nearZeroDowntimeUpgrade',
    state: 'running',
    steps: [
      { id: 'check-nodes', title: 'Check the nodes', state: 'pending' },
      { id: 'stake-new-key', title: 'Stake with the new key', state: 'pending' },
    ],
    continuedAsNew: 0,
    startedAt: at,
    updatedAt: at,
    ...overrides,
  };
}

describe('the demo’s progress lines', () => {
  it('says each step change once, a waiting step once per look, and gates and the end', () => {
    const lines: string[] = [];
    const tracker = new ChangeTracker((line) => lines.push(line));
    tracker.report(status({}));
    expect(lines).toEqual([]);

    const running = status({
      currentStep: 'check-nodes',
      steps: [
        { id: 'check-nodes', title: 'Check the nodes', state: 'running', detail: 'node at #1' },
        { id: 'stake-new-key', title: 'Stake with the new key', state: 'pending' },
      ],
    });
    tracker.report(running);
    tracker.report(running);
    expect(lines).toEqual(['running     check-nodes: Check the nodes — node at #1']);

    const waiting = (detail: string) =>
      status({
        state: 'waiting',
        currentStep: 'check-nodes',
        waiting: { reason: `the node to sync: ${detail}`, until: new Date(Date.now() + 60_000).toISOString() },
        steps: [
          { id: 'check-nodes', title: 'Check the nodes', state: 'running', detail },
          { id: 'stake-new-key', title: 'Stake with the new key', state: 'pending' },
        ],
      });
    tracker.report(waiting('node at #2'));
    tracker.report(waiting('node at #2'));
    tracker.report(waiting('node at #3'));
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^waiting: the node to sync: node at #2 \(expected in \d+\.\d s, looks again then\)$/),
      expect.stringMatching(/^waiting: the node to sync: node at #3 /),
    ]);

    tracker.report(
      status({
        state: 'awaiting-approval',
        pendingApproval: { gate: 'stake-new-key', description: 'Stake the new key' },
        steps: [
          { id: 'check-nodes', title: 'Check the nodes', state: 'done', detail: 'node at #3' },
          { id: 'stake-new-key', title: 'Stake with the new key', state: 'pending' },
        ],
      }),
    );
    tracker.report(
      status({
        state: 'completed',
        steps: [
          { id: 'check-nodes', title: 'Check the nodes', state: 'done', detail: 'node at #3' },
          { id: 'stake-new-key', title: 'Stake with the new key', state: 'done' },
        ],
      }),
    );
    expect(lines.slice(3)).toEqual([
      'done        check-nodes: Check the nodes',
      'awaiting approval of gate stake-new-key: Stake the new key',
      'done        stake-new-key: Stake with the new key',
      'run completed',
    ]);
  });
});

describe('the demo’s table', () => {
  it('has a header, a rule and one aligned row per strategy, with a dash for what was not measured', () => {
    const table = formatTable([
      {
        strategy: 'near-hot-swap',
        result: 'completed',
        wallSeconds: 21.54,
        missed: '17 blocks',
        doubleSigns: 0,
        historyEvents: 125,
      },
      { strategy: 'polkadot-swap', result: 'failed (testbed)', missed: '-' },
    ]).split('\n');
    expect(table).toHaveLength(4);
    expect(new Set(table.map((line) => line.length)).size).toBe(1);
    const cells = (line: string) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
    expect(cells(table[0]!)[0]).toBe('strategy');
    expect(cells(table[2]!)).toEqual(['near-hot-swap', 'completed', '21.5 s', '17 blocks', '0', '125']);
    expect(cells(table[3]!)).toEqual(['polkadot-swap', 'failed (testbed)', '-', '-', '-', '-']);
  });
});

describe('--strategy', () => {
  it('selects by alias or workflow type, every strategy without a name, and refuses an unknown one', () => {
    expect(selectStrategies('near-hot-swap').map((s) => s.workflowType)).toEqual(['nearValidatorKeyHotSwap']);
    expect(selectStrategies('polkadotValidatorSwapUpgrade').map((s) => s.alias)).toEqual(['polkadot-swap']);
    expect(selectStrategies().map((s) => s.workflowType)).toEqual([
      'nearZeroDowntimeUpgrade',
      'nearSyncAndSwapUpgrade',
      'nearStopAndRestartUpgrade',
      'nearValidatorKeyHotSwap',
      'polkadotValidatorSwapUpgrade',
    ]);
    expect(() => selectStrategies('near-fast')).toThrow(/unknown strategy "near-fast"; one of: near-zero-downtime/);
  });
});
