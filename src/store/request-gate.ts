// Tango's request budget, shared through the claim-check store by every worker process. A request
// occupies one spacing (1/TANGO_TPS plus a tenth, for the spread of send and arrival times: a
// 500-item POST is read later than it is sent) and goes out only at the start of one it holds. Time
// is cut into quarter-spacings ("ticks"); a request holds a spacing by creating the keys of its four
// ticks with create-if-absent, all or none (it lets go of the ones it got when another request holds
// any of the four), so the spacings of any two requests of any workers never overlap, and an idle
// gate sends within a quarter-spacing instead of at the next whole one. A request that wakes too late
// for its start (a busy event loop, a slow claim) gives its spacing up and claims a later one rather
// than crowd the next. After a 429 (its Retry-After, at least 1 s) or a 5xx / network failure (1 s,
// as Tango asks) nothing before that time is claimed. Each worker runs only a few Tango calls at once
// (TANGO_MAX_CONCURRENT_REQUESTS), so the claims stay few and the backlog waits in the Tango task
// queue. Every worker of a task queue must have the same TANGO_TPS (the ticks are numbered from the
// epoch in their length).
import type { RequestGate } from '../tango/client.ts';
import type { CampaignStore } from './store.ts';
import { StoreNotFoundError } from './store.ts';

/** Where the gate keeps "quiet until" (JSON: { until: epoch ms, reason }). */
export const QUIET_UNTIL_KEY = 'tango/quiet-until.json';
/** Claimed ticks (empty objects, one per tick number; old ones are removed as it goes). */
export const TICKS_PREFIX = 'tango/ticks/';
const SPACING_MARGIN = 1.1;
/** At a high TANGO_TPS a tenth is too thin to absorb a late timer: at least this much. */
const MIN_MARGIN_MS = 10;
/** Ticks per spacing: what one request holds. */
const TICKS_PER_REQUEST = 4;
/** Ticks this far back are removed by whoever claims new ones (every PRUNE_EVERY claims). */
const TICKS_KEPT = 400;
const PRUNE_EVERY = 64;

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
  readonly #tickMs: number;
  /** A request sent later than this after its start would crowd the next one: it re-claims. */
  readonly #lateMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Requests of this process wait their turn one after the other. */
  #turn: Promise<void> = Promise.resolve();
  /** Claims this process made (every PRUNE_EVERY-th also removes old ticks). */
  #claims = 0;
  /** How long a claim takes this process's store (smoothed): claims start that far ahead. */
  #claimMs = 0;
  /** The first tick of this process's latest claim. */
  #lastTick = -TICKS_PER_REQUEST;
  /** The latest "quiet until" this process wrote or read (saves a write that changes nothing). */
  #knownQuietUntil = 0;

  constructor(store: CampaignStore, options: StoreRequestGateOptions) {
    this.#store = store;
    const intervalMs = 1000 / options.tps;
    const spacingMs = Math.max(intervalMs * SPACING_MARGIN, intervalMs + MIN_MARGIN_MS);
    this.#tickMs = spacingMs / TICKS_PER_REQUEST;
    this.#lateMs = (spacingMs - intervalMs) / 2;
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
    // Never shorten a longer quiet another process wrote (a 429's Retry-After against a 5xx's 1 s).
    const shared = await this.#sharedQuietUntil().catch(() => 0);
    if (until <= shared) return;
    this.#knownQuietUntil = until;
    const reason = status === undefined ? 'network failure' : `HTTP ${status}`;
    // Best effort: the request's own failure is what the caller must see, not the store's.
    await this.#store
      .put(QUIET_UNTIL_KEY, JSON.stringify({ until, reason, at: this.#now() }))
      .catch(() => undefined);
  }

  async #waitForSlot(): Promise<void> {
    for (;;) {
      const quietUntil = Math.max(await this.#sharedQuietUntil(), this.#knownQuietUntil);
      const claimStarted = this.#now();
      // Claimed far enough ahead that the claim itself (an S3 round trip or four) is over by then.
      const from = Math.max(
        Math.ceil((Math.max(claimStarted, quietUntil) + 2 * this.#claimMs) / this.#tickMs),
        this.#lastTick + TICKS_PER_REQUEST,
      );
      const tick = await this.#claimFrom(from);
      const claimMs = this.#now() - claimStarted;
      this.#lastTick = tick;
      const wait = tick * this.#tickMs - this.#now();
      if (wait > 0) await this.#sleep(wait);
      const late = this.#now() - tick * this.#tickMs;
      if (late <= this.#lateMs) {
        this.#claimMs = 0.8 * this.#claimMs + 0.2 * claimMs;
        return;
      }
      // Too late for it: look further ahead next time, so that a slow store never makes every
      // claim late (at a high TANGO_TPS a spacing is shorter than one store round trip).
      this.#claimMs = Math.max(2 * this.#claimMs, claimMs + late);
    }
  }

  /** The first tick from `from` on whose spacing this process now holds. */
  async #claimFrom(from: number): Promise<number> {
    for (let first = from; ;) {
      const ticks = Array.from({ length: TICKS_PER_REQUEST }, (_, index) => first + index);
      const held = await Promise.all(
        ticks.map((tick) => this.#store.createIfAbsent(`${TICKS_PREFIX}${tick}`, '{}')),
      );
      if (held.every(Boolean)) {
        this.#claims += 1;
        if (this.#claims % PRUNE_EVERY === 1) void this.#prune(first - TICKS_KEPT).catch(() => undefined);
        return first;
      }
      // All or none: let go of what this claim got, and start after the last tick another one holds.
      await Promise.all(
        ticks
          .filter((_, index) => held[index])
          .map((tick) => this.#store.delete(`${TICKS_PREFIX}${tick}`).catch(() => undefined)),
      );
      first = ticks[held.lastIndexOf(false)]! + 1;
    }
  }

  /** Removes every claimed tick before `before` (whoever claimed it: those times are past). */
  async #prune(before: number): Promise<void> {
    const old: string[] = [];
    for await (const key of this.#store.list(TICKS_PREFIX)) {
      const tick = Number(key.slice(TICKS_PREFIX.length));
      if (Number.isInteger(tick) && tick < before) old.push(key);
    }
    for (const key of old) await this.#store.delete(key).catch(() => undefined);
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
