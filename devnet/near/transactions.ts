/**
 * Signed transactions as nearcore's runtime sees them: borsh decoding (near-api-js's own schema), ed25519
 * verification over sha256(borsh(Transaction)), the validity checks that refuse a transaction outright
 * (INVALID_TRANSACTION: expired block hash, bad signature, unknown signer or key, nonce, key permission), and
 * execution of the actions into a FinalExecutionOutcome whose failures near-api-js throws as typed errors.
 *
 * Simplifications: no gas or fees are charged; a transaction and its receipts execute at once in the head
 * block; only Transfer, Stake, FunctionCall (staking pools), AddKey and DeleteKey are simulated.
 */
import { PublicKey, SignedTransaction, baseEncode, encodeTransaction, type Transaction } from 'near-api-js';
import { NONCE_RANGE_MULTIPLIER, type AccessKey, type AccountState, type NearChain } from './chain.js';
import { base58Sha256, sha256 } from './hashing.js';
import { internalError, invalidTransaction, parseError } from './rpc-errors.js';
import { ContractPanic, MethodNotFound, callPool } from './staking-pool.js';

type DecodedAction = Transaction['actions'][number];

type ExecutionStatus = { SuccessValue: string } | { SuccessReceiptId: string } | { Failure: unknown };

export interface FinalExecutionOutcome {
  status: { SuccessValue: string } | { Failure: unknown };
  transaction: Record<string, unknown>;
  transaction_outcome: OutcomeWithId;
  receipts_outcome: OutcomeWithId[];
  final_execution_status: string;
}

interface OutcomeWithId {
  id: string;
  block_hash: string;
  proof: unknown[];
  outcome: {
    executor_id: string;
    gas_burnt: number;
    logs: string[];
    receipt_ids: string[];
    status: ExecutionStatus;
    tokens_burnt: string;
    metadata: { version: number; gas_profile: null };
  };
}

/** An action failure: `{ ActionError: { index, kind } }` in the outcome. */
class ActionFailure extends Error {
  constructor(readonly kind: unknown) {
    super('action failed');
  }
}

const SIMULATED_ACTIONS = ['transfer', 'stake', 'functionCall', 'addKey', 'deleteKey'];
/** Gas figures are cosmetic: the devnet charges nothing. */
const GAS_PER_RECEIPT = 2_428_000_000_000;

export function decodeSignedTransaction(base64: string): SignedTransaction {
  try {
    // A plain Uint8Array copy: Buffers fail @scure/base's instanceof check under jest's module realm.
    return SignedTransaction.decode(Uint8Array.from(Buffer.from(base64, 'base64')));
  } catch (err) {
    throw parseError(`Failed to decode transaction: ${(err as Error).message}`);
  }
}

export function transactionHash(stx: SignedTransaction): string {
  return baseEncode(sha256(encodeTransaction(stx.transaction)));
}

/** Validates and executes a signed transaction; refusals throw NearRpcError, action failures are in the outcome. */
export function executeTransaction(chain: NearChain, stx: SignedTransaction): FinalExecutionOutcome {
  const tx = stx.transaction;
  const hashBytes = sha256(encodeTransaction(tx));
  const hash = baseEncode(hashBytes);
  const head = chain.head();

  const base = chain.blockByHash(baseEncode(Uint8Array.from(tx.blockHash)));
  if (!base || head.height > base.height + chain.options.transactionValidityPeriod) {
    throw invalidTransaction('Expired');
  }
  const signerKey = PublicKey.from(tx.publicKey);
  const signature = (stx.signature as { ed25519Signature?: { data: number[] | Uint8Array } }).ed25519Signature;
  if (!signature || !verifies(signerKey, hashBytes, Uint8Array.from(signature.data))) {
    throw invalidTransaction('InvalidSignature');
  }
  const signer = chain.accounts.get(tx.signerId);
  if (!signer) throw invalidTransaction({ SignerDoesNotExist: { signer_id: tx.signerId } });
  const publicKey = signerKey.toString();
  const accessKey = signer.keys.get(publicKey);
  if (!accessKey) {
    throw invalidTransaction({
      InvalidAccessKeyError: { AccessKeyNotFound: { account_id: tx.signerId, public_key: publicKey } },
    });
  }
  if (tx.nonce <= accessKey.nonce) {
    throw invalidTransaction({ InvalidNonce: { ak_nonce: Number(accessKey.nonce), tx_nonce: Number(tx.nonce) } });
  }
  const upperBound = BigInt(head.height + 1) * NONCE_RANGE_MULTIPLIER;
  if (tx.nonce >= upperBound) {
    throw invalidTransaction({ NonceTooLarge: { tx_nonce: Number(tx.nonce), upper_bound: Number(upperBound) } });
  }
  checkPermission(accessKey, tx);
  for (const action of tx.actions) {
    const name = actionName(action);
    if (!SIMULATED_ACTIONS.includes(name)) throw internalError(`the devnet does not simulate ${name} actions`);
  }
  const cost = tx.actions.reduce((sum, a) => sum + (a.transfer?.deposit ?? a.functionCall?.deposit ?? 0n), 0n);
  if (cost > signer.amount) {
    throw invalidTransaction({
      NotEnoughBalance: { signer_id: tx.signerId, balance: signer.amount.toString(), cost: cost.toString() },
    });
  }

  // The transaction is valid: it is included, its nonce is used and its deposits leave the signer.
  accessKey.nonce = tx.nonce;
  signer.amount -= cost;
  const receiptId = base58Sha256(hashBytes, 'receipt');
  const status = applyReceipt(chain, tx, cost);
  const outcome: FinalExecutionOutcome = {
    status,
    transaction: transactionView(stx, hash),
    transaction_outcome: outcomeView(hash, head.hash, tx.signerId, [receiptId], { SuccessReceiptId: receiptId }),
    receipts_outcome: [outcomeView(receiptId, head.hash, tx.receiverId, [], status)],
    final_execution_status: 'FINAL',
  };
  return outcome;
}

