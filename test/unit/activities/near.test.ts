/**
 * The NEAR activities under the SDK's activity harness (MockActivityEnvironment), against the NEAR testbed:
 * the local network, real sshd hosts and simulated neard services. Validator keys are generated on the host
 * and only their public part comes back; staking is idempotent and refuses wrong owners; the looks of chain
 * waits reach when the chain does and give an ETA when it has not.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { copyFile, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { KeyPair } from 'near-api-js';
import { createActivities, type Activities } from '../../../activities/index.js';
import type { NearNodeRef } from '../../../src/api/contracts/near.js';
import { resolveNearSigner } from '../../../src/secrets/near-signer.js';
import { startNearTestbed, startTestbedService, type NearTestbed } from '../../../devnet/testbeds/near.js';
import { initNodeHome } from '../../../devnet/near/index.js';
import { freePort } from '../../../devnet/ports.js';
import { MockActivityEnvironment, failureOf } from '../../helpers/activity-environment.js';
import { eventually } from '../../helpers/eventually.js';
import { startFrozenNeard, startNeard } from '../../helpers/neard-process.js';

const POOL = 'pool.poolv1.near';
const strangerKey = KeyPair.fromRandom('ed25519');
let bed: NearTestbed;
let activities: Activities;
let nodeA: NearNodeRef;
let nodeB: NearNodeRef;
let standby: NearNodeRef;

beforeAll(async () => {
  bed = await startNearTestbed({
    // Epochs of 2 s: a stake and the look right after it fall in one epoch even on a loaded machine.
    epochLength: 20,
    blockTimeMs: 100,
    nodes: [
      { id: 'val-a', host: 'val-a', validator: POOL, dbVersion: 41 },
      { id: 'val-b', host: 'val-b' },
      // A second node on val-b for the key hot swap: it takes over val-a's key.
      { id: 'standby', host: 'val-b', service: 'neard-standby' },
    ],
  });
  activities = createActivities({
    connections: bed.connections,
    heartbeatIntervalMs: 200,
    resolveNearSigner: (spec, context) => resolveNearSigner(spec, context, { STRANGER_KEY: strangerKey.toString() }),
  });
  nodeA = bed.nodes['val-a']!.ref;
  nodeB = bed.nodes['val-b']!.ref;
  standby = bed.nodes['standby']!.ref;
}, 120_000);

afterAll(async () => {
  await bed?.stop();
}, 60_000);

const run = <A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A) =>
  new MockActivityEnvironment().execute(activity, ...args);

/** The epoch_height of the epoch whose proposals hold `publicKey` of the pool, from the chain's own record. */
function epochHeightOfProposal(publicKey: string): number {
  const { epochs } = bed.devnet.chain;
  for (let index = epochs.current().index; index >= 0; index--) {
    if (epochs.byIndex(index)!.proposals.get(POOL)?.publicKey === publicKey) return index + 1;
  }
  throw new Error(`no epoch holds a proposal of ${publicKey} by ${POOL}`);
}

function ownerNonce(): bigint {
  const owner = bed.validators[POOL]!;
  const account = bed.devnet.chain.accounts.get(owner.signerAccountId)!;
  return [...account.keys.values()][0]!.nonce;
}

