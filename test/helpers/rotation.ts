/**
 * Long end-to-end tests that do not all fit CI's hour (a crash-matrix kill point, a fault injected at the wire
 * take minutes each): `npm test` runs a few of a group, chosen by the commit's hash so that successive
 * commits cover all of them, and the group's own script (`npm run test:crash`, `npm run test:faults`) runs
 * every one. A test left out of a run shows as skipped, never as passed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { repoRoot } from '../../src/repo-root.js';

/** `count` consecutive indexes into a list of `length`, starting where the commit's hash points. */
export function chosenByCommit(length: number, count: number): number[] {
  let head = 'no-git';
  try {
    head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot(), encoding: 'utf8' }).trim();
  } catch {
    // not a checkout: always the same subset
  }
  const start = createHash('sha256').update(head).digest().readUInt32BE(0) % length;
  return Array.from({ length: Math.min(count, length) }, (_, i) => (start + i) % length);
}

/**
 * The wire faults of issue 12 item 3, each an end-to-end run of minutes. FAULTS=all (npm run test:faults)
 * runs them all; FAULT=<id> one; else FAULT_TESTS (default 1) chosen by the commit.
 */
export const FAULT_TESTS = [
  'outage-zero-downtime',
  'outage-sync-and-swap',
  'wrong-chain',
  'rpc-hang',
  'chain-halt',
  'node-crash-not-restarted',
  'node-crash-restarted',
  'polkadot-chain-halt',
] as const;

const chosenFaults: ReadonlySet<string> =
  process.env.FAULTS === 'all'
    ? new Set(FAULT_TESTS)
    : process.env.FAULT
      ? new Set([process.env.FAULT])
      : new Set(chosenByCommit(FAULT_TESTS.length, Number(process.env.FAULT_TESTS ?? 1)).map((i) => FAULT_TESTS[i]!));

/** `it` for a fault test this run takes, `it.skip` for the others. */
export function faultTest(id: (typeof FAULT_TESTS)[number]): typeof it {
  return chosenFaults.has(id) ? it : it.skip;
}
