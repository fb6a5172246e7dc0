// Activities of one order (chunk): submit a round, read its status, settle it (failed pages,
// reconciliation, classification), apply operator input, and seal the final book. Each reads the
// book version the workflow names and writes the next one, so a retried attempt overwrites rather
// than duplicates; history sees keys and counts only.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type BookEntry,
  type ItemError,
  type RoundObservation,
  applyCorrections,
  applySkips,
  countBook,
  giveUpWaiting,
  markSubmitted,
  releaseFunds,
  settleRound,
  unaccountedIds,
} from '../campaign/order-book.ts';
import { orderBookKey, orderFinalBookKey, roundOrderKey, roundRejectedKey } from '../campaign/book-keys.ts';
import { failedItemsPageKey } from '../store/keys.ts';
import { getJson, putJson, putJsonLines, readJsonLines } from '../store/json.ts';
import {
  isFinalOrderStatus,
  normalizeStatus,
  type FailedLineItem,
  type LineItemDetail,
} from '../tango/schemas.ts';
import { TangoHttpError, TangoRequestValidationError, formatJsonPath } from '../tango/errors.ts';
import type { FailureClassName, ItemCounts } from '../workflows/types.ts';
import { failureTypes, tangoCall, toTemporalFailure } from './errors.ts';
import type { ActivityDeps, OrderRef } from './deps.ts';
import { loadCampaignDefinition } from './staging.ts';

export interface RoundInput {
  campaignId: string;
  chunk: number;
  round: number;
  /** The book version this step reads; it writes step + 1. */
  step: number;
  externalRefID: string;
}

export interface SubmitResult {
  httpStatus: number;
  /** False when Tango returned an existing order for this externalRefID (a retried POST). */
  created: boolean;
  submitted: number;
  rejected: number;
  duplicates: number;
  orderStatus?: string;
  /** Set when Tango refused the whole request (400/422): the order does not exist. */
  requestRejected?: { status: number; i18nKey?: string; message: string };
  bookKey: string;
  counts: ItemCounts;
  /** Failures Tango reported for this round at submit time (a refused request). */
  failuresThisRound?: Record<FailureClassName, number>;
}

export interface OrderStatusResult {
  orderStatus?: string;
  final: boolean;
  totalLineItems?: number;
}

export interface SettleResult {
  bookKey: string;
  counts: ItemCounts;
  failuresThisRound: Record<FailureClassName, number>;
  failedPages: number;
  lookups: number;
}

export type OperatorAction =
  | { kind: 'corrections'; key: string }
  | { kind: 'skip'; key: string }
  | { kind: 'funds-released' }
  | { kind: 'give-up-waiting'; reason: string }
  | { kind: 'give-up-queued'; reason: string };

export interface ApplyResult {
  bookKey: string;
  counts: ItemCounts;
  changed: number;
  ignored: number;
}

const LOOKUP_BATCH = 50;
const FAILED_PAGE_SIZE = 500;

function toItemErrors(failed: FailedLineItem): ItemError[] {
  return failed.errors.map((error) => ({
    code:
      error.errorCodeName ?? (error.errorCodeValue !== undefined ? String(error.errorCodeValue) : undefined),
    value: error.errorCodeValue,
    field: error.field,
    message: error.message,
  }));
}

function detailErrors(item: LineItemDetail): ItemError[] {
  return item.lineItemErrors.map((error) => ({ code: error.errorCode, message: error.errorMessage }));
}

