/**
 * Epochs with NEAR's T+2 rule and the staking-pool contract, driven through near-api-js 7.2.0: a key change
 * proposed in epoch T is a proposal during T, the next validator key during T+1 and the current key from the
 * first block of T+2; the pool owner rotates the key with update_staking_key, anyone else gets the panic.
 */
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner, PublicKey, actions } from 'near-api-js';
import { ActorNoPermissionActionError, ContractExecutionError } from 'near-api-js/rpc-errors';
import { NO_PERFORMANCE_KICKOUTS, ONE_NEAR, startNearDevnet, type NearDevnet } from '../../../../devnet/near/index.js';

const EPOCH_LENGTH = 20;

describe('NEAR devnet epochs and staking', () => {
  let devnet: NearDevnet;
  let provider: JsonRpcProvider;
  const staker = KeyPair.fromRandom('ed25519');
  const stakerValidatorKey = KeyPair.fromRandom('ed25519');
  const owner = KeyPair.fromRandom('ed25519');
  const stranger = KeyPair.fromRandom('ed25519');
  const poolKey = KeyPair.fromRandom('ed25519');

  beforeAll(async () => {
    devnet = await startNearDevnet({
      epochLength: EPOCH_LENGTH,
      blockTimeMs: 100,
      // Its validators run no node for some epochs on purpose; nearcore would kick them out.
      ...NO_PERFORMANCE_KICKOUTS,
      accounts: [
        { accountId: 'owner.near', publicKeys: [owner.getPublicKey().toString()] },
        { accountId: 'stranger.near', publicKeys: [stranger.getPublicKey().toString()] },
      ],
      validators: [
        {
          accountId: 'staker.near',
          publicKeys: [staker.getPublicKey().toString()],
          stakePublicKey: stakerValidatorKey.getPublicKey().toString(),
          stake: 500n * ONE_NEAR,
        },
        {
          accountId: 'pool.poolv1.near',
          stakePublicKey: poolKey.getPublicKey().toString(),
          stake: 800n * ONE_NEAR,
          pool: { ownerId: 'owner.near' },
        },
      ],
    });
    provider = new JsonRpcProvider({ url: devnet.rpcUrl }, { retries: 1 });
  });
  afterAll(() => devnet.stop());

  const keyOf = (list: { account_id: string; public_key: string }[], accountId: string) =>
    list.find((v) => v.account_id === accountId)?.public_key;

  it('applies a Stake with a new key from the first block of T+2, not before', async () => {
    const newKey = KeyPair.fromRandom('ed25519').getPublicKey().toString();
    const oldKey = stakerValidatorKey.getPublicKey().toString();
    // Start early in an epoch so the transaction lands well inside it.
    await devnet.waitForEpochHeight(2);
    const account = new Account('staker.near', provider, new KeyPairSigner(staker));
    const outcome = await account.signAndSendTransaction({
      receiverId: 'staker.near',
      actions: [actions.stake(500n * ONE_NEAR, PublicKey.from(newKey))],
    });
    const inT = await provider.viewValidators({ blockId: outcome.transaction_outcome.block_hash });
    const T = inT.epoch_height;
    expect(keyOf(inT.current_proposals, 'staker.near')).toBe(newKey);
    expect(keyOf(inT.next_validators, 'staker.near')).toBe(oldKey);
    expect(keyOf(inT.current_validators, 'staker.near')).toBe(oldKey);

    // Read each epoch at a block inside it, so a slow machine cannot make the check land in a later epoch.
    const firstBlockOfT1 = await devnet.waitForEpochHeight(T + 1);
    const inT1 = await provider.viewValidators({ blockId: firstBlockOfT1.height });
    expect(inT1.epoch_height).toBe(T + 1);
    expect(keyOf(inT1.next_validators, 'staker.near')).toBe(newKey);
    expect(keyOf(inT1.current_validators, 'staker.near')).toBe(oldKey);

    const firstBlockOfT2 = await devnet.waitForEpochHeight(T + 2);
    const inT2 = await provider.viewValidators({ blockId: firstBlockOfT2.height });
    expect(keyOf(inT2.current_validators, 'staker.near')).toBe(newKey);
    // Exactly at the boundary: the last block of T+1 still has the old key, the first block of T+2 the new one.
    const lastOfT1 = await provider.viewValidators({ blockId: inT2.epoch_start_height - 1 });
    const firstOfT2 = await provider.viewValidators({ blockId: inT2.epoch_start_height });
    expect(keyOf(lastOfT1.current_validators, 'staker.near')).toBe(oldKey);
    expect(keyOf(firstOfT2.current_validators, 'staker.near')).toBe(newKey);

    // Without a new proposal the validator stays, re-proposed implicitly with its current key.
    const firstBlockOfT3 = await devnet.waitForEpochHeight(T + 3);
    const inT3 = await provider.viewValidators({ blockId: firstBlockOfT3.height });
    expect(inT3.current_proposals).toEqual([]);
    expect(keyOf(inT3.current_validators, 'staker.near')).toBe(newKey);
    expect(keyOf(inT3.next_validators, 'staker.near')).toBe(newKey);
  });

  it('deploys a staking pool at runtime whose stake is a proposal until T+2', async () => {
    const key = KeyPair.fromRandom('ed25519').getPublicKey().toString();
    devnet.createStakingPool({
      poolId: 'new.poolv1.near',
      ownerId: 'owner.near',
      stakePublicKey: key,
      stake: 30n * ONE_NEAR,
    });
    const now = await provider.viewValidators();
    expect(keyOf(now.current_proposals, 'new.poolv1.near')).toBe(key);
    expect(keyOf(now.current_validators, 'new.poolv1.near')).toBeUndefined();
    expect(await provider.callFunction({ contractId: 'new.poolv1.near', method: 'get_staking_key', args: {} })).toBe(
      key,
    );
    const inT2 = await devnet.waitForEpochHeight(now.epoch_height + 2);
    const later = await provider.viewValidators({ blockId: inT2.height });
    expect(keyOf(later.current_validators, 'new.poolv1.near')).toBe(key);
  });

  it('refuses a Stake action sent to another account (ActorNoPermission)', async () => {
    const account = new Account('stranger.near', provider, new KeyPairSigner(stranger));
    await expect(
      account.signAndSendTransaction({
        receiverId: 'staker.near',
        actions: [actions.stake(1n, stranger.getPublicKey())],
      }),
    ).rejects.toBeInstanceOf(ActorNoPermissionActionError);
  });

  it('lets the pool owner rotate the key with update_staking_key and restakes with it', async () => {
    const newKey = KeyPair.fromRandom('ed25519').getPublicKey().toString();
    expect(await provider.callFunction({ contractId: 'pool.poolv1.near', method: 'get_owner_id', args: {} })).toBe(
      'owner.near',
    );
    const ownerAccount = new Account('owner.near', provider, new KeyPairSigner(owner));
    const outcome = await ownerAccount.callFunctionRaw({
      contractId: 'pool.poolv1.near',
      methodName: 'update_staking_key',
      args: { stake_public_key: newKey },
      gas: 50_000_000_000_000n,
    });
    expect(outcome.status).toEqual({ SuccessValue: '' });
    expect(await provider.callFunction({ contractId: 'pool.poolv1.near', method: 'get_staking_key', args: {} })).toBe(
      newKey,
    );
    const validators = await provider.viewValidators({ blockId: outcome.transaction_outcome.block_hash });
    expect(validators.current_proposals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          account_id: 'pool.poolv1.near',
          public_key: newKey,
          stake: (800n * ONE_NEAR).toString(),
        }),
      ]),
    );
    expect(keyOf(validators.current_validators, 'pool.poolv1.near')).toBe(poolKey.getPublicKey().toString());
  });

  it('refuses update_staking_key from anyone but the owner with the contract panic', async () => {
    const before = await provider.callFunction({ contractId: 'pool.poolv1.near', method: 'get_staking_key', args: {} });
    const strangerAccount = new Account('stranger.near', provider, new KeyPairSigner(stranger));
    const error = await strangerAccount
      .callFunction({
        contractId: 'pool.poolv1.near',
        methodName: 'update_staking_key',
        args: { stake_public_key: KeyPair.fromRandom('ed25519').getPublicKey().toString() },
        gas: 50_000_000_000_000n,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractExecutionError);
    expect((error as Error).message).toBe('Smart contract panicked: Can only be called by the owner');
    expect(await provider.callFunction({ contractId: 'pool.poolv1.near', method: 'get_staking_key', args: {} })).toBe(
      before,
    );
  });

  it('panics on a malformed staking key and keeps the old one', async () => {
    const before = await provider.callFunction({ contractId: 'pool.poolv1.near', method: 'get_staking_key', args: {} });
    const ownerAccount = new Account('owner.near', provider, new KeyPairSigner(owner));
    await expect(
      ownerAccount.callFunction({
        contractId: 'pool.poolv1.near',
        methodName: 'update_staking_key',
        args: { stake_public_key: 'ed25519:notakey' },
      }),
    ).rejects.toThrow(/Smart contract panicked: Failed to deserialize input from JSON/);
    expect(await provider.callFunction({ contractId: 'pool.poolv1.near', method: 'get_staking_key', args: {} })).toBe(
      before,
    );
  });
});
