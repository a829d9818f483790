/**
 * Where a worker's activities read the inventory: the one source of hosts, SSH credentials, node homes,
 * services, RPCs and signer references. The worker loads it from a file (worker/inventory-file.ts); tests
 * hand in their testbeds' inventories. Everything an activity is asked to touch is checked against it here.
 */
import { isDeepStrictEqual } from 'node:util';
import type { HostSpec } from './host.js';
import type { Inventory, SignerSpec } from './inventory.js';

export interface InventorySource {
  /** The inventory in force now (a reload replaces it between activities, never during one). */
  current(): Inventory;
}

export function staticInventory(inventory: Inventory): InventorySource {
  return { current: () => inventory };
}

/**
 * Why a host an activity was handed is not the inventory's, if it is not: an unknown id, or the same id with
 * another address, user, key, credentials or service manager.
 */
export function hostNotInInventory(inventory: Inventory, host: HostSpec): string | undefined {
  if (inventory.hosts.some((h) => h.id === host.id && isDeepStrictEqual(h, host))) return undefined;
  if (inventory.hosts.some((h) => h.id === host.id))
    return `host "${host.id}" differs from the worker's inventory entry`;
  return `host "${host.id}" is not in the worker's inventory`;
}

export function signerNotInInventory(inventory: Inventory, signer: SignerSpec): string | undefined {
  if (inventory.signers.some((s) => s.id === signer.id && isDeepStrictEqual(s, signer))) return undefined;
  if (inventory.signers.some((s) => s.id === signer.id))
    return `signer "${signer.id}" differs from the worker's inventory entry`;
  return `signer "${signer.id}" is not in the worker's inventory`;
}
