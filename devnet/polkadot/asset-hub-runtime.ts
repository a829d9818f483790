/**
 * Asset Hub after the Asset Hub Migration, as far as validator keys go: staking lives here, and
 * `stakingRcClient.set_keys(keys, proof, max_fee)` checks that the origin is a registered validator, that the
 * keys decode as the relay's SessionKeys and that the ownership proof holds, then forwards the keys to the
 * relay (XCM `Transact` of `StakingAhClient.set_keys_from_ah`; here: applied at the relay's next block).
 * Proxy filters follow the fellows Asset Hub runtime: `Staking` and `StakingOperator`.
 */
import type { Call } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import type { DispatchContext, DispatchResult, RuntimeLogic } from './chain.js';
import { COMMON_CALLS, callName, dispatchCommon, fundAccount } from './common-calls.js';
import { moduleError } from './events.js';
import type { Runtime } from './metadata.js';
import { callFiltered, dispatchProxy, proxiesValue } from './proxy.js';
import type { GenesisConfig, RelayRuntime } from './relay-runtime.js';
import { isOwnershipProofValid, splitSessionKeys } from './session-keys.js';
import type { StorageOverlay } from './storage.js';

const STAKING_PALLETS = [
  'staking',
  'stakingRcClient',
  'session',
  'utility',
  'fastUnstake',
  'voterList',
  'nominationPools',
];
const STAKING_OPERATOR_CALLS = [
  'staking.validate',
  'staking.chill',
  'staking.kick',
  'stakingRcClient.setKeys',
  'stakingRcClient.purgeKeys',
  'utility.batch',
  'utility.batchAll',
  'utility.forceBatch',
];

export function assetHubProxyFilter(proxyType: string, call: Call): boolean {
  switch (proxyType) {
    case 'Any':
      return true;
    case 'NonTransfer':
      return call.section !== 'balances';
    case 'Staking':
      return STAKING_PALLETS.includes(call.section);
    case 'StakingOperator':
      return STAKING_OPERATOR_CALLS.includes(callName(call));
    default:
      return false;
  }
}

const ASSET_HUB_CALLS = new Set([
  ...COMMON_CALLS,
  'stakingRcClient.setKeys',
  'stakingRcClient.purgeKeys',
  'proxy.proxy',
]);

export class AssetHubRuntime implements RuntimeLogic {
  constructor(
    readonly runtime: Runtime,
    private readonly relay: RelayRuntime,
    private readonly opts: { requireProof: boolean },
    private readonly config: GenesisConfig,
  ) {}

  genesis(storage: StorageOverlay): void {
    for (const account of this.config.accounts) fundAccount(storage, account);
    for (const { stash } of this.config.validators) {
      storage.set('staking', 'bonded', [stash], stash);
      storage.set('staking', 'validators', [stash], { commission: 0, blocked: false });
    }
    for (const { real, definitions } of this.config.proxies) {
      storage.set('proxy', 'proxies', [real], proxiesValue(definitions));
    }
  }

  onInitialize(): void {}

  digest(): string[] {
    return [];
  }

  isSupported(call: Call): boolean {
    if (!ASSET_HUB_CALLS.has(callName(call))) return false;
    return callName(call) !== 'proxy.proxy' || this.isSupported(call.args[2] as Call);
  }

  dispatch(ctx: DispatchContext, origin: Uint8Array, call: Call): DispatchResult {
    const common = dispatchCommon(ctx, origin, call);
    if (common) return common;
    const error = (name: string): DispatchResult => ({
      ok: false,
      error: moduleError(ctx.runtime, 'StakingRcClient', name),
    });
    switch (callName(call)) {
      case 'stakingRcClient.setKeys': {
        if (!ctx.storage.get('staking', 'validators', origin)) return error('NotValidator');
        const keys = (call.args[0] as Codec & { toU8a(bare: boolean): Uint8Array }).toU8a(true);
        const proof = (call.args[1] as Codec & { toU8a(bare: boolean): Uint8Array }).toU8a(true);
        if (!splitSessionKeys(this.relay.layout, keys)) return error('InvalidKeys');
        if (this.opts.requireProof && !isOwnershipProofValid(this.relay.layout, keys, proof, origin)) {
          return error('InvalidProof');
        }
        this.relay.receiveFromAssetHub(origin, keys);
        return { ok: true };
      }
      case 'stakingRcClient.purgeKeys':
        this.relay.receiveFromAssetHub(origin, undefined);
        return { ok: true };
      case 'proxy.proxy':
        return dispatchProxy(ctx, origin, call, assetHubProxyFilter, (inner, real, innerCall) =>
          this.dispatch(inner, real, innerCall),
        );
      default:
        return callFiltered(ctx);
    }
  }
}
