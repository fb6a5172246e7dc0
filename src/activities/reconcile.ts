// Activities of `reconcileCampaignWorkflow`: list the orders a campaign sent (every round), read each
// from Tango one page per activity (on the Tango task queue, so the request budget counts every
// request), and compare Tango's record of each item with the report. Never sends anything.
import { ApplicationFailure } from '@temporalio/common';
import type { BookEntry } from '../campaign/order-book.ts';
import {
  type Disagreement,
  type ItemClaim,
  type TangoItemReading,
  judgeItem,
} from '../campaign/reconcile.ts';
import { getJson, putJson, readJsonLines } from '../store/json.ts';
import {
  campaignDefinitionKey,
  campaignPrefix,
  orderFinalBookKey,
  reconcilePageKey,
  reconcilePlanKey,
  reconcilePrefix,
  reconcileResultKey,
  reportJsonKey,
} from '../store/keys.ts';
import type { CampaignStore } from '../store/store.ts';
import { normalizeStatus } from '../tango/schemas.ts';
import { TangoHttpError } from '../tango/errors.ts';
import type { ActivityDeps } from './deps.ts';
import { failureTypes, toTemporalFailure } from './errors.ts';
import { latestBookKey } from './report.ts';
import { loadCampaignDefinition } from './staging.ts';

/** The disagreements a workflow result carries; the full list is in the store (`resultKey`). */
export const MAX_DISAGREEMENTS_LISTED = 200;
const PAGE_SIZE = 500;

export interface ReconcileRunInput {
  campaignId: string;
  reconcileId: string;
}

interface ReconcilePlan {
  /** Every order the campaign sent or attempted, by chunk then round. */
  orders: { chunk: number; externalRefID: string }[];
  chunks: number[];
}

export interface PlanResult {
  orders: number;
  chunks: number;
}

export interface ReconcilePageInput extends ReconcileRunInput {
  /** Index into the plan's orders. */
  order: number;
  page: number;
  cursor?: string;
}

export interface ReconcilePageResult {
  externalRefID: string;
  items: number;
  /** Tango has no order under this externalRefID (a POST it refused, or one it lost). */
  notFound?: boolean;
  orderStatus?: string;
  /** Set when there is a next page. */
  nextCursor?: string;
}

interface StoredReconcilePage {
  externalRefID: string;
  notFound?: boolean;
  orderStatus?: string;
  items: ({ id: string } & Omit<TangoItemReading, 'externalRefID'>)[];
}

export interface ReconcileOutcome {
  campaignId: string;
  reconcileId: string;
  /** What was compared with Tango: the final report, or (no report yet) the running campaign's books. */
  source: 'report' | 'books';
  checkedAt: string;
  orders: number;
  ordersNotFound: string[];
  pages: number;
  /** Items of the campaign compared. */
  items: number;
  /** Line items Tango holds in the campaign's orders (an item sent in several rounds counts in each). */
  tangoLineItems: number;
  agreed: boolean;
  disagreementCount: number;
  disagreements: Disagreement[];
  /** Store key of the full outcome (every disagreement). */
  resultKey: string;
}

const ROUND_RECORD = /orders\/(\d+)\/round-(\d+)\/order\.json$/;
const BOOK = /orders\/(\d+)\/(?:book-\d+|final)\.jsonl$/;

