/**
 * Every upgrade strategy by workflow type: its input schema and how to find the validator it upgrades.
 * Clients (the SDK, the CLI) validate inputs and derive workflow ids from this one table.
 */
import type { z } from 'zod';
import type { IdentityIssue, ValidatorIdentity } from './identity.js';
import {
  nearIdentity,
  nearKeyHotSwapInput,
  nearStopAndRestartInput,
  nearSyncAndSwapInput,
  nearZeroDowntimeInput,
} from './near-inputs.js';
import { polkadotIdentity, polkadotIdentityIssue, polkadotValidatorSwapInput } from './polkadot-inputs.js';

interface Strategy<S extends z.ZodType> {
  input: S;
  identity(input: z.output<S>): ValidatorIdentity;
  /** Why the validator is not written in its one canonical form (so that it is one workflow id), if it is not. */
  identityIssue?(input: z.output<S>): IdentityIssue | undefined;
  /** One line for the Temporal UI's summary of the run. */
  summary(input: z.output<S>): string;
}

const strategy = <S extends z.ZodType>(s: Strategy<S>) => s;

const releaseOf = (release?: { version?: string }) => (release?.version ? ` to ${release.version}` : '');

export const strategies = {
  nearZeroDowntimeUpgrade: strategy({
    input: nearZeroDowntimeInput,
    identity: (i) => nearIdentity(i.validator),
    summary: (i) => `NEAR zero-downtime: ${i.validator.accountId} moves to ${i.newNode.host.id}${releaseOf(i.release)}`,
  }),
  nearSyncAndSwapUpgrade: strategy({
    input: nearSyncAndSwapInput,
    identity: (i) => nearIdentity(i.validator),
    summary: (i) => `NEAR sync and swap: ${i.validator.accountId} on ${i.node.host.id}${releaseOf(i.release)}`,
  }),
  nearStopAndRestartUpgrade: strategy({
    input: nearStopAndRestartInput,
    identity: (i) => nearIdentity(i.validator),
    summary: (i) => `NEAR stop and restart: ${i.validator.accountId} on ${i.node.host.id}${releaseOf(i.release)}`,
  }),
  nearValidatorKeyHotSwap: strategy({
    input: nearKeyHotSwapInput,
    identity: (i) => nearIdentity(i.validator),
    summary: (i) =>
      `NEAR key hot swap: ${i.validator.accountId} from ${i.primary.host.id} to ${i.standby.host.id}${releaseOf(i.release)}`,
  }),
  polkadotValidatorSwapUpgrade: strategy({
    input: polkadotValidatorSwapInput,
    identity: (i) => polkadotIdentity(i.validator),
    identityIssue: (i) => polkadotIdentityIssue(i.validator),
    summary: (i) =>
      `Polkadot A/B swap: ${i.validator.stash.slice(0, 8)}… ${i.handBack === false ? 'moves to B' : 'round trip A→B→A'}`,
  }),
} as const;

export type StrategyName = keyof typeof strategies;
export type StrategyInput<N extends StrategyName> = z.input<(typeof strategies)[N]['input']>;
/** The input as the workflow sees it, after parsing (defaults filled in). */
export type ParsedStrategyInput<N extends StrategyName> = z.output<(typeof strategies)[N]['input']>;

export function isStrategyName(name: string): name is StrategyName {
  return Object.hasOwn(strategies, name);
}
