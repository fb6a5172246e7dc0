// The simulator's Tango state and behaviour: accounts and balances, the catalog, async orders with
// their line items, the background processing that moves them PENDING -> PROCESSING -> final (at a
// configurable pace, applying the failure rules), cursor pages of line items, and the ledger entry
// of every delivered item. Also what Tango's docs allow later on: a GET that does not see a new
// order yet, items scheduled for a future deliveryDate (on a clock tests can move), and delivered
// items reversed to FAILED. One class on purpose (over 450 lines): orders, balances, the ledger and the
// clock change together under every request and tick, and keeping their invariants in one place is
// what lets the tests trust the ledger.
import { createHash, randomUUID } from 'node:crypto';
import { FulfilmentLedger, recipientKey, type LedgerEntry } from './ledger.ts';
import { type AccountSeed, type CatalogItem, type SimulatorOptions } from './options.ts';
import { type SeededRandom } from './random.ts';
import { fieldError, SimulatorHttpError } from './tango-errors.ts';
import {
  errorCode,
  submitTimeProblems,
  type CreateOrderInput,
  type LineItemInput,
  type LineItemProblem,
  type UpdateOrderInput,
} from './validation.ts';
import { type AsyncOrderStatusEvent, type WebhookDispatcher, type WebhookStatus } from './webhooks.ts';

export type OrderStatus = 'PENDING' | 'PROCESSING' | 'COMPLETE' | 'PARTIAL' | 'FAILED';
export type LineItemStatus = 'PENDING' | 'COMPLETE' | 'FAILED';

export interface AccountState extends AccountSeed {
  createdAt: string;
}

interface StoredLineItem {
  index: number;
  referenceLineItemId: string;
  input: LineItemInput;
  status: LineItemStatus;
  deliveryStatus: string;
  errors: { errorCode: string; errorMessage: string }[];
  rewardName: string;
  currencyCode: string;
  charged: number;
  /** Set while the item waits for its deliveryDate (PENDING / SCHEDULED, already charged). */
  scheduledForMs?: number;
  ledgerEntry?: LedgerEntry;
}

interface StoredOrder {
  referenceOrderID: string;
  externalRefID: string;
  customerIdentifier: string;
  accountIdentifier: string;
  sender: CreateOrderInput['sender'] | null;
  campaign: string | null;
  purchaseOrderNumber: string | null;
  notes: string | null;
  status: OrderStatus;
  createdAt: string;
  completedAt: string | null;
  currencyCode: string;
  /** What GET pages through (accepted items, plus rejected ones when rejectedItemsInGet is on). */
  items: StoredLineItem[];
  /** The accepted items in processing order, and how many of them are done. */
  toProcess: StoredLineItem[];
  processed: number;
  charged: number;
  revision: number;
  /** GET answers 404 before this time on the simulator's clock (the GET lag). */
  hiddenUntilMs: number;
}

export interface FailedLineItemView {
  lineItemId: string;
  externalRefLineItemID: string;
  utid: string;
  errors: { field: string; errorCodeValue: number; errorCodeName: string; message: string }[];
}

export interface CreateOrderOutcome {
  httpStatus: 200 | 201;
  body: Record<string, unknown>;
}

/** An order staged as if another client had created it earlier (same body as POST /asyncOrders). */
export interface PreloadOrderInput {
  input: CreateOrderInput;
  /** When that client created it (simulator clock, ms); now when absent. */
  createdAtMs?: number;
}

export interface PreloadedOrder {
  referenceOrderID: string;
  externalRefID: string;
  status: OrderStatus;
  totalLineItems: number;
  createdAt: string;
  failedLineItems: FailedLineItemView[];
  duplicateLineItemRefIds: Record<string, number>;
}

export interface ReversalInput {
  /** Optional when only one order has this externalRefID. */
  customerIdentifier?: string;
  accountIdentifier?: string;
  externalRefID: string;
  externalRefLineItemID: string;
  errorCode?: string;
  errorMessage?: string;
}

export const defaultReversalError = {
  errorCode: 'REVERSED',
  errorMessage: 'reward reversed after delivery',
} as const;

export interface LineItemQuery {
  maxResults: number;
  nextCursor?: string;
  prevCursor?: string;
  failedOnly: boolean;
  externalLineItemReferenceIds?: string[];
  referenceLineItemIds?: string[];
}

export interface ProcessingCounters {
  ordersCreated: number;
  ordersRepeated: number;
  lineItemsAccepted: number;
  lineItemsRejected: number;
  lineItemsDelivered: number;
  lineItemsFailed: number;
  /** Accepted for a future deliveryDate (counted in lineItemsDelivered too once delivered). */
  lineItemsScheduled: number;
  /** Delivered, then turned FAILED (also counted in lineItemsDelivered). */
  lineItemsReversed: number;
  failuresByCode: Record<string, number>;
}

const finalStatuses = new Set<OrderStatus>(['COMPLETE', 'PARTIAL', 'FAILED']);

function webhookStatus(status: OrderStatus): WebhookStatus {
  return status === 'COMPLETE' ? 'SUCCESSFUL' : status === 'PARTIAL' ? 'PARTIALFAILED' : 'FAILED';
}

