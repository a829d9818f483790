/**
 * Every recorded history under test/histories replays against the current workflow code: a change that
 * would break upgrades already running (a step added, removed or reordered without `patched`) fails here.
 * Histories are recorded by the workflow tests with RECORD_HISTORIES=1.
 */
import { readFile, readdir } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { upgradeWorkflowId, type Chain } from '../../src/api/identity.js';
import { installTestRuntime, bundleUpgradeWorkflows } from '../helpers/temporal.js';
import { HISTORIES_FOLDER } from '../helpers/histories.js';

const folder = HISTORIES_FOLDER;
const files = (await readdir(folder).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();

interface JsonEvent {
  upsertWorkflowSearchAttributesEventAttributes?: {
    searchAttributes?: { indexedFields?: Record<string, { data?: string }> };
  };
}

/**
 * The workflow id the run had (the workflows refuse any other): every upgrade upserts its chain, network
 * and validator as search attributes first thing, and the id is derived from those.
 */
function workflowIdOf(history: { events?: JsonEvent[] }): string {
  // The first upsert that names the chain: a patch's marker may upsert TemporalChangeVersion before it.
  const fields = history.events
    ?.map((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields)
    .find((indexed) => indexed?.UpgradeChain !== undefined);
  const read = (name: string) => {
    const data = fields?.[name]?.data;
    if (!data) throw new Error(`the history has no ${name} search attribute`);
    return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as string;
  };
  return upgradeWorkflowId({
    chain: read('UpgradeChain') as Chain,
    network: read('UpgradeNetwork'),
    validator: read('UpgradeValidator'),
  });
}

let bundle: WorkflowBundle;
beforeAll(async () => {
  installTestRuntime();
  bundle = await bundleUpgradeWorkflows();
});

describe('recorded histories', () => {
  it('are there to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const json = JSON.parse(await readFile(`${folder}${file}`, 'utf8')) as { events?: JsonEvent[] };
    const history = historyFromJSON(json);
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowIdOf(json)),
    ).resolves.toBeUndefined();
  });
});
