/**
 * The NEAR devnet punishes what nearcore punishes: at the end of an epoch a validator that produced too few of
 * its expected blocks (chunks) is kicked out with NotEnoughBlocks (NotEnoughChunks), and since nearcore 2.7 one
 * that still votes for an older protocol version than the one the network adopts is kicked out with
 * ProtocolVersionTooOld. Read over the devnet's JSON-RPC in nearcore's shapes: `prev_epoch_kickout` of the next
 * epoch names it with the reason, and it is in no later validator set. The validators "with a node" sign here
 * from the test process, over the same signature check the simulated neard processes go through.
 */
import { KeyPair, baseEncode } from 'near-api-js';
import { ONE_NEAR, startNearDevnet, type Block, type NearDevnet } from '../../../../devnet/near/index.js';
import { decideEpochEnd, NEARCORE_KICKOUT_DEFAULTS } from '../../../../devnet/near/kickouts.js';
import { blockApprovalPayload, chunkPayload } from '../../../../devnet/near/node-wire.js';
import { advanceObserved, describeObserved } from '../../../../src/api/validator-counters.js';
import { nearValidatorCounters } from '../../../../src/near/validator-counters.js';

const EPOCH_LENGTH = 10;

async function rpc<T = Record<string, unknown>>(devnet: NearDevnet, method: string, params: unknown): Promise<T> {
  const response = await fetch(devnet.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 'test', method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: unknown };
  if (!body.result) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/** Signs every height as a running validator node would, voting for `protocolVersion`. */
function signEveryHeight(devnet: NearDevnet, accountId: string, key: KeyPair, protocolVersion: number): () => void {
  const onBlock = (block: Block) => {
    const verdict = devnet.chain.acceptSignature({
      type: 'sign',
      height: block.height,
      blockHash: block.hash,
      accountId,
      publicKey: key.getPublicKey().toString(),
      blockSignature: baseEncode(key.sign(blockApprovalPayload(block.hash)).signature),
      chunkSignature: baseEncode(key.sign(chunkPayload(block.hash)).signature),
      protocolVersion,
      instanceId: `test-${accountId}`,
      nodePublicKey: `ed25519:test-${accountId}`,
    });
    if (!verdict.accepted) throw new Error(verdict.reason);
  };
  devnet.chain.on('block', onBlock);
  return () => devnet.chain.off('block', onBlock);
}

type ValidatorsView = {
  epoch_height: number;
  current_validators: { account_id: string; num_expected_blocks: number; num_produced_blocks: number }[];
  next_validators: { account_id: string }[];
  prev_epoch_kickout: { account_id: string; reason: unknown }[];
};
const names = (list: { account_id: string }[]) => list.map((v) => v.account_id).sort();

describe('NEAR devnet kickouts', () => {
  let devnet: NearDevnet | undefined;
  afterEach(async () => {
    await devnet?.stop();
    devnet = undefined;
  });

  it('kicks out a validator that produced too few of its expected blocks, with the counts', async () => {
    const upKey = KeyPair.fromRandom('ed25519');
    devnet = await startNearDevnet({
      epochLength: EPOCH_LENGTH,
      blockTimeMs: 50,
      signatureGraceMs: 100,
      validators: [
        { accountId: 'up.near', stakePublicKey: upKey.getPublicKey().toString(), stake: 100n * ONE_NEAR },
        {
          accountId: 'down.near',
          stakePublicKey: KeyPair.fromRandom('ed25519').getPublicKey().toString(),
          stake: 100n * ONE_NEAR,
        },
      ],
      devnetValidators: [{ accountId: 'other.near', stake: 100n * ONE_NEAR }],
    });
    const stop = signEveryHeight(devnet, 'up.near', upKey, 73);
    try {
      const config = await rpc(devnet, 'EXPERIMENTAL_protocol_config', { finality: 'final' });
      expect(config).toMatchObject({ block_producer_kickout_threshold: 90, chunk_producer_kickout_threshold: 90 });

      // A few blocks into epoch_height 2: the first epoch's heights are settled and its kickouts decided.
      const second = await devnet.waitForEpochHeight(2);
      await devnet.waitForHeight(second.height + 5);
      const first = await rpc<ValidatorsView>(devnet, 'validators', { block_id: second.height - 1 });
      const expected = first.current_validators.find((v) => v.account_id === 'down.near')!.num_expected_blocks;
      expect(expected).toBeGreaterThan(0);
      const now = await rpc<ValidatorsView>(devnet, 'validators', [null]);
      expect(now.epoch_height).toBe(2);
      // nearcore's JSON: the reason is serde's externally tagged enum.
      expect(now.prev_epoch_kickout).toEqual([
        { account_id: 'down.near', reason: { NotEnoughBlocks: { produced: 0, expected } } },
      ]);
      expect(names(now.next_validators)).toEqual(['other.near', 'up.near']);
      // What a run's looks read of it (src/near/validator-counters.ts), and what its status then says.
      const reading = await nearValidatorCounters(devnet.rpcUrl, 'down.near', undefined, now as never);
      expect(reading?.kickedOut).toEqual({ period: 1, reason: 'NotEnoughBlocks' });
      expect(describeObserved(advanceObserved(undefined, reading!, 'now').state)).toContain(
        'KICKED OUT at the end of epoch 1 (NotEnoughBlocks)',
      );
      expect(
        (await nearValidatorCounters(devnet.rpcUrl, 'up.near', undefined, now as never))?.kickedOut,
      ).toBeUndefined();

      await devnet.waitForEpochHeight(3);
      const third = await rpc<ValidatorsView>(devnet, 'validators', [null]);
      expect(names(third.current_validators)).toEqual(['other.near', 'up.near']);
    } finally {
      stop();
    }
  });

  it('kicks out a validator still voting for an older protocol version when the network adopts a newer one', async () => {
    const oldKey = KeyPair.fromRandom('ed25519');
    devnet = await startNearDevnet({
      epochLength: EPOCH_LENGTH,
      blockTimeMs: 50,
      signatureGraceMs: 100,
      protocolVersion: 73,
      // The rest of the network (over 4/5 of the stake) runs binaries of protocol 74.
      devnetProtocolVersion: 74,
      validators: [{ accountId: 'old.near', stakePublicKey: oldKey.getPublicKey().toString(), stake: 100n * ONE_NEAR }],
      devnetValidators: [{ accountId: 'other.near', stake: 500n * ONE_NEAR }],
    });
    const stop = signEveryHeight(devnet, 'old.near', oldKey, 73);
    try {
      const second = await devnet.waitForEpochHeight(2);
      await devnet.waitForHeight(second.height + 5);
      const now = await rpc<ValidatorsView>(devnet, 'validators', [null]);
      expect(now.prev_epoch_kickout).toEqual([
        { account_id: 'old.near', reason: { ProtocolVersionTooOld: { version: 73, network_version: 74 } } },
      ]);
      expect(names(now.next_validators)).toEqual(['other.near']);
      // It produced its blocks: the kickout is for the version alone.
      const mine = now.current_validators.find((v) => v.account_id === 'old.near')!;
      expect(mine.num_produced_blocks).toBe(mine.num_expected_blocks);
      expect((await rpc(devnet, 'status', [])).protocol_version).toBe(73);

      // The epoch after next runs the voted version, without the old validator.
      const third = await devnet.waitForEpochHeight(3);
      expect((await rpc(devnet, 'status', [])).protocol_version).toBe(74);
      expect(await rpc(devnet, 'EXPERIMENTAL_protocol_config', { block_id: third.height })).toMatchObject({
        protocol_version: 74,
      });
      expect(names((await rpc<ValidatorsView>(devnet, 'validators', [null])).current_validators)).toEqual([
        'other.near',
      ]);
    } finally {
      stop();
    }
  });
});

describe('decideEpochEnd (nearcore thresholds)', () => {
  const validators = [
    { accountId: 'a', publicKey: 'ka', stake: 100n },
    { accountId: 'b', publicKey: 'kb', stake: 100n },
  ];
  const decide = (
    stats: Record<string, [blocks: number, chunks: number, expected: number]>,
    config = NEARCORE_KICKOUT_DEFAULTS,
  ) =>
    decideEpochEnd(
      {
        validators,
        protocolVersion: 73,
        votes: new Map(),
        stats: (id) => {
          const [producedBlocks, producedChunks, expected] = stats[id] ?? [0, 0, 0];
          return { producedBlocks, producedChunks, expectedBlocks: expected, expectedChunks: expected };
        },
      },
      config,
    ).kickouts;

  it('keeps a validator at the threshold and kicks out one below it, blocks before chunks', () => {
    expect(decide({ a: [9, 9, 10], b: [10, 10, 10] })).toEqual([]);
    expect(decide({ a: [8, 8, 10], b: [10, 10, 10] })).toEqual([
      { account_id: 'a', reason: { NotEnoughBlocks: { produced: 8, expected: 10 } } },
    ]);
    expect(decide({ a: [10, 8, 10], b: [10, 10, 10] })).toEqual([
      { account_id: 'a', reason: { NotEnoughChunks: { produced: 8, expected: 10 } } },
    ]);
    // Mainnet's genesis (80) keeps what the default (90) kicks out; 0 never kicks out; nothing expected, nothing owed.
    const mainnet = {
      ...NEARCORE_KICKOUT_DEFAULTS,
      blockProducerKickoutThreshold: 80,
      chunkProducerKickoutThreshold: 80,
    };
    expect(decide({ a: [8, 8, 10], b: [10, 10, 10] }, mainnet)).toEqual([]);
    const never = { ...NEARCORE_KICKOUT_DEFAULTS, blockProducerKickoutThreshold: 0, chunkProducerKickoutThreshold: 0 };
    expect(decide({ a: [0, 0, 10], b: [0, 0, 10] }, never)).toEqual([]);
    expect(decide({ a: [0, 0, 0], b: [10, 10, 10] })).toEqual([]);
  });
});
