/**
 * pallet-transaction-payment, simplified to one flat fee per signed extrinsic: the pool refuses signers
 * who cannot pay it (InvalidTransaction::Payment), inclusion withdraws it before dispatch, and
 * `TransactionPaymentApi_query_info` reports it (what `tx.paymentInfo()` shows).
 */
import { u8aToHex } from '@polkadot/util';
import type { DispatchContext } from './chain.js';
import { accountInfo } from './common-calls.js';
import { dispatchInfo } from './events.js';
import type { Runtime } from './metadata.js';
import type { StorageOverlay } from './storage.js';

/** 0.01 DOT (10 decimals); the simulator does not model weight-based fees. */
export const FLAT_FEE = 100_000_000n;

export function canPayFee(storage: StorageOverlay, who: Uint8Array): boolean {
  return BigInt(accountInfo(storage, who)?.data.free ?? 0) >= FLAT_FEE;
}

/** Pre-dispatch: withdraws the fee, outside the call's transaction (a failed call still pays). */
export function withdrawFee(ctx: DispatchContext, who: Uint8Array): void {
  const info = accountInfo(ctx.storage, who);
  if (!info) return;
  const free = BigInt(info.data.free) - FLAT_FEE;
  ctx.storage.set('system', 'account', [who], { ...info, data: { ...info.data, free } });
  ctx.deposit('Balances', 'Withdraw', { who, amount: FLAT_FEE });
}

/** Post-dispatch: the fee is final. */
export function reportFeePaid(ctx: DispatchContext, who: Uint8Array): void {
  ctx.deposit('TransactionPayment', 'TransactionFeePaid', { who, actualFee: FLAT_FEE, tip: 0 });
}

/** `TransactionPaymentApi_query_info` result (RuntimeDispatchInfo) for any extrinsic. */
export function queryInfo(runtime: Runtime): string {
  const { weight, class: dispatchClass } = dispatchInfo();
  const info = runtime.registry.createType('RuntimeDispatchInfo', {
    weight,
    class: dispatchClass,
    partialFee: FLAT_FEE,
  });
  return u8aToHex(info.toU8a());
}
