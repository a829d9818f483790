/** Which chain an RPC answers for: its genesis block hash, compared with the one the inventory names. */
import { PolkadotError } from './errors.js';

/**
 * Refuses an answer from another chain than `expected` (when given): nothing read from it may decide a step,
 * and nothing is submitted to it. No retry fixes it; an operator must point the inventory at the right RPC.
 */
export function requireGenesis(actual: string, expected: string | undefined, url: string, whose: string): void {
  if (expected === undefined || actual.toLowerCase() === expected.toLowerCase()) return;
  throw new PolkadotError(
    'WrongChain',
    `${whose} ${url} answers for the chain of genesis ${actual}, not ${expected}; nothing was done on its word`,
  );
}
