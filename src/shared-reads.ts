/**
 * Reads shared by every run a worker serves (NEAR's shared provider, src/near/rpc.ts; Polkadot's validator
 * counters, src/polkadot/validator-counters.ts): one read in flight per key, its answer kept for a while.
 */
/** Answers by key for a while, and one read in flight per key; a failed read is not kept. */
export class SharedReads {
  private readonly entries = new Map<string, { until: number; answer: Promise<unknown> }>();

  get<T>(key: string, ttlMs: number, read: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const held = this.entries.get(key);
    if (held && held.until > now) return held.answer as Promise<T>;
    if (this.entries.size >= 1_000) for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
    const answer = read();
    // Kept from now until a block's time after it answers; dropped at once if it fails.
    const entry = { until: Infinity, answer };
    this.entries.set(key, entry);
    answer.then(
      () => (entry.until = Date.now() + ttlMs),
      () => this.entries.get(key) === entry && this.entries.delete(key),
    );
    return answer;
  }
}
