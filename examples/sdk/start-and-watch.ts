/**
 * Start an upgrade and watch it through the client SDK, as another service would:
 *
 *   TEMPORAL_ADDRESS=localhost:7233 npx tsx examples/sdk/start-and-watch.ts \
 *     nearZeroDowntimeUpgrade examples/near-zero-downtime.input.json [--approve]
 *
 * Connects like the `temporal` CLI (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, temporal.toml)
 * and, with VUP_CODEC_KEYS set, encrypts payloads like the worker; starts the upgrade, and prints every change
 * of its steps until the run ends or waits for an approval; with --approve it approves the waiting gate and
 * watches on. Outside this repository, import from 'validator-upgrades' instead of the relative path.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { approve, dataConverterFromEnv, getStatus, startUpgrade, type StrategyName } from '../../src/client/index.js';

const [strategy, inputFile, ...flags] = process.argv.slice(2);
if (!strategy || !inputFile) {
  console.error('usage: start-and-watch.ts <workflow type> <input file> [--approve]');
  process.exit(2);
}
const input: unknown = JSON.parse(await readFile(inputFile, 'utf8'));

const config = loadClientConnectConfig();
const connection = await Connection.connect(config.connectionOptions);
// With VUP_CODEC_KEYS naming the payload keys file, payloads are encrypted as the worker's are.
const client = new Client({
  connection,
  namespace: config.namespace ?? 'default',
  dataConverter: await dataConverterFromEnv(),
});
try {
  // Validates the input first (InvalidUpgradeInput names every wrong field) and refuses a second
  // upgrade of the same validator (UpgradeAlreadyRunning).
  const { workflowId } = await startUpgrade(client, strategy as StrategyName, input as never);
  console.log(`started ${workflowId}`);
  const seen = new Map<string, string>();
  for (;;) {
    const status = await getStatus(client, workflowId);
    for (const step of status.steps) {
      const line = `${step.state} ${step.id}${step.detail ? `: ${step.detail}` : ''}`;
      if (step.state !== 'pending' && seen.get(step.id) !== line) console.log(line);
      seen.set(step.id, line);
    }
    if (['completed', 'failed', 'aborted'].includes(status.state)) {
      console.log(`upgrade ${status.state}`);
      break;
    }
    const pending = status.pendingApproval;
    if (pending) {
      console.log(`waiting for approval of ${pending.gate}: ${pending.description}`);
      if (!flags.includes('--approve')) break;
      console.log(`approved ${(await approve(client, workflowId, pending.gate, { by: 'start-and-watch' })).gate}`);
    }
    // The status query keeps answering after a terminate or a timeout; the execution says it is over.
    const execution = (await client.workflow.getHandle(workflowId).describe()).status.name;
    if (execution !== 'RUNNING') {
      console.log(`workflow ${execution.toLowerCase()}`);
      break;
    }
    await sleep(1000);
  }
} finally {
  await connection.close();
}
