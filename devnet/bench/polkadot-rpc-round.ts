/**
 * The RPC side of a session boundary on Polkadot: N validators of one relay chain look at their keys at the same
 * moment (lookKeysActive, as the keys-active wait does), against the local relay chain behind a relay that
 * counts methods and connections. Side by side: the looks as the worker makes them now (one shared socket per
 * endpoint, src/polkadot/connection.ts; polkadot-js batches storage reads in flight into one request, and the
 * counters' reads that are the same for every stash are joined) and the keys and session reads each on a
 * connection of its own, as before (the counters' reads not included). Each look also asks its own node whether
 * it holds the keys; that goes to the node's endpoint and is not counted here.
 */
import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { encodeAddress } from '@polkadot/util-crypto';
import { createActivities } from '../../activities/index.js';
import { closeSharedConnections, withApi } from '../../src/polkadot/connection.js';
import { keysStanding, sessionInfo } from '../../src/polkadot/session.js';
import { SshConnectionPool } from '../../src/ssh/connection.js';
import { startCountingWsRelay } from '../polkadot/counting-relay.js';
import { startPolkadotDevnet } from '../polkadot/index.js';
import { sessionKeyLayout } from '../polkadot/session-keys.js';

export interface PolkadotRpcRoundFigures {
  n: number;
  shared: { calls: number; connections: number; seconds: number; failed: number };
  /** Measured up to `looks` looks. */
  unshared: { looks: number; calls: number; connections: number; seconds: number; failed: number };
  /** The shared round's calls by method, most first. */
  sharedByMethod: [string, number][];
}

export async function measurePolkadotRpcRound(n: number, unsharedCap = 100): Promise<PolkadotRpcRoundFigures> {
  const devnet = await startPolkadotDevnet({ sessionLength: 600, blockTimeMs: 1000 });
  const relay = await startCountingWsRelay(devnet.relayUrl);
  // The node each look asks for its keys: here the chain's RPC, which answers for no keystore, uncounted.
  const nodeRpcUrl = devnet.relayUrl;
  // Keys of the runtime's SessionKeys layout (their bytes random: no node holds them, no stash set them).
  const keysLength = sessionKeyLayout(devnet.relay.runtime).reduce((sum, field) => sum + field.publicKeyLength, 0);
  const randomKeys = () => `0x${randomBytes(keysLength).toString('hex')}`;
  try {
    await new Promise((r) => setTimeout(r, 3_000));
    const activities = createActivities({ connections: new SshConnectionPool() });
    const look = () => ({
      rpcUrl: relay.url,
      nodeRpcUrl,
      stash: encodeAddress(randomBytes(32), 42),
      keys: randomKeys(),
    });
    const round = async (count: number, one: () => Promise<unknown>) => {
      const connections0 = relay.connections;
      relay.calls.length = 0;
      const t0 = Date.now();
      const done = await Promise.allSettled(Array.from({ length: count }, () => one()));
      return {
        calls: relay.calls.length,
        methods: [...relay.calls],
        connections: relay.connections - connections0,
        seconds: (Date.now() - t0) / 1000,
        failed: done.filter((d) => d.status === 'rejected').length,
      };
    };
    // The shared socket opened beforehand, as a worker that has looked before holds it.
    await new MockActivityEnvironment().run(activities.sessionInfo, { rpcUrl: relay.url });
    const shared = await round(n, () => new MockActivityEnvironment().run(activities.lookKeysActive, look()));
    const looks = Math.min(n, unsharedCap);
    const unshared = await round(looks, () => {
      const { rpcUrl, stash, keys } = look();
      return withApi(rpcUrl, (api) => Promise.all([keysStanding(api, stash, keys), sessionInfo(api)]));
    });
    const { methods: _, ...unsharedFigures } = unshared;
    const counts = new Map<string, number>();
    for (const m of shared.methods) counts.set(m, (counts.get(m) ?? 0) + 1);
    return {
      n,
      shared: { calls: shared.calls, connections: shared.connections, seconds: shared.seconds, failed: shared.failed },
      unshared: { looks, ...unsharedFigures },
      sharedByMethod: [...counts].sort((a, b) => b[1] - a[1]),
    };
  } finally {
    await closeSharedConnections();
    await relay.close();
    await devnet.stop();
  }
}