/** Runs the actions of the receipt atomically: on a failure every change of the receipt is undone. */
function applyReceipt(
  chain: NearChain,
  tx: Transaction,
  deposits: bigint,
): { SuccessValue: string } | { Failure: unknown } {
  const touched = [tx.signerId, tx.receiverId];
  const saved = new Map(touched.map((id) => [id, cloneAccount(chain.accounts.get(id))]));
  const proposals: { accountId: string; publicKey: string; stake: bigint }[] = [];
  let lastValue: Uint8Array = new Uint8Array();
  let index = 0;
  try {
    const receiver = chain.accounts.get(tx.receiverId);
    if (!receiver) throw new ActionFailure({ AccountDoesNotExist: { account_id: tx.receiverId } });
    for (; index < tx.actions.length; index++) {
      lastValue = applyAction(chain, tx, receiver, tx.actions[index]!, proposals);
    }
    for (const p of proposals) chain.epochs.propose(p);
    return { SuccessValue: Buffer.from(lastValue).toString('base64') };
  } catch (err) {
    if (!(err instanceof ActionFailure)) throw err;
    for (const [id, account] of saved) {
      if (account) chain.accounts.set(id, account);
    }
    // The deposits come back to the signer as a refund receipt.
    const signer = chain.accounts.get(tx.signerId);
    if (signer) signer.amount += deposits;
    return { Failure: { ActionError: { index, kind: err.kind } } };
  }
}

function applyAction(
  chain: NearChain,
  tx: Transaction,
  receiver: AccountState,
  action: DecodedAction,
  proposals: { accountId: string; publicKey: string; stake: bigint }[],
): Uint8Array {
  const own = () => {
    if (tx.receiverId !== tx.signerId) {
      throw new ActionFailure({ ActorNoPermission: { account_id: tx.receiverId, actor_id: tx.signerId } });
    }
  };
  if (action.transfer) {
    receiver.amount += action.transfer.deposit;
  } else if (action.stake) {
    own();
    const key = PublicKey.from(action.stake.publicKey).toString();
    stake(tx.receiverId, receiver, action.stake.stake, key, proposals);
  } else if (action.functionCall) {
    const call = action.functionCall;
    receiver.amount += call.deposit;
    if (!receiver.pool) {
      throw new ActionFailure({
        FunctionCallError: { CompilationError: { CodeDoesNotExist: { account_id: tx.receiverId } } },
      });
    }
    try {
      const result = callPool(receiver.pool, {
        predecessorId: tx.signerId,
        deposit: call.deposit,
        method: call.methodName,
        args: Uint8Array.from(call.args),
      });
      // internal_restake: the pool stakes from its own account (a Stake action receipt of the pool).
      if (result.stake) stake(tx.receiverId, receiver, result.stake.amount, result.stake.publicKey, proposals);
      return result.result;
    } catch (err) {
      if (err instanceof ContractPanic) {
        throw new ActionFailure({ FunctionCallError: { ExecutionError: `Smart contract panicked: ${err.message}` } });
      }
      if (err instanceof MethodNotFound) {
        throw new ActionFailure({ FunctionCallError: { MethodResolveError: 'MethodNotFound' } });
      }
      throw err;
    }
  } else if (action.addKey) {
    own();
    const key = PublicKey.from(action.addKey.publicKey).toString();
    if (receiver.keys.has(key)) {
      throw new ActionFailure({ AddKeyAlreadyExists: { account_id: tx.receiverId, public_key: key } });
    }
    const nonce = BigInt(Math.max(0, chain.head().height - 1)) * NONCE_RANGE_MULTIPLIER;
    const fc = action.addKey.accessKey.permission.functionCall;
    receiver.keys.set(key, {
      nonce,
      permission: fc
        ? {
            FunctionCall: {
              allowance: fc.allowance === undefined || fc.allowance === null ? null : fc.allowance.toString(),
              receiver_id: fc.receiverId,
              method_names: fc.methodNames,
            },
          }
        : 'FullAccess',
    });
  } else if (action.deleteKey) {
    own();
    const key = PublicKey.from(action.deleteKey.publicKey).toString();
    if (!receiver.keys.delete(key)) {
      throw new ActionFailure({ DeleteKeyDoesNotExist: { account_id: tx.receiverId, public_key: key } });
    }
  }
  return new Uint8Array();
}

