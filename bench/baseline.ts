// The plain-script baseline: the same Tango work without Temporal, done the way a careful engineer
// would with our TangoClient (orders of one chunk each, bounded concurrency, poll until final, page the
// failed items, resubmit the transient ones), and the lower bound: only POST every item once.
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyErrors } from '../src/campaign/classification.ts';
import type { TangoClient } from '../src/tango/client.ts';
import { isFinalOrderStatus, type LineItemRequest } from '../src/tango/schemas.ts';
import { benchItem } from './items.ts';

export interface ScriptRunOptions {
  tango: TangoClient;
  runTag: string;
  items: number;
  chunkSize: number;
  concurrency: number;
  customerIdentifier: string;
  accountIdentifier: string;
  /** Pause before resubmitting transient failures (the product's resubmitDelay). */
  resubmitDelayMs: number;
  maxRounds: number;
}

export interface BaselineOutcome {
  wallMs: number;
  orders: number;
  rounds: number;
  delivered: number;
  givenUp: number;
  polls: number;
}

/** Runs `work(chunk)` for every chunk with at most `concurrency` at once. */
async function forEachChunk(
  chunks: number,
  concurrency: number,
  work: (chunk: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < chunks) {
      const chunk = next;
      next += 1;
      await work(chunk);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks) }, lane));
}

function chunkItems(options: ScriptRunOptions, chunk: number): LineItemRequest[] {
  const first = chunk * options.chunkSize;
  const last = Math.min(options.items, first + options.chunkSize);
  const items: LineItemRequest[] = [];
  for (let index = first; index < last; index += 1) items.push(benchItem(options.runTag, index));
  return items;
}

function externalRefId(runTag: string, chunk: number, round: number): string {
  return round === 0 ? `${runTag}-${chunk}` : `${runTag}-${chunk}-r${round}`;
}

/** The baseline: every chunk submitted, polled, its failures paged and transient ones resubmitted. */
export async function runBaseline(options: ScriptRunOptions): Promise<BaselineOutcome> {
  const { tango, customerIdentifier, accountIdentifier } = options;
  const chunks = Math.ceil(options.items / options.chunkSize);
  const outcome: BaselineOutcome = { wallMs: 0, orders: 0, rounds: 0, delivered: 0, givenUp: 0, polls: 0 };
  const started = performance.now();
  await forEachChunk(chunks, options.concurrency, async (chunk) => {
    let pending = chunkItems(options, chunk);
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= options.maxRounds) {
        outcome.givenUp += pending.length;
        return;
      }
      if (round > 0) await sleep(options.resubmitDelayMs);
      const ref = {
        customerIdentifier,
        accountIdentifier,
        externalRefID: externalRefId(options.runTag, chunk, round),
      };
      const { order } = await tango.createAsyncOrder({ ...ref, lineItems: pending });
      outcome.orders += 1;
      outcome.rounds = Math.max(outcome.rounds, round + 1);
      const byId = new Map(pending.map((item) => [item.externalRefLineItemID, item]));
      const retry: LineItemRequest[] = [];
      // Rejected at submission: only transient ones are worth another round.
      for (const failed of order.failedLineItems) {
        const item = byId.get(failed.externalRefLineItemID);
        if (item && classifyErrors(failed.errors) === 'transient') retry.push(item);
        else outcome.givenUp += 1;
        byId.delete(failed.externalRefLineItemID);
      }
      // Poll until Tango has finished: quickly at first, backing off to a second.
      for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
        const status = await tango.getAsyncOrder(ref, { maxResults: 1 });
        outcome.polls += 1;
        if (isFinalOrderStatus(status.orderStatus)) break;
        await sleep(delay);
      }
      let failedCount = 0;
      for await (const page of tango.lineItemPages(ref, { failedOnly: true, maxResults: 500 })) {
        for (const failed of page.lineItems) {
          const item = byId.get(failed.externalRefLineItemID);
          if (!item) continue;
          failedCount += 1;
          if (classifyErrors(failed.lineItemErrors) === 'transient') retry.push(item);
          else outcome.givenUp += 1;
        }
      }
      outcome.delivered += byId.size - failedCount;
      pending = retry;
    }
  });
  outcome.wallMs = performance.now() - started;
  return outcome;
}

/** The lower bound: the time to POST every item once (same chunks, same concurrency), nothing else. */
export async function runPostOnly(options: ScriptRunOptions): Promise<{ wallMs: number; orders: number }> {
  const { tango, customerIdentifier, accountIdentifier } = options;
  const chunks = Math.ceil(options.items / options.chunkSize);
  let orders = 0;
  const started = performance.now();
  await forEachChunk(chunks, options.concurrency, async (chunk) => {
    await tango.createAsyncOrder({
      customerIdentifier,
      accountIdentifier,
      externalRefID: externalRefId(options.runTag, chunk, 0),
      lineItems: chunkItems(options, chunk),
    });
    orders += 1;
  });
  return { wallMs: performance.now() - started, orders };
}
