/**
 * Recorded histories: with RECORD_HISTORIES=1, a test keeps its run's history as test/histories/<name>.json,
 * which test/workflows/replay.test.ts replays against the current workflow code on every test run, so a
 * change that would break running upgrades fails CI.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

export const HISTORIES_FOLDER = fileURLToPath(new URL('../histories/', import.meta.url));

export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  await mkdir(HISTORIES_FOLDER, { recursive: true });
  await writeFile(`${HISTORIES_FOLDER}${name}.json`, `${historyToJSON(await handle.fetchHistory())}\n`);
}
