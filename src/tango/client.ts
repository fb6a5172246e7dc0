// The HTTP client for Tango's async orders API. It never retries on its own (Temporal's activity
// retry policy is the one retry loop); it validates what it sends and what it gets, and throws the
// typed errors of errors.ts. One debug log line per HTTP request, without secrets.
import got, { type Got, type Method } from 'got';
import type { z } from 'zod';
import { createAuthenticator, headerValue, silentLogger, toNetworkError } from './auth.ts';
import type { TangoAuthenticator, TangoLogger, TokenCache } from './auth.ts';
import type { TangoConfig } from './config.ts';
import {
  TangoError,
  TangoHttpError,
  TangoRequestValidationError,
  TangoResponseValidationError,
  parseErrorBody,
  parseRetryAfter,
} from './errors.ts';
import {
  MAX_IDS_PER_FILTER,
  accountResponseSchema,
  asyncOrderDetailSchema,
  asyncOrderQuerySchema,
  catalogResponseSchema,
  createAsyncOrderRequestSchema,
  createAsyncOrderResponseSchema,
  orderRefSchema,
  updateAsyncOrderRequestSchema,
  webhookRegistrationRequestSchema,
  webhookRegistrationResponseSchema,
} from './schemas.ts';
import type {
  AccountResponse,
  AsyncOrderDetail,
  AsyncOrderQuery,
  CatalogResponse,
  CreateAsyncOrderRequest,
  CreateAsyncOrderResponse,
  LineItemDetail,
  OrderRef,
  UpdateAsyncOrderRequest,
  WebhookRegistrationRequest,
  WebhookRegistrationResponse,
} from './schemas.ts';

export interface TangoClientOptions {
  logger?: TangoLogger;
  /** Clock for OAuth token expiry; tests pass a fake one. */
  now?: () => number;
  /** Share the OAuth token with other processes through this cache (ignored for Basic auth). */
  tokenCache?: TokenCache;
  /** Spaces every API request and holds them back after Tango asked to wait (see RequestGate). */
  requestGate?: RequestGate;
}

/**
 * Tango's request budget, as the client sees it: `beforeRequest` resolves when a request may go out
 * (spacing, and no request before a Retry-After or the >= 1 s Tango asks after an error);
 * `afterResponse` tells it what the request got. A store-backed gate is shared by every worker.
 */
export interface RequestGate {
  beforeRequest(): Promise<void>;
  /** `status` is undefined for a network failure or timeout. */
  afterResponse(outcome: { status?: number; retryAfterMs?: number }): Promise<void>;
}

export interface CreateAsyncOrderResult {
  httpStatus: number;
  /** true for 201/202 (a new order); false for 200 (the order with this externalRefID already existed). */
  created: boolean;
  order: CreateAsyncOrderResponse;
}

/** Per-call options. */
export interface CallOptions {
  /**
   * Aborts the HTTP request in flight (e.g. an activity's cancellation signal). The call then
   * rejects with the signal's reason, not a TangoNetworkError, so that it is not taken for a
   * retryable failure.
   */
  signal?: AbortSignal;
}

export interface LineItemPageOptions extends CallOptions {
  failedOnly?: boolean;
  /** 1..500, Tango's default 100. */
  maxResults?: number;
  /** Resume from this cursor (a LineItemPage.nextCursor saved earlier, e.g. in an activity heartbeat). */
  startCursor?: string;
  externalLineItemReferenceIds?: string[];
  referenceLineItemIds?: string[];
}

export interface LineItemPage {
  order: AsyncOrderDetail;
  lineItems: LineItemDetail[];
  /** The cursor that fetched this page (undefined for the first page). */
  cursor?: string;
  /** The cursor of the next page; undefined on the last page. */
  nextCursor?: string;
}

interface SendOptions<S extends z.ZodType> extends CallOptions {
  schema: S;
  json?: unknown;
  searchParams?: URLSearchParams;
}

