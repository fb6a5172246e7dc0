// Tango's request budget, shared through the claim-check store by every worker process: time is cut
// into slots of 1/TANGO_TPS (plus a tenth, for the spread of send times), and a request goes out only
// in a slot it claimed with a create-if-absent of the slot's key, so no two requests of any workers
// share one; after a 429 (its Retry-After, at least 1 s) or a 5xx / network failure (1 s, as Tango
// asks) no slot before that time is claimed. The task-queue rate limit keeps the claims few.
import type { RequestGate } from '../tango/client.ts';
import type { CampaignStore } from './store.ts';
import { StoreNotFoundError } from './store.ts';

/** Where the gate keeps "quiet until" (JSON: { until: epoch ms, reason }). */
export const QUIET_UNTIL_KEY = 'tango/quiet-until.json';
/** Claimed request slots (empty objects, one per slot number; old ones are removed as it goes). */
export const SLOTS_PREFIX = 'tango/slots/';
const SLOT_MARGIN = 1.1;
/** Slots this far back are removed by whoever claims a new one. */
const SLOTS_KEPT = 100;

/** Tango asks for at least this long after an error before the next request. */
const AFTER_ERROR_MS = 1000;

export interface StoreRequestGateOptions {
  /** Requests per second one process may send (TANGO_TPS). */
  tps: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class StoreRequestGate implements RequestGate {
  readonly #store: CampaignStore;
  readonly #slotMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Requests of this process wait their turn one after the other. */
  #turn: Promise<void> = Promise.resolve();
  #lastSlot = -1;
  /** The latest "quiet until" this process wrote or read (saves a write that changes nothing). */
  #knownQuietUntil = 0;

  constructor(store: CampaignStore, options: StoreRequestGateOptions) {
    this.#store = store;
    this.#slotMs = (1000 / options.tps) * SLOT_MARGIN;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  beforeRequest(): Promise<void> {
    const turn = this.#turn.then(() => this.#waitForSlot());
    // A failed store read must not wedge every later request of the process.
    this.#turn = turn.catch(() => undefined);
    return turn;
  }

  async afterResponse(outcome: { status?: number; retryAfterMs?: number }): Promise<void> {
    const { status } = outcome;
    let pauseMs = 0;
    if (status === 429) pauseMs = Math.max(outcome.retryAfterMs ?? AFTER_ERROR_MS, AFTER_ERROR_MS);
    else if (status === undefined || status >= 500)
      pauseMs = Math.max(outcome.retryAfterMs ?? 0, AFTER_ERROR_MS);
    if (pauseMs === 0) return;
    const until = this.#now() + pauseMs;
    if (until <= this.#knownQuietUntil) return;
    this.#knownQuietUntil = until;
    const reason = status === undefined ? 'network failure' : `HTTP ${status}`;
    // Best effort: the request's own failure is what the caller must see, not the store's.
    await this.#store
      .put(QUIET_UNTIL_KEY, JSON.stringify({ until, reason, at: this.#now() }))
      .catch(() => undefined);
  }

  async #waitForSlot(): Promise<void> {
    const quietUntil = Math.max(await this.#sharedQuietUntil(), this.#knownQuietUntil);
    let slot = Math.max(Math.ceil(Math.max(this.#now(), quietUntil) / this.#slotMs), this.#lastSlot + 1);
    // The first free slot from now (or from the end of a quiet time) is ours.
    while (!(await this.#store.createIfAbsent(`${SLOTS_PREFIX}${slot}`, '{}'))) slot += 1;
    this.#lastSlot = slot;
    void this.#store.delete(`${SLOTS_PREFIX}${slot - SLOTS_KEPT}`).catch(() => undefined);
    const wait = slot * this.#slotMs - this.#now();
    if (wait > 0) await this.#sleep(wait);
  }

  async #sharedQuietUntil(): Promise<number> {
    try {
      const { until } = JSON.parse((await this.#store.get(QUIET_UNTIL_KEY)).toString('utf8')) as {
        until?: unknown;
      };
      const value = typeof until === 'number' && Number.isFinite(until) ? until : 0;
      if (value > this.#knownQuietUntil) this.#knownQuietUntil = value;
      return value;
    } catch (error) {
      if (error instanceof StoreNotFoundError || error instanceof SyntaxError) return 0;
      throw error;
    }
  }
}