describe('validator keys on the host', () => {
  it('reads the public part of a node key file, or null without one', async () => {
    expect(await run(activities.readValidatorKey, { node: nodeA })).toEqual({
      accountId: POOL,
      publicKey: bed.validators[POOL]!.validatorKey.getPublicKey().toString(),
    });
    expect(await run(activities.readValidatorKey, { node: nodeB })).toBeNull();
  });

  it('generates the key on the host with the node binary, returning only the public key, once', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = await env.execute(activities.generateValidatorKey, { node: nodeB, accountId: POOL });
    expect(Object.keys(result).sort()).toEqual(['created', 'publicKey']);
    expect(beats.length).toBeGreaterThan(0);
    expect(result.created).toBe(true);

    const file = path.join(nodeB.home, 'validator_key.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = await readFile(file, 'utf8');
    const onHost = JSON.parse(written) as Record<string, string>;
    expect(onHost).toMatchObject({ account_id: POOL, public_key: result.publicKey });
    const secret = onHost.secret_key ?? onHost.private_key ?? '';
    expect(secret).toMatch(/^ed25519:/);
    expect(JSON.stringify([result, beats])).not.toContain(secret.slice(8));
    // The scratch home of `neard init` is gone.
    expect(readdirSync(nodeB.home).filter((f) => f.startsWith('.validator-key'))).toEqual([]);

    const again = await run(activities.generateValidatorKey, { node: nodeB, accountId: POOL });
    expect(again).toEqual({ publicKey: result.publicKey, created: false });
    expect(await readFile(file, 'utf8')).toBe(written);
  });

  it("refuses to replace another account's key, without retries", async () => {
    const before = await readFile(path.join(nodeB.home, 'validator_key.json'), 'utf8');
    const failure = await failureOf(run(activities.generateValidatorKey, { node: nodeB, accountId: 'other.near' }));
    expect(failure).toMatchObject({ type: 'ValidatorKeyConflict', nonRetryable: true });
    expect(failure.message).toContain(POOL);
    expect(failure.message).not.toContain((JSON.parse(before) as { secret_key: string }).secret_key.slice(8));
    expect(await readFile(path.join(nodeB.home, 'validator_key.json'), 'utf8')).toBe(before);
  });

  it('reports a binary whose init fails as non-retryable', async () => {
    const home = path.join(bed.hosts['val-b']!.root, 'home', 'broken', '.near');
    const failure = await failureOf(
      run(activities.generateValidatorKey, { node: { ...nodeB, home, binary: '/bin/false' }, accountId: POOL }),
    );
    expect(failure).toMatchObject({ type: 'RemoteCommandFailed', nonRetryable: true });
    expect(failure.message).toContain('neard init failed');
  });
});

describe('checkDatabase', () => {
  it('compares the data with the database version a binary writes, by the installed binary that opened it', async () => {
    const newer = await run(activities.checkDatabase, {
      node: nodeA,
      binaryPath: bed.binaries.new.staged('val-a'),
      sha256: bed.binaries.new.sha256,
    });
    expect(newer).toEqual({
      dataDbVersion: 41,
      dataDbVersionSource: expect.stringContaining('the node is not running') as unknown,
      binaryDbVersion: 42,
      binaryVersion: '2.4.0',
      migrationNeeded: true,
      migrationSnapshot: false,
    });
    const same = await run(activities.checkDatabase, {
      node: nodeA,
      binaryPath: bed.binaries.old.staged('val-a'),
      sha256: bed.binaries.old.sha256,
    });
    expect(same).toMatchObject({ dataDbVersion: 41, binaryDbVersion: 41, migrationNeeded: false });
    const fresh = await run(activities.checkDatabase, {
      node: nodeB,
      binaryPath: bed.binaries.new.staged('val-b'),
      sha256: bed.binaries.new.sha256,
    });
    expect(fresh).toEqual({
      dataDbVersionSource: 'the node has no database',
      binaryDbVersion: 42,
      binaryVersion: '2.4.0',
      migrationNeeded: false,
      migrationSnapshot: false,
    });
  });

  it('runs no file whose sha256 is not the release’s (an input must not make the worker run any file)', async () => {
    const failure = await failureOf(
      run(activities.checkDatabase, { node: nodeA, binaryPath: '/bin/sh', sha256: bed.binaries.new.sha256 }),
    );
    expect(failure).toMatchObject({ type: 'ChecksumMismatch', nonRetryable: true });
    expect(failure.message).toMatch(
      /^\/bin\/sh on val-a has sha256 [0-9a-f]{64}, not the release's [0-9a-f]{64}: it is not run$/,
    );
  });

  it('takes the data version from the running release, and calls it unknown when the installed file differs', async () => {
    await startTestbedService(bed, 'val-a');
    const opened = await eventually('val-a to answer', async () => {
      const check = await run(activities.checkDatabase, {
        node: nodeA,
        binaryPath: bed.binaries.new.staged('val-a'),
        sha256: bed.binaries.new.sha256,
      });
      return check.dataDbVersionSource.startsWith('opened by the running release') ? check : undefined;
    });
    expect(opened).toMatchObject({ dataDbVersion: 41, migrationNeeded: true });

    // As if someone had copied the new release over the path the running node was started from.
    const replaced = await run(activities.checkDatabase, {
      node: { ...nodeA, binary: bed.binaries.new.staged('val-a') },
      binaryPath: bed.binaries.new.staged('val-a'),
      sha256: bed.binaries.new.sha256,
    });
    expect(replaced.dataDbVersion).toBeUndefined();
    expect(replaced.migrationNeeded).toBe(true);
    expect(replaced.dataDbVersionSource).toMatch(/^unknown: the node runs release \S+ but 2\.4\.0 is installed$/);
    // Later tests start from a stopped val-a.
    await run(activities.stopService, { host: nodeA.host, service: nodeA.service });
  });

  it('refuses a file that is not a neard binary', async () => {
    // Its own sha256: the check that follows the checksum is the one under test.
    const sha256 = createHash('sha256')
      .update(await readFile('/bin/true'))
      .digest('hex');
    const failure = await failureOf(run(activities.checkDatabase, { node: nodeA, binaryPath: '/bin/true', sha256 }));
    expect(failure).toMatchObject({ type: 'BadInput', nonRetryable: true });
  });
});

