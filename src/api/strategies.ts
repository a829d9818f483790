/**
 * Every upgrade strategy by workflow type: its input schema (what a client sends), its targets schema (the
 * input with its roles resolved against the worker's inventory, what the workflow runs on), and how to find
 * the validator it upgrades. Clients (the SDK, the CLI) validate inputs and derive workflow ids from this
 * one table; the worker's resolveUpgradeTargets activity and the workflows use it too.
 */
import type { z } from 'zod';
import type { IdentityIssue, ValidatorIdentity } from './identity.js';
import {
  keyHotSwapNodes,
  nearIdentity,
  nearKeyHotSwapInput,
  nearKeyHotSwapTargets,
  nearStopAndRestartInput,
  nearStopAndRestartTargets,
  nearSyncAndSwapInput,
  nearSyncAndSwapTargets,
  nearZeroDowntimeInput,
  nearZeroDowntimeTargets,
  stopAndRestartNodes,
  syncAndSwapNodes,
  zeroDowntimeNodes,
} from './near-inputs.js';
import {
  polkadotIdentity,
  polkadotIdentityIssue,
  polkadotValidatorSwapInput,
  polkadotValidatorSwapTargets,
  validatorSwapNodes,
} from './polkadot-inputs.js';

/** The validator's nodes in the inventory: its primary, its standby, and (NEAR sync and swap) its sync node. */
export type NodeRole = 'primary' | 'standby' | 'sync';

interface Strategy<S extends z.ZodType, T extends z.ZodType> {
  input: S;
  targets: T;
  /** Each role field of the input, and which of the validator's inventory nodes plays it by default. */
  roles: Record<string, NodeRole>;
  /** From the input's `validator`, which the targets carry unchanged. */
  identity(input: z.output<S>): ValidatorIdentity;
  /** Why the validator is not written in its one canonical form (so that it is one workflow id), if it is not. */
  identityIssue?(input: z.output<S>): IdentityIssue | undefined;
  /** One line for the Temporal UI's summary of the run (from the input: clients set it when they start). */
  summary(input: z.output<S>): string;
}

const strategy = <S extends z.ZodType, T extends z.ZodType>(s: Strategy<S, T>) => s;

const releaseOf = (release?: { version?: string }) => (release?.version ? ` to ${release.version}` : '');

export const strategies = {
  nearZeroDowntimeUpgrade: strategy({
    input: nearZeroDowntimeInput,
    targets: nearZeroDowntimeTargets,
    roles: zeroDowntimeNodes.roles,
    identity: (i) => nearIdentity(i.validator),
    summary: (i) =>
      `NEAR zero-downtime: ${i.validator.accountId} moves to ${i.newNode ?? 'its standby'}${releaseOf(i.release)}`,
  }),
  nearSyncAndSwapUpgrade: strategy({
    input: nearSyncAndSwapInput,
    targets: nearSyncAndSwapTargets,
    roles: syncAndSwapNodes.roles,
    identity: (i) => nearIdentity(i.validator),
    summary: (i) => `NEAR sync and swap: ${i.validator.accountId} on ${i.node ?? 'its primary'}${releaseOf(i.release)}`,
  }),
  nearStopAndRestartUpgrade: strategy({
    input: nearStopAndRestartInput,
    targets: nearStopAndRestartTargets,
    roles: stopAndRestartNodes.roles,
    identity: (i) => nearIdentity(i.validator),
    summary: (i) =>
      `NEAR stop and restart: ${i.validator.accountId} on ${i.node ?? 'its primary'}${releaseOf(i.release)}`,
  }),
  nearValidatorKeyHotSwap: strategy({
    input: nearKeyHotSwapInput,
    targets: nearKeyHotSwapTargets,
    roles: keyHotSwapNodes.roles,
    identity: (i) => nearIdentity(i.validator),
    summary: (i) =>
      `NEAR key hot swap: ${i.validator.accountId} from ${i.primary ?? 'its primary'} to ${i.standby ?? 'its standby'}${releaseOf(i.release)}`,
  }),
  polkadotValidatorSwapUpgrade: strategy({
    input: polkadotValidatorSwapInput,
    targets: polkadotValidatorSwapTargets,
    roles: validatorSwapNodes.roles,
    identity: (i) => polkadotIdentity(i.validator),
    identityIssue: (i) => polkadotIdentityIssue(i.validator),
    summary: (i) =>
      `Polkadot A/B swap: ${i.validator.stash.slice(0, 8)}… ${i.handBack === false ? 'moves to B' : 'round trip A→B→A'}`,
  }),
} as const;

export type StrategyName = keyof typeof strategies;
export type StrategyInput<N extends StrategyName> = z.input<(typeof strategies)[N]['input']>;
/** The input with its roles resolved against the worker's inventory (as the resolveUpgradeTargets activity returns it). */
export type StrategyTargets<N extends StrategyName> = z.input<(typeof strategies)[N]['targets']>;
/** The targets as the workflow runs on them, after parsing (defaults filled in). */
export type ParsedStrategyTargets<N extends StrategyName> = z.output<(typeof strategies)[N]['targets']>;

export function isStrategyName(name: string): name is StrategyName {
  return Object.hasOwn(strategies, name);
}
