/**
 * What the NEAR end-to-end tests read besides the scenario (devnet/scenarios/near.ts): chain facts the
 * network keeps (the staking signer's nonce), and a run's outcome as the status query and the failure
 * show it.
 */
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../src/api/messages.js';
import type { UpgradeStatus } from '../../src/api/status.js';
import { NEAR_SCENARIO_POOL } from '../../devnet/scenarios/near.js';
import { serviceFiles } from '../../devnet/hosts/service-ctl.js';
import type { NearTestbed } from '../../devnet/testbeds/near.js';
import { eventually } from './eventually.js';

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

/**
 * The host's own record of a node's running service (service-ctl's pid file: pid and start time): the same
 * record before and after means the service was not started again in between.
 */
export function serviceStartRecord(b: NearTestbed, nodeId: string): string {
  const node = b.nodes[nodeId]!;
  return readFileSync(serviceFiles(node.host.root, node.service).pidFile, 'utf8').trim();
}

/** Resolves once a zero-downtime run sleeps on a durable timer until it looks at the chain again for the new key. */
export async function inChainWait(handle: WorkflowHandle): Promise<UpgradeStatus> {
  return eventually(
    'the run to wait on the chain for the new key',
    async () => {
      const s: UpgradeStatus = await handle.query(statusQuery);
      const sleeping = s.waiting?.until !== undefined && Date.parse(s.waiting.until) > Date.now() + 1_000;
      return s.currentStep === 'wait-key-current' && s.state === 'waiting' && sleeping ? s : undefined;
    },
    300_000,
  );
}
