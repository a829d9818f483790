/**
 * The devnet's JSON-RPC through the real near-api-js 7.2.0 client: response shapes the client parses, signed
 * transactions it builds, and the errors it maps from NEAR's error shapes.
 */
import {
  Account,
  JsonRpcProvider,
  KeyPair,
  KeyPairSigner,
  SignedTransaction,
  actions,
  baseDecode,
  createTransaction,
  type KeyPairString,
} from 'near-api-js';
import {
  AccessKeyDoesNotExistError,
  AccessKeyNotFoundActionError,
  AccountDoesNotExistError,
  InvalidNonceError,
  InvalidSignatureError,
  TransactionExpiredError,
} from 'near-api-js/rpc-errors';
import { ONE_NEAR, startNearDevnet, type NearDevnet } from '../../../../devnet/near/index.js';

describe('NEAR devnet JSON-RPC with near-api-js', () => {
  let devnet: NearDevnet;
  let provider: JsonRpcProvider;
  const alice = KeyPair.fromRandom('ed25519');
  const validatorKey = KeyPair.fromRandom('ed25519');

  beforeAll(async () => {
    devnet = await startNearDevnet({
      epochLength: 20,
      blockTimeMs: 100,
      transactionValidityPeriod: 30,
      accounts: [{ accountId: 'alice.near', amount: 50n * ONE_NEAR, publicKeys: [alice.getPublicKey().toString()] }],
      validators: [
        { accountId: 'v1.near', stakePublicKey: validatorKey.getPublicKey().toString(), stake: 100n * ONE_NEAR },
      ],
    });
    provider = new JsonRpcProvider({ url: devnet.rpcUrl }, { retries: 1 });
    await devnet.waitForHeight(5);
  });
  afterAll(() => devnet.stop());

  it('serves status, validators, protocol config and blocks in the shapes near-api-js reads', async () => {
    const status = await provider.viewNodeStatus();
    expect(status.chain_id).toBe('localnet');
    expect(status.sync_info.syncing).toBe(false);
    expect(status.sync_info.latest_block_height).toBeGreaterThanOrEqual(5);
    expect(typeof status.version.version).toBe('string');

    const validators = await provider.viewValidators();
    expect(validators.current_validators).toEqual([
      expect.objectContaining({
        account_id: 'v1.near',
        public_key: validatorKey.getPublicKey().toString(),
        stake: (100n * ONE_NEAR).toString(),
        is_slashed: false,
      }),
    ]);
    expect(validators.epoch_start_height).toBe(1);
    expect(validators.epoch_height).toBe(1);
    expect(validators.next_validators.map((v) => v.account_id)).toEqual(['v1.near']);

    const config = await provider.experimental_protocolConfig({ finality: 'final' });
    expect(config.epoch_length).toBe(20);

    const final = await provider.viewBlock({ finality: 'final' });
    const optimistic = await provider.viewBlock({ finality: 'optimistic' });
    expect(optimistic.header.height).toBeGreaterThanOrEqual(final.header.height + 2);
    const byHeight = await provider.viewBlock({ blockId: final.header.height });
    const byHash = await provider.viewBlock({ blockId: final.header.hash });
    expect(byHeight.header).toEqual(byHash.header);
    expect(byHash.header.prev_hash).toBe((await provider.viewBlock({ blockId: final.header.height - 1 })).header.hash);
    expect(BigInt(byHash.header.timestamp_nanosec)).toBeGreaterThan(0n);
    await expect(provider.viewBlock({ blockId: 10_000_000 })).rejects.toThrow(/block/i);
  });

  it('answers view_account and view_access_key, and maps missing ones to near-api-js errors', async () => {
    const account = await provider.viewAccount({ accountId: 'alice.near' });
    expect(account.amount).toBe(50n * ONE_NEAR);
    expect(account.locked).toBe(0n);
    const validator = await provider.viewAccount({ accountId: 'v1.near' });
    expect(validator.locked).toBe(100n * ONE_NEAR);

    const key = await provider.viewAccessKey({ accountId: 'alice.near', publicKey: alice.getPublicKey() });
    expect(key.permission).toBe('FullAccess');
    expect(key.nonce).toBe(0n);

    await expect(provider.viewAccount({ accountId: 'nobody.near' })).rejects.toBeInstanceOf(AccountDoesNotExistError);
    await expect(
      provider.viewAccessKey({ accountId: 'alice.near', publicKey: KeyPair.fromRandom('ed25519').getPublicKey() }),
    ).rejects.toBeInstanceOf(AccessKeyDoesNotExistError);
  });

  it('executes a signed transfer and advances the access key nonce', async () => {
    const account = new Account('alice.near', provider, new KeyPairSigner(alice));
    const before = await provider.viewAccessKey({ accountId: 'alice.near', publicKey: alice.getPublicKey() });
    const outcome = await account.transfer({ receiverId: 'v1.near', amount: ONE_NEAR });
    expect(outcome.status).toEqual({ SuccessValue: '' });
    expect((await provider.viewAccount({ accountId: 'alice.near' })).amount).toBe(49n * ONE_NEAR);
    const after = await provider.viewAccessKey({ accountId: 'alice.near', publicKey: alice.getPublicKey() });
    expect(after.nonce).toBe(before.nonce + 1n);
    const status = await provider.viewTransactionStatus({ txHash: outcome.transaction.hash, accountId: 'alice.near' });
    expect(status.transaction_outcome.id).toBe(outcome.transaction.hash);
  });

  it('reports the account state and key list that Account reads', async () => {
    const account = new Account('alice.near', provider, new KeyPairSigner(alice));
    const state = await account.getState();
    expect(state.balance.total).toBe((await provider.viewAccount({ accountId: 'alice.near' })).amount);
    const { keys } = await account.getAccessKeyList();
    expect(keys.map((k) => [k.public_key, k.access_key.permission])).toEqual([
      [alice.getPublicKey().toString(), 'FullAccess'],
    ]);
  });

  /** A raw JSON-RPC call, for the legacy methods near-api-js 7 no longer sends. */
  async function rpc<T>(method: string, params: unknown): Promise<{ result: T }> {
    const res = await fetch(devnet.rpcUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'raw', method, params }),
    });
    return (await res.json()) as { result: T };
  }

  it('accepts broadcast_tx_commit, broadcast_tx_async and send_tx with wait_until NONE', async () => {
    const base64 = async () => Buffer.from((await signedTransfer()).encode()).toString('base64');
    const committed = await rpc<{ status: unknown }>('broadcast_tx_commit', [await base64()]);
    expect(committed.result.status).toEqual({ SuccessValue: '' });

    const asyncTx = await signedTransfer();
    const hash = await rpc<string>('broadcast_tx_async', [Buffer.from(asyncTx.encode()).toString('base64')]);
    expect(typeof hash.result).toBe('string');
    const status = await provider.viewTransactionStatus({ txHash: hash.result, accountId: 'alice.near' });
    expect(status.transaction.hash).toBe(hash.result);

    const none = await rpc('send_tx', { signed_tx_base64: await base64(), wait_until: 'NONE' });
    expect(none.result).toEqual({ final_execution_status: 'NONE' });
  });

  /** Builds and signs a transfer by hand so each field can be made wrong on purpose. */
  async function signedTransfer(
    opts: { nonce?: bigint; blockHash?: Uint8Array; key?: KeyPair; deposit?: bigint } = {},
  ) {
    const key = opts.key ?? alice;
    const accessKey = await provider.viewAccessKey({ accountId: 'alice.near', publicKey: key.getPublicKey() });
    const block = await provider.viewBlock({ finality: 'final' });
    const tx = createTransaction(
      'alice.near',
      key.getPublicKey(),
      'v1.near',
      opts.nonce ?? accessKey.nonce + 1n,
      [actions.transfer(opts.deposit ?? 1n)],
      opts.blockHash ?? baseDecode(block.header.hash),
    );
    return (await new KeyPairSigner(key).signTransaction(tx)).signedTransaction;
  }

  it('rejects a tampered signature with InvalidSignature', async () => {
    const signed = await signedTransfer();
    signed.transaction.receiverId = 'alice.near';
    await expect(provider.sendTransaction(signed)).rejects.toBeInstanceOf(InvalidSignatureError);
  });

  it('rejects a reused nonce with InvalidNonce carrying both nonces', async () => {
    const current = await provider.viewAccessKey({ accountId: 'alice.near', publicKey: alice.getPublicKey() });
    // A different deposit: the same bytes again would be the same, already known transaction.
    const signed = await signedTransfer({ nonce: current.nonce, deposit: 2n });
    const error = await provider.sendTransaction(signed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidNonceError);
    expect((error as InvalidNonceError).accessKeyNonce).toBe(Number(current.nonce));
  });

  it('rejects an unknown or too old block hash as Expired', async () => {
    const unknown = await signedTransfer({ blockHash: new Uint8Array(32).fill(7) });
    await expect(provider.sendTransaction(unknown)).rejects.toBeInstanceOf(TransactionExpiredError);

    const old = await provider.viewBlock({ blockId: 2 });
    await devnet.waitForHeight(2 + 31);
    const expired = await signedTransfer({ blockHash: baseDecode(old.header.hash) });
    await expect(provider.sendTransaction(expired)).rejects.toBeInstanceOf(TransactionExpiredError);
  });

  it('rejects a key the account does not have, and returns a known transaction again without re-executing it', async () => {
    const stranger = KeyPair.fromRandom('ed25519');
    const foreign = createTransaction(
      'alice.near',
      stranger.getPublicKey(),
      'v1.near',
      1n,
      [actions.transfer(1n)],
      baseDecode((await provider.viewBlock({ finality: 'final' })).header.hash),
    );
    const { signedTransaction } = await new KeyPairSigner(stranger).signTransaction(foreign);
    await expect(provider.sendTransaction(signedTransaction)).rejects.toBeInstanceOf(AccessKeyNotFoundActionError);

    const ok = await signedTransfer();
    const bytes = ok.encode();
    const first = await provider.sendTransaction(SignedTransaction.decode(bytes));
    const balance = (await provider.viewAccount({ accountId: 'v1.near' })).amount;
    const again = await provider.sendTransaction(SignedTransaction.decode(bytes));
    expect(again.transaction.hash).toBe(first.transaction.hash);
    expect((await provider.viewAccount({ accountId: 'v1.near' })).amount).toBe(balance);
  });

  it('keeps hard failures as HTTP 200 with a NEAR error body', async () => {
    const res = await fetch(devnet.rpcUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'no_such_method', params: [] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({
      name: 'REQUEST_VALIDATION_ERROR',
      cause: { name: 'METHOD_NOT_FOUND', info: { method_name: 'no_such_method' } },
      code: -32601,
    });
    const secret: KeyPairString = alice.toString();
    expect(JSON.stringify(body)).not.toContain(secret.slice(8));
  });
});
