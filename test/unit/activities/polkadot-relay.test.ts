/**
 * The Polkadot activities under the SDK's activity harness (MockActivityEnvironment), against the Polkadot
 * testbed in relay mode: the local network, real sshd hosts and simulated polkadot services. Keys are generated
 * on the node and persisted on its host before they are returned; setKeys is idempotent, waits for finality
 * and names the dispatch error when the chain refuses; the looks follow NextKeys → QueuedKeys → active over
 * real sessions.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ApiPromise } from '@polkadot/api';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { createActivities, type Activities } from '../../../activities/index.js';
import type {
  KeysStage,
  KeysStanding,
  PolkadotNodeRef,
  RotatedKeys,
  SetKeysRoute,
} from '../../../src/api/contracts/polkadot.js';
import { judgeSigner } from '../../../src/api/signer-evidence.js';
import { simNodeCommand } from '../../../devnet/polkadot/node-process.js';
import { keyTypeHex, sessionKeyLayout, splitSessionKeys } from '../../../devnet/polkadot/session-keys.js';
import { connect, waitFor } from '../../helpers/polkadot-devnet.js';
import { startPolkadotTestbed, type PolkadotTestbed } from '../../../devnet/testbeds/polkadot.js';
import { BOUNDARY_SETTLE_SLOTS } from '../../../src/polkadot/projections.js';
import { startRotateKeysWithOwnerRefusingProxy, type RpcFilterProxy } from '../../helpers/rpc-filter-proxy.js';
import { MockActivityEnvironment, failureOf } from '../../helpers/activity-environment.js';

let bed: PolkadotTestbed;
let activities: Activities;
let relay: ApiPromise;
let nodeB: PolkadotNodeRef;
let stash: string;
/** A slot from which val-a signs for the validator: the record of missed slots and equivocations starts here. */
let signingFromSlot: number;
/** The session whose block included the first keys' set_keys (the proxy test sets them). */
let setInSession: number;
const env = () => new MockActivityEnvironment();

const nextKeys = async () => (await relay.query.session.nextKeys(stash)).unwrapOr(undefined)?.toHex();
const txCount = async (address: string) => (await relay.rpc.system.accountNextIndex(address)).toNumber();
const keystoreFiles = (basePath: string) => {
  const dir = path.join(basePath, 'chains', 'polkadot', 'keystore');
  return existsSync(dir) ? readdirSync(dir).length : 0;
};

beforeAll(async () => {
  bed = await startPolkadotTestbed({ mode: 'relay', sessionLength: 10, blockTimeMs: 200, syncDelayMs: 500 });
  activities = createActivities({ connections: bed.connections });
  nodeB = bed.nodes['val-b']!.ref;
  stash = bed.validator.stash.address;
  await bed.startNode('val-b');
  relay = await connect(bed.relayUrl);
  const startSlot = bed.currentSlot();
  await waitFor('val-a signing', () => bed.counters(startSlot).signed > 0, 60_000);
  signingFromSlot = bed.currentSlot();
}, 180_000);

afterAll(async () => {
  await relay?.disconnect();
  await bed?.stop();
}, 60_000);

describe('sessions and sync', () => {
  it('reports the session from BABE slots with the runtime slot duration, and the ETA of the next one holds', async () => {
    const info = await env().execute(activities.sessionInfo, { rpcUrl: bed.relayUrl });
    expect(info.sessionLengthSlots).toBe(10);
    expect(info.slotDurationMs).toBe(200);
    expect(info.slotInSession).toBeLessThan(10);
    expect(info.nextSessionEtaMs).toBe((10 - info.slotInSession) * 200);
    expect(info.finalizedBlock).toBeLessThanOrEqual(info.bestBlock);
    // The next session starts once the ETA's slots have passed.
    const later = await waitFor(
      'the next session',
      async () => {
        const now = await env().execute(activities.sessionInfo, { rpcUrl: bed.relayUrl });
        return now.currentIndex > info.currentIndex && now;
      },
      60_000,
    );
    expect(later.currentIndex).toBe(info.currentIndex + 1);
    expect(later.epochIndex).toBe(info.epochIndex + 1);
  }, 90_000);

  it('sees a running node synced, and a node that does not answer as not reached', async () => {
    const synced = await waitFor('val-b synced', async () => {
      const look = await env().execute(activities.lookPolkadotNodeSynced, {
        nodeRpcUrl: nodeB.rpcUrl,
        networkRpcUrl: bed.relayUrl,
      });
      return look.reached && look;
    });
    expect(synced.value).toMatchObject({ isSyncing: false, version: '1.16.0' });
    expect(synced.etaMs).toBeGreaterThan(0);
    const down = await env().execute(activities.lookPolkadotNodeSynced, {
      nodeRpcUrl: 'ws://127.0.0.1:1',
      networkRpcUrl: bed.relayUrl,
    });
    expect(down.reached).toBe(false);
    expect(down.detail).toMatch(/does not answer/);
  }, 90_000);
});