function orderKey(customerIdentifier: string, accountIdentifier: string, externalRefID: string): string {
  return `${customerIdentifier}\u0000${accountIdentifier}\u0000${externalRefID}`;
}

function notFound(customerIdentifier: string, accountIdentifier: string, externalRefID: string) {
  return new SimulatorHttpError(
    404,
    '404.001',
    `No async order with externalRefID '${externalRefID}' under customer '${customerIdentifier}' / account '${accountIdentifier}'`,
  );
}

function isScheduled(item: StoredLineItem): boolean {
  return item.status === 'PENDING' && item.scheduledForMs !== undefined;
}

function roundMoney(value: number): number {
  return Math.round(value * 100) / 100;
}

interface CursorState {
  /** The referenceOrderID the cursor belongs to. */
  o: string;
  /** 'n': the page after index i; 'p': the page before index i. */
  d: 'n' | 'p';
  i: number;
  /** Fingerprint of the filters, so a cursor cannot be replayed with other filters. */
  f: string;
}

export class SimulatedTango {
  readonly ledger = new FulfilmentLedger();
  readonly counters: ProcessingCounters = {
    ordersCreated: 0,
    ordersRepeated: 0,
    lineItemsAccepted: 0,
    lineItemsRejected: 0,
    lineItemsDelivered: 0,
    lineItemsFailed: 0,
    lineItemsScheduled: 0,
    lineItemsReversed: 0,
    failuresByCode: {},
  };
  private readonly accounts = new Map<string, AccountState>();
  private readonly catalog = new Map<string, CatalogItem>();
  private readonly orders = new Map<string, StoredOrder>();
  /** Line items (per account) that already hit the transient rule once. */
  private readonly transientSeen = new Set<string>();
  private readonly queue: StoredOrder[] = [];
  /** Items waiting for their deliveryDate. */
  private scheduled: { order: StoredOrder; item: StoredLineItem }[] = [];
  /** Random reversals (faults.reversalRate) not applied yet. */
  private pendingReversals = 0;
  /** How far the simulator's clock is ahead of the wall clock (advanceClock). */
  private clockOffsetMs = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private ticker: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private budget = 0;
  private orderSeq = 0;
  private lineSeq = 0;
  private createdOrders = 0;
  private closed = false;

  constructor(
    private readonly options: () => SimulatorOptions,
    accounts: AccountSeed[],
    catalog: CatalogItem[],
    private readonly random: SeededRandom,
    private readonly webhooks: WebhookDispatcher,
    /** Separate streams, so that lag and reversal draws do not change the failure draws of a seed. */
    private readonly lagRandom: SeededRandom,
    private readonly reversalRandom: SeededRandom,
  ) {
    const createdAt = new Date().toISOString();
    for (const account of accounts) this.accounts.set(account.accountIdentifier, { ...account, createdAt });
    for (const item of catalog) this.catalog.set(item.utid, item);
  }

  // ---- the simulator's clock ----

