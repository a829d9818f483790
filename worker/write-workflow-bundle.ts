/**
 * The last step of `npm run build`: bundles dist/workflows once, into dist/workflow-bundle.js, which the
 * worker from dist/ loads instead of running webpack at each start (create-worker.ts, upgradeWorkflowBundle).
 * The same code the worker would bundle itself, so the same build id (versioning.ts).
 */
import { rm, writeFile } from 'node:fs/promises';
import { DefaultLogger } from '@temporalio/worker';
import { bundleUpgradeWorkflows, PREBUILT_WORKFLOW_BUNDLE } from './create-worker.js';

// A build that fails here leaves no bundle of older workflows beside the new dist/.
await rm(PREBUILT_WORKFLOW_BUNDLE, { force: true });
const bundle = await bundleUpgradeWorkflows(new DefaultLogger('WARN'));
await writeFile(PREBUILT_WORKFLOW_BUNDLE, bundle.code);
console.log(`${PREBUILT_WORKFLOW_BUNDLE}: ${(bundle.code.length / 2 ** 20).toFixed(1)} MiB`);