describe('rotateKeys', () => {
  let first: RotatedKeys;

  it("generates keys with the stash's ownership proof and persists them on the node's host before returning", async () => {
    first = await env().execute(activities.rotateKeys, { node: nodeB, stash, upgradeId: 'upgrade-1' });
    expect(first).toMatchObject({ method: 'author_rotateKeysWithOwner', reused: false });
    expect(first.keys).toMatch(/^0x[0-9a-f]{386}$/);
    expect(first.proof).toMatch(/^0x[0-9a-f]+$/);
    const saved: unknown = JSON.parse(
      await readFile(path.join(nodeB.basePath, 'upgrade-keys', 'upgrade-1.json'), 'utf8'),
    );
    expect(saved).toEqual({ stash, keys: first.keys, proof: first.proof, method: 'author_rotateKeysWithOwner' });
    expect(await env().execute(activities.nodeHasKeys, { nodeRpcUrl: nodeB.rpcUrl, keys: first.keys })).toBe(true);
    // The hand-over's signer checks in one activity, answered in order.
    const checks = [
      { nodeRpcUrl: nodeB.rpcUrl, keys: first.keys },
      { nodeRpcUrl: bed.nodes['val-a']!.ref.rpcUrl, keys: first.keys },
    ];
    expect(await env().execute(activities.nodesHoldKeys, { checks })).toEqual([true, false]);
  }, 60_000);

  it('a retry of the same upgrade returns the same keys and does not rotate again', async () => {
    const filesBefore = keystoreFiles(nodeB.basePath);
    const again = await env().execute(activities.rotateKeys, { node: nodeB, stash, upgradeId: 'upgrade-1' });
    expect(again).toEqual({ ...first, reused: true });
    expect(keystoreFiles(nodeB.basePath)).toBe(filesBefore);
  }, 60_000);

  it('a retry whose keys the node no longer holds rotates new ones and records them instead', async () => {
    const lost = await env().execute(activities.rotateKeys, { node: nodeB, stash, upgradeId: 'lost-keys' });
    const layout = sessionKeyLayout(bed.devnet.relay.runtime);
    const babe = splitSessionKeys(layout, hexToU8a(lost.keys))!.find((p) => p.field.keyType === 'babe')!;
    const keystore = path.join(nodeB.basePath, 'chains', 'polkadot', 'keystore');
    await rm(path.join(keystore, `${keyTypeHex('babe').slice(2)}${u8aToHex(babe.publicKey).slice(2)}`));
    expect(await env().execute(activities.nodeHasKeys, { nodeRpcUrl: nodeB.rpcUrl, keys: lost.keys })).toBe(false);
    const fresh = await env().execute(activities.rotateKeys, { node: nodeB, stash, upgradeId: 'lost-keys' });
    expect(fresh.reused).toBe(false);
    expect(fresh.keys).not.toBe(lost.keys);
    const saved = JSON.parse(await readFile(path.join(nodeB.basePath, 'upgrade-keys', 'lost-keys.json'), 'utf8')) as {
      keys: string;
    };
    expect(saved.keys).toBe(fresh.keys);
  }, 60_000);

  it('a keys record that is not one is refused (non-retryable), not overwritten', async () => {
    const file = path.join(nodeB.basePath, 'upgrade-keys', 'garbled.json');
    await writeFile(file, '{"keys": "not hex"');
    const failure = await failureOf(env().execute(activities.rotateKeys, { node: nodeB, stash, upgradeId: 'garbled' }));
    expect(failure).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(await readFile(file, 'utf8')).toBe('{"keys": "not hex"');
  }, 60_000);

  it('falls back to author_rotateKeys (no proof) on a node without author_rotateKeysWithOwner', async () => {
    let oldNode: RpcFilterProxy | undefined;
    try {
      oldNode = await startRotateKeysWithOwnerRefusingProxy(nodeB.rpcUrl);
      const rotated = await env().execute(activities.rotateKeys, {
        node: { ...nodeB, rpcUrl: oldNode.url },
        stash,
        upgradeId: 'old-node',
      });
      expect(rotated).toMatchObject({ method: 'author_rotateKeys', reused: false });
      expect(rotated.proof).toBeUndefined();
      expect(oldNode.refused).toBe(1);
      expect(await env().execute(activities.nodeHasKeys, { nodeRpcUrl: nodeB.rpcUrl, keys: rotated.keys })).toBe(true);
    } finally {
      await oldNode?.close();
    }
  }, 60_000);
});

