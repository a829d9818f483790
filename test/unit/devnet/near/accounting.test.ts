/**
 * The devnet's accounting of what validators' nodes did, with real simulated neard processes: missed blocks
 * and chunks while a validator's node is down, double signing when two processes sign with one key, and
 * neither while exactly one node signs.
 */
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner, PublicKey, actions } from 'near-api-js';
import {
  NO_PERFORMANCE_KICKOUTS,
  ONE_NEAR,
  startNearDevnet,
  type NearDevnet,
  type ValidatorCounters,
} from '../../../../devnet/near/index.js';
import { initNodeHome } from '../../../../devnet/near/node-home.js';
import { freePort } from '../../../../devnet/ports.js';
import { scratch, startNeard, waitUntil, type NeardProcess, type Scratch } from '../../../helpers/neard-process.js';

describe('NEAR devnet signing accounting', () => {
  let devnet: NearDevnet;
  let provider: JsonRpcProvider;
  let neard: string;
  let dir: Scratch;
  const running: NeardProcess[] = [];
  const soloKey = KeyPair.fromRandom('ed25519');
  const sharedKey = KeyPair.fromRandom('ed25519');

  beforeAll(async () => {
    // Made here, not at collection: hooks do not run for describes whose tests are all filtered out.
    dir = scratch('neard-accounting-');
    devnet = await startNearDevnet({
      epochLength: 100,
      blockTimeMs: 100,
      // Its validators run no node for some epochs on purpose; nearcore would kick them out.
      ...NO_PERFORMANCE_KICKOUTS,
      // Generous: a loaded machine must not turn a slow signature into a missed block.
      signatureGraceMs: 5_000,
      validators: [
        { accountId: 'solo.near', stakePublicKey: soloKey.getPublicKey().toString(), stake: 10n * ONE_NEAR },
        { accountId: 'shared.near', stakePublicKey: sharedKey.getPublicKey().toString(), stake: 10n * ONE_NEAR },
      ],
    });
    provider = new JsonRpcProvider({ url: devnet.rpcUrl }, { retries: 1 });
    neard = dir.installBinary('2.4.0', { version: '2.4.0', build: 'sim', protocolVersion: 73, dbVersion: 42 });
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
    await devnet.stop();
    dir.remove();
  });

  async function startValidatorNode(name: string, accountId: string, key: KeyPair) {
    const rpcAddr = `127.0.0.1:${await freePort()}`;
    initNodeHome({
      home: dir.path(name),
      chainId: devnet.chainId,
      networkRpcUrl: devnet.rpcUrl,
      rpcAddr,
      syncDelayMs: 500,
      validator: { accountId, keyPair: key },
    });
    const node = startNeard(neard, dir.path(name), rpcAddr);
    running.push(node);
    return node;
  }

  /** The devnet's own RPC method (near-api-js's typed sendJsonRpc knows only NEAR's methods). */
  async function counters(accountId: string): Promise<ValidatorCounters> {
    const res = await fetch(devnet.rpcUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: '1', method: 'devnet_counters', params: { account_id: accountId } }),
    });
    return ((await res.json()) as { result: ValidatorCounters }).result;
  }

  it('counts nothing missed and no double signs while one node signs, and missed blocks and chunks while it is down', async () => {
    const node = await startValidatorNode('solo', 'solo.near', soloKey);
    // From the first settled signed height on, every height must be signed.
    const start = await waitUntil('a settled signed block', async () => {
      const c = await counters('solo.near');
      return c.producedBlocks > 0 ? c : undefined;
    });
    const steady = await waitUntil('40 more settled heights', async () => {
      const c = await counters('solo.near');
      return c.expectedBlocks >= start.expectedBlocks + 40 ? c : undefined;
    });
    expect(steady.missedBlocks).toBe(start.missedBlocks);
    expect(steady.missedChunks).toBe(start.missedChunks);
    expect(steady.producedBlocks - start.producedBlocks).toBe(steady.expectedBlocks - start.expectedBlocks);
    expect(steady.doubleSignHeights).toEqual([]);

    expect(await node.stop('SIGTERM')).toBe(0);
    const down = await waitUntil('20 missed heights', async () => {
      const c = await counters('solo.near');
      return c.missedBlocks >= steady.missedBlocks + 20 ? c : undefined;
    });
    expect(down.missedChunks).toBeGreaterThanOrEqual(steady.missedChunks + 20);
    expect(down.doubleSignHeights).toEqual([]);
    const missedWhileDown = down.missedBlockHeights.slice(steady.missedBlocks);
    expect(missedWhileDown.every((h) => h > steady.settledHeight)).toBe(true);
    const missedHeight = missedWhileDown[missedWhileDown.length - 1]!;

    // The validators RPC reflects the same numbers for the epoch of a missed height.
    const epoch = await provider.viewValidators({ blockId: missedHeight });
    const solo = epoch.current_validators.find((v) => v.account_id === 'solo.near')!;
    expect(solo.num_expected_blocks).toBeGreaterThan(solo.num_produced_blocks);
    expect(solo.num_expected_chunks).toBeGreaterThan(solo.num_produced_chunks!);
  });

  it('counts double signs at the heights where two node processes signed with the same key', async () => {
    const first = await startValidatorNode('shared-a', 'shared.near', sharedKey);
    const second = await startValidatorNode('shared-b', 'shared.near', sharedKey);
    const c = await waitUntil('three double-signed heights', async () => {
      const now = await counters('shared.near');
      return now.doubleSignHeights.length >= 3 ? now : undefined;
    });
    const nodeKeys = await Promise.all([first.status(), second.status()]);
    expect(nodeKeys[0].validator_public_key).toBe(sharedKey.getPublicKey().toString());
    for (const d of c.doubleSigns.slice(0, 3)) {
      expect(d.publicKey).toBe(sharedKey.getPublicKey().toString());
      expect(new Set(d.nodes).size).toBe(2);
    }
    expect(new Set(c.doubleSignHeights).size).toBe(c.doubleSignHeights.length);
    // The solo validator, whose node is down, is not blamed for what the shared key's nodes do.
    expect((await counters('solo.near')).doubleSignHeights).toEqual([]);
  });
});

