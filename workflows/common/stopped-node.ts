/**
 * A node that crashes while a wait watches it sync is not a signer, but it will not sync either. When the look
 * finds its RPC silent, its service is asked; not active, the wait says "stopped while syncing" and gives its
 * service manager (systemd `Restart=`) NODE_RESTART_GRACE_MS to bring it back. A node back in time is waited for
 * as before; one still down fails the wait with NodeStoppedWhileSyncing (the run then compensates), instead of
 * sleeping on a dead node until the sync deadline, days later.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { ChainObservation } from '../../src/api/chain-observation.js';

/** How long a node seen stopped while it syncs may take to be restarted by its service manager. */
export const NODE_RESTART_GRACE_MS = 60_000;
export const NODE_STOPPED_WHILE_SYNCING_ERROR_TYPE = 'NodeStoppedWhileSyncing';
/** The sync waits look at the service of a node whose RPC is silent. Runs recorded before it only looked at the RPC. */
export const SYNC_WAIT_SEES_STOPPED_NODE_PATCH = 'sync-wait-sees-stopped-node';

/**
 * The sync wait's look, made to see a stopped node: `look` reports a silent node as not reached without a
 * value; `isActive` asks its host's service manager. Make one per wait: it remembers when the node stopped (in
 * this run of the workflow; a continue-as-new starts the grace over).
 */
export function seeingStoppedNode<T>(
  nodeName: string,
  look: () => Promise<ChainObservation<T>>,
  isActive: () => Promise<boolean>,
): () => Promise<ChainObservation<T>> {
  let stoppedSince: number | undefined;
  return async () => {
    const seen = await look();
    // A node that answers, or a run recorded before the wait looked at a silent node's service.
    if (seen.value !== undefined || seen.reached || !patched(SYNC_WAIT_SEES_STOPPED_NODE_PATCH)) return seen;
    if (await isActive()) {
      stoppedSince = undefined;
      return { ...seen, detail: `${seen.detail}; its service is active (starting)` };
    }
    stoppedSince ??= Date.now();
    const restartBy = stoppedSince + NODE_RESTART_GRACE_MS;
    const stopped =
      `${nodeName} stopped while syncing: ${seen.detail}, and its service has not been active ` +
      `since ${new Date(stoppedSince).toISOString()}`;
    if (Date.now() >= restartBy) {
      throw ApplicationFailure.nonRetryable(
        `${stopped}; it was not restarted within ${NODE_RESTART_GRACE_MS / 1000} s (see its service's log, ` +
          'restart it, then start the upgrade again)',
        NODE_STOPPED_WHILE_SYNCING_ERROR_TYPE,
      );
    }
    return {
      ...seen,
      detail: `${stopped}; waiting until ${new Date(restartBy).toISOString()} for its service manager to restart it`,
      etaMs: Math.min(seen.etaMs ?? NODE_RESTART_GRACE_MS, restartBy - Date.now()),
    };
  };
}
