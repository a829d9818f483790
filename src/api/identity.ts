/**
 * One upgrade per validator identity at a time: the workflow id is derived from the identity, and a second
 * start of the same id is refused while the first runs. Two runs would be two hands on the same key.
 */
export type Chain = 'near' | 'polkadot';

export interface ValidatorIdentity {
  chain: Chain;
  /** mainnet / testnet for NEAR; polkadot / kusama / westend / paseo for Substrate chains. */
  network: string;
  /** NEAR account id or Polkadot stash address. */
  validator: string;
}

/** A validator written in a form other than its one canonical form, naming the input field. */
export interface IdentityIssue {
  path: string;
  message: string;
}

export function describeIdentityIssue(issue: IdentityIssue): string {
  return `✖ ${issue.message}\n  → at ${issue.path}`;
}

export function upgradeWorkflowId(id: ValidatorIdentity): string {
  return `upgrade-${id.chain}-${id.network}-${id.validator}`;
}

/**
 * Start options that enforce the rule at the server: refuse while a run of this id is open, allow a new
 * run once the previous one closed (whatever its outcome).
 */
export function upgradeIdPolicy() {
  return { workflowIdConflictPolicy: 'FAIL', workflowIdReusePolicy: 'ALLOW_DUPLICATE' } as const;
}

/** The default task queue of the worker and of every client. */
export const DEFAULT_TASK_QUEUE = 'validator-upgrades';
