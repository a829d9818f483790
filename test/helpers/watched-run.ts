/** A fault test's view of a run: what it saw while the fault lasted, and how the run ended as an operator sees it. */
import type { WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { statusQuery } from '../../src/api/messages.js';
import { UpgradeStage } from '../../src/api/search-attributes.js';
import type { UpgradeStatus } from '../../src/api/status.js';

export type WhileRunning<S> = (status: () => Promise<UpgradeStatus>, details: () => Promise<string>) => Promise<S>;

/**
 * Runs the worker until the run ends, `during` acting meanwhile; then the run's error (if it failed), its final
 * status, the UI's current details and its UpgradeStage search attribute.
 */
export async function watchRun<S>(worker: Worker, handle: WorkflowHandle, during: WhileRunning<S>) {
  const status = (): Promise<UpgradeStatus> => handle.query(statusQuery);
  const details = async () =>
    (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
  return worker.runUntil(async () => {
    const seen = await during(status, details);
    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    const final = await status();
    const stage = (await handle.describe()).typedSearchAttributes.get(UpgradeStage);
    return { seen, error, final, details: await details(), stage };
  });
}