describe('setKeys', () => {
  const proxyRoute = () => bed.routes.proxy;

  it('InvalidProof: keys with a proof for another owner are refused, non-retryable, and the chain is unchanged', async () => {
    const other = await env().execute(activities.rotateKeys, {
      node: nodeB,
      stash: bed.validator.stranger.address,
      upgradeId: 'wrong-owner',
    });
    const before = await nextKeys();
    const failure = await failureOf(
      env().execute(activities.setKeys, { route: bed.routes.stash, stash, keys: other.keys, proof: other.proof }),
    );
    expect(failure).toMatchObject({ type: 'SetKeysRejected', nonRetryable: true });
    expect(failure.message).toContain('session.InvalidProof');
    expect(failure.details).toEqual([{ dispatchError: 'session.InvalidProof' }]);
    expect(await nextKeys()).toBe(before);
  }, 90_000);

  it('NotProxy: an account that is no proxy of the stash is refused, non-retryable, and the chain is unchanged', async () => {
    const before = await nextKeys();
    const failure = await failureOf(
      env().execute(activities.setKeys, {
        route: bed.routes.stranger,
        stash,
        keys: firstKeys().keys,
        proof: firstKeys().proof,
      }),
    );
    expect(failure).toMatchObject({ type: 'SetKeysRejected', nonRetryable: true });
    expect(failure.message).toContain('proxy.NotProxy');
    expect(await nextKeys()).toBe(before);
  }, 90_000);

  it('an RPC that cannot be reached is a retryable failure', async () => {
    const route: SetKeysRoute = { ...bed.routes.stash, rpcUrl: 'ws://127.0.0.1:1', relayRpcUrl: undefined };
    const failure = await failureOf(env().execute(activities.setKeys, { route, stash, keys: firstKeys().keys }));
    expect(failure).toMatchObject({ type: 'RpcUnavailable', nonRetryable: false });
  }, 60_000);

  it('a signer that holds the wrong key is refused before anything is sent, without quoting the secret', async () => {
    const route: SetKeysRoute = {
      ...bed.routes.stash,
      signedBy: { type: 'stash', signer: bed.validator.strangerSigner },
    };
    const nonce = await txCount(bed.validator.stranger.address);
    const failure = await failureOf(env().execute(activities.setKeys, { route, stash, keys: firstKeys().keys }));
    expect(failure).toMatchObject({ type: 'SignerAccountMismatch', nonRetryable: true });
    expect(failure.message).toContain(stash);
    const secret = process.env[(bed.validator.strangerSigner as { variable: string }).variable]!;
    expect(JSON.stringify(failure)).not.toContain(secret);
    expect(failure.stack ?? '').not.toContain(secret);
    expect(await txCount(bed.validator.stranger.address)).toBe(nonce);
  }, 60_000);

  it('through the Staking proxy: lands in NextKeys with its tx hash; a second call submits nothing', async () => {
    const keys = firstKeys();
    const nonce = await txCount(bed.validator.proxy.address);
    const result = await env().execute(activities.setKeys, {
      route: proxyRoute(),
      stash,
      keys: keys.keys,
      proof: keys.proof,
    });
    expect(result.alreadySet).toBe(false);
    expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.blockHash).toMatch(/^0x[0-9a-f]{64}$/);
    setInSession = (await (await relay.at(result.blockHash!)).query.session.currentIndex()).toNumber();
    expect(await nextKeys()).toBe(keys.keys);
    expect(await txCount(bed.validator.proxy.address)).toBe(nonce + 1);

    const again = await env().execute(activities.setKeys, {
      route: proxyRoute(),
      stash,
      keys: keys.keys,
      proof: keys.proof,
    });
    expect(again).toEqual({ alreadySet: true });
    expect(await txCount(bed.validator.proxy.address)).toBe(nonce + 1);
  }, 90_000);

  it('the keys go NextKeys → QueuedKeys → active over real sessions, and lookKeysActive reaches with the node holding them', async () => {
    const keys = firstKeys().keys;
    const standing = () => env().execute(activities.keysStanding, { rpcUrl: bed.relayUrl, stash, keys });
    // Keys set in session S are queued from S+1 and active from S+2 once a block of it is final. The keys were
    // set by the test above and sessions last 2 s, so a loaded machine may look first in any of those sessions:
    // each look is held to what its own session allows (a look's reads at the best block may straddle the
    // rotation into S+1, so S may already show them queued), and the stages never go back.
    const allowedIn = (index: number): KeysStage[] =>
      index <= setInSession ? ['next', 'queued'] : index === setInSession + 1 ? ['queued'] : ['queued', 'active'];
    const order: KeysStage[] = ['unset', 'next', 'queued', 'active'];
    const looks: KeysStanding[] = [];
    const lookAtStanding = async () => {
      const s = await standing();
      expect(allowedIn(s.currentIndex)).toContain(s.stage);
      if (looks.length > 0) expect(order.indexOf(s.stage)).toBeGreaterThanOrEqual(order.indexOf(looks.at(-1)!.stage));
      looks.push(s);
      return s;
    };
    await lookAtStanding();
    const notYet = await env().execute(activities.lookKeysActive, {
      rpcUrl: bed.relayUrl,
      nodeRpcUrl: nodeB.rpcUrl,
      stash,
      keys,
    });
    expect(allowedIn(notYet.value!.currentIndex)).toContain(notYet.value!.stage);
    if (notYet.value!.stage !== 'active') {
      expect(notYet.reached).toBe(false);
      expect(notYet.etaMs).toBeGreaterThan(0);
      // Keys just set are active at the boundary after next; queued ones at the next; each a few slots past it.
      const sessionsAhead = notYet.value!.stage === 'next' ? 2 : 1;
      expect(notYet.etaMs).toBeLessThanOrEqual((sessionsAhead * 10 + BOUNDARY_SETTLE_SLOTS) * 200);
    }
    const active = await waitFor(
      'keys active',
      async () => {
        const s = await lookAtStanding();
        return s.stage === 'active' && s;
      },
      120_000,
    );
    expect(active.activeSince).toBeGreaterThanOrEqual(setInSession + 2);
    const look = await env().execute(activities.lookKeysActive, {
      rpcUrl: bed.relayUrl,
      nodeRpcUrl: nodeB.rpcUrl,
      stash,
      keys,
    });
    expect(look.reached).toBe(true);
    expect(look.detail).toMatch(/active/);
    // Another node that does not hold the keys is not enough.
    const elsewhere = await env().execute(activities.lookKeysActive, {
      rpcUrl: bed.relayUrl,
      nodeRpcUrl: bed.nodes['val-a']!.rpcUrl,
      stash,
      keys,
    });
    expect(elsewhere.reached).toBe(false);
    expect(elsewhere.detail).toMatch(/does NOT hold/);
    expect((await env().execute(activities.stashKeys, { rpcUrl: bed.relayUrl, stash })).nextKeys).toBe(keys);
    // The handover from val-a (genesis keys) to val-b (new keys) cost no slot and no double signing.
    const since = bed.currentSlot();
    await waitFor('slots signed by val-b settled', () => bed.counters(since).signed >= 3, 60_000);
    const counters = bed.counters(signingFromSlot);
    expect(counters).toMatchObject({ missed: 0, equivocations: 0 });
    expect(counters.signers).toHaveLength(2);
  }, 180_000);

  it('hand back: keys rotated on val-a and set by the stash itself become active on val-a, with no slot missed', async () => {
    const nodeA = bed.nodes['val-a']!.ref;
    const back = await env().execute(activities.rotateKeys, { node: nodeA, stash, upgradeId: 'hand-back' });
    const nonce = await txCount(stash);
    const result = await env().execute(activities.setKeys, {
      route: bed.routes.stash,
      stash,
      keys: back.keys,
      proof: back.proof,
    });
    expect(result.alreadySet).toBe(false);
    expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await txCount(stash)).toBe(nonce + 1);
    await waitFor(
      'keys active on val-a',
      async () => {
        const look = await env().execute(activities.lookKeysActive, {
          rpcUrl: bed.relayUrl,
          nodeRpcUrl: nodeA.rpcUrl,
          stash,
          keys: back.keys,
        });
        return look.reached;
      },
      120_000,
    );
    const since = bed.currentSlot();
    await waitFor('slots signed by val-a settled', () => bed.counters(since).signed >= 3, 60_000);
    expect(bed.counters(signingFromSlot)).toMatchObject({ missed: 0, equivocations: 0 });
  }, 180_000);
});

