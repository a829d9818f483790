/**
 * The Polkadot A/B swap's scenarios on the local testbed: the round trip A → B → A with keys set through the
 * stash's Staking proxy on the relay ('relay-round-trip'), and B taking over for good with keys set through
 * Asset Hub by a StakingOperator proxy ('ahm-takeover'). The end-to-end tests and the demo run the same
 * scenarios and judge them by the network's counters from the slot A signs steadily (polkadotSteadySlot).
 *
 *   const { bed, input, blockTimeMs } = await startPolkadotScenario('relay-round-trip');
 *   const fromSlot = await polkadotSteadySlot(bed);
 *   await startUpgrade(client, 'polkadotValidatorSwapUpgrade', input);   // … until it ends
 *   const counters = await settledPolkadotCounters(bed, fromSlot, blockTimeMs);  // missed, equivocations
 */
import type { PolkadotValidatorSwapInput } from '../../src/api/polkadot-inputs.js';
import type { Inventory } from '../../src/config/inventory.js';
import type { ValidatorCounters } from '../polkadot/accounting.js';
import { startPolkadotTestbed, type PolkadotTestbed } from '../testbeds/polkadot.js';

export type PolkadotScenarioName = 'relay-round-trip' | 'ahm-takeover';

export interface PolkadotScenarioOptions {
  sessionLength?: number;
  blockTimeMs?: number;
  /** Hold for an `approve` update before each irreversible step. */
  manualApproval?: boolean;
  /** The hosts hold commands' answers when a crash test asks (devnet/hosts/sshd.ts `holdAnswers`). */
  holdAnswers?: boolean;
}

export interface PolkadotScenario {
  name: PolkadotScenarioName;
  bed: PolkadotTestbed;
  /** The workflow input: the validator, its nodes by id, the release. */
  input: PolkadotValidatorSwapInput;
  /** The worker's inventory of this testbed. */
  inventory: Inventory;
  blockTimeMs: number;
  /** What the run shows, in one line. */
  description: string;
}

const waits = { sync: '2 minutes', keysActive: '3 minutes' };

const layouts = {
  'relay-round-trip': {
    mode: 'relay',
    handBack: true,
    description: 'B takes over through a Staking proxy (relay session.setKeys), A is upgraded, A takes back',
  },
  'ahm-takeover': {
    mode: 'ahm',
    handBack: false,
    description: 'B takes over through a StakingOperator proxy on Asset Hub, A stops for good',
  },
} as const;

/** Stands up the testbed with A validating and builds the swap's workflow input. */
export async function startPolkadotScenario(
  name: PolkadotScenarioName,
  options: PolkadotScenarioOptions = {},
): Promise<PolkadotScenario> {
  const layout = layouts[name];
  const blockTimeMs = options.blockTimeMs ?? 150;
  const bed = await startPolkadotTestbed({
    mode: layout.mode,
    sessionLength: options.sessionLength ?? 12,
    blockTimeMs,
    ...(options.holdAnswers ? { holdAnswers: true } : {}),
  });
  const { input, inventory } = bed.swapUpgrade({
    timeouts: waits,
    ...(layout.handBack ? {} : { handBack: false }),
    ...(options.manualApproval ? { manualApproval: true } : {}),
  });
  return { name, bed, input, inventory, blockTimeMs, description: layout.description };
}

/**
 * The slot from which to judge the run: once A's node, just started by the testbed, signs slot after slot
 * (its first slots, before it connected, are the testbed's and not the upgrade's).
 */
export async function polkadotSteadySlot(bed: PolkadotTestbed, timeoutMs = 60_000): Promise<number> {
  const since = bed.currentSlot();
  const deadline = Date.now() + timeoutMs;
  while (bed.counters(since).signed < 3) {
    if (Date.now() > deadline) throw new Error('val-a never signed for the validator');
    await new Promise((r) => setTimeout(r, 100));
  }
  return bed.currentSlot();
}

/** The validator's counters once every slot up to now has settled (past the devnet's signature grace). */
export async function settledPolkadotCounters(
  bed: PolkadotTestbed,
  fromSlot: number,
  blockTimeMs: number,
  graceMs = 4_000,
): Promise<ValidatorCounters> {
  const until = bed.currentSlot() + Math.ceil(graceMs / blockTimeMs);
  while (bed.currentSlot() < until) await new Promise((r) => setTimeout(r, 100));
  return bed.counters(fromSlot);
}
