// Failed items, page by page: while a campaign runs, from the order books its `failures` query names
// (read from the store); once it has closed, its given-up items from the final report.
import { orderFinalBookKey } from '../store/keys.ts';
import type { BookEntry, ItemError } from '../campaign/order-book.ts';
import type { ReportRow } from '../campaign/report.ts';
import { readJsonLines } from '../store/json.ts';
import type { CampaignStore } from '../store/store.ts';
import type { LineItemRequest } from '../tango/schemas.ts';
import type { BlockedOrder, CampaignProgress, FailureClassName, FailuresPage } from '../workflows/types.ts';
import { InvalidInputError } from './errors.ts';

export interface FailedItem {
  externalRefLineItemID: string;
  chunk: number;
  state: 'awaiting-correction' | 'awaiting-funds' | 'given-up';
  failureClass?: FailureClassName;
  errors: ItemError[];
  reason?: string;
  rounds: number;
  externalRefID?: string;
  /** The line item as it would be sent again (edit and submit it as a correction). */
  item: LineItemRequest;
}

export interface ListFailuresOptions {
  failureClass?: FailureClassName;
  /** Only items in these states (default: all three). */
  states?: FailedItem['state'][];
  /** Page size (default 100). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface FailuresListing {
  campaignId: string;
  /**
   * The campaign has ended: items come from its report (given-up only, reward fields but no
   * recipient details), and it takes no more corrections.
   */
  closed: boolean;
  items: FailedItem[];
  nextCursor?: string;
  totals: { awaitingCorrection: number; awaitingFunds: number; givenUp: number };
  /** Orders blocked on something a person must look at (e.g. a collision), with the reason. */
  blockedOrders?: BlockedOrder[];
}

/** A checked page request: where the previous page stopped, and what to list. */
export interface FailuresPageRequest {
  limit: number;
  states: ReadonlySet<string>;
  failureClass?: FailureClassName;
  afterChunk: number;
  afterIndex: number;
}

export function failuresPageRequest(options: ListFailuresOptions): FailuresPageRequest {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidInputError('the page size', [{ path: 'limit', message: 'a positive whole number' }]);
  const [afterChunk, afterIndex] = decodeCursor(options.cursor);
  return {
    limit,
    states: new Set(options.states ?? ['awaiting-correction', 'awaiting-funds', 'given-up']),
    ...(options.failureClass ? { failureClass: options.failureClass } : {}),
    afterChunk,
    afterIndex,
  };
}

/** A running campaign's failures: the books of the orders in flight, and the final books of the others. */
export async function failuresFromBooks(
  campaignId: string,
  store: CampaignStore,
  request: FailuresPageRequest,
  page: FailuresPage,
  progress: CampaignProgress,
): Promise<FailuresListing> {
  const items: FailedItem[] = [];
  let nextCursor: string | undefined;
  // Orders in flight name their current book; orders already finished left a sealed final book,
  // which can only hold given-up items among the failures.
  const active = new Map(page.orders.map((order) => [order.chunk, order.bookKey]));
  const ordersToRead = async function* (): AsyncIterable<{ chunk: number; bookKey: string }> {
    for (let chunk = Math.max(0, request.afterChunk); chunk < progress.orders.started; chunk += 1) {
      const bookKey = active.get(chunk);
      if (bookKey) yield { chunk, bookKey };
      else if (request.states.has('given-up')) {
        const finalKey = orderFinalBookKey(campaignId, chunk);
        if (await store.exists(finalKey)) yield { chunk, bookKey: finalKey };
      }
    }
  };
  const orders = ordersToRead();
  outer: for await (const order of orders) {
    let index = -1;
    for await (const raw of readJsonLines(store, order.bookKey)) {
      index += 1;
      if (order.chunk === request.afterChunk && index <= request.afterIndex) continue;
      const entry = raw as BookEntry;
      if (!request.states.has(entry.state as FailedItem['state'])) continue;
      if (request.failureClass && entry.failureClass !== request.failureClass) continue;
      if (items.length === request.limit) {
        nextCursor = encodeCursor(order.chunk, index - 1);
        break outer;
      }
      items.push({
        externalRefLineItemID: entry.id,
        chunk: order.chunk,
        state: entry.state as FailedItem['state'],
        ...(entry.failureClass ? { failureClass: entry.failureClass } : {}),
        errors: entry.errors ?? [],
        ...(entry.reason ? { reason: entry.reason } : {}),
        rounds: entry.rounds.length,
        ...(entry.externalRefID ? { externalRefID: entry.externalRefID } : {}),
        item: entry.item,
      });
    }
  }
  return {
    campaignId,
    closed: false,
    items,
    ...(nextCursor ? { nextCursor } : {}),
    ...(page.blocked?.length ? { blockedOrders: page.blocked } : {}),
    totals: {
      awaitingCorrection: page.totals.awaitingCorrection,
      awaitingFunds: page.totals.awaitingFunds,
      givenUp: page.totals.givenUp,
    },
  };
}

/** A closed campaign's given-up items, from its report (which keeps no recipient details). */
export function failuresFromReport(
  campaignId: string,
  report: { items: ReportRow[] },
  request: FailuresPageRequest,
): FailuresListing {
  const givenUp = report.items.filter((row) => row.state === 'given-up');
  const wanted = request.states.has('given-up')
    ? givenUp.filter((row) => !request.failureClass || row.failureClass === request.failureClass)
    : [];
  const start = request.afterIndex + 1;
  const slice = wanted.slice(start, start + request.limit);
  return {
    campaignId,
    closed: true,
    items: slice.map((row) => ({
      externalRefLineItemID: row.externalRefLineItemID,
      chunk: -1,
      state: 'given-up',
      ...(row.failureClass ? { failureClass: row.failureClass } : {}),
      errors: row.errorCodes
        .split(' ')
        .filter((code) => code !== '')
        .map((code, index) => ({
          code,
          ...(index === 0 && row.errorMessages ? { message: row.errorMessages } : {}),
        })),
      reason: row.reason,
      rounds: row.rounds,
      ...(row.externalRefID ? { externalRefID: row.externalRefID } : {}),
      // The report keeps no recipient details: only the reward fields are known here.
      item: {
        externalRefLineItemID: row.externalRefLineItemID,
        utid: row.utid,
        amount: row.amount,
        deliveryMethod: row.deliveryMethod,
      } as LineItemRequest,
    })),
    ...(start + request.limit < wanted.length
      ? { nextCursor: encodeCursor(-1, start + request.limit - 1) }
      : {}),
    totals: { awaitingCorrection: 0, awaitingFunds: 0, givenUp: givenUp.length },
  };
}

// Cursor: "<chunk>:<index of the last entry returned>", opaque to callers.
function encodeCursor(chunk: number, index: number): string {
  return Buffer.from(`${chunk}:${index}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): [number, number] {
  if (cursor === undefined) return [-Infinity, -1];
  const match = /^(-?\d+):(-?\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match)
    throw new InvalidInputError('the page cursor', [
      { path: 'cursor', message: 'not a cursor returned by listFailures' },
    ]);
  return [Number(match[1]), Number(match[2])];
}
