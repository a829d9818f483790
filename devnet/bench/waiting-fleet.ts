/**
 * Many NEAR validators that one worker upgrades at once, each with its machines in memory (devnet/timed's
 * simulation at the activity boundary), all on one chain whose epochs every sim shares: the workflow side
 * only, so what the bench measures is what the worker holds and does for runs that wait on the chain.
 *
 * Each run is a nearZeroDowntimeUpgrade: it checks, stakes the new node's key in epoch T and waits for T+2,
 * so it wakes once at T+1 (the epoch-boundary round: every run at the same moment) and sits there again.
 * The bench process builds the inputs and the worker process the activities from the same function, so both
 * hold the same inventory without passing it around.
 */
import { Context } from '@temporalio/activity';
import { upgradeWorkflowId } from '../../src/api/identity.js';
import { nearIdentity, type NearZeroDowntimeInput } from '../../src/api/near-inputs.js';
import { nearTimedSim, releaseText, sha256, type SimRelease } from '../timed/near-timed-sim.js';

export interface SharedChain {
  genesisMs: number;
  epochLength: number;
  blockTimeMs: number;
}

const OLD: SimRelease = { version: '2.3.0', dbVersion: 41 };
const NEW: SimRelease = { version: '2.4.0', dbVersion: 42 };
const STAGED = '/var/tmp/neard-2.4.0';
const owner = { id: 'pool-owner', type: 'keystore-dir', path: '/home/operator/.near-credentials' } as const;

export const benchAccount = (i: number) => `bench-${i}.poolv1.near`;
export const benchWorkflowId = (i: number) =>
  upgradeWorkflowId(nearIdentity({ network: 'mainnet', accountId: benchAccount(i) }));

function validatorSim(accountId: string, chain: SharedChain) {
  const node = (id: string, host: string, running: boolean) => ({
    id,
    host,
    home: '/srv/near',
    service: 'neard',
    binary: '/usr/local/bin/neard',
    release: OLD,
    ...(running ? { key: 'ed25519:sim-old', running: true } : {}),
    syncMs: 0,
  });
  const sim = nearTimedSim({
    accountId,
    epochLength: chain.epochLength,
    blockTimeMs: chain.blockTimeMs,
    genesisMs: chain.genesisMs,
    now: () => Promise.resolve(Date.now()),
    initialKey: 'ed25519:sim-old',
    ownerSignerId: owner.id,
    staged: { [STAGED]: NEW },
    nodes: [node('a', 'val-a', true), node('b', 'val-b', false)],
  });
  const input: NearZeroDowntimeInput = sim.upgrade('nearZeroDowntimeUpgrade', {
    validator: { network: 'mainnet', accountId },
    networkRpcUrl: 'http://rpc.sim:3030',
    staking: { type: 'pool', ownerId: 'owner.near', signer: owner },
    oldNode: sim.ref('a'),
    newNode: sim.ref('b'),
    release: { staged: STAGED, sha256: sha256(releaseText(NEW)), version: NEW.version },
    timeouts: { sync: '1 day', keyActive: '4 days', signing: '1 hour' },
  });
  return { sim, input };
}

/** The input of validator `i`'s upgrade. */
export function benchInput(i: number, chain: SharedChain): NearZeroDowntimeInput {
  return validatorSim(benchAccount(i), chain).input;
}

type ActivityFn = (...args: unknown[]) => Promise<unknown>;

/**
 * The activities of every validator's machines, on one worker: each call goes to the sim of the validator whose
 * run made it (by workflow id), created on its first call.
 */
export function waitingFleetActivities(chain: SharedChain) {
  const sims = new Map<string, ReturnType<typeof validatorSim>['sim']>();
  const looks = new Map<string, number>();
  const simOf = (workflowId: string) => {
    let sim = sims.get(workflowId);
    if (!sim) {
      const accountId = workflowId.replace(/^upgrade-near-mainnet-/, '');
      sim = validatorSim(accountId, chain).sim;
      sims.set(workflowId, sim);
    }
    return sim;
  };
  const names = Object.keys(validatorSim('names.poolv1.near', chain).sim.activities);
  const activities = Object.fromEntries(
    names.map((name) => [
      name,
      (...args: unknown[]) => {
        const workflowId = Context.current().info.workflowExecution!.workflowId;
        if (name === 'lookKeyStage') looks.set(workflowId, (looks.get(workflowId) ?? 0) + 1);
        const fn = (simOf(workflowId).activities as unknown as Record<string, ActivityFn>)[name]!;
        return fn(...args);
      },
    ]),
  );
  return {
    activities,
    /** How many runs have looked at their key at least `n` times (1: waiting; 2: woke at the boundary). */
    runsWithLooks: (n: number) => [...looks.values()].filter((l) => l >= n).length,
    /** Every look at a key so far. */
    looks: () => [...looks.values()].reduce((a, b) => a + b, 0),
  };
}
