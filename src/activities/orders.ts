// Activities of one order (chunk): submit a round, read its status, settle it item by item against
// Tango's own record, re-read scheduled or pending items, apply operator input, and seal the final
// book. Each reads the book version the workflow names and writes the next one, so a retried attempt
// overwrites rather than duplicates; history sees keys and counts only.
// Why so long: submitting and settling share the round record, the collision rules and the
// visibility grace; each rule is short, and splitting them apart would spread one money decision
// over several files.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type BookEntry,
  type ItemError,
  type RoundObservation,
  type TangoItemRecord,
  applyCorrections,
  applySkips,
  countBook,
  giveUpExhausted,
  giveUpInDoubt,
  giveUpWaiting,
  markSubmitted,
  releaseFunds,
  openItems as openItemsOf,
  settleRound,
} from '../campaign/order-book.ts';
import {
  orderBookKey,
  orderFinalBookKey,
  roundLineItemsPageKey,
  roundOrderKey,
  roundSettleProgressKey,
  roundRejectedKey,
} from '../store/keys.ts';
import { zeroPerFailureClass } from '../campaign/classification.ts';
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
  /** Line-item pages read (all items, not only the failed ones). */
  pages: number;
  lookups: number;
  /** Items Tango holds undecided (PENDING with no future delivery date): read again later. */
  pending: number;
  /** The earliest delivery date of the order's scheduled items (ISO). */
  nextScheduled?: string;
}

export type SettleStepResult =
  { settled: false; final: boolean; orderStatus?: string } | ({ settled: true } & SettleResult);

/** How far settling a round got (the store key beside its pages): any call or retry goes on from here. */
interface SettleProgress {
  pages: number;
  cursor?: string;
  /** Every page read. */
  paged: boolean;
  /** Ids looked up in this pass, and what the lookups found. */
  checked: string[];
  found: Record<string, TangoItemRecord>;
  lookups?: number;
  /** When the current pass of lookups began: "not held" needs it to start after the grace. */
  passStartedAt?: number;
}

export type OperatorAction =
  | { kind: 'corrections'; key: string }
  | { kind: 'skip'; key: string }
  | { kind: 'funds-released' }
  | { kind: 'give-up-waiting'; reason: string }
  | { kind: 'give-up-queued'; reason: string }
  /** Rounds exhausted: queued items go, except those an operator just corrected. */
  | { kind: 'give-up-exhausted'; reason: string }
  /**
   * The order stops before the queued items' POST settled: if any attempt of that round's POST was
   * made they are "fate unknown" (given up, never resent), otherwise never sent (cancelled).
   */
  | { kind: 'give-up-unsent'; round: number; externalRefID: string; reason: string };

export interface ApplyResult {
  bookKey: string;
  counts: ItemCounts;
  changed: number;
  ignored: number;
}

/** What the round's POST left in the store (roundOrderKey). Older records lack the newer fields. */
interface RoundRecord {
  externalRefID: string;
  /** When the first attempt of this round's POST was about to be sent (worker clock, ISO). */
  firstAttemptAt: string;
  /** Some attempt got a 2xx: Tango acknowledged an order under this externalRefID. */
  acknowledged: boolean;
  items?: number;
  httpStatus?: number;
  created?: boolean;
  createdAt?: string;
  status?: string;
  /** Why the order under this externalRefID is not ours; set once, never cleared. */
  collision?: string;
}

const LOOKUP_BATCH = 50;
const PAGE_SIZE = 500;
const DEFAULT_VISIBILITY_GRACE_MS = 10 * 60_000;
/** An existing order created this much before our first attempt was not created by it. */
const COLLISION_CLOCK_SKEW_MS = 2 * 60_000;
const NOT_VISIBLE_MAX_DELAY_MS = 60_000;

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