describe('observePolkadotSigner: positive evidence only', () => {
  const judge = async (node: PolkadotNodeRef, keys: string | undefined, known: PolkadotNodeRef[] = []) => {
    const seen = await env().execute(activities.observePolkadotSigner, {
      node,
      ...(keys ? { keys } : {}),
      ...(known.length ? { knownHolderHomes: known.map((n) => n.basePath) } : {}),
    });
    return { seen, stopped: judgeSigner(seen, 'stopped'), notSigning: judgeSigner(seen, 'not-signing') };
  };

  it('sees the validating node hold its keys, and another node’s keystore holding them as another holder', async () => {
    const nodeA = bed.nodes['val-a']!.ref;
    const keys = (await nextKeys())!;
    const onA = await judge(nodeA, keys);
    expect(onA.seen.rpc).toMatchObject({ answered: true, holdsKey: true });
    expect(onA.notSigning.verdict).toBe('unsafe');
    // From val-b's side (one machine here): val-a's process is a holder nobody named, unless it is known.
    const onB = await judge(nodeB, keys);
    expect(onB.seen.rpc).toMatchObject({ answered: true, holdsKey: false });
    expect(onB.notSigning).toMatchObject({ verdict: 'unsafe' });
    expect(onB.seen.otherHolders.join()).toContain(`runs with home ${nodeA.basePath}, which holds it`);
    expect((await judge(nodeB, keys, [nodeA])).notSigning.verdict).toBe('safe');
  }, 60_000);

  it('does not take a stopped service and a silent RPC for a stop while its node still runs by hand', async () => {
    await env().execute(activities.stopService, { host: nodeB.host, service: nodeB.service });
    const stopped = await judge(nodeB, undefined);
    expect(stopped.seen.unreadable).toEqual([]);
    expect(stopped.stopped.verdict).toBe('safe');
    // The same node started by hand with B's base path, frozen while it starts: the service manager says
    // inactive and the RPC does not answer (all the old check looked at), yet it runs.
    const [command, ...args] = simNodeCommand({ basePath: nodeB.basePath, networkUrl: bed.devnet.networkUrl });
    const rogue = spawn(command!, args, { stdio: 'ignore' });
    try {
      await waitFor(
        'the rogue to show its base path',
        async () => (await readFile(`/proc/${rogue.pid}/cmdline`, 'utf8').catch(() => '')).includes(nodeB.basePath),
        30_000,
      );
      rogue.kill('SIGSTOP');
      expect(await env().execute(activities.isServiceActive, { host: nodeB.host, service: nodeB.service })).toBe(false);
      const frozen = await judge(nodeB, undefined);
      expect(frozen.seen.rpc.answered).toBe(false);
      expect(frozen.stopped).toMatchObject({ verdict: 'unsafe' });
      expect(frozen.stopped.because).toContain(`pid ${rogue.pid} runs with this home`);
      expect((await judge(nodeB, bed.validator.genesisKeys, [bed.nodes['val-a']!.ref])).notSigning.verdict).toBe(
        'unknown',
      );
    } finally {
      rogue.kill('SIGKILL');
      await new Promise((r) => rogue.once('exit', r));
    }
    expect((await judge(nodeB, undefined)).stopped.verdict).toBe('safe');
  }, 90_000);
});

/** The keys rotateKeys generated for upgrade-1 (persisted on val-b). */
function firstKeys(): RotatedKeys {
  const file = path.join(nodeB.basePath, 'upgrade-keys', 'upgrade-1.json');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as {
    keys: string;
    proof?: string;
    method: RotatedKeys['method'];
  };
  return { keys: saved.keys, proof: saved.proof, method: saved.method, reused: true };
}
