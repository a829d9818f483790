/**
 * What the demo runs: each strategy on its scenario (devnet/scenarios), and how the network's counters
 * judge it. A strategy is named by its workflow type or a short alias.
 */
import type { StrategyInput, StrategyName } from '../../src/api/strategies.js';
import type { Inventory } from '../../src/config/inventory.js';
import {
  NEAR_SCENARIO_POOL,
  nearBaseline,
  settledNearCounters,
  startNearScenario,
  type NearStrategy,
} from '../scenarios/near.js';
import {
  polkadotSteadySlot,
  settledPolkadotCounters,
  startPolkadotScenario,
  type PolkadotScenarioName,
} from '../scenarios/polkadot.js';

/** What the network saw during one run. */
export interface NetworkFigures {
  /** "0 blocks, 0 chunks" (NEAR) or "0 of 96 slots" (Polkadot). */
  missed: string;
  doubleSigns: number;
}

export interface PreparedRun {
  input: StrategyInput<StrategyName>;
  /** The worker's inventory of the testbed (its hosts, nodes, validator and signers). */
  inventory: Inventory;
  description: string;
  /** Where things run: RPC endpoints and SSH hosts. */
  setting: string[];
  /** The network's counters since the baseline, once every height or slot has settled. */
  judge: () => Promise<NetworkFigures>;
  stop: () => Promise<void>;
}

export interface DemoStrategy {
  alias: string;
  workflowType: StrategyName;
  /** The run holds at its gates until the demo approves (to show the approval). */
  manualApproval: boolean;
  /** Stands up the testbed and waits until the validator signs steadily (the baseline). */
  prepare(timing: DemoTiming): Promise<PreparedRun>;
}

export interface DemoTiming {
  /** NEAR epoch length, Polkadot session length, in blocks. */
  epochLength: number;
  blockTimeMs: number;
}

function near(alias: string, workflowType: NearStrategy, manualApproval = false): DemoStrategy {
  return {
    alias,
    workflowType,
    manualApproval,
    async prepare(timing) {
      const { bed, input, inventory, description } = await startNearScenario(workflowType, {
        ...timing,
        manualApproval,
      });
      try {
        const before = await nearBaseline(bed);
        return {
          input,
          inventory,
          description,
          setting: [
            `NEAR localnet RPC ${bed.rpcUrl} (epochs of ${timing.epochLength} blocks × ${timing.blockTimeMs} ms), validator ${NEAR_SCENARIO_POOL}`,
            ...Object.values(bed.hosts).map((h) => `host ${h.name}: sshd ${h.spec.address}:${h.spec.port}`),
          ],
          async judge() {
            const after = await settledNearCounters(bed);
            return {
              missed: `${count(after.missedBlocks - before.missedBlocks, 'block')}, ${count(after.missedChunks - before.missedChunks, 'chunk')}`,
              doubleSigns: after.doubleSignHeights.length,
            };
          },
          stop: () => bed.stop(),
        };
      } catch (err) {
        await bed.stop();
        throw err;
      }
    },
  };
}

function polkadot(alias: string, scenario: PolkadotScenarioName, manualApproval = false): DemoStrategy {
  return {
    alias,
    workflowType: 'polkadotValidatorSwapUpgrade',
    manualApproval,
    async prepare(timing) {
      const { bed, input, inventory, description, blockTimeMs } = await startPolkadotScenario(scenario, {
        sessionLength: timing.epochLength,
        blockTimeMs: timing.blockTimeMs,
        manualApproval,
      });
      try {
        const fromSlot = await polkadotSteadySlot(bed);
        return {
          input,
          inventory,
          description,
          setting: [
            `Polkadot local relay ${bed.relayUrl}${bed.assetHubUrl ? `, Asset Hub ${bed.assetHubUrl}` : ''} (sessions of ${timing.epochLength} slots × ${timing.blockTimeMs} ms)`,
            ...Object.values(bed.hosts).map((h) => `host ${h.name}: sshd ${h.spec.address}:${h.spec.port}`),
          ],
          async judge() {
            const c = await settledPolkadotCounters(bed, fromSlot, blockTimeMs);
            return { missed: `${c.missed} of ${count(c.expected, 'slot')}`, doubleSigns: c.equivocations };
          },
          stop: () => bed.stop(),
        };
      } catch (err) {
        await bed.stop();
        throw err;
      }
    },
  };
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

export const demoStrategies: DemoStrategy[] = [
  near('near-zero-downtime', 'nearZeroDowntimeUpgrade', true),
  near('near-sync-and-swap', 'nearSyncAndSwapUpgrade'),
  near('near-stop-and-restart', 'nearStopAndRestartUpgrade'),
  near('near-hot-swap', 'nearValidatorKeyHotSwap'),
  polkadot('polkadot-swap', 'relay-round-trip', true),
];

/** The strategies named (workflow type or alias), or every one. */
export function selectStrategies(name?: string): DemoStrategy[] {
  if (name === undefined) return demoStrategies;
  const found = demoStrategies.filter((s) => s.alias === name || s.workflowType === name);
  if (found.length === 0) {
    const known = demoStrategies.map((s) => `${s.alias} (${s.workflowType})`).join(', ');
    throw new Error(`unknown strategy "${name}"; one of: ${known}`);
  }
  return found;
}
