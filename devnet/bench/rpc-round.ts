/**
 * The RPC side of an epoch boundary: N validators of one network look at their key at the same moment
 * (lookKeyStage, as the key waits do), against the local NEAR network behind a relay that counts what reaches
 * it. Side by side: the looks as the worker makes them now (shared reads per endpoint, src/near/rpc.ts) and
 * the same reads each on its own, as every look made them before.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { KeyPair } from 'near-api-js';
import { createActivities } from '../../activities/index.js';
import { epochInfo } from '../../src/near/epoch.js';
import { keyStanding } from '../../src/near/key-standing.js';
import { nearValidatorCounters } from '../../src/near/validator-counters.js';
import { SshConnectionPool } from '../../src/ssh/connection.js';
import { startCountingRelay, type CountingRelay } from '../near/counting-relay.js';
import { startNearDevnet } from '../near/index.js';

export interface RpcRoundFigures {
  n: number;
  /** nearcore methods the N looks cost together, shared (now). */
  sharedCalls: number;
  sharedSeconds: number;
  /** The same looks, each reading on its own (before); measured up to `unsharedLooks` looks. */
  unsharedLooks: number;
  unsharedCalls: number;
  unsharedSeconds: number;
  /** The devnet's own double-sign counter (devnet_counters), one per look; a real node does not have it. */
  devnetCountersCalls: number;
  /** Looks that failed (the RPC overwhelmed), shared and unshared. */
  failedLooks: { shared: number; unshared: number };
}

export async function measureRpcRound(n: number, unsharedCap = 500): Promise<RpcRoundFigures> {
  const devnet = await startNearDevnet({ epochLength: 600, blockTimeMs: 100 });
  const relays: CountingRelay[] = [];
  try {
    await devnet.waitForHeight(30);
    const relay = await startCountingRelay(devnet.rpcUrl);
    relays.push(relay);
    const rpcUrl = relay.url;
    const calls = relay.calls;
    const activities = createActivities({ connections: new SshConnectionPool() });
    const look = (i: number) => ({
      rpcUrl,
      accountId: `validator-${i}.poolv1.near`,
      publicKey: KeyPair.fromRandom('ed25519').getPublicKey().toString(),
      want: 'current' as const,
    });
    const round = async (count: number, one: (i: number) => Promise<unknown>) => {
      await new Promise((r) => setTimeout(r, 1_100));
      calls.length = 0;
      const t0 = Date.now();
      const done = await Promise.allSettled(Array.from({ length: count }, (_, i) => one(i)));
      const failed = done.filter((d) => d.status === 'rejected').length;
      const seconds = (Date.now() - t0) / 1000;
      const nearcore = calls.filter((m) => m !== 'devnet_counters').length;
      return { nearcore, devnet: calls.length - nearcore, seconds, failed };
    };
    const shared = await round(n, (i) => new MockActivityEnvironment().run(activities.lookKeyStage, look(i)));
    const unsharedLooks = Math.min(n, unsharedCap);
    const unshared = await round(unsharedLooks, async (i) => {
      const { accountId, publicKey } = look(i);
      await Promise.all([
        keyStanding(rpcUrl, accountId, publicKey),
        epochInfo(rpcUrl),
        nearValidatorCounters(rpcUrl, accountId),
      ]);
    });
    return {
      n,
      sharedCalls: shared.nearcore,
      sharedSeconds: shared.seconds,
      unsharedLooks,
      unsharedCalls: unshared.nearcore,
      unsharedSeconds: unshared.seconds,
      devnetCountersCalls: shared.devnet,
      failedLooks: { shared: shared.failed, unshared: unshared.failed },
    };
  } finally {
    for (const relay of relays) await relay.close();
    await devnet.stop();
  }
}