describe('NEAR devnet accounting across a validator key rotation', () => {
  let devnet: NearDevnet;
  let dir: Scratch;
  const running: NeardProcess[] = [];
  const accessKey = KeyPair.fromRandom('ed25519');
  const oldKey = KeyPair.fromRandom('ed25519');
  const newKey = KeyPair.fromRandom('ed25519');

  beforeAll(async () => {
    dir = scratch('neard-rotation-');
    devnet = await startNearDevnet({
      epochLength: 20,
      blockTimeMs: 100,
      // Its validators run no node for some epochs on purpose; nearcore would kick them out.
      ...NO_PERFORMANCE_KICKOUTS,
      signatureGraceMs: 5_000,
      validators: [
        {
          accountId: 'v.near',
          publicKeys: [accessKey.getPublicKey().toString()],
          stakePublicKey: oldKey.getPublicKey().toString(),
          stake: 10n * ONE_NEAR,
        },
      ],
    });
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
    await devnet.stop();
    dir.remove();
  });

  it('misses nothing and signs nothing twice when a second node takes over with a new key at T+2', async () => {
    const neard = dir.installBinary('2.4.0', { version: '2.4.0', build: 'sim', protocolVersion: 73, dbVersion: 42 });
    const start = async (name: string, key: KeyPair) => {
      const rpcAddr = `127.0.0.1:${await freePort()}`;
      initNodeHome({
        home: dir.path(name),
        chainId: devnet.chainId,
        networkRpcUrl: devnet.rpcUrl,
        rpcAddr,
        syncDelayMs: 500,
        validator: { accountId: 'v.near', keyPair: key },
      });
      const node = startNeard(neard, dir.path(name), rpcAddr);
      running.push(node);
      return node;
    };
    const oldNode = await start('old', oldKey);
    const newNode = await start('new', newKey);
    await waitUntil('both nodes synced', async () => {
      const states = await Promise.all([oldNode.status(), newNode.status()]);
      return states.every((s) => !s.sync_info.syncing);
    });
    const before = await waitUntil('a settled signed block', () => {
      const c = devnet.counters('v.near');
      return c.producedBlocks > 0 ? c : undefined;
    });

    const provider = new JsonRpcProvider({ url: devnet.rpcUrl }, { retries: 1 });
    const account = new Account('v.near', provider, new KeyPairSigner(accessKey));
    const outcome = await account.signAndSendTransaction({
      receiverId: 'v.near',
      actions: [actions.stake(10n * ONE_NEAR, PublicKey.from(newKey.getPublicKey().toString()))],
    });
    const T = (await provider.viewValidators({ blockId: outcome.transaction_outcome.block_hash })).epoch_height;
    const firstOfT2 = await devnet.waitForEpochHeight(T + 2);
    const after = await waitUntil('20 settled heights in T+2', () => {
      const c = devnet.counters('v.near');
      return c.settledHeight >= firstOfT2.height + 20 ? c : undefined;
    });

    expect(after.missedBlocks).toBe(before.missedBlocks);
    expect(after.missedChunks).toBe(before.missedChunks);
    expect(after.doubleSignHeights).toEqual([]);
    expect(after.blocksSignedByKey[newKey.getPublicKey().toString()]).toBeGreaterThanOrEqual(20);
    await oldNode.waitForLog(/is not the current validator key of v\.near; not signing/);
    await newNode.waitForLog(/Validating as v\.near/);
  });
});

describe('NEAR devnet accounting across a quick restart', () => {
  let devnet: NearDevnet;
  let dir: Scratch;
  const running: NeardProcess[] = [];
  const key = KeyPair.fromRandom('ed25519');

  beforeAll(async () => {
    dir = scratch('neard-restart-');
    // Slow blocks: the restarted node comes back while the height it last signed is still the head.
    devnet = await startNearDevnet({
      epochLength: 100,
      blockTimeMs: 4_000,
      // Its validators run no node for some epochs on purpose; nearcore would kick them out.
      ...NO_PERFORMANCE_KICKOUTS,
      validators: [{ accountId: 'v.near', stakePublicKey: key.getPublicKey().toString(), stake: 10n * ONE_NEAR }],
    });
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
    await devnet.stop();
    dir.remove();
  });

  it('does not count a restarted node as double signing the height it signed before it stopped', async () => {
    const neard = dir.installBinary('2.4.0', { version: '2.4.0', build: 'sim', protocolVersion: 73, dbVersion: 42 });
    const rpcAddr = `127.0.0.1:${await freePort()}`;
    initNodeHome({
      home: dir.path('v'),
      chainId: devnet.chainId,
      networkRpcUrl: devnet.rpcUrl,
      rpcAddr,
      syncDelayMs: 0,
      validator: { accountId: 'v.near', keyPair: key },
    });
    const signedHeights = () => devnet.counters('v.near').blocksSignedByKey[key.getPublicKey().toString()] ?? 0;
    const first = startNeard(neard, dir.path('v'), rpcAddr);
    running.push(first);
    await waitUntil('a signature', () => signedHeights() >= 1);
    await first.stop('SIGKILL');
    const second = startNeard(neard, dir.path('v'), rpcAddr);
    running.push(second);
    await waitUntil('a signature after the restart', () => signedHeights() >= 2, 120_000);
    expect(devnet.counters('v.near').doubleSignHeights).toEqual([]);
  });
});
