// A bounded set of recently handled event ids, least recently seen evicted first: enough to drop
// the duplicate deliveries Tango may make without letting memory grow with traffic. Both the count
// and the length of an id are bounded, so the whole set stays under capacity x maxIdLength
// characters (10,000 x 200 by default: about 4 MB at worst). Per process: see docs/operations.md.

export class RecentIds {
  // A Map iterates in insertion order; deleting and re-inserting on a hit keeps it an LRU.
  readonly #ids = new Map<string, true>();

  constructor(
    readonly capacity: number,
    readonly maxIdLength = 200,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`RecentIds capacity must be a whole number >= 1, got ${capacity}`);
    }
    if (!Number.isInteger(maxIdLength) || maxIdLength < 1) {
      throw new RangeError(`RecentIds maxIdLength must be a whole number >= 1, got ${maxIdLength}`);
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

  /** Remembers `id`; an id longer than maxIdLength is refused (RangeError), never stored. */
  add(id: string): void {
    if (id.length > this.maxIdLength) {
      throw new RangeError(`event id of ${id.length} characters is over the ${this.maxIdLength} limit`);
    }
    this.#ids.delete(id);
    this.#ids.set(id, true);
    while (this.#ids.size > this.capacity) {
      const oldest = this.#ids.keys().next();
      if (oldest.done) break;
      this.#ids.delete(oldest.value);
    }
  }
}