/** nearcore's action_stake: more stake locks at once, a proposal (or a new key) takes effect at T+2. */
function stake(
  accountId: string,
  account: AccountState,
  amount: bigint,
  publicKey: string,
  proposals: { accountId: string; publicKey: string; stake: bigint }[],
): void {
  if (amount > account.amount + account.locked) {
    throw new ActionFailure({
      TriesToStake: {
        account_id: accountId,
        stake: amount.toString(),
        locked: account.locked.toString(),
        balance: account.amount.toString(),
      },
    });
  }
  if (amount === 0n && account.locked === 0n) throw new ActionFailure({ TriesToUnstake: { account_id: accountId } });
  if (amount > account.locked) {
    account.amount -= amount - account.locked;
    account.locked = amount;
  }
  proposals.push({ accountId, publicKey, stake: amount });
}

/** A function-call access key may only send one FunctionCall without deposit to its receiver and methods. */
function checkPermission(key: AccessKey, tx: Transaction): void {
  if (key.permission === 'FullAccess') return;
  const fail = (error: unknown) => invalidTransaction({ InvalidAccessKeyError: error });
  const permission = key.permission.FunctionCall;
  const call = tx.actions.length === 1 ? tx.actions[0]!.functionCall : undefined;
  if (!call) throw fail('RequiresFullAccess');
  if (call.deposit > 0n) throw fail('DepositWithFunctionCall');
  if (tx.receiverId !== permission.receiver_id) {
    throw fail({ ReceiverMismatch: { tx_receiver: tx.receiverId, ak_receiver: permission.receiver_id } });
  }
  if (permission.method_names.length > 0 && !permission.method_names.includes(call.methodName)) {
    throw fail({ MethodNameMismatch: { method_name: call.methodName } });
  }
}

function verifies(key: PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return key.verify(message, signature);
  } catch {
    return false;
  }
}

function actionName(action: DecodedAction): string {
  return Object.keys(action).find((k) => (action as unknown as Record<string, unknown>)[k] !== undefined) ?? 'unknown';
}

function cloneAccount(account: AccountState | undefined): AccountState | undefined {
  return account ? structuredClone(account) : undefined;
}

function transactionView(stx: SignedTransaction, hash: string): Record<string, unknown> {
  const tx = stx.transaction;
  const signature = (stx.signature as { ed25519Signature?: { data: number[] | Uint8Array } }).ed25519Signature;
  return {
    signer_id: tx.signerId,
    public_key: PublicKey.from(tx.publicKey).toString(),
    nonce: Number(tx.nonce),
    receiver_id: tx.receiverId,
    actions: tx.actions.map(actionView),
    priority_fee: 0,
    signature: `ed25519:${baseEncode(Uint8Array.from(signature?.data ?? []))}`,
    hash,
  };
}

function actionView(action: DecodedAction): unknown {
  if (action.transfer) return { Transfer: { deposit: action.transfer.deposit.toString() } };
  if (action.stake) {
    return {
      Stake: { stake: action.stake.stake.toString(), public_key: PublicKey.from(action.stake.publicKey).toString() },
    };
  }
  if (action.functionCall) {
    const c = action.functionCall;
    return {
      FunctionCall: {
        method_name: c.methodName,
        args: Buffer.from(c.args).toString('base64'),
        gas: Number(c.gas),
        deposit: c.deposit.toString(),
      },
    };
  }
  if (action.addKey) return { AddKey: { public_key: PublicKey.from(action.addKey.publicKey).toString() } };
  if (action.deleteKey) return { DeleteKey: { public_key: PublicKey.from(action.deleteKey.publicKey).toString() } };
  return actionName(action);
}

function outcomeView(
  id: string,
  blockHash: string,
  executorId: string,
  receiptIds: string[],
  status: ExecutionStatus,
): OutcomeWithId {
  return {
    id,
    block_hash: blockHash,
    proof: [],
    outcome: {
      executor_id: executorId,
      gas_burnt: GAS_PER_RECEIPT,
      logs: [],
      receipt_ids: receiptIds,
      status,
      tokens_burnt: '0',
      metadata: { version: 3, gas_profile: null },
    },
  };
}
