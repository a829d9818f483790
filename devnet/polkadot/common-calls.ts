/** Calls both simulated runtimes share: funded genesis accounts, `system.remark`, balance transfers. */
import type { Call } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import type { DispatchContext, DispatchResult } from './chain.js';
import { moduleError } from './events.js';
import type { StorageOverlay } from './storage.js';

export const GENESIS_BALANCE = 1_000_000n * 10n ** 12n;

export interface AccountInfoJson {
  nonce: number;
  consumers: number;
  providers: number;
  sufficients: number;
  data: { free: string | number; reserved: string | number; frozen: string | number; flags: string | number };
}

export function fundAccount(storage: StorageOverlay, who: Uint8Array, free: bigint = GENESIS_BALANCE): void {
  storage.set('system', 'account', [who], {
    nonce: 0,
    consumers: 0,
    providers: 1,
    sufficients: 0,
    data: { free, reserved: 0, frozen: 0, flags: '0x80000000000000000000000000000000' },
  });
}

export function accountExists(storage: StorageOverlay, who: Uint8Array): boolean {
  return storage.get('system', 'account', who) !== undefined;
}

export function accountInfo(storage: StorageOverlay, who: Uint8Array): AccountInfoJson | undefined {
  return storage.get('system', 'account', who)?.toJSON() as AccountInfoJson | undefined;
}

/** The account of a `MultiAddress` argument, if it is the plain `Id` form (the only one these runtimes resolve). */
export function accountOfAddress(
  address: (Codec & { type?: string; value?: Codec }) | undefined,
): Uint8Array | undefined {
  return address?.type === 'Id' && address.value ? address.value.toU8a() : undefined;
}

export const COMMON_CALLS = new Set(['system.remark', 'balances.transferKeepAlive', 'balances.transferAllowDeath']);

export function callName(call: Call): string {
  return `${call.section}.${call.method}`;
}

/** Dispatches the shared calls; returns undefined for any other call. */
export function dispatchCommon(ctx: DispatchContext, origin: Uint8Array, call: Call): DispatchResult | undefined {
  switch (callName(call)) {
    case 'system.remark':
      return { ok: true };
    case 'balances.transferKeepAlive':
    case 'balances.transferAllowDeath': {
      const dest = accountOfAddress(call.args[0]);
      const amount = (call.args[1] as Codec & { toBigInt(): bigint }).toBigInt();
      if (!dest) return { ok: false, error: moduleError(ctx.runtime, 'System', 'CallFiltered') };
      const from = accountInfo(ctx.storage, origin);
      const free = BigInt(from?.data.free ?? 0);
      if (!from || free < amount)
        return { ok: false, error: moduleError(ctx.runtime, 'Balances', 'InsufficientBalance') };
      ctx.storage.set('system', 'account', [origin], { ...from, data: { ...from.data, free: free - amount } });
      const to = accountInfo(ctx.storage, dest);
      if (to) {
        ctx.storage.set('system', 'account', [dest], {
          ...to,
          data: { ...to.data, free: BigInt(to.data.free) + amount },
        });
      } else {
        fundAccount(ctx.storage, dest, amount);
      }
      ctx.deposit('Balances', 'Transfer', { from: origin, to: dest, amount });
      return { ok: true };
    }
    default:
      return undefined;
  }
}