export function createOrderActivities(deps: ActivityDeps) {
  const { store, tango, classify, autoFixerFor } = deps;

  async function readBook(campaignId: string, chunk: number, step: number): Promise<BookEntry[]> {
    const entries: BookEntry[] = [];
    for await (const row of readJsonLines(store, orderBookKey(campaignId, chunk, step)))
      entries.push(row as BookEntry);
    return entries;
  }

  async function writeBook(campaignId: string, chunk: number, step: number, entries: BookEntry[]) {
    const key = orderBookKey(campaignId, chunk, step);
    await putJsonLines(store, key, entries);
    return key;
  }

  async function orderRef(campaignId: string, externalRefID: string): Promise<OrderRef> {
    const definition = await loadCampaignDefinition(store, campaignId);
    return {
      customerIdentifier: definition.customerIdentifier,
      accountIdentifier: definition.accountIdentifier,
      externalRefID,
    };
  }

  /**
   * A 400/422 on a retried POST must not be read as "nothing was created": the first attempt may
   * have created the order (and its items may since have become invalid, e.g. a delivery date now
   * too close). Only a 404 for the externalRefID proves Tango holds none of the items.
   */
  async function orderExists(campaignId: string, externalRefID: string): Promise<boolean> {
    const ref = await orderRef(campaignId, externalRefID);
    try {
      await tango.getAsyncOrder(ref, { maxResults: 1 });
      return true;
    } catch (error) {
      if (error instanceof TangoHttpError && error.status === 404) return false;
      throw toTemporalFailure(error);
    }
  }

  /** Sends the queued items of the book as one Tango order with the round's externalRefID. */
  async function submitOrderRound(input: RoundInput): Promise<SubmitResult> {
    const { campaignId, chunk, round, step, externalRefID } = input;
    const entries = await readBook(campaignId, chunk, step);
    const sent = markSubmitted(entries, round, externalRefID);
    const nextKey = orderBookKey(campaignId, chunk, step + 1);
    if (sent.length === 0) {
      await writeBook(campaignId, chunk, step + 1, entries);
      return {
        httpStatus: 0,
        created: false,
        submitted: 0,
        rejected: 0,
        duplicates: 0,
        bookKey: nextKey,
        counts: countBook(entries),
      };
    }
    const definition = await loadCampaignDefinition(store, campaignId);
    const request = {
      externalRefID,
      customerIdentifier: definition.customerIdentifier,
      accountIdentifier: definition.accountIdentifier,
      ...(definition.campaign ? { campaign: definition.campaign } : {}),
      ...(definition.purchaseOrderNumber ? { purchaseOrderNumber: definition.purchaseOrderNumber } : {}),
      ...(definition.notes ? { notes: definition.notes } : {}),
      ...(definition.sender ? { sender: definition.sender } : {}),
      lineItems: sent.map((entry) => entry.item),
    };
    const rejectedKey = roundRejectedKey(campaignId, chunk, round);
    const ref = {
      customerIdentifier: request.customerIdentifier,
      accountIdentifier: request.accountIdentifier,
      externalRefID,
    };
    let response: Awaited<ReturnType<typeof tango.createAsyncOrder>>;
    try {
      response = await tango.createAsyncOrder(request);
    } catch (error) {
      const refused = isRequestRefusal(error);
      if (refused && !(await orderExists(campaignId, externalRefID))) {
        // Tango refused the whole request, so it holds none of these items: the ones its errors name
        // are rejected with those errors; the others go back to the queue unchanged.
        const rejected = requestErrorsByItem(refused, sent);
        await putJson(store, rejectedKey, Object.fromEntries(rejected));
        const observation: RoundObservation = {
          round,
          externalRefID,
          rejected,
          failed: new Map(),
          lookedUp: new Map(sent.filter((entry) => !rejected.has(entry.id)).map((entry) => [entry.id, null])),
          restHeld: false,
        };
        const seen = settleRound(entries, observation, classify, autoFixerFor(definition));
        await writeBook(campaignId, chunk, step + 1, entries);
        return {
          httpStatus: refused.status,
          created: false,
          submitted: 0,
          rejected: rejected.size,
          duplicates: 0,
          requestRejected: { status: refused.status, i18nKey: refused.i18nKey, message: refused.message },
          bookKey: nextKey,
          counts: countBook(entries),
          failuresThisRound: seen,
        };
      }
      if (!refused) throw toTemporalFailure(error);
      // The order exists: carry on as with a repeated POST; settling accounts for every item.
      const existing = await tangoCall(() => tango.getAsyncOrder(ref, { maxResults: 1 }));
      response = {
        httpStatus: 200,
        created: false,
        order: {
          externalRefID,
          status: existing.orderStatus,
          totalLineItems: existing.totalLineItems,
          createdAt: existing.createdAt,
          failedLineItems: [],
          duplicateLineItemRefIds: {},
          extra: {},
        },
      };
    }
    const { order, httpStatus, created } = response;
    const rejected = new Map(
      order.failedLineItems.map((failed) => [failed.externalRefLineItemID, toItemErrors(failed)]),
    );
    // A repeated POST (after a lost response) may omit failedLineItems: never overwrite what an
    // earlier attempt recorded with an emptier answer.
    const earlier = (await store.exists(rejectedKey))
      ? ((await getJson(store, rejectedKey)) as Record<string, ItemError[]>)
      : {};
    const merged = { ...earlier, ...Object.fromEntries(rejected) };
    await putJson(store, rejectedKey, merged);
    await putJson(store, roundOrderKey(campaignId, chunk, round), {
      externalRefID,
      httpStatus,
      created,
      items: sent.length,
      status: order.status,
      at: new Date().toISOString(),
    });
    await writeBook(campaignId, chunk, step + 1, entries);
    return {
      httpStatus,
      created,
      submitted: sent.length,
      rejected: Object.keys(merged).length,
      duplicates: Object.keys(order.duplicateLineItemRefIds).length,
      orderStatus: order.status,
      bookKey: nextKey,
      counts: countBook(entries),
    };
  }

  /** One GET of the order (a single line item) to learn whether Tango has finished with it. */
  async function getOrderStatus(input: {
    campaignId: string;
    externalRefID: string;
  }): Promise<OrderStatusResult> {
    const ref = await orderRef(input.campaignId, input.externalRefID);
    const order = await tangoCall(() => tango.getAsyncOrder(ref, { maxResults: 1 }));
    return {
      orderStatus: order.orderStatus,
      final: isFinalOrderStatus(order.orderStatus),
      totalLineItems: order.totalLineItems,
    };
  }

  /**
   * Pages through the round's failed line items (resuming from the last heartbeated cursor after a
   * retry), reconciles every submitted item, classifies the failures and writes the next book.
   */
  async function settleOrderRound(input: RoundInput): Promise<SettleResult> {
    const { campaignId, chunk, round, step, externalRefID } = input;
    const context = Context.current();
    const ref = await orderRef(campaignId, externalRefID);
    const definition = await loadCampaignDefinition(store, campaignId);
    const entries = await readBook(campaignId, chunk, step);

    // 1. Failed line items, page by page; each page is stored so a retry resumes after it.
    const progress = (context.info.heartbeatDetails as { cursor?: string; page: number } | undefined) ?? {
      page: 0,
    };
    let page = progress.page;
    let totalLineItems: number | undefined;
    let orderStatus: string | undefined;
    let orderErrors: ItemError[] = [];
    if (page === 0 || progress.cursor) {
      // Mapped like every Tango call: a 429 here must wait Retry-After, a 401 must not be retried.
      try {
        for await (const result of tango.lineItemPages(ref, {
          failedOnly: true,
          maxResults: FAILED_PAGE_SIZE,
          ...(progress.cursor ? { startCursor: progress.cursor } : {}),
        })) {
          totalLineItems = result.order.totalLineItems;
          orderStatus = result.order.orderStatus;
          orderErrors = result.order.orderErrors.map((error) => ({
            code: error.errorCode,
            message: error.errorMessage,
          }));
          await putJsonLines(store, failedItemsPageKey(campaignId, chunk, round, page), result.lineItems);
          page += 1;
          context.heartbeat({ cursor: result.nextCursor, page });
          if (!result.nextCursor) break;
        }
      } catch (error) {
        throw toTemporalFailure(error);
      }
    }
    if (!isFinalOrderStatus(orderStatus) && orderStatus !== undefined) {
      throw ApplicationFailure.create({
        type: 'OrderNotSettled',
        message: `order ${externalRefID} is ${orderStatus}, not final yet: settling again shortly`,
        // GET and the failed pages may briefly disagree; retrying is safe (nothing was written).
        nextRetryDelay: '5 seconds',
      });
    }
    if (totalLineItems === undefined || orderStatus === undefined) {
      const order = await tangoCall(() => tango.getAsyncOrder(ref, { maxResults: 1 }));
      totalLineItems = order.totalLineItems;
      orderStatus = order.orderStatus;
      orderErrors = order.orderErrors.map((error) => ({
        code: error.errorCode,
        message: error.errorMessage,
      }));
    }
    // A whole order that failed: its items may carry no errors of their own, only the order's.
    const orderFailed = normalizeStatus(orderStatus) === 'FAILED';
    const errorsOf = (item: LineItemDetail) => {
      const own = detailErrors(item);
      return own.length > 0 || !orderFailed ? own : orderErrors;
    };

    const failed = new Map<string, ItemError[]>();
    for (let index = 0; index < page; index += 1) {
      for await (const row of readJsonLines(store, failedItemsPageKey(campaignId, chunk, round, index))) {
        const item = row as LineItemDetail;
        failed.set(item.externalRefLineItemID, errorsOf(item));
      }
    }
    const rejectedKey = roundRejectedKey(campaignId, chunk, round);
    const rejectedRecord = (await store.exists(rejectedKey))
      ? ((await getJson(store, rejectedKey)) as Record<string, ItemError[]>)
      : {};
    const rejected = new Map(Object.entries(rejectedRecord));

    // 2. Reconcile. Items neither rejected nor failed are delivered only if Tango's count proves the
    // order holds all of them; otherwise each is looked up by id.
    const unaccounted = unaccountedIds(
      entries.filter((entry) => entry.externalRefID === externalRefID),
      rejected,
      failed,
    );
    // The count proves "held"; "held and not failed" means delivered only when the order itself did not fail.
    const restHeld =
      !orderFailed && totalLineItems !== undefined && totalLineItems === unaccounted.length + failed.size;
    const lookedUp = new Map<string, { status?: string; errors: ItemError[] } | null>();
    let lookups = 0;
    if (!restHeld && unaccounted.length > 0) {
      for (let start = 0; start < unaccounted.length; start += LOOKUP_BATCH) {
        const batch = unaccounted.slice(start, start + LOOKUP_BATCH);
        const found = await tangoCall(() => tango.lookupLineItems(ref, batch));
        lookups += 1;
        const byId = new Map(found.map((item) => [item.externalRefLineItemID, item]));
        for (const id of batch) {
          const item = byId.get(id);
          lookedUp.set(id, item ? { status: item.lineItemStatus, errors: errorsOf(item) } : null);
        }
        context.heartbeat({ cursor: undefined, page });
      }
    }
    const seen = settleRound(
      entries,
      { round, externalRefID, rejected, failed, lookedUp, restHeld },
      classify,
      autoFixerFor(definition),
    );
    const bookKey = await writeBook(campaignId, chunk, step + 1, entries);
    return { bookKey, counts: countBook(entries), failuresThisRound: seen, failedPages: page, lookups };
  }

  /** Corrections, skips, released funds or the end of waiting, applied to the book. */
  async function applyOrderInput(input: {
    campaignId: string;
    chunk: number;
    step: number;
    action: OperatorAction;
  }): Promise<ApplyResult> {
    const { campaignId, chunk, step, action } = input;
    const entries = await readBook(campaignId, chunk, step);
    let changed = 0;
    let ignored = 0;
    switch (action.kind) {
      case 'corrections': {
        const corrections: { id: string; item: BookEntry['item'] }[] = [];
        for await (const row of readJsonLines(store, action.key))
          corrections.push(row as { id: string; item: BookEntry['item'] });
        const result = applyCorrections(entries, corrections);
        changed = result.applied.length;
        ignored = result.ignored.length;
        break;
      }
      case 'skip': {
        const skips: { id: string; reason: string }[] = [];
        for await (const row of readJsonLines(store, action.key))
          skips.push(row as { id: string; reason: string });
        for (const [reason, ids] of groupBy(skips, (skip) => skip.reason)) {
          const result = applySkips(
            entries,
            ids.map((skip) => skip.id),
            reason,
          );
          changed += result.skipped.length;
          ignored += result.ignored.length;
        }
        break;
      }
      case 'funds-released':
        changed = releaseFunds(entries);
        break;
      case 'give-up-waiting':
        changed = giveUpWaiting(entries, action.reason);
        break;
      case 'give-up-queued':
        changed = giveUpWaiting(entries, action.reason, true);
        break;
    }
    const bookKey = await writeBook(campaignId, chunk, step + 1, entries);
    return { bookKey, counts: countBook(entries), changed, ignored };
  }

  /** Copies the last book to the order's final key, where the report reads it. */
  async function sealOrderBook(input: { campaignId: string; chunk: number; step: number }): Promise<string> {
    const key = orderFinalBookKey(input.campaignId, input.chunk);
    await store.put(key, store.stream(orderBookKey(input.campaignId, input.chunk, input.step)));
    return key;
  }

  return { submitOrderRound, getOrderStatus, settleOrderRound, applyOrderInput, sealOrderBook };
}