/** Tango's record of a line item, by our (trimmed) id. */
function recordOf(item: LineItemDetail, errors: ItemError[]): TangoItemRecord {
  return {
    ...(item.lineItemStatus ? { status: item.lineItemStatus } : {}),
    errors,
    ...(item.referenceLineItemId ? { referenceLineItemId: item.referenceLineItemId } : {}),
    ...(item.scheduledDeliveryDate ? { scheduledFor: item.scheduledDeliveryDate } : {}),
  };
}

/** Two readings of one id (Tango repeated it): the delivered one wins, so it is never resent. */
function strongerRecord(a: TangoItemRecord | undefined, b: TangoItemRecord): TangoItemRecord {
  if (!a) return b;
  return /^COMPLETED?$/i.test(a.status ?? '') ? a : b;
}

interface StoredPage {
  order: { orderStatus?: string; orderErrors: ItemError[] };
  lineItems: LineItemDetail[];
}

export function createOrderActivities(deps: ActivityDeps) {
  const { store, tango, classify, autoFixerFor } = deps;
  const graceMs = deps.visibilityGraceMs ?? DEFAULT_VISIBILITY_GRACE_MS;
  const now = deps.now ?? Date.now;

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

  async function readRecord(
    campaignId: string,
    chunk: number,
    round: number,
  ): Promise<RoundRecord | undefined> {
    const key = roundOrderKey(campaignId, chunk, round);
    if (!(await store.exists(key))) return undefined;
    const raw = (await getJson(store, key)) as Partial<RoundRecord> & { at?: string; externalRefID: string };
    return {
      ...raw,
      externalRefID: raw.externalRefID,
      firstAttemptAt: raw.firstAttemptAt ?? raw.at ?? new Date(0).toISOString(),
      acknowledged: raw.acknowledged ?? (raw.httpStatus !== undefined && raw.httpStatus < 300),
    };
  }

  function collisionFailure(externalRefID: string, reason: string) {
    return ApplicationFailure.create({
      type: failureTypes.collision,
      message:
        `order ${externalRefID} is not this campaign's: ${reason}. Nothing is inferred from it and ` +
        'nothing is resent; the items stay unsettled until a person looks (cancel the campaign to end it)',
      nonRetryable: true,
    });
  }

  /**
   * A 404 for an order this worker POSTed: within the grace it means "not visible yet" (Tango's GET
   * may lag its POST) and the activity asks again with a short doubling backoff; after it, an order
   * Tango acknowledged is missing (a person must ask Tango), one it never acknowledged is not held.
   */
  function notFoundFor(record: RoundRecord | undefined, what: string): 'absent' {
    if (!record) return 'absent';
    const since = now() - Date.parse(record.firstAttemptAt);
    if (since < graceMs) {
      const attempt = Context.current().info.attempt;
      throw ApplicationFailure.create({
        type: failureTypes.notVisibleYet,
        message: `${what}: Tango does not show order ${record.externalRefID} yet, ${Math.round(since / 1000)} s after our first POST; asking again shortly`,
        nextRetryDelay: Math.min(1000 * 2 ** Math.min(attempt - 1, 10), NOT_VISIBLE_MAX_DELAY_MS),
      });
    }
    if (record.acknowledged) {
      throw ApplicationFailure.create({
        type: failureTypes.orderMissing,
        message:
          `${what}: Tango acknowledged order ${record.externalRefID} but still answers 404 for it ` +
          `${Math.round(since / 60_000)} min after our first POST: ask Tango about it; nothing is resent`,
        nonRetryable: true,
      });
    }
    return 'absent';
  }

  /** GET one small page of the order; a 404 goes through the visibility grace. */
  async function readOrder(
    campaignId: string,
    externalRefID: string,
    record: RoundRecord | undefined,
    what: string,
  ) {
    const ref = await orderRef(campaignId, externalRefID);
    try {
      return await tango.getAsyncOrder(ref, { maxResults: 1 });
    } catch (error) {
      if (error instanceof TangoHttpError && error.status === 404 && notFoundFor(record, what) === 'absent')
        return undefined;
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
    const recordKey = roundOrderKey(campaignId, chunk, round);
    const earlier = await readRecord(campaignId, chunk, round);
    if (earlier?.collision) throw collisionFailure(externalRefID, earlier.collision);
    // Written before the POST: whatever happens to this attempt, later ones know a POST may have gone out.
    const record: RoundRecord = earlier ?? {
      externalRefID,
      firstAttemptAt: new Date(now()).toISOString(),
      acknowledged: false,
      items: sent.length,
    };
    if (!earlier) await putJson(store, recordKey, record);

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
    let response: Awaited<ReturnType<typeof tango.createAsyncOrder>>;
    try {
      response = await tango.createAsyncOrder(request);
    } catch (error) {
      const refused = isRequestRefusal(error);
      const noFunds = error instanceof TangoHttpError && error.status === 402;
      if (!refused && !noFunds) throw toTemporalFailure(error);
      // A refusal proves this attempt created nothing; only an earlier attempt can have. Without
      // one there is nothing to ask Tango; with one, Tango's GET decides (after the grace).
      // An attempt before this one may have reached Tango even without a record (an older worker
      // wrote it only after a 2xx): ask Tango then too.
      const mayExist = earlier !== undefined || Context.current().info.attempt > 1;
      const existing = mayExist
        ? await readOrder(campaignId, externalRefID, record, `POST ${externalRefID}`)
        : undefined;
      if (!existing) {
        if (noFunds) throw toTemporalFailure(error);
        return rejectRound(input, entries, sent, refused!);
      }
      // The order exists: carry on as with a repeated POST; settling accounts for every item.
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
    const createdAt = order.createdAt ? Date.parse(order.createdAt) : Number.NaN;
    const olderThanUs =
      Number.isFinite(createdAt) && createdAt < Date.parse(record.firstAttemptAt) - COLLISION_CLOCK_SKEW_MS;
    // Our first attempt answered "existing order" (200, not 201), or an order older than our first
    // attempt: another client's, or a run of this campaign id we cannot see. Never evidence.
    const collision =
      !created && (olderThanUs || (!earlier && !Number.isFinite(createdAt)))
        ? `Tango answered our ${earlier ? 'retried' : 'first'} POST with an existing order (HTTP ${httpStatus}${
            order.createdAt ? `, created ${order.createdAt}` : ''
          }) although this round first sent it at ${record.firstAttemptAt}`
        : !created && !earlier && httpStatus === 200
          ? `Tango answered our first POST with an existing order (HTTP 200, created ${order.createdAt ?? '?'})`
          : undefined;
    if (collision) {
      await putJson(store, recordKey, { ...record, collision, httpStatus, createdAt: order.createdAt });
      throw collisionFailure(externalRefID, collision);
    }
    const rejected = new Map(
      order.failedLineItems.map((failed) => [failed.externalRefLineItemID.trim(), toItemErrors(failed)]),
    );
    // A repeated POST (after a lost response) may omit failedLineItems: never overwrite what an
    // earlier attempt recorded with an emptier answer.
    const earlierRejected = (await store.exists(rejectedKey))
      ? ((await getJson(store, rejectedKey)) as Record<string, ItemError[]>)
      : {};
    const merged = { ...earlierRejected, ...Object.fromEntries(rejected) };
    await putJson(store, rejectedKey, merged);
    await putJson(store, recordKey, {
      ...record,
      acknowledged: true,
      httpStatus,
      created,
      ...(order.createdAt ? { createdAt: order.createdAt } : {}),
      ...(order.status ? { status: order.status } : {}),
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

  /**
   * Tango refused the whole request and holds no order under its externalRefID: the items its
   * errors name are rejected with those errors; the others go back to the queue unchanged.
   */
  async function rejectRound(
    input: RoundInput,
    entries: BookEntry[],
    sent: BookEntry[],
    refused: RequestRefusal,
  ): Promise<SubmitResult> {
    const { campaignId, chunk, round, step, externalRefID } = input;
    const rejected = requestErrorsByItem(refused, sent);
    await putJson(store, roundRejectedKey(campaignId, chunk, round), Object.fromEntries(rejected));
    const observation: RoundObservation = {
      round,
      externalRefID,
      rejected,
      records: new Map(),
      notHeld: new Set(sent.filter((entry) => !rejected.has(entry.id)).map((entry) => entry.id)),
      readAt: new Date(now()).toISOString(),
    };
    const definition = await loadCampaignDefinition(store, campaignId);
    const outcome = settleRound(entries, observation, classify, autoFixerFor(definition));
    const bookKey = await writeBook(campaignId, chunk, step + 1, entries);
    return {
      httpStatus: refused.status,
      created: false,
      submitted: 0,
      rejected: rejected.size,
      duplicates: 0,
      requestRejected: { status: refused.status, i18nKey: refused.i18nKey, message: refused.message },
      bookKey,
      counts: countBook(entries),
      failuresThisRound: outcome.seen,
    };
  }

  /** One GET of the order (a single line item) to learn whether Tango has finished with it. */
  async function getOrderStatus(input: {
    campaignId: string;
    externalRefID: string;
    /** With these, a 404 for an order we just POSTed is retried for the visibility grace. */
    chunk?: number;
    round?: number;
  }): Promise<OrderStatusResult> {
    const record =
      input.chunk !== undefined && input.round !== undefined
        ? await readRecord(input.campaignId, input.chunk, input.round)
        : undefined;
    const order = await readOrder(
      input.campaignId,
      input.externalRefID,
      record,
      `GET ${input.externalRefID}`,
    );
    if (!order) {
      throw ApplicationFailure.create({
        type: failureTypes.notFound,
        message: `Tango does not know order ${input.externalRefID} (404)`,
        nonRetryable: true,
      });
    }
    return {
      orderStatus: order.orderStatus,
      final: isFinalOrderStatus(order.orderStatus),
      totalLineItems: order.totalLineItems,
    };
  }

  /**
   * Settles the round's order item by item with at most `budget` Tango requests in this call: reads
   * every line item (cursor pages of up to 500, each stored; progress in the store, so any later call
   * or retry goes on where the last one stopped; pages read while the order was still processing are
   * never stored), looks up by id only the items absent from the pages, and decides each item we sent
   * by Tango's own record of it. An item Tango holds that we never sent in this order is a collision:
   * nothing is settled.
   */
  async function settleWithin(input: RoundInput, budget: number): Promise<SettleStepResult> {
    const { campaignId, chunk, round, step, externalRefID } = input;
    const context = Context.current();
    const record = await readRecord(campaignId, chunk, round);
    if (record?.collision) throw collisionFailure(externalRefID, record.collision);
    const ref = await orderRef(campaignId, externalRefID);
    const definition = await loadCampaignDefinition(store, campaignId);
    const entries = await readBook(campaignId, chunk, step);
    const progressKey = roundSettleProgressKey(campaignId, chunk, round);
    const fresh = (): SettleProgress => ({ pages: 0, paged: false, checked: [], found: {} });
    const progress: SettleProgress = (await store.exists(progressKey))
      ? ((await getJson(store, progressKey)) as SettleProgress)
      : fresh();
    const save = () => putJson(store, progressKey, progress);
    let requests = 0;

    // 1. Every line item, a page per request.
    while (!progress.paged) {
      if (requests >= budget) return { settled: false, final: true };
      let order;
      try {
        order = await tango.getAsyncOrder(ref, {
          maxResults: PAGE_SIZE,
          ...(progress.cursor ? { nextCursor: progress.cursor } : {}),
        });
      } catch (error) {
        if (error instanceof TangoHttpError && error.status === 404)
          notFoundFor(record, `settle ${externalRefID}`);
        else if (
          progress.cursor &&
          error instanceof TangoHttpError &&
          (error.status === 400 || error.status === 422)
        ) {
          // Tango no longer takes the stored cursor: read the order again from its first page.
          await putJson(store, progressKey, fresh());
          throw ApplicationFailure.create({
            type: failureTypes.notSettled,
            message: `Tango refused the saved cursor of order ${externalRefID}: reading it again from the first page`,
            nextRetryDelay: '1 second',
          });
        }
        throw toTemporalFailure(error);
      }
      requests += 1;
      if (!isFinalOrderStatus(order.orderStatus)) {
        if (progress.pages > 0) await putJson(store, progressKey, fresh());
        return {
          settled: false,
          final: false,
          ...(order.orderStatus ? { orderStatus: order.orderStatus } : {}),
        };
      }
      const stored: StoredPage = {
        order: {
          orderStatus: order.orderStatus,
          orderErrors: order.orderErrors.map((error) => ({
            code: error.errorCode,
            message: error.errorMessage,
          })),
        },
        lineItems: order.lineItems,
      };
      await putJson(store, roundLineItemsPageKey(campaignId, chunk, round, progress.pages), stored);
      const next = order.pagination?.nextCursor;
      const more = next !== undefined && next !== '' && order.pagination?.nextPageAvailable !== false;
      if (more && next === progress.cursor)
        throw ApplicationFailure.create({
          type: failureTypes.badResponse,
          message: `Tango returned cursor ${next} twice while paging order ${externalRefID}; asking again later`,
        });
      progress.pages += 1;
      progress.cursor = more ? next : undefined;
      progress.paged = !more;
      await save();
      context.heartbeat(progress.pages);
    }

    // 2. Tango's record of each item, by our (trimmed) id.
    const ours = new Set(
      entries.filter((entry) => entry.externalRefID === externalRefID).map((entry) => entry.id),
    );
    const records = new Map<string, TangoItemRecord>();
    const foreign: string[] = [];
    const pages: StoredPage[] = [];
    for (let index = 0; index < progress.pages; index += 1)
      pages.push(
        (await getJson(store, roundLineItemsPageKey(campaignId, chunk, round, index))) as StoredPage,
      );
    let orderStatus: string | undefined;
    let orderErrors: ItemError[] = [];
    for (const stored of pages) {
      orderStatus = stored.order.orderStatus ?? orderStatus;
      orderErrors = stored.order.orderErrors.length > 0 ? stored.order.orderErrors : orderErrors;
    }
    // A whole order that failed: its items may carry no errors of their own, only the order's.
    const orderFailed = normalizeStatus(orderStatus) === 'FAILED';
    const errorsOf = (item: LineItemDetail) => {
      const own = detailErrors(item);
      return own.length > 0 || !orderFailed ? own : orderErrors;
    };
    for (const stored of pages) {
      for (const item of stored.lineItems) {
        const id = item.externalRefLineItemID.trim();
        if (!ours.has(id)) foreign.push(id);
        else records.set(id, strongerRecord(records.get(id), recordOf(item, errorsOf(item))));
      }
    }
    if (foreign.length > 0) {
      const collision =
        `it holds ${foreign.length} line item(s) this campaign never sent in it ` +
        `(first: ${foreign.slice(0, 5).join(', ')})`;
      await putJson(store, roundOrderKey(campaignId, chunk, round), {
        ...(record ?? { externalRefID, firstAttemptAt: new Date(0).toISOString(), acknowledged: true }),
        collision,
      });
      throw collisionFailure(externalRefID, collision);
    }
    for (const [id, found] of Object.entries(progress.found))
      records.set(id, strongerRecord(records.get(id), found));

    // 3. Items we sent that the pages do not show: looked up by id, 50 per request; confirmed not
    //    held only after the visibility grace, so that a GET lagging the POST never resends anything.
    const rejectedKey = roundRejectedKey(campaignId, chunk, round);
    const rejected = new Map(
      Object.entries(
        (await store.exists(rejectedKey))
          ? ((await getJson(store, rejectedKey)) as Record<string, ItemError[]>)
          : {},
      ),
    );
    const absent = () =>
      entries
        .filter((entry) => entry.state === 'submitted' && entry.externalRefID === externalRefID)
        .map((entry) => entry.id)
        .filter((id) => !records.has(id) && !rejected.has(id));
    for (;;) {
      const checked = new Set(progress.checked);
      const batch = absent()
        .filter((id) => !checked.has(id))
        .slice(0, LOOKUP_BATCH);
      if (batch.length === 0) break;
      if (requests >= budget) return { settled: false, final: true };
      // A pass of lookups can take minutes at 1 request/s: what it found absent counts from its start.
      if (progress.checked.length === 0) progress.passStartedAt = now();
      const found = await tangoCall(() => tango.lookupLineItems(ref, batch));
      requests += 1;
      for (const item of found) {
        const id = item.externalRefLineItemID.trim();
        if (!ours.has(id)) continue;
        const seen = strongerRecord(records.get(id), recordOf(item, errorsOf(item)));
        records.set(id, seen);
        progress.found[id] = seen;
      }
      progress.checked.push(...batch);
      progress.lookups = (progress.lookups ?? 0) + 1;
      await save();
    }
    const stillAbsent = absent();
    const notHeld = new Set<string>();
    if (stillAbsent.length > 0) {
      const since =
        (progress.passStartedAt ?? now()) - Date.parse(record?.firstAttemptAt ?? new Date(0).toISOString());
      if (since < graceMs) {
        // Looked up again on the next attempt.
        progress.checked = [];
        delete progress.passStartedAt;
        await save();
        throw ApplicationFailure.create({
          type: failureTypes.notVisibleYet,
          message: `order ${externalRefID}: Tango does not show ${stillAbsent.length} of the items we sent yet (first: ${stillAbsent[0]}); asking again shortly`,
          nextRetryDelay: Math.min(
            1000 * 2 ** Math.min(context.info.attempt - 1, 10),
            NOT_VISIBLE_MAX_DELAY_MS,
          ),
        });
      }
      for (const id of stillAbsent) notHeld.add(id);
    }

    // 4. Every item we sent, by its record.
    const outcome = settleRound(
      entries,
      { round, externalRefID, rejected, records, notHeld, readAt: new Date(now()).toISOString() },
      classify,
      autoFixerFor(definition),
    );
    const bookKey = await writeBook(campaignId, chunk, step + 1, entries);
    return {
      settled: true,
      bookKey,
      counts: countBook(entries),
      failuresThisRound: outcome.seen,
      pages: progress.pages,
      lookups: progress.lookups ?? 0,
      pending: outcome.pending,
      ...(outcome.nextScheduled ? { nextScheduled: outcome.nextScheduled } : {}),
    };
  }

  /**
   * The whole settle of a round in one activity (orders that started before settling went one
   * request per activity; it is also what a retried attempt of theirs runs).
   */
  async function settleOrderRound(input: RoundInput): Promise<SettleResult> {
    const result = await settleWithin(input, Infinity);
    if (result.settled) {
      const { settled: _settled, ...settleResult } = result;
      return settleResult;
    }
    throw ApplicationFailure.create({
      type: failureTypes.notSettled,
      message: `order ${input.externalRefID} is ${result.orderStatus ?? 'without a status'}, not final yet: settling again shortly`,
      nextRetryDelay: '5 seconds',
    });
  }

  /**
   * One Tango request towards settling the round (a page, or a lookup of up to 50 ids), so that the
   * task-queue rate limit counts every request: `settled: false, final: true` means call again at
   * once; `final: false` means Tango is still processing the order (wait for its webhook or poll).
   */
  async function settleOrderStep(input: RoundInput): Promise<SettleStepResult> {
    return settleWithin(input, 1);
  }

  /**
   * Reads again, by id, the items Tango holds undecided: scheduled items whose delivery date has
   * come, and PENDING ones. Each is settled by its record; an item the lookup does not return stays
   * as it was (it was seen before: nothing is inferred from its absence).
   */
  async function recheckOrderItems(input: {
    campaignId: string;
    chunk: number;
    step: number;
    /** Go on after this book position (the `next` of the previous call of the same pass). */
    after?: number;
  }): Promise<SettleResult & { next?: number }> {
    const { campaignId, chunk, step } = input;
    const definition = await loadCampaignDefinition(store, campaignId);
    const entries = await readBook(campaignId, chunk, step);
    const readAt = now();
    const due = entries
      .map((entry, index) => ({ entry, index }))
      .filter(
        ({ entry, index }) =>
          index > (input.after ?? -1) &&
          (entry.state === 'submitted' ||
            (entry.state === 'scheduled' && Date.parse(entry.scheduledFor ?? '') <= readAt)),
      );
    // One lookup (one Tango request) per call: up to 50 due items of one order, in book order.
    const first = due[0];
    const batch = first
      ? due.filter(({ entry }) => entry.externalRefID === first.entry.externalRefID).slice(0, LOOKUP_BATCH)
      : [];
    // An order under our externalRefID that is not ours is never read as evidence.
    const collided =
      first !== undefined &&
      (await readRecord(campaignId, chunk, Math.max(...batch.map(({ entry }) => entry.rounds.at(-1) ?? 0))))
        ?.collision;
    if (collided) throw collisionFailure(first.entry.externalRefID ?? '', collided);
    const seen = zeroPerFailureClass();
    let lookups = 0;
    if (first) {
      const externalRefID = first.entry.externalRefID ?? '';
      const ref = await orderRef(campaignId, externalRefID);
      const ids = batch.map(({ entry }) => entry.id);
      const records = new Map<string, TangoItemRecord>();
      const found = await tangoCall(() => tango.lookupLineItems(ref, ids));
      lookups = 1;
      for (const item of found) {
        const id = item.externalRefLineItemID.trim();
        if (ids.includes(id))
          records.set(id, strongerRecord(records.get(id), recordOf(item, detailErrors(item))));
      }
      const outcome = settleRound(
        entries,
        {
          round: Math.max(...batch.map(({ entry }) => entry.rounds.at(-1) ?? 0)),
          externalRefID,
          rejected: new Map(),
          records,
          notHeld: new Set(),
          readAt: new Date(readAt).toISOString(),
          only: new Set(ids),
        },
        classify,
        autoFixerFor(definition),
      );
      Object.assign(seen, outcome.seen);
    }
    // Go on before the first due item this call left out (another order's items come in turn).
    const inBatch = new Set(batch.map(({ index }) => index));
    const leftOut = due.find(({ index }) => !inBatch.has(index));
    const more = leftOut !== undefined;
    const last = leftOut ? leftOut.index - 1 : undefined;
    const bookKey = await writeBook(campaignId, chunk, step + 1, entries);
    return {
      bookKey,
      counts: countBook(entries),
      failuresThisRound: seen,
      pages: 0,
      lookups,
      ...openItemsOf(entries),
      ...(more ? { next: last } : {}),
    };
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
      case 'give-up-exhausted':
        changed = giveUpExhausted(entries, action.reason);
        break;
      case 'give-up-unsent': {
        // Any attempt of the round's POST may have reached Tango: those items' fate is unknown.
        const attempted = (await readRecord(campaignId, chunk, action.round)) !== undefined;
        changed = attempted
          ? giveUpInDoubt(entries, action.externalRefID, action.reason)
          : giveUpWaiting(entries, action.reason, true);
        if (attempted) changed += giveUpWaiting(entries, action.reason);
        break;
      }
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

  return {
    submitOrderRound,
    getOrderStatus,
    settleOrderRound,
    settleOrderStep,
    recheckOrderItems,
    applyOrderInput,
    sealOrderBook,
  };
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
