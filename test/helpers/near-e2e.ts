/**
 * What the NEAR end-to-end tests read besides the scenario (devnet/scenarios/near.ts): chain facts the
 * network keeps (the staking signer's nonce), and a run's outcome as the status query and the failure
 * show it.
 */
import type { UpgradeStatus } from '../../src/api/status.js';
import { NEAR_SCENARIO_POOL } from '../../devnet/scenarios/near.js';
import type { NearTestbed } from '../../devnet/testbeds/near.js';

/** The nonce of the staking signer's access key on the devnet: it moves once per transaction that lands. */
export function signerNonce(b: NearTestbed, accountId = NEAR_SCENARIO_POOL): bigint {
  const signer = b.validators[accountId]!.signerAccountId;
  return [...b.devnet.chain.accounts.get(signer)!.keys.values()][0]!.nonce;
}

export const stepStates = (status: UpgradeStatus) => Object.fromEntries(status.steps.map((s) => [s.id, s.state]));

/** The innermost cause of a workflow failure (the activity's own error). */
export function rootCause(error: unknown): unknown {
  let root = error;
  while (root instanceof Error && root.cause) root = root.cause;
  return root;
}
