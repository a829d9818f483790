/**
 * Runtime events and dispatch errors, encoded through the pallets' own metadata types so polkadot-js
 * decodes them as it would on a real chain (`api.events.*.is`, `registry.findMetaError`).
 */
import { bnToU8a, compactToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import type { Runtime } from './metadata.js';

export type Phase = { applyExtrinsic: number } | 'initialization' | 'finalization';

export interface EventRecord {
  phase: Phase;
  /** RuntimeEvent bytes: pallet index ++ the pallet's event enum. */
  event: Uint8Array;
}

/** `DispatchError::Module` as polkadot-js accepts it in `createType`. */
export interface ModuleDispatchError {
  Module: { index: number; error: string };
}

function palletMeta(runtime: Runtime, palletName: string) {
  const found = runtime.metadata.asLatest.pallets.find((p) => p.name.toString() === palletName);
  if (!found) throw new Error(`runtime ${runtime.name} has no pallet ${palletName}`);
  return found;
}

export function palletIndex(runtime: Runtime, palletName: string): number {
  return palletMeta(runtime, palletName).index.toNumber();
}

export function runtimeEvent(
  runtime: Runtime,
  palletName: string,
  eventName: string,
  data: unknown = null,
): Uint8Array {
  const pallet = palletMeta(runtime, palletName);
  if (pallet.events.isNone) throw new Error(`pallet ${palletName} has no events`);
  const typeName = runtime.registry.createLookupType(pallet.events.unwrap().type);
  const event = runtime.registry.createType(typeName, { [eventName]: data });
  if (event.toJSON() === null) throw new Error(`cannot encode ${palletName}.${eventName}`);
  return u8aConcat(new Uint8Array([pallet.index.toNumber()]), event.toU8a());
}

export function moduleError(runtime: Runtime, palletName: string, errorName: string): ModuleDispatchError {
  const pallet = palletMeta(runtime, palletName);
  if (pallet.errors.isNone) throw new Error(`pallet ${palletName} has no errors`);
  const variants = runtime.registry.lookup.getSiType(pallet.errors.unwrap().type).def.asVariant.variants;
  const variant = variants.find((v) => v.name.toString() === errorName);
  if (!variant) throw new Error(`pallet ${palletName} has no error ${errorName}`);
  const error = new Uint8Array(4);
  error[0] = variant.index.toNumber();
  return { Module: { index: pallet.index.toNumber(), error: u8aToHex(error) } };
}

/** The dispatch info a simple signed call reports; weights are nominal in the simulator. */
export function dispatchInfo(paysFee: 'Yes' | 'No' = 'Yes') {
  return { weight: { refTime: 100_000_000, proofSize: 4_096 }, class: 'Normal', paysFee };
}

function encodePhase(phase: Phase): Uint8Array {
  if (phase === 'finalization') return new Uint8Array([1]);
  if (phase === 'initialization') return new Uint8Array([2]);
  return u8aConcat(new Uint8Array([0]), bnToU8a(phase.applyExtrinsic, { bitLength: 32 }));
}

/** `Vec<EventRecord>` as stored in System.Events (no topics). */
export function encodeEventRecords(records: EventRecord[]): Uint8Array {
  return u8aConcat(
    compactToU8a(records.length),
    ...records.map((r) => u8aConcat(encodePhase(r.phase), r.event, new Uint8Array([0]))),
  );
}
