/**
 * src/near against the local NEAR network over its real JSON-RPC (near-api-js 7.2.0): node status, epoch
 * position with the block time observed from block timestamps, key standing through real epochs (T+2), and
 * idempotent staking with a new key through a pool owner and directly, refusing wrong owners before
 * anything is sent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyPair, KeyPairSigner } from 'near-api-js';
import { NO_PERFORMANCE_KICKOUTS, ONE_NEAR, startNearDevnet, type NearDevnet } from '../../../devnet/near/index.js';
import { epochInfo } from '../../../src/near/epoch.js';
import { NearError } from '../../../src/near/errors.js';
import { keyStanding } from '../../../src/near/key-standing.js';
import { nodeStatus } from '../../../src/near/node-status.js';
import { stakeWithKey, type SigningKey } from '../../../src/near/staking.js';

const POOL = 'pool.poolv1.near';
const DIRECT = 'direct.near';
const owner = KeyPair.fromRandom('ed25519');
const mallory = KeyPair.fromRandom('ed25519');
const directKey = KeyPair.fromRandom('ed25519');
const poolValidatorKey = KeyPair.fromRandom('ed25519').getPublicKey().toString();
const directValidatorKey = KeyPair.fromRandom('ed25519').getPublicKey().toString();
let devnet: NearDevnet;

beforeAll(async () => {
  devnet = await startNearDevnet({
    epochLength: 10,
    blockTimeMs: 100,
    // Its validators run no node for some epochs on purpose; nearcore would kick them out.
    ...NO_PERFORMANCE_KICKOUTS,
    accounts: [
      { accountId: 'owner.near', publicKeys: [owner.getPublicKey().toString()] },
      { accountId: 'mallory.near', publicKeys: [mallory.getPublicKey().toString()] },
    ],
    validators: [
      { accountId: POOL, stakePublicKey: poolValidatorKey, stake: 100n * ONE_NEAR, pool: { ownerId: 'owner.near' } },
      {
        accountId: DIRECT,
        stakePublicKey: directValidatorKey,
        stake: 50n * ONE_NEAR,
        publicKeys: [directKey.getPublicKey().toString()],
      },
    ],
  });
  await devnet.waitForHeight(25);
});

afterAll(async () => {
  await devnet?.stop();
});

function signing(key: KeyPair, accountId?: string): SigningKey {
  return {
    signer: new KeyPairSigner(key),
    publicKey: key.getPublicKey().toString(),
    ...(accountId ? { accountId } : {}),
  };
}

function nonceOf(accountId: string, key: KeyPair): bigint {
  return devnet.chain.accounts.get(accountId)!.keys.get(key.getPublicKey().toString())!.nonce;
}

async function nearError(promise: Promise<unknown>): Promise<NearError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NearError);
  return err as NearError;
}

it('reads a node status', async () => {
  const status = await nodeStatus(devnet.rpcUrl);
  expect(status).toMatchObject({ chainId: 'localnet', syncing: false, protocolVersion: 73 });
  expect(status.latestBlockHeight).toBeGreaterThanOrEqual(25);
  expect(status.validatorAccountId).toBeUndefined();
});

it('derives the block time from block timestamps and the boundary ETA from the blocks left', async () => {
  devnet.chain.stop();
  try {
    const info = await epochInfo(devnet.rpcUrl);
    const head = devnet.chain.head();
    const epoch = devnet.chain.epochs.current();
    expect(info).toMatchObject({
      epochHeight: epoch.index + 1,
      epochStartHeight: epoch.startHeight,
      epochLength: 10,
      headHeight: head.height,
    });
    const earlier = devnet.chain.blockAt(head.height - 20)!;
    const expected = Number((head.timestampNs - earlier.timestampNs) / 1_000n) / 1_000 / 20;
    expect(info.observedBlockTimeMs).toBeCloseTo(expected, 6);
    expect(info.nextBoundaryEtaMs).toBe(Math.round((epoch.startHeight + 10 - head.height) * expected));
  } finally {
    devnet.chain.start();
  }
});

it('refuses a public key that is not one, as bad input', async () => {
  const err = await nearError(keyStanding(devnet.rpcUrl, POOL, 'ed25519:not-a-key'));
  expect(err).toMatchObject({ type: 'BadInput', nonRetryable: true });
});

it('repeats a read whose connection the server dropped', async () => {
  // At the wire: a server that drops the first connection without answering, then relays to the devnet.
  let requests = 0;
  const relay = createServer((req, res) => {
    requests++;
    if (requests === 1) {
      req.socket.destroy();
      return;
    }
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      void fetch(devnet.rpcUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: Buffer.concat(body),
      })
        .then((r) => r.text())
        .then((text) => res.end(text));
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = relay.address() as AddressInfo;
    const status = await nodeStatus(`http://127.0.0.1:${port}`);
    expect(status.chainId).toBe('localnet');
    expect(requests).toBe(2);
  } finally {
    relay.closeAllConnections();
    await new Promise((resolve) => relay.close(resolve));
  }
});

it('reports a network that does not answer as retryable', async () => {
  const err = await nearError(nodeStatus('http://127.0.0.1:9'));
  expect(err).toMatchObject({ type: 'RpcUnavailable', nonRetryable: false });
  expect(err.message).toContain('http://127.0.0.1:9');
});

describe('staking through the pool owner', () => {
  const newKey = KeyPair.fromRandom('ed25519').getPublicKey().toString();

  it('refuses a pool id that is no pool (no account, or no contract) as a wrong input', async () => {
    for (const poolId of ['nosuch.near', DIRECT]) {
      const err = await nearError(
        stakeWithKey(
          { type: 'pool', rpcUrl: devnet.rpcUrl, poolId, ownerId: 'owner.near', newPublicKey: newKey },
          signing(owner, 'owner.near'),
        ),
      );
      expect(err).toMatchObject({ type: 'UnknownAccount', nonRetryable: true });
      expect(err.message).toContain(poolId);
    }
  });

  it('refuses a signer that is not the owner before sending anything', async () => {
    const before = nonceOf('mallory.near', mallory);
    const asOwner = await nearError(
      stakeWithKey(
        { type: 'pool', rpcUrl: devnet.rpcUrl, poolId: POOL, ownerId: 'mallory.near', newPublicKey: newKey },
        signing(mallory, 'mallory.near'),
      ),
    );
    expect(asOwner).toMatchObject({ type: 'WrongOwner', nonRetryable: true });
    expect(asOwner.message).toContain('owned by owner.near');

    const foreignKey = await nearError(
      stakeWithKey(
        { type: 'pool', rpcUrl: devnet.rpcUrl, poolId: POOL, ownerId: 'owner.near', newPublicKey: newKey },
        signing(mallory),
      ),
    );
    expect(foreignKey).toMatchObject({ type: 'SignerNotAuthorized', nonRetryable: true });
    expect(foreignKey.message).not.toContain(mallory.toString().slice(8));

    const namedOther = await nearError(
      stakeWithKey(
        { type: 'pool', rpcUrl: devnet.rpcUrl, poolId: POOL, ownerId: 'owner.near', newPublicKey: newKey },
        signing(mallory, 'mallory.near'),
      ),
    );
    expect(namedOther).toMatchObject({ type: 'WrongOwner', nonRetryable: true });

    expect(nonceOf('mallory.near', mallory)).toBe(before);
    expect(devnet.chain.accounts.get(POOL)!.pool!.stakePublicKey).toBe(poolValidatorKey);
    expect((await keyStanding(devnet.rpcUrl, POOL, newKey)).stage).toBe('absent');
  });

  it('updates the staking key once and records the transaction; a second call submits nothing', async () => {
    const request = {
      type: 'pool' as const,
      rpcUrl: devnet.rpcUrl,
      poolId: POOL,
      ownerId: 'owner.near',
      newPublicKey: newKey,
    };
    const first = await stakeWithKey(request, signing(owner, 'owner.near'));
    expect(first.alreadyStaked).toBe(false);
    expect(first.txHash).toMatch(/^[1-9A-HJ-NP-Za-km-z]{43,44}$/);
    expect(devnet.chain.accounts.get(POOL)!.pool!.stakePublicKey).toBe(newKey);
    expect(await keyStanding(devnet.rpcUrl, POOL, newKey)).toMatchObject({ stage: 'proposed', intendedKey: newKey });
    const nonce = nonceOf('owner.near', owner);

    const second = await stakeWithKey(request, signing(owner, 'owner.near'));
    expect(second).toEqual({ alreadyStaked: true });
    expect(nonceOf('owner.near', owner)).toBe(nonce);
  });
});

describe('staking directly', () => {
  const newKey = KeyPair.fromRandom('ed25519').getPublicKey().toString();
  const request = { type: 'direct' as const, accountId: DIRECT, newPublicKey: newKey };

  it('moves the key from proposal to next to current over real epochs, staking it only once', async () => {
    const req = { ...request, rpcUrl: devnet.rpcUrl };
    const first = await stakeWithKey(req, signing(directKey, DIRECT));
    expect(first.alreadyStaked).toBe(false);
    expect(first.txHash).toBeDefined();
    const nonce = nonceOf(DIRECT, directKey);

    const proposed = await keyStanding(devnet.rpcUrl, DIRECT, newKey);
    expect(proposed).toMatchObject({ stage: 'proposed', currentKey: directValidatorKey, intendedKey: newKey });
    expect(await stakeWithKey(req, signing(directKey, DIRECT))).toEqual({ alreadyStaked: true });

    await devnet.waitForEpochHeight(proposed.epochHeight + 1);
    const next = await keyStanding(devnet.rpcUrl, DIRECT, newKey);
    expect(next).toMatchObject({
      stage: 'next',
      epochHeight: proposed.epochHeight + 1,
      currentKey: directValidatorKey,
    });
    expect(await stakeWithKey(req, signing(directKey, DIRECT))).toEqual({ alreadyStaked: true });

    await devnet.waitForEpochHeight(proposed.epochHeight + 2);
    const current = await keyStanding(devnet.rpcUrl, DIRECT, newKey);
    expect(current).toMatchObject({ stage: 'current', epochHeight: proposed.epochHeight + 2, currentKey: newKey });
    expect((await keyStanding(devnet.rpcUrl, DIRECT, directValidatorKey)).stage).toBe('absent');
    expect(await stakeWithKey(req, signing(directKey, DIRECT))).toEqual({ alreadyStaked: true });
    expect(nonceOf(DIRECT, directKey)).toBe(nonce);
  }, 60_000);

  it('refuses a key that is not a key of the staking account', async () => {
    const err = await nearError(
      stakeWithKey(
        { ...request, rpcUrl: devnet.rpcUrl, newPublicKey: KeyPair.fromRandom('ed25519').getPublicKey().toString() },
        signing(mallory),
      ),
    );
    expect(err).toMatchObject({ type: 'SignerNotAuthorized', nonRetryable: true });
  });
});