describe('chain reads and looks', () => {
  it('reads the epoch with an ETA of the next boundary', async () => {
    const info = await run(activities.epochInfo, { rpcUrl: bed.rpcUrl });
    expect(info.epochLength).toBe(20);
    expect(info.observedBlockTimeMs).toBeGreaterThan(0);
    const blocksLeft = info.epochStartHeight + info.epochLength - info.headHeight;
    expect(info.nextBoundaryEtaMs).toBe(Math.round(blocksLeft * info.observedBlockTimeMs));
  });

  it('fails retryably when the RPC does not answer, and without retries on a malformed input', async () => {
    const down = await failureOf(run(activities.epochInfo, { rpcUrl: 'http://127.0.0.1:9' }));
    expect(down).toMatchObject({ type: 'RpcUnavailable', nonRetryable: false });
    const malformed = await failureOf(
      run(activities.keyStanding, { rpcUrl: bed.rpcUrl, accountId: POOL, publicKey: 'ed25519:0OIl' }),
    );
    expect(malformed).toMatchObject({ type: 'BadInput', nonRetryable: true });
  });

  it('sees a node that is not running as not synced, then synced once its service runs', async () => {
    const down = await run(activities.lookNodeSynced, { nodeRpcUrl: nodeA.rpcUrl, networkRpcUrl: bed.rpcUrl });
    expect(down.reached).toBe(false);
    expect(down.detail).toContain('does not answer');
    expect(down.etaMs).toBeGreaterThan(0);

    await startTestbedService(bed, 'val-a');
    const synced = await eventually('val-a synced', async () => {
      const look = await run(activities.lookNodeSynced, { nodeRpcUrl: nodeA.rpcUrl, networkRpcUrl: bed.rpcUrl });
      return look.reached ? look : undefined;
    });
    expect(synced.value).toMatchObject({ syncing: false, validatorAccountId: POOL });
    expect(synced.etaMs).toBeUndefined();
  }, 120_000);

  it('sees the validator node signing after a height, and a node without a key not signing', async () => {
    const since = (await run(activities.nodeStatus, { rpcUrl: bed.rpcUrl })).latestBlockHeight;
    const signing = await eventually('val-a signing', async () => {
      const look = await run(activities.lookNodeSigning, {
        nodeRpcUrl: nodeA.rpcUrl,
        networkRpcUrl: bed.rpcUrl,
        accountId: POOL,
        sinceHeight: since,
      });
      return look.reached ? look : undefined;
    });
    expect(signing.value!.producedSince).toBeGreaterThan(0);

    const idle = await run(activities.lookNodeSigning, {
      nodeRpcUrl: nodeB.rpcUrl,
      networkRpcUrl: bed.rpcUrl,
      accountId: POOL,
      sinceHeight: since,
    });
    expect(idle).toMatchObject({ reached: false });
    expect(idle.etaMs).toBeGreaterThan(0);
  }, 120_000);
});