export class TangoClient {
  readonly #http: Got;
  readonly #auth: TangoAuthenticator;
  readonly #logger: TangoLogger;
  readonly #basePath: string;
  readonly #gate: RequestGate | undefined;

  constructor(config: TangoConfig, options: TangoClientOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#gate = options.requestGate;
    this.#basePath = new URL(config.baseUrl).pathname.replace(/\/+$/, '');
    this.#auth = createAuthenticator(config.auth, {
      timeoutMs: config.timeoutMs,
      logger: this.#logger,
      ...(options.now ? { now: options.now } : {}),
      ...(options.tokenCache ? { tokenCache: options.tokenCache } : {}),
    });
    this.#http = got.extend({
      prefixUrl: `${config.baseUrl.replace(/\/+$/, '')}/`,
      retry: { limit: 0 },
      timeout: { connect: Math.min(10_000, config.timeoutMs), request: config.timeoutMs },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'text',
      headers: { accept: 'application/json', 'user-agent': 'tango-campaigns' },
    });
  }

  /**
   * POST /asyncOrders. Resubmitting the same externalRefID is safe: Tango returns the existing
   * order (200, created = false) and does not repeat its failedLineItems.
   */
  async createAsyncOrder(
    request: CreateAsyncOrderRequest,
    call: CallOptions = {},
  ): Promise<CreateAsyncOrderResult> {
    const body = validateRequest(createAsyncOrderRequestSchema, request, 'POST /asyncOrders body');
    const { status, data } = await this.#send('POST', 'asyncOrders', {
      schema: createAsyncOrderResponseSchema,
      json: body,
      ...call,
    });
    return { httpStatus: status, created: status === 201 || status === 202, order: data };
  }

  /** GET one page of an async order (the first page unless query.nextCursor / prevCursor is set). */
  async getAsyncOrder(
    ref: OrderRef,
    query: AsyncOrderQuery = {},
    call: CallOptions = {},
  ): Promise<AsyncOrderDetail> {
    const q = validateRequest(asyncOrderQuerySchema, query, 'async order query');
    const searchParams = new URLSearchParams();
    if (q.failedOnly !== undefined) searchParams.set('failedOnly', String(q.failedOnly));
    if (q.maxResults !== undefined) searchParams.set('maxResults', String(q.maxResults));
    if (q.nextCursor !== undefined) searchParams.set('nextCursor', q.nextCursor);
    if (q.prevCursor !== undefined) searchParams.set('prevCursor', q.prevCursor);
    // Repeated parameters (ids=a&ids=b), the form Spring-style APIs read as a list.
    for (const id of q.externalLineItemReferenceIds ?? [])
      searchParams.append('externalLineItemReferenceIds', id);
    for (const id of q.referenceLineItemIds ?? []) searchParams.append('referenceLineItemIds', id);
    const { data } = await this.#send('GET', orderPath(ref), {
      schema: asyncOrderDetailSchema,
      searchParams,
      ...call,
    });
    return data;
  }

  /** PATCH the order's metadata (campaign, purchaseOrderNumber, notes); returns the order. */
  async updateAsyncOrder(
    ref: OrderRef,
    patch: UpdateAsyncOrderRequest,
    call: CallOptions = {},
  ): Promise<AsyncOrderDetail> {
    const body = validateRequest(updateAsyncOrderRequestSchema, patch, 'PATCH async order body');
    const { data } = await this.#send('PATCH', orderPath(ref), {
      schema: asyncOrderDetailSchema,
      json: body,
      ...call,
    });
    return data;
  }

  /**
   * Pages through an order's line items with Tango's cursors. Each page carries the cursor that
   * fetched it and the next one, so a caller can save `nextCursor` after handling a page and
   * resume from it later with `startCursor`.
   */
  async *lineItemPages(ref: OrderRef, options: LineItemPageOptions = {}): AsyncGenerator<LineItemPage> {
    const { startCursor, signal, ...filters } = options;
    // Validate once up front so that a bad option fails before any request.
    validateRequest(asyncOrderQuerySchema, filters, 'line item page options');
    let cursor = startCursor;
    const seen = new Set<string>(startCursor ? [startCursor] : []);
    for (;;) {
      const order = await this.getAsyncOrder(
        ref,
        { ...filters, ...(cursor ? { nextCursor: cursor } : {}) },
        { ...(signal ? { signal } : {}) },
      );
      const next = order.pagination?.nextCursor;
      const more = next !== undefined && next !== '' && order.pagination?.nextPageAvailable !== false;
      yield { order, lineItems: order.lineItems, cursor, nextCursor: more ? next : undefined };
      if (!more) return;
      if (seen.has(next)) {
        throw new TangoError(
          `Tango returned cursor ${next} twice while paging order ${ref.externalRefID}; stopping ` +
            'instead of looping forever. Retry later or report it to Tango with the order id.',
        );
      }
      seen.add(next);
      cursor = next;
    }
  }

  /**
   * Looks up line items by externalRefLineItemID, 50 ids per request (Tango's filter limit).
   * Returns the items Tango holds; an id missing from the result is not in the order.
   */
  async lookupLineItems(
    ref: OrderRef,
    externalRefLineItemIDs: string[],
    call: CallOptions = {},
  ): Promise<LineItemDetail[]> {
    const ids = [...new Set(externalRefLineItemIDs)];
    const tooLong = ids.find((id) => id.length > 100);
    if (tooLong !== undefined) {
      throw new TangoRequestValidationError(`lookup of line item "${tooLong.slice(0, 40)}..."`, [
        {
          code: 'custom',
          path: ['externalLineItemReferenceIds'],
          message:
            'Tango filters line items by ids of at most 100 characters; this externalRefLineItemID ' +
            'is longer, so page through the order instead',
          input: tooLong,
        },
      ]);
    }
    const found: LineItemDetail[] = [];
    for (let start = 0; start < ids.length; start += MAX_IDS_PER_FILTER) {
      const chunk = ids.slice(start, start + MAX_IDS_PER_FILTER);
      for await (const page of this.lineItemPages(ref, {
        externalLineItemReferenceIds: chunk,
        maxResults: MAX_IDS_PER_FILTER,
        ...call,
      })) {
        found.push(...page.lineItems);
      }
    }
    return found;
  }

  /** POST /webhooks: subscribe a URL to events (AsyncOrderStatus). */
  async registerWebhook(
    request: WebhookRegistrationRequest,
    call: CallOptions = {},
  ): Promise<WebhookRegistrationResponse> {
    const body = validateRequest(webhookRegistrationRequestSchema, request, 'webhook registration');
    const { data } = await this.#send('POST', 'webhooks', {
      schema: webhookRegistrationResponseSchema,
      json: body,
      ...call,
    });
    return data;
  }

  /**
   * POST /webhooks/{id}/renew: extends a subscription before it expires. A 404 (TangoHttpError)
   * means Tango no longer knows the subscription: register the URL again.
   */
  async renewWebhook(webhookId: string, call: CallOptions = {}): Promise<WebhookRegistrationResponse> {
    if (webhookId.trim() === '') {
      throw new TangoRequestValidationError('webhook renewal', [
        { code: 'custom', path: ['webhookId'], message: 'the subscription id is empty', input: webhookId },
      ]);
    }
    const { data } = await this.#send('POST', `webhooks/${encodeURIComponent(webhookId)}/renew`, {
      schema: webhookRegistrationResponseSchema,
      ...call,
    });
    return data;
  }

  /** GET /catalogs. Tango asks that it be called at most twice a day: cache the result. */
  async getCatalog(call: CallOptions = {}): Promise<CatalogResponse> {
    const { data } = await this.#send('GET', 'catalogs', { schema: catalogResponseSchema, ...call });
    return data;
  }

  /** GET /accounts/{accountIdentifier}: balance and status. */
  async getAccount(accountIdentifier: string, call: CallOptions = {}): Promise<AccountResponse> {
    const { data } = await this.#send('GET', `accounts/${encodeURIComponent(accountIdentifier)}`, {
      schema: accountResponseSchema,
      ...call,
    });
    return data;
  }

  async #send<S extends z.ZodType>(
    method: Method,
    relativePath: string,
    options: SendOptions<S>,
  ): Promise<{ status: number; data: z.output<S>; requestId?: string }> {
    const path = `${this.#basePath}/${relativePath}`;
    options.signal?.throwIfAborted();
    let authorization = await this.#auth.authorization();
    let response = await this.#attempt(method, relativePath, path, authorization, options);
    // An expired or revoked OAuth token: fetch a new one once and repeat. A 401 means the request
    // was not processed, so repeating a POST cannot create anything twice.
    if (response.statusCode === 401 && this.#auth.rejected(authorization)) {
      authorization = await this.#auth.authorization();
      response = await this.#attempt(method, relativePath, path, authorization, options);
    }
    const requestId = headerValue(response.headers['x-request-id']);
    if (response.statusCode < 200 || response.statusCode > 299) {
      const body = parseErrorBody(response.body);
      throw new TangoHttpError({
        status: response.statusCode,
        body,
        requestId: requestId ?? (typeof body === 'string' ? undefined : body.requestId),
        retryAfterMs: parseRetryAfter(response.headers['retry-after']),
        method,
        path,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(response.body);
    } catch {
      throw new TangoResponseValidationError({
        issues: [
          {
            code: 'custom',
            path: [],
            message: `body is not JSON (${JSON.stringify(response.body.slice(0, 80))})`,
            input: undefined,
          },
        ],
        requestId,
        endpoint: `${method} ${path}`,
      });
    }
    const parsed = options.schema.safeParse(json);
    if (!parsed.success) {
      throw new TangoResponseValidationError({
        issues: parsed.error.issues,
        requestId,
        endpoint: `${method} ${path}`,
      });
    }
    return { status: response.statusCode, data: parsed.data, requestId };
  }

  async #attempt<S extends z.ZodType>(
    method: Method,
    relativePath: string,
    path: string,
    authorization: string,
    options: SendOptions<S>,
  ) {
    await this.#gate?.beforeRequest();
    const started = performance.now();
    try {
      const response = await this.#http(relativePath, {
        method,
        headers: { authorization },
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.json !== undefined ? { json: options.json } : {}),
        ...(options.searchParams && options.searchParams.size > 0
          ? { searchParams: options.searchParams }
          : {}),
      });
      this.#logger.debug('tango request', {
        method,
        path,
        status: response.statusCode,
        requestId: headerValue(response.headers['x-request-id']),
        ms: Math.round(performance.now() - started),
      });
      await this.#gate?.afterResponse({
        status: response.statusCode,
        retryAfterMs: parseRetryAfter(response.headers['retry-after']),
      });
      return response;
    } catch (error) {
      // Cancelled by the caller: surface the caller's reason, not a network failure.
      options.signal?.throwIfAborted();
      await this.#gate?.afterResponse({});
      const failure = toNetworkError(error, method, path);
      this.#logger.debug('tango request failed', {
        method,
        path,
        error: failure.message,
        ms: Math.round(performance.now() - started),
      });
      throw failure;
    }
  }
}

function orderPath(ref: OrderRef): string {
  const valid = validateRequest(orderRefSchema, ref, 'async order reference');
  return [
    'asyncOrders/customers',
    encodeURIComponent(valid.customerIdentifier),
    'accounts',
    encodeURIComponent(valid.accountIdentifier),
    encodeURIComponent(valid.externalRefID),
  ].join('/');
}

function validateRequest<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new TangoRequestValidationError(what, parsed.error.issues);
  return parsed.data;
}
