// How often the receiver may signal one order about one kind of news: once per window (a minute).
// A final status makes the order workflow ask Tango (GET) and start its poll backoff over, so a
// flood of final events (replays, duplicates under new eventIds, a forger who has the secret) would
// spend the account's shared request budget; with this, each costs at most one GET per order per
// minute. Bounded: at most `capacity` keys, the oldest dropped first.

export class SignalWindow {
  // key -> when the claim expires (epoch ms). Insertion order is claim order: oldest first.
  readonly #claims = new Map<string, number>();

  constructor(
    readonly windowMs: number,
    readonly capacity: number,
  ) {
    if (!Number.isFinite(windowMs) || windowMs < 0) {
      throw new RangeError(`SignalWindow window must be >= 0 ms, got ${windowMs}`);
    }
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`SignalWindow capacity must be a whole number >= 1, got ${capacity}`);
    }
  }

  get size(): number {
    return this.#claims.size;
  }

  /**
   * Takes the key for one window from `nowMs`; false (and nothing changes) when it was taken less
   * than a window ago. Release it when the signal could not be sent, so a redelivery can.
   */
  claim(key: string, nowMs: number): boolean {
    this.#expire(nowMs);
    const until = this.#claims.get(key);
    if (until !== undefined && until > nowMs) return false;
    this.#claims.delete(key);
    this.#claims.set(key, nowMs + this.windowMs);
    while (this.#claims.size > this.capacity) {
      const oldest = this.#claims.keys().next();
      if (oldest.done) break;
      this.#claims.delete(oldest.value);
    }
    return true;
  }

  release(key: string): void {
    this.#claims.delete(key);
  }

  #expire(nowMs: number): void {
    for (const [key, until] of this.#claims) {
      if (until > nowMs) break;
      this.#claims.delete(key);
    }
  }
}