describe('key hot swap', () => {
  const genesisKey = () => bed.validators[POOL]!.validatorKey;
  const publicKey = () => genesisKey().getPublicKey().toString();
  const tag = 'vup-test1234';
  const pending = () => path.join(standby.home, `validator_key.json.pending-${tag}`);
  const handOver = (primary: NearNodeRef = nodeA) =>
    run(activities.handOverValidatorKey, {
      primary,
      standby,
      networkRpcUrl: bed.rpcUrl,
      accountId: POOL,
      publicKey: publicKey(),
      tag,
      slotWaitMs: 60_000,
    });

  it('refuses to stage a key that is not the expected one, staging nothing', async () => {
    const failure = await failureOf(
      run(activities.stageValidatorKey, {
        from: nodeA,
        to: standby,
        accountId: POOL,
        expectedPublicKey: KeyPair.fromRandom('ed25519').getPublicKey().toString(),
        tag,
      }),
    );
    expect(failure).toMatchObject({ type: 'ValidatorKeyConflict', nonRetryable: true });
    expect(failure.message).not.toContain(genesisKey().toString().slice(8));
    expect(existsSync(pending())).toBe(false);
    expect(await run(activities.readValidatorKey, { node: standby })).toBeNull();
  });

  it('reports a node that is not running as not reloadable (retryable)', async () => {
    const failure = await failureOf(run(activities.reloadValidatorKey, { node: standby }));
    expect(failure).toMatchObject({ type: 'RemoteCommandFailed', nonRetryable: false });
  });

  it('refuses to hand over a key that was not staged, stopping nothing', async () => {
    const failure = await failureOf(handOver());
    expect(failure).toMatchObject({ type: 'KeyNotStaged', nonRetryable: true });
    expect(bed.isRunning('val-a')).toBe(true);
  });

  it('stages the key where neard does not read it: the standby restarts without it', async () => {
    const stage = { from: nodeA, to: standby, accountId: POOL, expectedPublicKey: publicKey(), tag };
    expect(await run(activities.stageValidatorKey, stage)).toEqual({ publicKey: publicKey(), copied: true });
    expect(statSync(pending()).mode & 0o777).toBe(0o600);
    expect(await readFile(pending(), 'utf8')).toBe(await readFile(path.join(nodeA.home, 'validator_key.json'), 'utf8'));
    expect(await run(activities.stageValidatorKey, stage)).toEqual({ publicKey: publicKey(), copied: false });

    await startTestbedService(bed, 'standby');
    const status = await eventually('the standby answering', () =>
      run(activities.nodeStatus, { rpcUrl: standby.rpcUrl }).catch(() => undefined),
    );
    expect(status.validatorPublicKey).toBeUndefined();
    expect(await run(activities.readValidatorKey, { node: standby })).toBeNull();
  }, 120_000);

  /** The key files that must not move when a hand-over is refused. */
  const expectNoKeyMoved = async () => {
    expect(existsSync(path.join(nodeA.home, 'validator_key.json'))).toBe(true);
    expect(existsSync(path.join(nodeA.home, `validator_key.json.hot-swapped-${tag}`))).toBe(false);
    expect(existsSync(pending())).toBe(true);
    expect(existsSync(path.join(standby.home, 'validator_key.json'))).toBe(false);
    expect((await run(activities.nodeStatus, { rpcUrl: standby.rpcUrl })).validatorPublicKey).toBeUndefined();
  };

  /** A neard started by hand, outside the service manager, with `home`; frozen as it starts when asked. */
  const startRogue = (home: string, opts: { freeze?: boolean } = {}) =>
    opts.freeze ? startFrozenNeard(nodeA.binary!, home) : Promise.resolve(startNeard(nodeA.binary!, home, ''));

  /** The old check, which this one replaced: the primary is down when one status call fails, for any reason. */
  const oldCheckSaysDown = (rpcUrl: string) =>
    fetch(rpcUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'old', method: 'status', params: [] }),
      signal: AbortSignal.timeout(2_000),
    }).then(
      () => false,
      () => true,
    );

  it('refuses, stopping nothing, while a neard started by hand with a copy of the key and another home runs', async () => {
    const rogueHome = path.join(bed.hosts['val-a']!.root, 'home', 'rogue', '.near');
    initNodeHome({
      home: rogueHome,
      chainId: bed.chainId,
      networkRpcUrl: bed.rpcUrl,
      rpcAddr: `127.0.0.1:${await freePort()}`,
    });
    await copyFile(path.join(nodeA.home, 'validator_key.json'), path.join(rogueHome, 'validator_key.json'));
    // Frozen while it starts: its RPC never answers, so only the host's records show it.
    const rogue = await startRogue(rogueHome, { freeze: true });
    try {
      const failure = await failureOf(handOver());
      expect(failure).toMatchObject({ type: 'TwoKeyHolders', nonRetryable: true });
      expect(failure.message).toContain(`pid ${rogue.child.pid} runs with home ${rogueHome}, which holds it`);
    } finally {
      await rogue.stop('SIGKILL');
    }
    expect(bed.isRunning('val-a')).toBe(true);
    await expectNoKeyMoved();
  }, 120_000);

  describe('a stopped primary whose neard still runs outside the service manager', () => {
    let hang: Server;
    let reset: Server;
    const hangUrl = () => `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
    const resetUrl = () => `http://127.0.0.1:${(reset.address() as AddressInfo).port}`;

    beforeAll(async () => {
      // Stopped through its service manager, as an operator would have it: the manager says inactive.
      await run(activities.stopService, { host: nodeA.host, service: nodeA.service });
      hang = createServer(() => undefined);
      reset = createServer((socket) => socket.resetAndDestroy());
      await Promise.all([hang, reset].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))));
    });

    afterAll(async () => {
      for (const srv of [hang, reset]) {
        srv.close();
      }
      await startTestbedService(bed, 'val-a');
    }, 120_000);

    it.each([
      ['its RPC port closed', async () => `http://127.0.0.1:${await freePort()}`, false],
      ['its RPC answering slower than any timeout', () => Promise.resolve(hangUrl()), false],
      ['its RPC resetting every connection', () => Promise.resolve(resetUrl()), false],
      ['it frozen in the middle of starting, before its RPC listens', () => Promise.resolve(nodeA.rpcUrl), true],
      ['it frozen after its RPC listens (a busy node)', () => Promise.resolve(nodeA.rpcUrl), 'after-listen'],
    ] as const)(
      'refuses with %s, and no key file moves',
      async (_case, rpcUrl, freeze) => {
        const url = await rpcUrl();
        // val-a's own home: the rogue opens its database and holds its key, as a second copy of the node would.
        const rogue = await startRogue(nodeA.home, { freeze: freeze === true });
        try {
          if (freeze === 'after-listen') {
            await rogue.waitForLog(/Starting http server/);
            rogue.child.kill('SIGSTOP');
          }
          // What the old check saw: no answer, so "down".
          expect(await oldCheckSaysDown(url)).toBe(true);
          const failure = await failureOf(handOver({ ...nodeA, rpcUrl: url }));
          expect(failure).toMatchObject({ type: 'PrimaryStillRunning', nonRetryable: true });
          expect(failure.message).toContain(`pid ${rogue.child.pid}`);
        } finally {
          await rogue.stop('SIGKILL');
        }
        expect(bed.isRunning('val-a')).toBe(false);
        await expectNoKeyMoved();
      },
      120_000,
    );

    it('refuses while the stopped primary still answers on its RPC', async () => {
      const rogue = await startRogue(nodeA.home);
      try {
        await rogue.waitForLog(/Starting http server/);
        const failure = await failureOf(handOver());
        expect(failure).toMatchObject({ type: 'PrimaryStillRunning', nonRetryable: true });
        // Whether its RPC answered in time or not, the host shows it: no timing decides the outcome.
        expect(failure.message).toMatch(new RegExp(`still answers|pid ${rogue.child.pid}`));
      } finally {
        await rogue.stop('SIGTERM');
      }
      await expectNoKeyMoved();
    }, 120_000);
  });

  it('hands over right after a block of the validator, with the key never on two running nodes, and again as a no-op', async () => {
    await eventually('val-a signing again', async () => {
      const s = await run(activities.nodeStatus, { rpcUrl: nodeA.rpcUrl }).catch(() => undefined);
      return s && !s.syncing && s.validatorPublicKey === publicKey() ? s : undefined;
    });
    // Watch both machines all along: a running node whose home holds validator_key.json holds the key.
    const holders: number[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        holders.push(
          (['val-a', 'standby'] as const).filter(
            (id) => bed.isRunning(id) && existsSync(path.join(bed.nodes[id]!.home, 'validator_key.json')),
          ).length,
        );
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    let result;
    try {
      result = await env.execute(activities.handOverValidatorKey, {
        primary: nodeA,
        standby,
        networkRpcUrl: bed.rpcUrl,
        accountId: POOL,
        publicKey: publicKey(),
        tag,
        slotWaitMs: 60_000,
      });
    } finally {
      watching = false;
      await watch;
    }
    expect(Math.max(...holders)).toBe(1);
    expect(holders).toContain(1);
    expect(result.stoppedPrimary).toBe(true);
    // The fence: the primary, its key file moved aside and reloaded, said it runs with no key.
    expect(result.primaryEvidence).toContain('reported no validator key once its key file was moved aside');
    expect(result.keyOffMs).toBeGreaterThan(0);
    console.log(`hand-over: the key was on no signing node for ${result.keyOffMs} ms (${result.primaryEvidence})`);
    expect(bed.devnet.chain.blockAt(result.afterOwnBlock!)!.author).toBe(POOL);
    expect(result.primaryKeyParkedAt).toBe(path.join(nodeA.home, `validator_key.json.hot-swapped-${tag}`));
    expect(existsSync(result.primaryKeyParkedAt)).toBe(true);
    expect(existsSync(pending())).toBe(false);
    expect(bed.isRunning('val-a')).toBe(false);
    expect((await run(activities.nodeStatus, { rpcUrl: standby.rpcUrl })).validatorPublicKey).toBe(publicKey());
    expect(beats.length).toBeGreaterThan(0);
    expect(JSON.stringify([result, beats])).not.toContain(genesisKey().toString().slice(8));

    // A retry (the worker died after the hand-over) finds it done and changes nothing.
    const again = await handOver();
    expect(again).toMatchObject({ primaryKeyParkedAt: result.primaryKeyParkedAt, stoppedPrimary: false });
    expect(again.keyOffMs).toBeUndefined();
    expect(again.primaryEvidence).toContain('is not running');
    const since = (await run(activities.nodeStatus, { rpcUrl: bed.rpcUrl })).latestBlockHeight;
    const signing = await eventually('the standby producing', async () => {
      const look = await run(activities.lookNodeSigning, {
        nodeRpcUrl: standby.rpcUrl,
        networkRpcUrl: bed.rpcUrl,
        accountId: POOL,
        sinceHeight: since,
      });
      return look.reached ? look : undefined;
    });
    expect(signing.value!.producedSince).toBeGreaterThan(0);
    expect(bed.counters(POOL).doubleSigns).toEqual([]);
  }, 180_000);

  it('refuses to go on while the node to hand to holds the key in validator_key.json and the other runs', async () => {
    // Back the other way, with someone having put the key back into val-a's validator_key.json by hand: going
    // on would leave the key in two validator_key.json files with the standby running.
    const valAKey = path.join(nodeA.home, 'validator_key.json');
    await copyFile(path.join(nodeA.home, `validator_key.json.hot-swapped-${tag}`), valAKey);
    try {
      const failure = await failureOf(
        run(activities.handOverValidatorKey, {
          primary: standby,
          standby: nodeA,
          networkRpcUrl: bed.rpcUrl,
          accountId: POOL,
          publicKey: publicKey(),
          tag,
          slotWaitMs: 1_000,
        }),
      );
      expect(failure).toMatchObject({ type: 'TwoKeyHolders', nonRetryable: true });
    } finally {
      await rm(valAKey);
    }
    expect(bed.isRunning('standby')).toBe(true);
    expect((await run(activities.nodeStatus, { rpcUrl: standby.rpcUrl })).validatorPublicKey).toBe(publicKey());
  });

  it('withdraws the key from a node and reloads it, so that it no longer signs', async () => {
    // On a copy of the standby's layout: val-b's own node, given the key as the hand-over would.
    const keyOnB = path.join(nodeB.home, 'validator_key.json');
    const generated = await readFile(keyOnB, 'utf8');
    const withdrawTag = 'vup-withdraw1';
    const result = await run(activities.withdrawValidatorKey, { node: nodeB, tag: withdrawTag });
    expect(result).toEqual({ withdrawnFiles: 1, reloaded: false });
    expect(existsSync(keyOnB)).toBe(false);
    expect(await run(activities.withdrawValidatorKey, { node: nodeB, tag: withdrawTag })).toEqual({
      withdrawnFiles: 0,
      reloaded: false,
    });
    // Later tests stake val-b's generated key: put it back.
    await rename(path.join(nodeB.home, `validator_key.json.withdrawn-${withdrawTag}`), keyOnB);
    expect(await readFile(keyOnB, 'utf8')).toBe(generated);
  });
});

