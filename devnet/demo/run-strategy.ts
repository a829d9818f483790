/**
 * One strategy in the demo: its testbed, the upgrade started through the client SDK, its progress followed
 * (gates approved when the input asks for them), and its row of the table from the network's counters.
 */
import type { Client } from '@temporalio/client';
import { startUpgrade } from '../../src/client/index.js';
import { followUpgrade } from './progress.js';
import type { DemoStrategy, DemoTiming } from './strategies.js';
import type { RunRow } from './table.js';
import type { InventoryBook } from '../testbeds/targets-inventory.js';

export interface RunContext {
  client: Client;
  taskQueue: string;
  timing: DemoTiming;
  say: (line: string) => void;
  /** The demo worker's inventory: each testbed's is in it while its run goes. */
  inventory: InventoryBook;
  /** Takes over the testbed when it is to stay up (--keep); without it the testbed stops after the run. */
  keepTestbed?(stop: () => Promise<void>): void;
}

export async function runDemoStrategy(strategy: DemoStrategy, ctx: RunContext): Promise<RunRow> {
  const row = { strategy: strategy.alias, missed: '-' };
  const { say } = ctx;
  say(`setting up the testbed for ${strategy.workflowType}`);
  let prepared;
  try {
    prepared = await strategy.prepare(ctx.timing);
  } catch (err) {
    say(`the testbed did not come up: ${err instanceof Error ? err.message : String(err)}`);
    return { ...row, result: 'failed (testbed)' };
  }
  const removeInventory = ctx.inventory.add(prepared.inventory);
  try {
    say(prepared.description);
    for (const line of prepared.setting) say(line);
    const began = Date.now();
    const { workflowId } = await startUpgrade(ctx.client, strategy.workflowType, prepared.input, {
      taskQueue: ctx.taskQueue,
    });
    say(`started ${workflowId}${strategy.manualApproval ? ' (manual approval: the demo approves each gate)' : ''}`);
    const outcome = await followUpgrade(ctx.client, workflowId, {
      say,
      approver: strategy.manualApproval ? 'demo-operator' : undefined,
    });
    const wallSeconds = (Date.now() - began) / 1000;
    if (!outcome.ok) say(`failed: ${outcome.error}`);
    say('letting the network settle the last heights before reading its counters');
    const figures = await prepared.judge();
    const history = await ctx.client.workflow.getHandle(workflowId).fetchHistory();
    say(`done in ${wallSeconds.toFixed(1)} s: missed ${figures.missed}, ${figures.doubleSigns} double signs`);
    return {
      ...row,
      result: outcome.ok ? 'completed' : `failed (${outcome.status?.state ?? 'unknown'})`,
      wallSeconds,
      missed: figures.missed,
      doubleSigns: figures.doubleSigns,
      historyEvents: history.events?.length ?? 0,
    };
  } catch (err) {
    say(`failed: ${err instanceof Error ? err.message : String(err)}`);
    return { ...row, result: 'failed' };
  } finally {
    if (ctx.keepTestbed) ctx.keepTestbed(prepared.stop);
    else {
      removeInventory();
      await prepared.stop();
    }
  }
}