  /** The simulator's "now" (ms): the wall clock plus every advanceClock so far. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Moves the simulator's clock forward and delivers every scheduled item that has come due. */
  advanceClock(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new SimulatorHttpError(
        400,
        '400.001',
        `advanceMs must be a non-negative number of milliseconds, got ${String(ms)}`,
      );
    }
    this.clockOffsetMs += ms;
    this.deliverDue();
    return this.now();
  }

  clockOffset(): number {
    return this.clockOffsetMs;
  }

  // ---- accounts and catalog ----

  account(accountIdentifier: string): AccountState | undefined {
    return this.accounts.get(accountIdentifier);
  }

  addFunds(accountIdentifier: string, amount: number): AccountState {
    const account = this.accounts.get(accountIdentifier);
    if (!account) {
      throw new SimulatorHttpError(
        404,
        '404.002',
        `account '${accountIdentifier}' does not exist in the simulator`,
      );
    }
    if (!Number.isFinite(amount) || amount <= 0) {
      throw new SimulatorHttpError(400, '400.001', `amount must be a positive number, got ${String(amount)}`);
    }
    account.balance = roundMoney(account.balance + amount);
    return account;
  }

  accountView(accountIdentifier: string): Record<string, unknown> {
    const account = this.accounts.get(accountIdentifier);
    if (!account) {
      throw new SimulatorHttpError(404, '404.002', `account '${accountIdentifier}' was not found`);
    }
    return {
      accountIdentifier: account.accountIdentifier,
      accountNumber: createHash('sha256')
        .update(account.accountIdentifier)
        .digest('hex')
        .slice(0, 12)
        .toUpperCase(),
      customerIdentifier: account.customerIdentifier,
      displayName: account.displayName,
      currencyCode: account.currencyCode,
      currentBalance: account.balance,
      createdAt: account.createdAt,
      status: account.status,
      contactEmail: account.contactEmail,
    };
  }

  catalogView(): Record<string, unknown> {
    const brands = new Map<string, Record<string, unknown>[]>();
    for (const item of this.catalog.values()) {
      const list = brands.get(item.brandName) ?? [];
      list.push({
        utid: item.utid,
        rewardName: item.rewardName,
        currencyCode: item.currencyCode,
        status: item.status,
        valueType: item.valueType,
        rewardType: item.rewardType,
        isWholeAmountValueRequired: false,
        minValue: item.valueType === 'VARIABLE_VALUE' ? (item.minValue ?? null) : null,
        maxValue: item.valueType === 'VARIABLE_VALUE' ? (item.maxValue ?? null) : null,
        faceValue: item.valueType === 'FIXED_VALUE' ? (item.faceValue ?? null) : null,
        countries: item.countries,
        // Not in Tango's catalog: which delivery methods the simulator accepts for this reward.
        deliveryMethods: item.deliveryMethods,
      });
      brands.set(item.brandName, list);
    }
    return {
      catalogName: 'Tango simulator catalog',
      brands: [...brands.entries()].map(([brandName, items]) => ({
        brandKey: `B${createHash('sha256').update(brandName).digest('hex').slice(0, 6).toUpperCase()}`,
        brandName,
        status: 'active',
        items,
      })),
    };
  }

  // ---- orders ----

  create(input: CreateOrderInput): CreateOrderOutcome {
    const account = this.accounts.get(input.accountIdentifier);
    if (!account || account.customerIdentifier !== input.customerIdentifier) {
      const known = [...this.accounts.values()].some(
        (a) => a.customerIdentifier === input.customerIdentifier,
      );
      const what = !known
        ? `customerIdentifier '${input.customerIdentifier}' does not exist`
        : `accountIdentifier '${input.accountIdentifier}' does not exist under customer '${input.customerIdentifier}'`;
      throw new SimulatorHttpError(422, '422.001', `Invalid customer or account: ${what}`, [
        fieldError(
          known ? 'accountIdentifier' : 'customerIdentifier',
          'Exists',
          what,
          known ? input.accountIdentifier : input.customerIdentifier,
        ),
      ]);
    }
    const key = orderKey(input.customerIdentifier, input.accountIdentifier, input.externalRefID);
    const existing = this.orders.get(key);
    if (existing) {
      this.counters.ordersRepeated += 1;
      if (!finalStatuses.has(existing.status) && this.options().responses.repeatWhileProcessing === '409') {
        throw new SimulatorHttpError(
          409,
          '409.002',
          `order '${input.externalRefID}' is still being processed; retry after at least 2 seconds`,
        );
      }
      return { httpStatus: 200, body: this.createResponse(existing, [], {}, this.shapeFor(existing)) };
    }
    const { order, failedLineItems, duplicateLineItemRefIds } = this.newOrder(input, account, this.now());
    const shape = this.nextCreateShape();
    return {
      httpStatus: 201,
      body: this.createResponse(order, failedLineItems, duplicateLineItemRefIds, shape),
    };
  }

  /**
   * Creates an order as if another client had POSTed it (at createdAtMs): test tooling to stage an
   * externalRefID collision. Its items are validated and processed like any order's.
   */
  preload({ input, createdAtMs }: PreloadOrderInput): PreloadedOrder {
    const account = this.accounts.get(input.accountIdentifier);
    if (!account || account.customerIdentifier !== input.customerIdentifier) {
      throw new SimulatorHttpError(
        422,
        '422.001',
        `Invalid customer or account: '${input.customerIdentifier}' / '${input.accountIdentifier}' does not exist`,
      );
    }
    if (this.orders.has(orderKey(input.customerIdentifier, input.accountIdentifier, input.externalRefID))) {
      throw new SimulatorHttpError(
        409,
        '409.024',
        `order '${input.externalRefID}' already exists under account '${input.accountIdentifier}'`,
      );
    }
    const { order, failedLineItems, duplicateLineItemRefIds } = this.newOrder(
      input,
      account,
      createdAtMs ?? this.now(),
    );
    return {
      referenceOrderID: order.referenceOrderID,
      externalRefID: order.externalRefID,
      status: order.status,
      totalLineItems: order.items.length,
      createdAt: order.createdAt,
      failedLineItems,
      duplicateLineItemRefIds,
    };
  }

  private newOrder(input: CreateOrderInput, account: AccountState, now: number) {
    if (account.status !== 'ACTIVE') {
      throw new SimulatorHttpError(
        422,
        '422.156',
        `account '${account.accountIdentifier}' is not active (${account.status})`,
      );
    }

    const seen = new Map<string, number>();
    const accepted: StoredLineItem[] = [];
    const rejected: StoredLineItem[] = [];
    const failedLineItems: FailedLineItemView[] = [];
    for (const itemInput of input.lineItems) {
      const id = itemInput.externalRefLineItemID;
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      // A repeated id in the same request is not processed again: the first occurrence wins.
      if (count > 1) continue;
      const catalogItem = this.catalog.get(itemInput.utid);
      const problems = submitTimeProblems(itemInput, catalogItem, account.currencyCode, now);
      const stored = this.newLineItem(
        itemInput,
        catalogItem,
        account.currencyCode,
        accepted.length + rejected.length,
      );
      if (problems.length === 0) {
        accepted.push(stored);
        continue;
      }
      stored.status = 'FAILED';
      stored.deliveryStatus = 'FAILED';
      stored.errors = problems.map((p) => ({ errorCode: p.code.name, errorMessage: p.message }));
      rejected.push(stored);
      failedLineItems.push({
        lineItemId: stored.referenceLineItemId,
        externalRefLineItemID: id,
        utid: itemInput.utid,
        errors: problems.map((p) => ({
          field: p.field,
          errorCodeValue: p.code.value,
          errorCodeName: p.code.name,
          message: p.message,
        })),
      });
    }
    const duplicateLineItemRefIds: Record<string, number> = {};
    for (const [id, count] of seen) if (count > 1) duplicateLineItemRefIds[id] = count;

    if (this.options().responses.insufficientFunds === '402') {
      const cost = roundMoney(accepted.reduce((sum, item) => sum + item.input.amount, 0));
      if (cost > account.balance) {
        throw new SimulatorHttpError(
          402,
          '402.001',
          `Insufficient funds: the order costs ${cost} ${account.currencyCode}, the balance is ${account.balance}`,
        );
      }
    }

    const visible = this.options().responses.rejectedItemsInGet
      ? [...accepted, ...rejected].sort((a, b) => a.index - b.index)
      : accepted;
    visible.forEach((item, index) => (item.index = index));
    const { getLagMs, getLagRate } = this.options().faults;
    const lagged = getLagMs > 0 && this.lagRandom.chance(getLagRate);
    this.orderSeq += 1;
    const order: StoredOrder = {
      referenceOrderID: `RA-SIM-${String(this.orderSeq).padStart(8, '0')}`,
      externalRefID: input.externalRefID,
      customerIdentifier: input.customerIdentifier,
      accountIdentifier: input.accountIdentifier,
      sender: input.sender ?? null,
      campaign: input.campaign ?? null,
      purchaseOrderNumber: input.purchaseOrderNumber ?? null,
      notes: input.notes ?? null,
      status: 'PENDING',
      createdAt: new Date(now).toISOString(),
      completedAt: null,
      currencyCode: account.currencyCode,
      items: visible,
      toProcess: accepted,
      processed: 0,
      charged: 0,
      revision: 0,
      hiddenUntilMs: lagged ? now + getLagMs : now,
    };
    this.orders.set(orderKey(input.customerIdentifier, input.accountIdentifier, input.externalRefID), order);
    this.counters.ordersCreated += 1;
    this.counters.lineItemsAccepted += accepted.length;
    this.counters.lineItemsRejected += rejected.length;
    this.later(this.options().processingDelayMs, () => this.startProcessing(order));
    return { order, failedLineItems, duplicateLineItemRefIds };
  }

  update(
    customerIdentifier: string,
    accountIdentifier: string,
    externalRefID: string,
    patch: UpdateOrderInput,
  ) {
    const order = this.find(customerIdentifier, accountIdentifier, externalRefID);
    if (patch.campaign !== undefined) order.campaign = patch.campaign;
    if (patch.purchaseOrderNumber !== undefined) order.purchaseOrderNumber = patch.purchaseOrderNumber;
    if (patch.notes !== undefined) order.notes = patch.notes;
    return { ...this.orderView(order), pagination: null, lineItems: [] };
  }

  get(customerIdentifier: string, accountIdentifier: string, externalRefID: string, query: LineItemQuery) {
    const order = this.find(customerIdentifier, accountIdentifier, externalRefID);
    // The GET lag: not visible yet, answered exactly like an order that does not exist.
    if (this.now() < order.hiddenUntilMs)
      throw notFound(customerIdentifier, accountIdentifier, externalRefID);
    this.deliverDue();
    const page = this.page(order, query);
    const lineItems =
      page.items.length === 0 && query.failedOnly
        ? this.options().responses.emptyFailedPage === 'NONE'
          ? 'NONE'
          : null
        : page.items.map((item) => this.lineItemView(item));
    return {
      ...this.orderView(order),
      pagination: {
        prevCursor: page.prevCursor ?? null,
        nextCursor: page.nextCursor ?? null,
        prevPageAvailable: page.prevCursor !== undefined,
        nextPageAvailable: page.nextCursor !== undefined,
        maxResults: query.maxResults,
        numberOfElements: page.items.length,
      },
      lineItems,
    };
  }

  /** Stops timers; orders stay readable. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Whether every order has reached a final status and no random reversal is still to come. */
  isIdle(): boolean {
    if (this.pendingReversals > 0) return false;
    for (const order of this.orders.values()) if (!finalStatuses.has(order.status)) return false;
    return true;
  }

  orderCount(): number {
    return this.orders.size;
  }

  private find(customerIdentifier: string, accountIdentifier: string, externalRefID: string): StoredOrder {
    const order = this.orders.get(orderKey(customerIdentifier, accountIdentifier, externalRefID));
    if (!order) throw notFound(customerIdentifier, accountIdentifier, externalRefID);
    return order;
  }

  private newLineItem(
    input: LineItemInput,
    catalogItem: CatalogItem | undefined,
    currencyCode: string,
    index: number,
  ): StoredLineItem {
    this.lineSeq += 1;
    return {
      index,
      referenceLineItemId: `RLI-SIM-${String(this.lineSeq).padStart(10, '0')}`,
      input,
      status: 'PENDING',
      deliveryStatus: 'PENDING',
      errors: [],
      rewardName: catalogItem?.rewardName ?? input.utid,
      currencyCode: catalogItem?.currencyCode ?? currencyCode,
      charged: 0,
    };
  }

  private nextCreateShape(): 'summary' | 'order' {
    const configured = this.options().responses.createShape;
    this.createdOrders += 1;
    if (configured !== 'alternate') return configured;
    return this.createdOrders % 2 === 1 ? 'summary' : 'order';
  }

  private shapeFor(_order: StoredOrder): 'summary' | 'order' {
    const configured = this.options().responses.createShape;
    return configured === 'order' ? 'order' : 'summary';
  }

  private createResponse(
    order: StoredOrder,
    failedLineItems: FailedLineItemView[],
    duplicateLineItemRefIds: Record<string, number>,
    shape: 'summary' | 'order',
  ): Record<string, unknown> {
    if (shape === 'order') {
      // The second documented example: lower-case status, totalLineItems as a string, created_at.
      return {
        externalRefID: order.externalRefID,
        order: {
          externalRefID: order.externalRefID,
          status: order.status.toLowerCase(),
          totalLineItems: String(order.items.length),
          created_at: order.createdAt,
        },
      };
    }
    return {
      externalRefID: order.externalRefID,
      status: order.status,
      totalLineItems: order.items.length,
      createdAt: order.createdAt,
      failedLineItems,
      duplicateLineItemRefIds,
    };
  }

  private orderView(order: StoredOrder): Record<string, unknown> {
    return {
      referenceOrderID: order.referenceOrderID,
      externalRefID: order.externalRefID,
      orderStatus: order.status,
      createdAt: order.createdAt,
      completedAt: order.completedAt,
      customerIdentifier: order.customerIdentifier,
      accountIdentifier: order.accountIdentifier,
      sender: order.sender,
      amountCharged:
        order.status === 'PENDING'
          ? null
          : { currencyCode: order.currencyCode, value: order.charged, total: order.charged },
      campaign: order.campaign,
      purchaseOrderNumber: order.purchaseOrderNumber,
      notes: order.notes,
      totalLineItems: order.items.length,
      orderErrors: null,
    };
  }

  private lineItemView(item: StoredLineItem): Record<string, unknown> {
    return {
      referenceLineItemId: item.referenceLineItemId,
      externalRefLineItemID: item.input.externalRefLineItemID,
      lineItemStatus: item.status,
      deliveryStatus: item.deliveryStatus,
      recipient: item.input.recipient ?? null,
      deliveryMethod: item.input.deliveryMethod,
      rewardName: item.rewardName,
      amount: item.input.amount,
      // Tango charges at order time: a scheduled item shows its charge while it waits, and a
      // reversed one keeps it (no refund is documented).
      amountCharged:
        item.charged > 0
          ? {
              value: item.charged,
              currencyCode: item.currencyCode,
              exchangeRate: 1,
              fee: 0,
              total: item.charged,
            }
          : null,
      scheduledDeliveryDate:
        item.input.deliveryDate === undefined
          ? null
          : new Date(Date.parse(item.input.deliveryDate)).toISOString(),
      lineItemErrors: item.errors,
    };
  }

  // ---- cursor pages ----

  private page(order: StoredOrder, query: LineItemQuery) {
    const externalIds = query.externalLineItemReferenceIds
      ? new Set(query.externalLineItemReferenceIds)
      : undefined;
    const referenceIds = query.referenceLineItemIds ? new Set(query.referenceLineItemIds) : undefined;
    const matches = (item: StoredLineItem) =>
      (!query.failedOnly || item.status === 'FAILED') &&
      (!externalIds || externalIds.has(item.input.externalRefLineItemID)) &&
      (!referenceIds || referenceIds.has(item.referenceLineItemId));
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify([query.failedOnly, [...(externalIds ?? [])].sort(), [...(referenceIds ?? [])].sort()]),
      )
      .digest('base64url')
      .slice(0, 12);
    const items = order.items;
    let selected: StoredLineItem[] = [];
    const cursorText = query.nextCursor ?? query.prevCursor;
    const cursor = cursorText === undefined ? undefined : this.decodeCursor(cursorText, order, fingerprint);
    if (cursor?.d === 'p') {
      for (
        let i = Math.min(cursor.i, items.length) - 1;
        i >= 0 && selected.length < query.maxResults;
        i -= 1
      ) {
        const item = items[i];
        if (item && matches(item)) selected.push(item);
      }
      selected = selected.reverse();
    } else {
      const start = cursor ? cursor.i + 1 : 0;
      for (let i = start; i < items.length && selected.length < query.maxResults; i += 1) {
        const item = items[i];
        if (item && matches(item)) selected.push(item);
      }
    }
    const first = selected[0];
    const last = selected[selected.length - 1];
    const encode = (d: 'n' | 'p', i: number) =>
      Buffer.from(
        JSON.stringify({ o: order.referenceOrderID, d, i, f: fingerprint } satisfies CursorState),
      ).toString('base64url');
    let nextCursor: string | undefined;
    let prevCursor: string | undefined;
    const afterIndex = last ? last.index : cursor?.d === 'p' ? cursor.i - 1 : items.length;
    for (let i = afterIndex + 1; i < items.length; i += 1) {
      const item = items[i];
      if (item && matches(item)) {
        nextCursor = encode('n', afterIndex);
        break;
      }
    }
    const beforeIndex = first ? first.index : cursor?.d === 'n' ? cursor.i + 1 : 0;
    for (let i = beforeIndex - 1; i >= 0; i -= 1) {
      const item = items[i];
      if (item && matches(item)) {
        prevCursor = encode('p', beforeIndex);
        break;
      }
    }
    return { items: selected, nextCursor, prevCursor };
  }

  private decodeCursor(text: string, order: StoredOrder, fingerprint: string): CursorState {
    let state: CursorState | undefined;
    try {
      const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<CursorState>;
      if (
        typeof parsed.o === 'string' &&
        (parsed.d === 'n' || parsed.d === 'p') &&
        typeof parsed.i === 'number' &&
        typeof parsed.f === 'string'
      ) {
        state = parsed as CursorState;
      }
    } catch {
      state = undefined;
    }
    if (!state || state.o !== order.referenceOrderID) {
      throw new SimulatorHttpError(
        400,
        '400.001',
        'Request is invalid: the cursor is not a cursor of this order',
        [
          fieldError(
            text === '' ? 'cursor' : 'nextCursor',
            'Cursor',
            'not a cursor returned for this order',
            text,
          ),
        ],
      );
    }
    if (state.f !== fingerprint) {
      throw new SimulatorHttpError(
        400,
        '400.001',
        'Request is invalid: the cursor was issued for other filters (failedOnly / id filters must stay the same while paging)',
      );
    }
    return state;
  }

  // ---- processing ----

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private startProcessing(order: StoredOrder): void {
    if (this.closed) return;
    order.status = 'PROCESSING';
    if (this.options().webhooks.retryingEvents) this.publish(order, 'RETRYING');
    this.queue.push(order);
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    const throughput = this.options().throughput;
    if (throughput <= 0) {
      while (this.queue.length > 0) this.processSome(Number.POSITIVE_INFINITY);
      return;
    }
    if (this.ticker || this.queue.length === 0) return;
    this.lastTick = Date.now();
    this.budget = 0;
    this.ticker = setInterval(() => this.tick(), 20);
  }

  private tick(): void {
    const throughput = this.options().throughput;
    const now = Date.now();
    if (throughput <= 0) {
      this.budget = Number.POSITIVE_INFINITY;
    } else {
      // Capped at one second's worth, so an idle pause does not bank a burst.
      this.budget = Math.min(
        this.budget + (throughput * (now - this.lastTick)) / 1000,
        Math.max(throughput, 1),
      );
    }
    this.lastTick = now;
    const whole = Math.floor(this.budget);
    if (whole > 0) this.budget -= this.processSome(whole);
    if (this.queue.length === 0 && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  /** Processes up to `limit` line items from the head of the queue; returns how many it did. */
  private processSome(limit: number): number {
    this.deliverDue();
    let done = 0;
    while (done < limit) {
      const order = this.queue[0];
      if (!order) break;
      while (done < limit && order.processed < order.toProcess.length) {
        const item = order.toProcess[order.processed];
        order.processed += 1;
        if (item) this.processItem(order, item);
        done += 1;
      }
      if (order.processed >= order.toProcess.length) {
        this.queue.shift();
        this.finish(order);
      }
    }
    return done;
  }

  private processItem(order: StoredOrder, item: StoredLineItem): void {
    const problem = this.processingProblem(order, item);
    if (problem) {
      item.status = 'FAILED';
      item.deliveryStatus = 'FAILED';
      item.errors = [{ errorCode: problem.code.name, errorMessage: problem.message }];
      this.counters.lineItemsFailed += 1;
      this.counters.failuresByCode[problem.code.name] =
        (this.counters.failuresByCode[problem.code.name] ?? 0) + 1;
      return;
    }
    // Charged at order time, scheduled or not.
    const account = this.accounts.get(order.accountIdentifier);
    const amount = item.input.amount;
    if (account) account.balance = roundMoney(account.balance - amount);
    order.charged = roundMoney(order.charged + amount);
    item.charged = amount;
    const now = this.now();
    const at = new Date(now).toISOString();
    const dueMs = item.input.deliveryDate === undefined ? undefined : Date.parse(item.input.deliveryDate);
    const scheduled = dueMs !== undefined && dueMs > now;
    if (scheduled) {
      item.status = 'PENDING';
      item.deliveryStatus = 'SCHEDULED';
      item.scheduledForMs = dueMs;
      this.scheduled.push({ order, item });
      this.counters.lineItemsScheduled += 1;
    } else {
      item.status = 'COMPLETE';
      item.deliveryStatus = 'DELIVERED';
      this.counters.lineItemsDelivered += 1;
    }
    item.ledgerEntry = this.ledger.record({
      customerIdentifier: order.customerIdentifier,
      accountIdentifier: order.accountIdentifier,
      externalRefID: order.externalRefID,
      referenceOrderID: order.referenceOrderID,
      externalRefLineItemID: item.input.externalRefLineItemID,
      referenceLineItemId: item.referenceLineItemId,
      recipientKey: recipientKey(item.input.recipient),
      deliveryMethod: item.input.deliveryMethod,
      utid: item.input.utid,
      amount,
      currencyCode: item.currencyCode,
      state: scheduled ? 'scheduled' : 'fulfilled',
      recordedAt: at,
      scheduledFor: scheduled ? new Date(dueMs).toISOString() : null,
      fulfilledAt: scheduled ? null : at,
      reversedAt: null,
    });
    if (!scheduled) this.maybeReverseLater(order, item);
  }

  /** Delivers every scheduled item whose deliveryDate the simulator's clock has reached. */
  deliverDue(): void {
    if (this.scheduled.length === 0) return;
    const now = this.now();
    const waiting: { order: StoredOrder; item: StoredLineItem }[] = [];
    for (const entry of this.scheduled) {
      const { order, item } = entry;
      if (!isScheduled(item)) continue;
      if ((item.scheduledForMs ?? 0) > now) {
        waiting.push(entry);
        continue;
      }
      item.status = 'COMPLETE';
      item.deliveryStatus = 'DELIVERED';
      this.counters.lineItemsDelivered += 1;
      // Delivered on its date, whenever the simulator noticed that the date had come.
      const deliveredAt = new Date(item.scheduledForMs ?? now).toISOString();
      if (item.ledgerEntry) this.ledger.markFulfilled(item.ledgerEntry, deliveredAt);
      this.maybeReverseLater(order, item);
    }
    this.scheduled = waiting;
  }

  /** faults.reversalRate: a delivered item turns FAILED reversalAfterMs later. */
  private maybeReverseLater(order: StoredOrder, item: StoredLineItem): void {
    const { reversalRate, reversalAfterMs } = this.options().faults;
    if (!this.reversalRandom.chance(reversalRate)) return;
    this.pendingReversals += 1;
    this.later(reversalAfterMs, () => {
      this.pendingReversals -= 1;
      if (item.status === 'COMPLETE') this.reverseItem(order, item, defaultReversalError);
    });
  }

  // ---- reversals ----

  /** Turns a COMPLETE line item FAILED after the fact, as Tango may. Returns the item's GET view. */
  reverse(input: ReversalInput): Record<string, unknown> {
    const order = this.findForReversal(input);
    const item = order.items.find(
      (candidate) => candidate.input.externalRefLineItemID === input.externalRefLineItemID,
    );
    if (!item) {
      throw new SimulatorHttpError(
        404,
        '404.003',
        `order '${order.externalRefID}' has no line item '${input.externalRefLineItemID}'`,
      );
    }
    if (item.status !== 'COMPLETE') {
      throw new SimulatorHttpError(
        409,
        '409.000',
        `line item '${input.externalRefLineItemID}' is ${item.status}${isScheduled(item) ? ' (SCHEDULED)' : ''}; only a COMPLETE item can be reversed`,
      );
    }
    this.reverseItem(order, item, {
      errorCode: input.errorCode ?? defaultReversalError.errorCode,
      errorMessage: input.errorMessage ?? defaultReversalError.errorMessage,
    });
    return this.lineItemView(item);
  }

  private findForReversal(input: ReversalInput): StoredOrder {
    if (input.customerIdentifier !== undefined && input.accountIdentifier !== undefined) {
      return this.find(input.customerIdentifier, input.accountIdentifier, input.externalRefID);
    }
    const candidates = [...this.orders.values()].filter(
      (order) =>
        order.externalRefID === input.externalRefID &&
        (input.customerIdentifier === undefined || order.customerIdentifier === input.customerIdentifier) &&
        (input.accountIdentifier === undefined || order.accountIdentifier === input.accountIdentifier),
    );
    const [only] = candidates;
    if (candidates.length === 1 && only) return only;
    if (candidates.length === 0) {
      throw notFound(input.customerIdentifier ?? '*', input.accountIdentifier ?? '*', input.externalRefID);
    }
    throw new SimulatorHttpError(
      400,
      '400.001',
      `externalRefID '${input.externalRefID}' exists under ${candidates.length} accounts: give customerIdentifier and accountIdentifier`,
    );
  }

  private reverseItem(
    order: StoredOrder,
    item: StoredLineItem,
    error: { errorCode: string; errorMessage: string },
  ): void {
    item.status = 'FAILED';
    item.deliveryStatus = 'FAILED';
    item.errors = [{ errorCode: error.errorCode, errorMessage: error.errorMessage }];
    this.counters.lineItemsReversed += 1;
    this.counters.failuresByCode[error.errorCode] = (this.counters.failuresByCode[error.errorCode] ?? 0) + 1;
    if (item.ledgerEntry) this.ledger.markReversed(item.ledgerEntry, new Date(this.now()).toISOString());
    // An order still processing gets its status when it finishes; a final one is derived again.
    if (!finalStatuses.has(order.status)) return;
    const { status, successful, failed } = this.outcome(order);
    order.status = status;
    if (this.options().webhooks.reversalEvents)
      this.publish(order, webhookStatus(status), successful, failed);
  }

  /** The failure rules applied at processing time, in order; undefined = deliver. */
  private processingProblem(order: StoredOrder, item: StoredLineItem): LineItemProblem | undefined {
    const { failures } = this.options();
    const input = item.input;
    const catalogItem = this.catalog.get(input.utid);
    const make = (name: string, message: string): LineItemProblem => {
      const code = errorCode(name);
      return { field: code.field ?? '', code, message };
    };
    if (catalogItem && !catalogItem.deliveryMethods.includes(input.deliveryMethod)) {
      return make(
        'DELIVERY_METHOD_NOT_SUPPORTED',
        `reward ${input.utid} cannot be delivered by ${input.deliveryMethod} (allowed: ${catalogItem.deliveryMethods.join(', ')})`,
      );
    }
    const domain = input.recipient?.email?.split('@')[1]?.toLowerCase();
    if (domain && domain === failures.blockedEmailDomain.toLowerCase()) {
      return make('RECIPIENT_BLOCKED', 'recipient blocked by fraud or compliance rules');
    }
    if (domain && domain === failures.bounceEmailDomain.toLowerCase()) {
      return make(
        'INVALID_EMAIL',
        `mail to ${input.recipient?.email ?? ''} bounced: the address does not exist`,
      );
    }
    if (domain && domain === failures.transientEmailDomain.toLowerCase()) {
      const key = `${order.customerIdentifier}\u0000${order.accountIdentifier}\u0000${input.externalRefLineItemID}`;
      if (!this.transientSeen.has(key)) {
        this.transientSeen.add(key);
        return make('PROCESSING_ERROR', 'temporary processing error at the reward provider; resubmit');
      }
    }
    if (this.random.chance(failures.rates.transient)) {
      return this.random.next() < 0.5
        ? make('PROCESSING_ERROR', 'temporary processing error (random rate); resubmit')
        : make('PROVIDER_TIMEOUT', 'reward provider timed out (random rate); resubmit');
    }
    if (this.random.chance(failures.rates.badContact)) {
      switch (input.deliveryMethod) {
        case 'PHONE':
        case 'WHATSAPP':
          return make('INVALID_PHONE', 'the mobile number could not be reached (random rate)');
        case 'ADDRESS':
          return make('INVALID_ADDRESS', 'the address is undeliverable (random rate)');
        default:
          return make('INVALID_EMAIL', 'the email address bounced (random rate)');
      }
    }
    if (this.random.chance(failures.rates.permanent)) {
      return make('RECIPIENT_BLOCKED', 'recipient blocked by fraud or compliance rules (random rate)');
    }
    const account = this.accounts.get(order.accountIdentifier);
    if (!account || account.balance < input.amount) {
      return make(
        'INSUFFICIENT_FUNDS',
        `balance ${account?.balance ?? 0} ${order.currencyCode} does not cover ${input.amount}`,
      );
    }
    return undefined;
  }

  /** An order's final status from its items; an item scheduled for later counts as a success. */
  private outcome(order: StoredOrder): { status: OrderStatus; successful: number; failed: number } {
    let successful = 0;
    let failed = 0;
    for (const item of order.items) {
      if (item.status === 'COMPLETE' || isScheduled(item)) successful += 1;
      else if (item.status === 'FAILED') failed += 1;
    }
    const status: OrderStatus =
      successful === order.items.length && successful > 0
        ? 'COMPLETE'
        : successful === 0
          ? 'FAILED'
          : 'PARTIAL';
    return { status, successful, failed };
  }

  private finish(order: StoredOrder): void {
    const { status, successful, failed } = this.outcome(order);
    order.status = status;
    order.completedAt = new Date(this.now()).toISOString();
    this.publish(order, webhookStatus(status), successful, failed);
  }

  private publish(order: StoredOrder, status: WebhookStatus, successful = 0, failed = 0): void {
    const event: AsyncOrderStatusEvent = {
      eventId: randomUUID(),
      revision: order.revision,
      category: 'ORDER',
      eventType: 'AsyncOrderStatus',
      eventOccurredAt: new Date().toISOString(),
      eventData: {
        externalRefID: order.externalRefID,
        status,
        totalLineItems: order.items.length,
        failedLineItems: failed,
        successfulLineItems: successful,
        referenceOrderId: order.referenceOrderID,
        accountIdentifier: order.accountIdentifier,
        customerIdentifier: order.customerIdentifier,
      },
    };
    order.revision += 1;
    this.webhooks.publish(event);
  }
}