describe('stakeWithKey and the key stages', () => {
  const owner = () => bed.validators[POOL]!;

  it('refuses a wrong owner or a stranger key before anything is sent, without retries', async () => {
    const newKey = KeyPair.fromRandom('ed25519').getPublicKey().toString();
    const nonce = ownerNonce();
    const wrongOwner = await failureOf(
      run(activities.stakeWithKey, {
        rpcUrl: bed.rpcUrl,
        networkId: 'localnet',
        accountId: POOL,
        staking: {
          type: 'pool',
          ownerId: 'mallory.near',
          signer: { id: 'mallory', type: 'env', variable: 'STRANGER_KEY' },
        },
        newPublicKey: newKey,
      }),
    );
    expect(wrongOwner).toMatchObject({ type: 'WrongOwner', nonRetryable: true });

    const stranger = await failureOf(
      run(activities.stakeWithKey, {
        rpcUrl: bed.rpcUrl,
        networkId: 'localnet',
        accountId: POOL,
        staking: {
          type: 'pool',
          ownerId: owner().signerAccountId,
          signer: { id: 'x', type: 'env', variable: 'STRANGER_KEY' },
        },
        newPublicKey: newKey,
      }),
    );
    expect(stranger).toMatchObject({ type: 'SignerNotAuthorized', nonRetryable: true });

    const missing = await failureOf(
      run(activities.stakeWithKey, {
        rpcUrl: bed.rpcUrl,
        networkId: 'localnet',
        accountId: POOL,
        staking: {
          type: 'pool',
          ownerId: owner().signerAccountId,
          signer: { id: 'x', type: 'env', variable: 'NO_SUCH_KEY' },
        },
        newPublicKey: newKey,
      }),
    );
    expect(missing).toMatchObject({ type: 'SignerMissing', nonRetryable: true });
    expect(missing.message).toContain('NO_SUCH_KEY');

    for (const failure of [wrongOwner, stranger, missing]) {
      expect(failure.message).not.toContain(strangerKey.toString().slice(8));
    }
    expect(ownerNonce()).toBe(nonce);
    expect(bed.devnet.chain.accounts.get(POOL)!.pool!.stakePublicKey).toBe(
      owner().validatorKey.getPublicKey().toString(),
    );
  });

  it('stakes the key generated on the standby once, and the looks follow it to current', async () => {
    const generated = await run(activities.readValidatorKey, { node: nodeB });
    const newKey = generated!.publicKey;
    const stake = {
      rpcUrl: bed.rpcUrl,
      networkId: 'localnet' as const,
      accountId: POOL,
      staking: { type: 'pool' as const, ownerId: owner().signerAccountId, signer: owner().signer },
      newPublicKey: newKey,
    };
    const first = await run(activities.stakeWithKey, stake);
    expect(first.alreadyStaked).toBe(false);
    expect(first.txHash).toBeDefined();
    const nonce = ownerNonce();
    expect(await run(activities.stakeWithKey, stake)).toEqual({ alreadyStaked: true });
    expect(ownerNonce()).toBe(nonce);

    // Epochs here last 2 s, and a loaded machine can let one or two end between the stake and a look, so each
    // look is held to what the chain's own record implies at the epoch the look saw: proposed during the epoch
    // the stake landed in, in next_validators during the next one, current from the one after.
    const proposedIn = epochHeightOfProposal(newKey);
    const stageAt = (epochHeight: number) =>
      epochHeight === proposedIn ? 'proposed' : epochHeight === proposedIn + 1 ? 'next' : 'current';
    const lookFor = (want: 'proposed' | 'next' | 'current') =>
      run(activities.lookKeyStage, { rpcUrl: bed.rpcUrl, accountId: POOL, publicKey: newKey, want });
    const proposed = await lookFor('proposed');
    expect(proposed.reached).toBe(true);
    expect(proposed.value!.stage).toBe(stageAt(proposed.value!.epochHeight));
    const notYet = await lookFor('current');
    expect(notYet.value!.stage).toBe(stageAt(notYet.value!.epochHeight));
    expect(notYet.reached).toBe(notYet.value!.stage === 'current');
    if (!notYet.reached) {
      expect(notYet.detail).toContain(
        ` is in ${notYet.value!.stage === 'proposed' ? 'current_proposals' : 'next_validators'} `,
      );
      expect(notYet.etaMs).toBeGreaterThan(0);
    }

    const current = await eventually('the new key current', async () => {
      const look = await lookFor('current');
      return look.reached ? look : undefined;
    });
    expect(current.value).toMatchObject({ stage: 'current', currentKey: newKey });
    expect(current.value!.epochHeight).toBeGreaterThanOrEqual(proposedIn + 2);

    // The standby still runs the old key, which is no longer current: it is not signing for the account.
    const old = await run(activities.lookNodeSigning, {
      nodeRpcUrl: standby.rpcUrl,
      networkRpcUrl: bed.rpcUrl,
      accountId: POOL,
      sinceHeight: (await run(activities.nodeStatus, { rpcUrl: bed.rpcUrl })).latestBlockHeight,
    });
    expect(old.reached).toBe(false);
    expect(old.detail).toContain('not current');
  }, 120_000);
});