function groupBy<T>(rows: T[], keyOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

interface RequestRefusal {
  status: number;
  i18nKey?: string;
  message: string;
  /** Problems with their JSON path ("lineItems[3].recipient.email" or ["lineItems", 3, ...]). */
  problems: { path: string; i18nKey?: string; message?: string }[];
}

/**
 * Tango refused the whole request (400/422), or our client refused to send it because it breaks a
 * documented limit (e.g. a delivery date that has come too close since staging). Either way the order
 * was not created by this attempt.
 */
function isRequestRefusal(error: unknown): RequestRefusal | undefined {
  if (error instanceof TangoHttpError && (error.status === 400 || error.status === 422)) {
    const body = typeof error.body === 'string' ? undefined : error.body;
    return {
      status: error.status,
      i18nKey: error.i18nKey,
      message: error.message,
      problems: (body?.errors ?? []).map((detail) => ({
        path: detail.path ?? '',
        i18nKey: detail.i18nKey,
        message: detail.message,
      })),
    };
  }
  if (error instanceof TangoRequestValidationError) {
    return {
      status: 0,
      message: error.message,
      problems: error.issues.map((issue) => ({ path: formatJsonPath(issue.path), message: issue.message })),
    };
  }
  return undefined;
}

/**
 * Maps a refused request to the items its problem paths name (`lineItems[3].recipient.email`).
 * When no problem names an item, every item carries the request's error: a person must look.
 */
function requestErrorsByItem(refusal: RequestRefusal, sent: BookEntry[]): Map<string, ItemError[]> {
  const byItem = new Map<string, ItemError[]>();
  for (const problem of refusal.problems) {
    const match = /lineItems\[(\d+)\]\.?(.*)$/.exec(problem.path);
    const entry = match ? sent[Number(match[1])] : undefined;
    if (!entry) continue;
    const errors = byItem.get(entry.id) ?? [];
    errors.push({
      code: problem.i18nKey ?? refusal.i18nKey ?? (refusal.status === 0 ? 'REQUEST_INVALID' : undefined),
      field: match?.[2] || undefined,
      message: problem.message,
    });
    byItem.set(entry.id, errors);
  }
  if (byItem.size === 0) {
    for (const entry of sent) {
      byItem.set(entry.id, [{ code: refusal.i18nKey ?? `HTTP_${refusal.status}`, message: refusal.message }]);
    }
  }
  return byItem;
}

export { failureTypes };