export function createReconcileActivities(deps: Pick<ActivityDeps, 'store' | 'tango'>) {
  const { store, tango } = deps;

  async function requireCampaign(campaignId: string): Promise<void> {
    if (!(await store.exists(campaignDefinitionKey(campaignId))))
      throw ApplicationFailure.create({
        type: 'CampaignNotFound',
        message: `no campaign "${campaignId}" in the store at ${store.location}: nothing to reconcile`,
        nonRetryable: true,
      });
  }

  /**
   * The orders to read: every round whose POST left a record (attempted, whatever Tango answered),
   * and every order an item's trail names, by chunk and round.
   */
  async function planReconcile(input: ReconcileRunInput): Promise<PlanResult> {
    const { campaignId, reconcileId } = input;
    await requireCampaign(campaignId);
    const orders = new Map<string, { chunk: number; round: number }>();
    const chunks = new Set<number>();
    for await (const key of store.list(`${campaignPrefix(campaignId)}orders/`)) {
      const book = BOOK.exec(key);
      if (book) chunks.add(Number(book[1]));
      const record = ROUND_RECORD.exec(key);
      if (!record) continue;
      const { externalRefID } = (await getJson(store, key)) as { externalRefID: string };
      orders.set(externalRefID, { chunk: Number(record[1]), round: Number(record[2]) });
    }
    for (const chunk of chunks) {
      for await (const row of readJsonLines(store, await bookOf(store, campaignId, chunk))) {
        for (const step of (row as BookEntry).trail)
          if (!orders.has(step.externalRefID)) orders.set(step.externalRefID, { chunk, round: step.round });
      }
    }
    const plan: ReconcilePlan = {
      orders: [...orders.entries()]
        .sort(([, a], [, b]) => a.chunk - b.chunk || a.round - b.round)
        .map(([externalRefID, { chunk }]) => ({ chunk, externalRefID })),
      chunks: [...chunks].sort((a, b) => a - b),
    };
    await putJson(store, reconcilePlanKey(campaignId, reconcileId), plan);
    return { orders: plan.orders.length, chunks: plan.chunks.length };
  }

  /** One page of one order: a single Tango request, stored reduced to the fields compared. */
  async function readReconcilePage(input: ReconcilePageInput): Promise<ReconcilePageResult> {
    const { campaignId, reconcileId, order, page, cursor } = input;
    const plan = (await getJson(store, reconcilePlanKey(campaignId, reconcileId))) as ReconcilePlan;
    const target = plan.orders[order];
    if (!target)
      throw ApplicationFailure.create({
        type: 'InvalidWorkflowInput',
        message: `reconcile ${reconcileId}: no order ${order} in its plan`,
        nonRetryable: true,
      });
    const { externalRefID } = target;
    const definition = await loadCampaignDefinition(store, campaignId);
    const ref = {
      customerIdentifier: definition.customerIdentifier,
      accountIdentifier: definition.accountIdentifier,
      externalRefID,
    };
    const key = reconcilePageKey(campaignId, reconcileId, order, page);
    let detail;
    try {
      detail = await tango.getAsyncOrder(ref, {
        maxResults: PAGE_SIZE,
        ...(cursor ? { nextCursor: cursor } : {}),
      });
    } catch (error) {
      if (error instanceof TangoHttpError && error.status === 404 && page === 0) {
        await putJson(store, key, { externalRefID, notFound: true, items: [] } satisfies StoredReconcilePage);
        return { externalRefID, items: 0, notFound: true };
      }
      throw toTemporalFailure(error);
    }
    const orderErrors = detail.orderErrors.map((error) => ({
      code: error.errorCode,
      message: error.errorMessage,
    }));
    // A whole order that failed: its items may carry only the order's errors.
    const orderFailed = normalizeStatus(detail.orderStatus) === 'FAILED';
    const stored: StoredReconcilePage = {
      externalRefID,
      ...(detail.orderStatus ? { orderStatus: detail.orderStatus } : {}),
      items: detail.lineItems.map((item) => {
        const own = item.lineItemErrors.map((error) => ({
          code: error.errorCode,
          message: error.errorMessage,
        }));
        return {
          id: item.externalRefLineItemID.trim(),
          status: item.lineItemStatus ?? '',
          ...(item.referenceLineItemId ? { referenceLineItemId: item.referenceLineItemId } : {}),
          errors: own.length > 0 || !orderFailed ? own : orderErrors,
        };
      }),
    };
    await putJson(store, key, stored);
    const next = detail.pagination?.nextCursor;
    const more = next !== undefined && next !== '' && detail.pagination?.nextPageAvailable !== false;
    if (more && next === cursor)
      throw ApplicationFailure.create({
        type: failureTypes.badResponse,
        message: `Tango returned cursor ${next} twice while reading order ${externalRefID}; asking again later`,
      });
    return {
      externalRefID,
      items: stored.items.length,
      ...(detail.orderStatus ? { orderStatus: detail.orderStatus } : {}),
      ...(more ? { nextCursor: next } : {}),
    };
  }

  /** Our claim of each item: the final report when there is one, else the books of the running campaign. */
  async function claimsOf(campaignId: string, plan: ReconcilePlan) {
    const claims = new Map<string, ItemClaim>();
    if (await store.exists(reportJsonKey(campaignId))) {
      const report = (await getJson(store, reportJsonKey(campaignId))) as { items: ItemClaim[] };
      for (const row of report.items)
        claims.set(row.externalRefLineItemID, {
          externalRefLineItemID: row.externalRefLineItemID,
          state: row.state,
          externalRefID: row.externalRefID ?? '',
          tangoLineItemId: row.tangoLineItemId ?? '',
        });
      return { source: 'report' as const, claims };
    }
    for (const chunk of plan.chunks) {
      for await (const row of readJsonLines(store, await bookOf(store, campaignId, chunk))) {
        const entry = row as BookEntry;
        claims.set(entry.id, {
          externalRefLineItemID: entry.id,
          state: entry.state,
          externalRefID: entry.externalRefID ?? '',
          tangoLineItemId: entry.tangoLineItemId ?? '',
        });
      }
    }
    return { source: 'books' as const, claims };
  }

  /** Compares every page read with our claims; writes the full outcome, returns it (list capped). */
  async function compareReconcile(input: ReconcileRunInput): Promise<ReconcileOutcome> {
    const { campaignId, reconcileId } = input;
    const plan = (await getJson(store, reconcilePlanKey(campaignId, reconcileId))) as ReconcilePlan;
    const { source, claims } = await claimsOf(campaignId, plan);
    const readings = new Map<string, TangoItemReading[]>();
    const notFound = new Set<string>();
    let pages = 0;
    let tangoLineItems = 0;
    for await (const key of store.list(`${reconcilePrefix(campaignId, reconcileId)}orders/`)) {
      const stored = (await getJson(store, key)) as StoredReconcilePage;
      pages += 1;
      if (stored.notFound) notFound.add(stored.externalRefID);
      for (const { id, ...reading } of stored.items) {
        tangoLineItems += 1;
        const list = readings.get(id) ?? [];
        list.push({ externalRefID: stored.externalRefID, ...reading });
        readings.set(id, list);
      }
    }
    const disagreements: Disagreement[] = [];
    for (const [id, claim] of claims) disagreements.push(...judgeItem(id, claim, readings.get(id) ?? []));
    for (const [id, list] of readings)
      if (!claims.has(id)) disagreements.push(...judgeItem(id, undefined, list));
    const resultKey = reconcileResultKey(campaignId, reconcileId);
    const outcome: ReconcileOutcome = {
      campaignId,
      reconcileId,
      source,
      checkedAt: new Date().toISOString(),
      orders: plan.orders.length,
      ordersNotFound: [...notFound],
      pages,
      items: claims.size,
      tangoLineItems,
      agreed: disagreements.length === 0,
      disagreementCount: disagreements.length,
      disagreements,
      resultKey,
    };
    await putJson(store, resultKey, outcome);
    return { ...outcome, disagreements: disagreements.slice(0, MAX_DISAGREEMENTS_LISTED) };
  }

  return { planReconcile, readReconcilePage, compareReconcile };
}

/** The book an order ended with, or its latest while it runs. */
async function bookOf(store: CampaignStore, campaignId: string, chunk: number): Promise<string> {
  const finalKey = orderFinalBookKey(campaignId, chunk);
  return (await store.exists(finalKey)) ? finalKey : latestBookKey(store, campaignId, chunk);
}
