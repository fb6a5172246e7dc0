// The plain polling script at Tango's 1 request/s: what a careful engineer writes without Temporal.
// One pacer for every request of the run (one request at a time, each at least `paceMs` after the
// previous one's answer came back, after a 429 nothing until its Retry-After has passed, after any
// other error at least 1 s); a balance check, then every order of one chunk POSTed, its status polled every
// `pollIntervalMs` until final, all its line items paged (500 a page: every item's state comes from
// Tango's own record, as in the product) and its transient failures resubmitted as a new order after
// `resubmitDelayMs` (>= 1 s). No durability: a crash loses track of everything.
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyErrors } from '../src/campaign/classification.ts';
import type { TangoClient } from '../src/tango/client.ts';
import { TangoHttpError, TangoNetworkError } from '../src/tango/errors.ts';
import { isFinalOrderStatus, type LineItemRequest } from '../src/tango/schemas.ts';
import { PAGE_SIZE } from './rate-limited-figures.ts';

export interface PacedScriptOptions {
  tango: TangoClient;
  runTag: string;
  items: LineItemRequest[];
  chunkSize: number;
  /** Orders in flight at once (their requests still go one at a time through the pacer). */
  concurrency: number;
  customerIdentifier: string;
  accountIdentifier: string;
  /** Least time from one request's answer to the next request (1 request/s). */
  paceMs: number;
  pollIntervalMs: number;
  resubmitDelayMs: number;
  maxRounds: number;
}

export interface PacedScriptOutcome {
  wallMs: number;
  orders: number;
  rounds: number;
  delivered: number;
  givenUp: number;
  polls: number;
  /** Requests the script repeated after a 429, 5xx or broken connection. */
  retries: number;
}

/**
 * One request at a time, each `paceMs` after the previous answer (Tango counts a request when it
 * reads it, so spacing the starts alone lets a slow POST and a quick GET land within one second),
 * and held back after a 429 (Retry-After) or any other error (at least 1 s).
 */
export class Pacer {
  #tail: Promise<unknown> = Promise.resolve();
  #notBefore = 0;

  constructor(readonly paceMs: number) {}

  /** Runs `call` in the next free slot; an error holds back the calls after it. */
  run<T>(call: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(async () => {
      const wait = this.#notBefore - Date.now();
      if (wait > 0) await sleep(wait);
      try {
        const answer = await call();
        this.#notBefore = Date.now() + this.paceMs;
        return answer;
      } catch (error) {
        const retryAfterMs = error instanceof TangoHttpError ? (error.retryAfterMs ?? 0) : 0;
        this.#notBefore = Date.now() + Math.max(this.paceMs, 1000, retryAfterMs);
        throw error;
      }
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

function retryable(error: unknown): boolean {
  if (error instanceof TangoNetworkError) return true;
  if (error instanceof TangoHttpError) return error.status === 429 || error.status >= 500;
  return false;
}

function externalRefId(runTag: string, chunk: number, round: number): string {
  return round === 0 ? `${runTag}-${chunk}` : `${runTag}-${chunk}-r${round}`;
}

export async function runPacedScript(options: PacedScriptOptions): Promise<PacedScriptOutcome> {
  const { tango, customerIdentifier, accountIdentifier } = options;
  const pacer = new Pacer(options.paceMs);
  const outcome: PacedScriptOutcome = {
    wallMs: 0,
    orders: 0,
    rounds: 0,
    delivered: 0,
    givenUp: 0,
    polls: 0,
    retries: 0,
  };
  // Through the pacer, repeated (same request, same externalRefID) after a 429, 5xx or broken
  // connection: up to 5 tries for a 5xx or a network error, as Tango's page says; 429s always.
  const call = async <T>(request: () => Promise<T>): Promise<T> => {
    for (let failures = 0; ;) {
      try {
        return await pacer.run(request);
      } catch (error) {
        if (!retryable(error)) throw error;
        if (!(error instanceof TangoHttpError && error.status === 429)) failures += 1;
        if (failures >= 5) throw error;
        outcome.retries += 1;
      }
    }
  };

  const started = performance.now();
  const account = await call(() => tango.getAccount(accountIdentifier));
  const cost = options.items.reduce((sum, item) => sum + item.amount, 0);
  if (account.currentBalance < cost) {
    throw new Error(`the balance (${account.currentBalance}) does not cover the campaign (${cost})`);
  }
  const chunks = Math.ceil(options.items.length / options.chunkSize);
  let next = 0;
  const lane = async () => {
    while (next < chunks) {
      const chunk = next;
      next += 1;
      let pending = options.items.slice(chunk * options.chunkSize, (chunk + 1) * options.chunkSize);
      for (let round = 0; pending.length > 0; round += 1) {
        if (round >= options.maxRounds) {
          outcome.givenUp += pending.length;
          break;
        }
        if (round > 0) await sleep(options.resubmitDelayMs);
        const ref = {
          customerIdentifier,
          accountIdentifier,
          externalRefID: externalRefId(options.runTag, chunk, round),
        };
        const lineItems = pending;
        const { order } = await call(() => tango.createAsyncOrder({ ...ref, lineItems }));
        outcome.orders += 1;
        outcome.rounds = Math.max(outcome.rounds, round + 1);
        const byId = new Map(pending.map((item) => [item.externalRefLineItemID, item]));
        const retry: LineItemRequest[] = [];
        for (const failed of order.failedLineItems) {
          const item = byId.get(failed.externalRefLineItemID);
          if (item && classifyErrors(failed.errors) === 'transient') retry.push(item);
          else outcome.givenUp += 1;
          byId.delete(failed.externalRefLineItemID);
        }
        for (;;) {
          await sleep(options.pollIntervalMs);
          const status = await call(() => tango.getAsyncOrder(ref, { maxResults: 1 }));
          outcome.polls += 1;
          if (isFinalOrderStatus(status.orderStatus)) break;
        }
        let cursor: string | undefined;
        do {
          const query = { maxResults: PAGE_SIZE, ...(cursor ? { nextCursor: cursor } : {}) };
          const page = await call(() => tango.getAsyncOrder(ref, query));
          for (const item of page.lineItems) {
            const mine = byId.get(item.externalRefLineItemID);
            if (!mine) continue;
            byId.delete(item.externalRefLineItemID);
            const status = item.lineItemStatus?.trim().toUpperCase();
            if (status === 'FAILED') {
              if (classifyErrors(item.lineItemErrors ?? []) === 'transient') retry.push(mine);
              else outcome.givenUp += 1;
            } else {
              outcome.delivered += 1;
            }
          }
          const nextCursor = page.pagination?.nextCursor;
          cursor =
            nextCursor && page.pagination?.nextPageAvailable !== false && nextCursor !== cursor
              ? nextCursor
              : undefined;
        } while (cursor);
        // An item the pages never showed is not resubmitted (it might be in the order after all).
        outcome.givenUp += byId.size;
        pending = retry;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, chunks) }, lane));
  outcome.wallMs = performance.now() - started;
  return outcome;
}
