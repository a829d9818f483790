/**
 * Runtime storage of a simulated chain: raw key -> SCALE value, with keys and value types taken from the
 * metadata, so `api.query.*` of a real client reads exactly what the simulator wrote.
 */
import type { Codec } from '@polkadot/types/types';
import { compactStripLength, u8aToHex } from '@polkadot/util';
import type { Runtime } from './metadata.js';

export type StorageSnapshot = ReadonlyMap<string, Uint8Array>;

function entry(runtime: Runtime, section: string, method: string) {
  const found = runtime.decorated.query[section]?.[method];
  if (!found) throw new Error(`runtime ${runtime.name} has no storage item ${section}.${method}`);
  return found;
}

/** The raw storage key (hex) of an item; map keys are hashed as the metadata says. */
export function storageKey(runtime: Runtime, section: string, method: string, ...args: unknown[]): string {
  // decorateStorage returns keys with a compact length prefix; the chain stores them without it.
  return u8aToHex(compactStripLength(entry(runtime, section, method)(...args))[1]);
}

export function storagePrefix(runtime: Runtime, section: string, method: string): string {
  return u8aToHex(entry(runtime, section, method).keyPrefix());
}

function valueTypeName(runtime: Runtime, section: string, method: string): string {
  const { type } = entry(runtime, section, method).meta;
  const id = type.isPlain ? type.asPlain : type.asMap.value;
  return runtime.registry.createLookupType(id);
}

export function encodeValue(runtime: Runtime, section: string, method: string, value: unknown): Uint8Array {
  return runtime.registry.createType(valueTypeName(runtime, section, method), value).toU8a();
}

export function decodeValue<T extends Codec = Codec>(
  runtime: Runtime,
  section: string,
  method: string,
  raw: Uint8Array,
): T {
  return runtime.registry.createType(valueTypeName(runtime, section, method), raw) as unknown as T;
}

/** A block's mutable view of storage, started from its parent's snapshot. */
export class StorageOverlay {
  private readonly values: Map<string, Uint8Array>;

  constructor(
    readonly runtime: Runtime,
    parent: StorageSnapshot,
  ) {
    this.values = new Map(parent);
  }

  getRaw(key: string): Uint8Array | undefined {
    return this.values.get(key);
  }

  setRaw(key: string, value: Uint8Array): void {
    this.values.set(key, value);
  }

  get<T extends Codec = Codec>(section: string, method: string, ...args: unknown[]): T | undefined {
    const raw = this.values.get(storageKey(this.runtime, section, method, ...args));
    return raw === undefined ? undefined : decodeValue<T>(this.runtime, section, method, raw);
  }

  set(section: string, method: string, args: unknown[], value: unknown): void {
    this.values.set(
      storageKey(this.runtime, section, method, ...args),
      encodeValue(this.runtime, section, method, value),
    );
  }

  deleteRaw(key: string): void {
    this.values.delete(key);
  }

  remove(section: string, method: string, ...args: unknown[]): void {
    this.values.delete(storageKey(this.runtime, section, method, ...args));
  }

  /** Entries of a map item, as [raw key, raw value]. */
  entries(section: string, method: string): [string, Uint8Array][] {
    const prefix = storagePrefix(this.runtime, section, method);
    return [...this.values].filter(([key]) => key.startsWith(prefix));
  }

  snapshot(): StorageSnapshot {
    return new Map(this.values);
  }
}
