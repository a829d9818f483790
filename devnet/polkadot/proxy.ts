/**
 * pallet-proxy's `proxy(real, force_proxy_type, call)`: the signer must be a registered, non-delayed
 * delegate of `real`; the inner call runs as `real` if the proxy type's InstanceFilter allows it, and its
 * outcome is reported in `ProxyExecuted` while the outer extrinsic succeeds.
 */
import type { Call } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { u8aEq } from '@polkadot/util';
import type { DispatchContext, DispatchResult } from './chain.js';
import { accountOfAddress } from './common-calls.js';
import { moduleError } from './events.js';

export interface ProxyDefinition {
  delegate: Uint8Array;
  proxyType: string;
  delay: number;
}

/** Whether a proxy type may make a call (the runtime's `InstanceFilter<RuntimeCall> for ProxyType`). */
export type ProxyFilter = (proxyType: string, call: Call) => boolean;

interface ProxyDefinitionCodec extends Codec {
  delegate: Codec;
  proxyType: Codec & { type: string };
  delay: Codec & { toNumber(): number };
}

export function readProxies(ctx: DispatchContext, real: Uint8Array): ProxyDefinition[] {
  const stored = ctx.storage.get<Codec & [ProxyDefinitionCodec[], Codec]>('proxy', 'proxies', real);
  if (!stored) return [];
  return stored[0].map((d) => ({
    delegate: d.delegate.toU8a(),
    proxyType: d.proxyType.type,
    delay: d.delay.toNumber(),
  }));
}

/** Genesis value of Proxy.Proxies for one real account. */
export function proxiesValue(definitions: ProxyDefinition[]) {
  return [definitions.map((d) => ({ delegate: d.delegate, proxyType: d.proxyType, delay: d.delay })), 0];
}

export function callFiltered(ctx: DispatchContext): DispatchResult {
  return { ok: false, error: moduleError(ctx.runtime, 'System', 'CallFiltered') };
}

export function dispatchProxy(
  ctx: DispatchContext,
  who: Uint8Array,
  call: Call,
  filter: ProxyFilter,
  dispatchAs: (ctx: DispatchContext, origin: Uint8Array, call: Call) => DispatchResult,
): DispatchResult {
  const [realArg, forceArg, innerArg] = call.args as unknown as [
    Codec,
    Codec & { isSome: boolean; unwrap(): Codec & { type: string } },
    Call,
  ];
  const real = accountOfAddress(realArg);
  if (!real) return { ok: false, error: moduleError(ctx.runtime, 'Proxy', 'NotProxy') };
  const force = forceArg.isSome ? forceArg.unwrap().type : undefined;
  const definition = readProxies(ctx, real).find(
    (d) => u8aEq(d.delegate, who) && (force === undefined || d.proxyType === force),
  );
  if (!definition) return { ok: false, error: moduleError(ctx.runtime, 'Proxy', 'NotProxy') };
  if (definition.delay > 0) return { ok: false, error: moduleError(ctx.runtime, 'Proxy', 'Unannounced') };
  const result = filter(definition.proxyType, innerArg)
    ? ctx.transactional((inner) => dispatchAs(inner, real, innerArg))
    : callFiltered(ctx);
  ctx.deposit('Proxy', 'ProxyExecuted', { result: result.ok ? { Ok: null } : { Err: result.error } });
  return { ok: true };
}
