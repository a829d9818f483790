/**
 * The worker's inventory, read from the file VUP_INVENTORY names at start and again on SIGHUP. A reload
 * that fails (unreadable, invalid) keeps the inventory in force and says why on stderr: a typo in an edit
 * must not leave a running fleet without hosts. Upgrades already running keep the targets they resolved.
 */
import type { InventorySource } from '../src/config/inventory-source.js';
import type { Inventory } from '../src/config/inventory.js';
import { loadInventory } from '../src/config/load-inventory.js';

export class InventoryFile implements InventorySource {
  private constructor(
    readonly path: string,
    private inventory: Inventory,
  ) {}

  /** Loads the file; an invalid one stops the worker at start, with every problem listed. */
  static async load(path: string): Promise<InventoryFile> {
    return new InventoryFile(path, await loadInventory(path));
  }

  current(): Inventory {
    return this.inventory;
  }

  /** Reads the file again; on success it is in force for every activity that starts from now on. */
  async reload(): Promise<{ ok: true; summary: string } | { ok: false; error: string }> {
    try {
      this.inventory = await loadInventory(this.path);
      return { ok: true, summary: describe(this.inventory) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Reloads on every SIGHUP; returns a function that stops listening. */
  reloadOnHangup(log: (line: string) => void): () => void {
    const onHangup = () => {
      void this.reload().then((result) =>
        log(
          result.ok
            ? `inventory ${this.path} reloaded: ${result.summary}`
            : `inventory ${this.path} NOT reloaded, the previous one stays in force: ${result.error}`,
        ),
      );
    };
    process.on('SIGHUP', onHangup);
    return () => process.off('SIGHUP', onHangup);
  }
}

export function describe(inventory: Inventory): string {
  return `${inventory.validators.length} validator(s), ${inventory.nodes.length} node(s), ${inventory.hosts.length} host(s)`;
}
