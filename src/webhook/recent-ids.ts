// A bounded set of recently handled event ids, least recently seen evicted first: enough to drop
// the duplicate deliveries Tango may make without letting memory grow with traffic.

export class RecentIds {
  // A Map iterates in insertion order; deleting and re-inserting on a hit keeps it an LRU.
  readonly #ids = new Map<string, true>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`RecentIds capacity must be a whole number >= 1, got ${capacity}`);
    }
  }

  get size(): number {
    return this.#ids.size;
  }

  /** True when the id was added and not yet evicted; a hit makes it the most recent again. */
  has(id: string): boolean {
    if (!this.#ids.has(id)) return false;
    this.#ids.delete(id);
    this.#ids.set(id, true);
    return true;
  }

  add(id: string): void {
    this.#ids.delete(id);
    this.#ids.set(id, true);
    while (this.#ids.size > this.capacity) {
      const oldest = this.#ids.keys().next();
      if (oldest.done) break;
      this.#ids.delete(oldest.value);
    }
  }
}
