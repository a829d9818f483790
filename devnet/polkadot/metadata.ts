/**
 * Real runtime metadata for the simulated chains, from @polkadot/types-support (v15, as the runtime's
 * `Metadata_metadata_at_version` returns it).
 *
 * The shipped metadata is patched in two honest ways, and the patched bytes are what the chain serves, so
 * every client sees the same runtime the simulator executes:
 * - BABE/Timestamp constants follow the simulated timing (one slot per block, `blockTimeMs` per slot), so
 *   `api.consts.babe.epochDuration` x `expectedBlockTime` predicts session ends correctly;
 * - the Asset Hub runtime gains `stakingRcClient.set_keys/purge_keys`, their errors and the
 *   `StakingOperator` proxy type, which the current Polkadot Asset Hub has but no shipped metadata does.
 *   Call index 10/11 and the error order follow pallet-staking-async-rc-client; the `proof` argument follows
 *   the fellows runtime (set_keys(keys, proof, max_delivery_and_remote_execution_fee)).
 */
import { Metadata, TypeRegistry, expandMetadata } from '@polkadot/types';
import type { DecoratedMeta } from '@polkadot/types/metadata/decorate/types';
import { hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import polkadotHex from '@polkadot/types-support/metadata/v15/polkadot-hex';
import polkadotVersion from '@polkadot/types-support/metadata/v15/polkadot-ver';
import kusamaHex from '@polkadot/types-support/metadata/v15/kusama-hex';
import kusamaVersion from '@polkadot/types-support/metadata/v15/kusama-ver';
import assetHubPolkadotHex from '@polkadot/types-support/metadata/v15/asset-hub-polkadot-hex';
import assetHubPolkadotVersion from '@polkadot/types-support/metadata/v15/asset-hub-polkadot-ver';
import assetHubKusamaHex from '@polkadot/types-support/metadata/v15/asset-hub-kusama-hex';
import assetHubKusamaVersion from '@polkadot/types-support/metadata/v15/asset-hub-kusama-ver';

export type RelayChainName = 'polkadot' | 'kusama';
export type RuntimeName = RelayChainName | 'asset-hub-polkadot' | 'asset-hub-kusama';

export interface RuntimeVersionJson {
  specName: string;
  implName: string;
  authoringVersion: number;
  specVersion: number;
  implVersion: number;
  apis: (string | number)[][];
  transactionVersion: number;
  systemVersion: number;
  stateVersion: number;
}

export interface Runtime {
  name: RuntimeName;
  registry: TypeRegistry;
  metadata: Metadata;
  /** `0x6d657461` magic + version + v15 body, what `state_getMetadata` returns. */
  metadataBytes: Uint8Array;
  decorated: DecoratedMeta;
  version: RuntimeVersionJson;
  chainName: string;
  properties: { ss58Format: number; tokenDecimals: number[]; tokenSymbol: string[] };
}

export interface RuntimeTiming {
  /** Blocks (= BABE slots) per session. */
  sessionLength: number;
  blockTimeMs: number;
}

const shipped: Record<
  RuntimeName,
  { hex: string; version: RuntimeVersionJson; chainName: string; props: Runtime['properties'] }
> = {
  polkadot: {
    hex: polkadotHex,
    version: polkadotVersion,
    chainName: 'Polkadot',
    props: { ss58Format: 0, tokenDecimals: [10], tokenSymbol: ['DOT'] },
  },
  kusama: {
    hex: kusamaHex,
    version: kusamaVersion,
    chainName: 'Kusama',
    props: { ss58Format: 2, tokenDecimals: [12], tokenSymbol: ['KSM'] },
  },
  'asset-hub-polkadot': {
    hex: assetHubPolkadotHex,
    version: assetHubPolkadotVersion,
    chainName: 'Polkadot Asset Hub',
    props: { ss58Format: 0, tokenDecimals: [10], tokenSymbol: ['DOT'] },
  },
  'asset-hub-kusama': {
    hex: assetHubKusamaHex,
    version: assetHubKusamaVersion,
    chainName: 'Kusama Asset Hub',
    props: { ss58Format: 2, tokenDecimals: [12], tokenSymbol: ['KSM'] },
  },
};

/** The parts of the MetadataV15 JSON form that the patches touch. */
interface FieldJson {
  name: string | null;
  type: number;
  typeName: string | null;
  docs: string[];
}
interface VariantJson {
  name: string;
  fields: FieldJson[];
  index: number;
  docs: string[];
}
interface TypeDefJson {
  variant?: { variants: VariantJson[] };
  sequence?: { type: number };
  primitive?: string;
}
interface PortableTypeJson {
  id: number;
  type: { path: string[]; params: { name: string; type: number | null }[]; def: TypeDefJson; docs: string[] };
}
interface PalletJson {
  name: string;
  index: number;
  calls: { type: number } | null;
  errors: { type: number } | null;
  constants: { name: string; type: number; value: string; docs: string[] }[];
}
interface MetadataV15Json {
  lookup: { types: PortableTypeJson[] };
  pallets: PalletJson[];
}

function pallet(json: MetadataV15Json, name: string): PalletJson {
  const found = json.pallets.find((p) => p.name === name);
  if (!found) throw new Error(`runtime has no ${name} pallet`);
  return found;
}

function setConstant(registry: TypeRegistry, json: MetadataV15Json, palletName: string, name: string, value: number) {
  const constant = pallet(json, palletName).constants.find((c) => c.name === name);
  if (!constant) throw new Error(`${palletName}.${name} is not a constant of this runtime`);
  constant.value = u8aToHex(registry.createType('u64', value).toU8a());
}

function typeId(json: MetadataV15Json, predicate: (t: PortableTypeJson) => boolean, what: string): number {
  const found = json.lookup.types.find(predicate);
  if (!found) throw new Error(`runtime metadata has no ${what} type`);
  return found.id;
}

function variants(json: MetadataV15Json, id: number): VariantJson[] {
  const variant = json.lookup.types[id]?.type.def.variant;
  if (!variant) throw new Error(`type ${id} is not an enum`);
  return variant.variants;
}

function field(name: string, type: number, typeName: string): FieldJson {
  return { name, type, typeName, docs: [] };
}

/** Adds what current Asset Hub runtimes have for session keys (see the file comment). */
function addAssetHubSessionKeyCalls(json: MetadataV15Json) {
  const rcClient = pallet(json, 'StakingRcClient');
  if (!rcClient.calls) throw new Error('StakingRcClient has no calls');
  const calls = variants(json, rcClient.calls.type);
  if (calls.some((c) => c.name === 'set_keys')) return;
  const u8 = typeId(json, (t) => t.type.def.primitive === 'U8', 'u8');
  const u128 = typeId(json, (t) => t.type.def.primitive === 'U128', 'u128');
  const bytes = typeId(json, (t) => t.type.def.sequence?.type === u8 && t.type.path.length === 0, 'Vec<u8>');
  const optionU128 = typeId(
    json,
    (t) => t.type.path.length === 1 && t.type.path[0] === 'Option' && t.type.params[0]?.type === u128,
    'Option<u128>',
  );
  const maxFee = field('max_delivery_and_remote_execution_fee', optionU128, 'Option<BalanceOf<T>>');
  calls.push(
    {
      name: 'set_keys',
      fields: [field('keys', bytes, 'Vec<u8>'), field('proof', bytes, 'Vec<u8>'), maxFee],
      index: 10,
      docs: ['Set session keys for a validator. Keys are validated on AssetHub and forwarded to RC.'],
    },
    {
      name: 'purge_keys',
      fields: [maxFee],
      index: 11,
      docs: ['Remove session keys for a validator and release the key deposit.'],
    },
  );
  if (!rcClient.errors) {
    const id = json.lookup.types.length;
    const names = ['XcmSendFailed', 'NotValidator', 'InvalidKeys', 'FeesExceededMax', 'InvalidProof'];
    json.lookup.types.push({
      id,
      type: {
        path: ['pallet_staking_async_rc_client', 'pallet', 'Error'],
        params: [{ name: 'T', type: null }],
        def: { variant: { variants: names.map((name, index) => ({ name, fields: [], index, docs: [] })) } },
        docs: ['The `Error` enum of this pallet.'],
      },
    });
    rcClient.errors = { type: id };
  }
  const proxyCall = variants(json, pallet(json, 'Proxy').calls?.type ?? -1).find((c) => c.name === 'proxy');
  const optionProxyType = proxyCall?.fields[1]?.type;
  const proxyTypeId =
    optionProxyType === undefined ? undefined : json.lookup.types[optionProxyType]?.type.params[0]?.type;
  if (proxyTypeId === undefined || proxyTypeId === null) throw new Error('cannot find the ProxyType enum');
  const proxyTypes = variants(json, proxyTypeId);
  if (!proxyTypes.some((v) => v.name === 'StakingOperator')) {
    const index = Math.max(...proxyTypes.map((v) => v.index)) + 1;
    proxyTypes.push({ name: 'StakingOperator', fields: [], index, docs: [] });
  }
}

export interface LoadRuntimeOptions {
  timing?: RuntimeTiming;
  /** Overrides the shipped spec version (AHM relays report the post-2.3.2 version). */
  specVersion?: number;
}

export function loadRuntime(name: RuntimeName, opts: LoadRuntimeOptions = {}): Runtime {
  const source = shipped[name];
  const scratch = new TypeRegistry();
  const opaque = scratch.createType('Option<OpaqueMetadata>', hexToU8a(source.hex)).unwrap();
  const shippedMetadata = new Metadata(scratch, opaque.toU8a(true));
  const json = shippedMetadata.asV15.toJSON() as unknown as MetadataV15Json;

  if (opts.timing && json.pallets.some((p) => p.name === 'Babe')) {
    setConstant(scratch, json, 'Babe', 'EpochDuration', opts.timing.sessionLength);
    setConstant(scratch, json, 'Babe', 'ExpectedBlockTime', opts.timing.blockTimeMs);
    setConstant(scratch, json, 'Timestamp', 'MinimumPeriod', Math.floor(opts.timing.blockTimeMs / 2));
  }
  if (name.startsWith('asset-hub')) addAssetHubSessionKeyCalls(json);

  const registry = new TypeRegistry();
  const body = registry.createType('MetadataV15', json);
  const metadataBytes = u8aConcat(hexToU8a('0x6d657461'), new Uint8Array([15]), body.toU8a());
  const metadata = new Metadata(registry, metadataBytes);
  registry.setMetadata(metadata);
  const version = { ...source.version, specVersion: opts.specVersion ?? source.version.specVersion };
  return {
    name,
    registry,
    metadata,
    metadataBytes,
    decorated: expandMetadata(registry, metadata),
    version,
    chainName: source.chainName,
    properties: source.props,
  };
}
