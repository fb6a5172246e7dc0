// The simulator's HTTP face: routes Tango's endpoints (and the test-only /_admin endpoints),
// authenticates like Tango (Basic platform credentials or an OAuth bearer token), injects faults on
// demand, answers errors with Tango's error body and an X-REQUEST-ID, and counts every request.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { isLoopbackHost } from '../tango/config.ts';
import { DEFAULT_ACCOUNTS, DEFAULT_CATALOG, SIMULATOR_CREDENTIAL_DEFAULTS } from './defaults.ts';
import { type Ledger, type LedgerDuplicates, type LedgerEntry } from './ledger.ts';
import {
  accountOptionSchema,
  catalogItemOptionSchema,
  mergeOptions,
  parseOptions,
  SimulatorConfigError,
  type SimulatorOptions,
  type SimulatorOptionsPatch,
} from './options.ts';
import {
  OrderBook,
  type LineItemQuery,
  type PreloadedOrder,
  type ProcessingCounters,
  type ReversalInput,
} from './order-book.ts';
import { SeededRandom } from './random.ts';
import { errorBody, fieldError, SimulatorHttpError, type TangoFieldError } from './tango-errors.ts';
import { parseCreateOrderRequest, parseUpdateOrderRequest } from './validation.ts';
import {
  WebhookDispatcher,
  type WebhookCounters,
  type WebhookDeliveryRecord,
  type WebhookSubscription,
} from './webhooks.ts';

export interface SimulatorStats {
  /** Requests by route ("POST /raas/v2/asyncOrders") and outcome (HTTP status, or "dropped" / "response-lost"). */
  requests: Record<string, Record<string, number>>;
  totalRequests: number;
  faults: {
    rateLimited: number;
    serverErrors: number;
    droppedConnections: number;
    responsesLost: number;
    delayedRequests: number;
  };
  orders: ProcessingCounters & { count: number };
  webhooks: WebhookCounters;
  ledgerSize: number;
}

export interface RunningSimulator {
  /** Tango API base, e.g. http://127.0.0.1:8790/raas/v2 (what TANGO_BASE_URL should be). */
  readonly baseUrl: string;
  /** OAuth token endpoint (TANGO_OAUTH_TOKEN_URL). */
  readonly tokenUrl: string;
  /** Base of the test-only admin endpoints, e.g. http://127.0.0.1:8790/_admin. */
  readonly adminUrl: string;
  readonly host: string;
  readonly port: number;
  /** The options now in force (after every configure()). */
  readonly options: SimulatorOptions;
  readonly ledger: Ledger;
  /** Changes knobs at runtime; nested objects merge. host, port, seed, accounts and catalog are fixed at start. */
  configure(patch: SimulatorOptionsPatch): SimulatorOptions;
  /** Credits an account; returns the new balance. */
  addFunds(accountIdentifier: string, amount: number): number;
  /**
   * Creates an order as if another client had POSTed it earlier (any POST /asyncOrders body, plus
   * an optional createdAt), so that a test can stage an externalRefID collision. Its items are
   * validated, charged, processed and recorded in the ledger like any order's. 409 if it exists.
   */
  preloadOrder(order: PreloadOrderRequest): PreloadedOrder;
  /** The simulator's clock: the wall clock plus every advanceClock so far. */
  now(): Date;
  /** Moves the simulator's clock forward (deliveryDate checks, scheduled deliveries, GET lag). */
  advanceClock(ms: number): Date;
  /** Turns a COMPLETE line item FAILED, as Tango may after delivery; returns its GET view. */
  reverseLineItem(reversal: ReversalInput): Record<string, unknown>;
  stats(): SimulatorStats;
  webhookSubscriptions(): WebhookSubscription[];
  /** Forgets a subscription as if Tango had lost it (renewing it answers 404); false if unknown. */
  removeWebhookSubscription(webhookId: string): boolean;
  webhookDeliveries(): WebhookDeliveryRecord[];
  /** Resolves when every order is final and no webhook delivery is pending; rejects after timeoutMs. */
  whenIdle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** What preloadOrder and POST /_admin/orders take: a POST /asyncOrders body and when it was created. */
export interface PreloadOrderRequest {
  customerIdentifier: string;
  accountIdentifier: string;
  externalRefID: string;
  lineItems: unknown[];
  /** ISO date-time (or a Date) on the simulator's clock; now when absent. */
  createdAt?: string | Date;
  [field: string]: unknown;
}

const fixedAtStart = ['host', 'port', 'seed', 'accounts', 'catalog', 'adminToken'] as const;
const maxBodyBytes = 64 * 1024 * 1024;

interface RouteMatch {
  name: string;
  handler: (ctx: RequestContext) => Promise<HandlerResult> | HandlerResult;
  /** Whether a "processed but response lost" fault may hit it (only requests that change state). */
  mutating: boolean;
  tango: boolean;
}

interface RequestContext {
  req: IncomingMessage;
  url: URL;
  params: string[];
  requestId: string;
}

interface HandlerResult {
  status: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

class TextError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function secretEquals(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) {
      throw new SimulatorHttpError(413, '413.001', `request body larger than ${maxBodyBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new SimulatorHttpError(
      415,
      '415.001',
      `Content-Type must be application/json, got '${type || '(none)'}'`,
    );
  }
  const raw = await readBody(req);
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (error) {
    throw new SimulatorHttpError(400, '400.001', `Malformed JSON request body: ${(error as Error).message}`, [
      fieldError('(body)', 'JSON', 'not valid JSON', raw.toString('utf8').slice(0, 100)),
    ]);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parsePreload(body: unknown) {
  if (!isObject(body)) {
    throw new SimulatorHttpError(400, '400.001', 'Request is invalid: the body must be an order object');
  }
  const { createdAt, ...order } = body;
  let createdAtMs: number | undefined;
  if (createdAt !== undefined) {
    createdAtMs =
      createdAt instanceof Date
        ? createdAt.getTime()
        : typeof createdAt === 'string'
          ? Date.parse(createdAt)
          : NaN;
    if (Number.isNaN(createdAtMs)) {
      throw new SimulatorHttpError(400, '400.001', 'Request is invalid: createdAt must be an ISO date-time', [
        fieldError('createdAt', 'DateTime', 'must be an ISO date-time', String(createdAt)),
      ]);
    }
  }
  return { input: parseCreateOrderRequest(order), createdAtMs };
}

function optionalText(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new SimulatorHttpError(400, '400.001', `Request is invalid: ${key} must be a non-empty string`, [
      fieldError(key, 'Type', 'must be a non-empty string', String(value)),
    ]);
  }
  return value;
}

function parseReversal(body: unknown): ReversalInput {
  if (!isObject(body)) {
    throw new SimulatorHttpError(400, '400.001', 'Request is invalid: the body must be an object');
  }
  const externalRefID = optionalText(body, 'externalRefID');
  const externalRefLineItemID = optionalText(body, 'externalRefLineItemID');
  if (externalRefID === undefined || externalRefLineItemID === undefined) {
    throw new SimulatorHttpError(
      400,
      '400.001',
      'Request is invalid: externalRefID and externalRefLineItemID are required',
    );
  }
  const reversal: ReversalInput = { externalRefID, externalRefLineItemID };
  for (const key of ['customerIdentifier', 'accountIdentifier', 'errorCode', 'errorMessage'] as const) {
    const value = optionalText(body, key);
    if (value !== undefined) reversal[key] = value;
  }
  return reversal;
}

function queryList(url: URL, name: string): string[] | undefined {
  const values = url.searchParams.getAll(name);
  if (values.length === 0) return undefined;
  return values.flatMap((value) => value.split(','));
}

function parseLineItemQuery(url: URL): LineItemQuery {
  const errors: TangoFieldError[] = [];
  const params = url.searchParams;
  let maxResults = 100;
  const rawMax = params.get('maxResults');
  if (rawMax !== null) {
    if (!/^\d+$/.test(rawMax) || Number(rawMax) < 1 || Number(rawMax) > 500) {
      errors.push(fieldError('maxResults', 'Range', 'must be an integer between 1 and 500', rawMax));
    } else maxResults = Number(rawMax);
  }
  let failedOnly = false;
  const rawFailed = params.get('failedOnly');
  if (rawFailed !== null) {
    if (!/^(true|false)$/i.test(rawFailed)) {
      errors.push(fieldError('failedOnly', 'Boolean', 'must be true or false', rawFailed));
    } else failedOnly = rawFailed.toLowerCase() === 'true';
  }
  const externalIds = queryList(url, 'externalLineItemReferenceIds');
  const referenceIds = queryList(url, 'referenceLineItemIds');
  for (const [name, ids] of [
    ['externalLineItemReferenceIds', externalIds],
    ['referenceLineItemIds', referenceIds],
  ] as const) {
    if (!ids) continue;
    if (ids.length > 50) errors.push(fieldError(name, 'Size', 'at most 50 ids per request', ids.length));
    const long = ids.find((id) => id.length > 100);
    if (long !== undefined) errors.push(fieldError(name, 'Size', 'each id must be 0-100 characters', long));
  }
  if (externalIds && referenceIds) {
    errors.push(
      fieldError(
        'referenceLineItemIds',
        'Exclusive',
        'use either referenceLineItemIds or externalLineItemReferenceIds, not both',
        null,
      ),
    );
  }
  const nextCursor = params.get('nextCursor') ?? undefined;
  const prevCursor = params.get('prevCursor') ?? undefined;
  if (nextCursor !== undefined && prevCursor !== undefined) {
    errors.push(
      fieldError('prevCursor', 'Exclusive', 'use either nextCursor or prevCursor, not both', prevCursor),
    );
  }
  if (errors.length > 0) {
    throw new SimulatorHttpError(
      400,
      '400.001',
      `Request is invalid: ${errors[0]?.path} ${errors[0]?.message}`,
      errors,
    );
  }
  const query: LineItemQuery = { maxResults, failedOnly };
  if (nextCursor !== undefined) query.nextCursor = nextCursor;
  if (prevCursor !== undefined) query.prevCursor = prevCursor;
  if (externalIds) query.externalLineItemReferenceIds = externalIds;
  if (referenceIds) query.referenceLineItemIds = referenceIds;
  return query;
}

/** The options as the admin endpoints show them: the admin token itself never leaves. */
function shownOptions(
  options: SimulatorOptions,
): Omit<SimulatorOptions, 'adminToken'> & { adminToken?: string } {
  const { adminToken, ...shown } = options;
  return adminToken === undefined ? shown : { ...shown, adminToken: '(set)' };
}

/** Starts a simulator on loopback. Options are validated; anything left out takes its documented default. */
export async function startSimulator(input: SimulatorOptionsPatch = {}): Promise<RunningSimulator> {
  let options = parseOptions(input, 'startSimulator');
  const credentials = () =>
    options.credentials ?? {
      platformName: SIMULATOR_CREDENTIAL_DEFAULTS.platformName,
      platformKey: SIMULATOR_CREDENTIAL_DEFAULTS.platformKey,
      oauthClientId: SIMULATOR_CREDENTIAL_DEFAULTS.oauthClientId,
      oauthClientSecret: SIMULATOR_CREDENTIAL_DEFAULTS.oauthClientSecret,
      oauthUsername: SIMULATOR_CREDENTIAL_DEFAULTS.oauthUsername,
      oauthPassword: SIMULATOR_CREDENTIAL_DEFAULTS.oauthPassword,
      tokenExpiresInSeconds: 86_400,
    };
  const accounts = (options.accounts ?? DEFAULT_ACCOUNTS).map((account) =>
    accountOptionSchema.parse(account),
  );
  const catalog = (options.catalog ?? DEFAULT_CATALOG).map((item) => catalogItemOptionSchema.parse(item));
  const failureRandom = new SeededRandom(options.seed);
  const faultRandom = new SeededRandom(options.seed ^ 0x5bd1e995);
  const webhookRandom = new SeededRandom(options.seed ^ 0x27d4eb2f);
  // Expiry is measured on the simulator clock; `book` exists by the time anything asks.
  const webhooks: WebhookDispatcher = new WebhookDispatcher(
    () => options,
    webhookRandom,
    (): number => book.now(),
  );
  const book = new OrderBook(
    () => options,
    accounts,
    catalog,
    failureRandom,
    webhooks,
    new SeededRandom(options.seed ^ 0x1b873593),
    new SeededRandom(options.seed ^ 0x4cf5ad43),
  );
  for (const subscription of options.webhooks.subscriptions) {
    webhooks.register({
      ...subscription,
      hmacSharedSecretKey:
        subscription.payloadVerificationMethod === 'HMAC'
          ? (subscription.hmacSharedSecretKey ?? SIMULATOR_CREDENTIAL_DEFAULTS.webhookHmacSecret)
          : subscription.hmacSharedSecretKey,
    });
  }

  const tokens = new Map<string, number>();
  const recentRequests: number[] = [];
  let script = options.faults.script.map((fault) => ({ ...fault, remaining: fault.times }));
  const requestCounts: Record<string, Record<string, number>> = {};
  let totalRequests = 0;
  const faultCounts = {
    rateLimited: 0,
    serverErrors: 0,
    droppedConnections: 0,
    responsesLost: 0,
    delayedRequests: 0,
  };

  const count = (route: string, outcome: string) => {
    const byOutcome = (requestCounts[route] ??= {});
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
  };

  const configure = (patch: SimulatorOptionsPatch): SimulatorOptions => {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new SimulatorConfigError('configure', 'the patch must be an object');
    }
    const fixed = fixedAtStart.filter((key) => (patch as Record<string, unknown>)[key] !== undefined);
    if (fixed.length > 0) {
      throw new SimulatorConfigError('configure', `${fixed.join(', ')} can only be set at start`);
    }
    const next = parseOptions(mergeOptions(options, patch), 'configure');
    options = next;
    if (patch.faults?.script !== undefined) {
      script = options.faults.script.map((fault) => ({ ...fault, remaining: fault.times }));
    }
    return options;
  };

  // ---- authentication ----

  const authenticate = (req: IncomingMessage) => {
    const header = req.headers.authorization;
    if (!header) {
      throw new SimulatorHttpError(
        401,
        '401.001',
        'Authentication required: send Basic platform credentials or a Bearer token',
        [],
        {
          'WWW-Authenticate': 'Basic realm="raas", Bearer',
        },
      );
    }
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      const key = decoded.slice(colon + 1);
      const c = credentials();
      if (colon > 0 && secretEquals(name, c.platformName) && secretEquals(key, c.platformKey)) return;
      throw new SimulatorHttpError(401, '401.001', 'Authentication failed: unknown platform name or key');
    }
    if (scheme?.toLowerCase() === 'bearer') {
      const expiresAt = tokens.get(value);
      if (expiresAt === undefined)
        throw new SimulatorHttpError(401, '401.001', 'Authentication failed: unknown token');
      if (expiresAt <= Date.now()) {
        tokens.delete(value);
        throw new SimulatorHttpError(401, '401.002', 'Authentication failed: the token has expired');
      }
      return;
    }
    throw new SimulatorHttpError(
      401,
      '401.001',
      `Authentication failed: unsupported scheme '${scheme ?? ''}'`,
    );
  };

  const issueToken = async (ctx: RequestContext): Promise<HandlerResult> => {
    const type = ctx.req.headers['content-type'] ?? '';
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw new TextError(400, 'invalid_request: Content-Type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams((await readBody(ctx.req)).toString('utf8'));
    const grantType = form.get('grant_type');
    if (grantType !== 'password') {
      throw new TextError(
        400,
        `unsupported_grant_type: expected grant_type=password, got '${grantType ?? ''}'`,
      );
    }
    const missing = ['client_id', 'client_secret', 'username', 'password'].filter((name) => !form.get(name));
    if (missing.length > 0) throw new TextError(400, `invalid_request: missing ${missing.join(', ')}`);
    const c = credentials();
    if (
      !secretEquals(form.get('client_id') ?? '', c.oauthClientId) ||
      !secretEquals(form.get('client_secret') ?? '', c.oauthClientSecret)
    ) {
      throw new TextError(401, 'invalid_client: unknown client_id or wrong client_secret');
    }
    if (
      !secretEquals(form.get('username') ?? '', c.oauthUsername) ||
      !secretEquals(form.get('password') ?? '', c.oauthPassword)
    ) {
      throw new TextError(401, 'invalid_grant: wrong username or password');
    }
    const token = randomBytes(32).toString('base64url');
    tokens.set(token, Date.now() + c.tokenExpiresInSeconds * 1000);
    return {
      status: 200,
      body: {
        access_token: token,
        scope: form.get('scope') ?? 'raas.all',
        expires_in: c.tokenExpiresInSeconds,
        token_type: 'Bearer',
      },
    };
  };

  // ---- routes ----

  const clockView = () => ({ now: new Date(book.now()).toISOString(), offsetMs: book.clockOffset() });

  const handlers = {
    createOrder: async (ctx: RequestContext): Promise<HandlerResult> => {
      const body = await readJson(ctx.req);
      const outcome = book.create(parseCreateOrderRequest(body));
      return { status: outcome.httpStatus, body: outcome.body };
    },
    getOrder: (ctx: RequestContext): HandlerResult => {
      const [c = '', a = '', ref = ''] = ctx.params;
      return { status: 200, body: book.get(c, a, ref, parseLineItemQuery(ctx.url)) };
    },
    updateOrder: async (ctx: RequestContext): Promise<HandlerResult> => {
      const [c = '', a = '', ref = ''] = ctx.params;
      const patch = parseUpdateOrderRequest(await readJson(ctx.req));
      return { status: 200, body: book.update(c, a, ref, patch) };
    },
    registerWebhook: async (ctx: RequestContext): Promise<HandlerResult> => {
      const subscription = webhooks.register(await readJson(ctx.req));
      const { hmacSharedSecretKey: _secret, ...shown } = subscription;
      return { status: 201, body: shown };
    },
    renewWebhook: (ctx: RequestContext): HandlerResult => {
      const { hmacSharedSecretKey: _secret, ...shown } = webhooks.renew(ctx.params[0] ?? '');
      return { status: 200, body: shown };
    },
    adminRemoveWebhook: (ctx: RequestContext): HandlerResult => {
      const id = ctx.params[0] ?? '';
      if (!webhooks.remove(id))
        throw new SimulatorHttpError(404, '404.001', `webhook subscription '${id}' was not found`);
      return { status: 200, body: { removed: id } };
    },
    listWebhooks: (): HandlerResult => ({
      status: 200,
      body: webhooks.list().map(({ hmacSharedSecretKey: _secret, ...shown }) => shown),
    }),
    catalog: (): HandlerResult => ({ status: 200, body: book.catalogView() }),
    account: (ctx: RequestContext): HandlerResult => ({
      status: 200,
      body: book.accountView(ctx.params[0] ?? ''),
    }),
    adminLedger: (): HandlerResult => {
      book.deliverDue();
      return {
        status: 200,
        body: {
          size: book.ledger.size,
          entries: book.ledger.entries(),
          duplicates: book.ledger.duplicates(),
        },
      };
    },
    adminStats: (): HandlerResult => ({ status: 200, body: stats() }),
    adminGetConfig: (): HandlerResult => ({ status: 200, body: shownOptions(options) }),
    adminConfig: async (ctx: RequestContext): Promise<HandlerResult> => {
      const patch = (await readJson(ctx.req)) as SimulatorOptionsPatch;
      try {
        return { status: 200, body: shownOptions(configure(patch)) };
      } catch (error) {
        if (error instanceof SimulatorConfigError)
          throw new SimulatorHttpError(400, '400.001', error.message);
        throw error;
      }
    },
    adminFunds: async (ctx: RequestContext): Promise<HandlerResult> => {
      const body = (await readJson(ctx.req)) as { amount?: unknown } | null;
      const account = book.addFunds(ctx.params[0] ?? '', Number(body?.amount));
      return {
        status: 200,
        body: { accountIdentifier: account.accountIdentifier, currentBalance: account.balance },
      };
    },
    adminPreloadOrder: async (ctx: RequestContext): Promise<HandlerResult> => ({
      status: 201,
      body: book.preload(parsePreload(await readJson(ctx.req))),
    }),
    adminGetClock: (): HandlerResult => ({ status: 200, body: clockView() }),
    adminClock: async (ctx: RequestContext): Promise<HandlerResult> => {
      const body = (await readJson(ctx.req)) as { advanceMs?: unknown } | null;
      book.advanceClock(Number(body?.advanceMs));
      return { status: 200, body: clockView() };
    },
    adminReversal: async (ctx: RequestContext): Promise<HandlerResult> => ({
      status: 200,
      body: book.reverse(parseReversal(await readJson(ctx.req))),
    }),
    adminWebhooks: (): HandlerResult => ({
      status: 200,
      body: { subscriptions: webhooks.list(), deliveries: webhooks.deliveries() },
    }),
  };

  const orderPath = /^\/raas\/v2\/asyncOrders\/customers\/([^/]+)\/accounts\/([^/]+)\/([^/]+)$/;
  const route = (
    method: string,
    path: string,
  ): RouteMatch | { params: string[]; allowed: string[] } | undefined => {
    const tango = (name: string, handler: RouteMatch['handler'], mutating = false): RouteMatch => ({
      name,
      handler,
      mutating,
      tango: true,
    });
    const admin = (name: string, handler: RouteMatch['handler']): RouteMatch => ({
      name,
      handler,
      mutating: false,
      tango: false,
    });
    const table: [RegExp, Record<string, RouteMatch>][] = [
      [/^\/raas\/v2\/asyncOrders$/, { POST: tango('POST /raas/v2/asyncOrders', handlers.createOrder, true) }],
      [
        orderPath,
        {
          GET: tango(
            'GET /raas/v2/asyncOrders/customers/{c}/accounts/{a}/{externalRefID}',
            handlers.getOrder,
          ),
          PATCH: tango(
            'PATCH /raas/v2/asyncOrders/customers/{c}/accounts/{a}/{externalRefID}',
            handlers.updateOrder,
            true,
          ),
        },
      ],
      [
        /^\/raas\/v2\/webhooks$/,
        {
          POST: tango('POST /raas/v2/webhooks', handlers.registerWebhook, true),
          GET: tango('GET /raas/v2/webhooks', handlers.listWebhooks),
        },
      ],
      [
        /^\/raas\/v2\/webhooks\/([^/]+)\/renew$/,
        { POST: tango('POST /raas/v2/webhooks/{id}/renew', handlers.renewWebhook, true) },
      ],
      [/^\/raas\/v2\/catalogs$/, { GET: tango('GET /raas/v2/catalogs', handlers.catalog) }],
      [
        /^\/raas\/v2\/accounts\/([^/]+)$/,
        { GET: tango('GET /raas/v2/accounts/{accountIdentifier}', handlers.account) },
      ],
      [
        /^\/oauth\/token$/,
        { POST: { name: 'POST /oauth/token', handler: issueToken, mutating: false, tango: false } },
      ],
      [/^\/_admin\/ledger$/, { GET: admin('GET /_admin/ledger', handlers.adminLedger) }],
      [/^\/_admin\/stats$/, { GET: admin('GET /_admin/stats', handlers.adminStats) }],
      [
        /^\/_admin\/config$/,
        {
          GET: admin('GET /_admin/config', handlers.adminGetConfig),
          POST: admin('POST /_admin/config', handlers.adminConfig),
        },
      ],
      [
        /^\/_admin\/accounts\/([^/]+)\/funds$/,
        { POST: admin('POST /_admin/accounts/{id}/funds', handlers.adminFunds) },
      ],
      [/^\/_admin\/webhooks$/, { GET: admin('GET /_admin/webhooks', handlers.adminWebhooks) }],
      [
        /^\/_admin\/webhooks\/([^/]+)$/,
        { DELETE: admin('DELETE /_admin/webhooks/{id}', handlers.adminRemoveWebhook) },
      ],
      [/^\/_admin\/orders$/, { POST: admin('POST /_admin/orders', handlers.adminPreloadOrder) }],
      [
        /^\/_admin\/clock$/,
        {
          GET: admin('GET /_admin/clock', handlers.adminGetClock),
          POST: admin('POST /_admin/clock', handlers.adminClock),
        },
      ],
      [/^\/_admin\/reversals$/, { POST: admin('POST /_admin/reversals', handlers.adminReversal) }],
    ];
    for (const [pattern, methods] of table) {
      const match = pattern.exec(path);
      if (!match) continue;
      const params = match.slice(1).map((segment) => decodeURIComponent(segment));
      const found = methods[method];
      if (!found) return { params, allowed: Object.keys(methods) };
      return { ...found, handler: (ctx) => found.handler({ ...ctx, params }) };
    }
    return undefined;
  };

  // ---- admin access ----

  // The admin endpoints show credentials and move money: loopback only, unless a token guards them.
  const checkAdminAccess = (req: IncomingMessage) => {
    const token = options.adminToken;
    if (token === undefined) {
      if (isLoopbackHost(options.host)) return;
      throw new SimulatorHttpError(
        403,
        '403.000',
        `admin endpoints are served only on loopback; the simulator listens on ${options.host} (set adminToken to require a bearer token instead)`,
      );
    }
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
    const a = createHash('sha256').update(given).digest();
    const b = createHash('sha256').update(token).digest();
    if (!timingSafeEqual(a, b)) {
      throw new SimulatorHttpError(401, '401.000', 'admin endpoints need Authorization: Bearer <adminToken>');
    }
  };

  // ---- faults ----

  const takeScripted = (method: string, path: string) => {
    const index = script.findIndex(
      (fault) =>
        fault.remaining > 0 &&
        (fault.method === undefined || fault.method.toUpperCase() === method) &&
        (fault.path === undefined || path.includes(fault.path)),
    );
    const fault = script[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    return fault.kind;
  };

  const rateLimited = (): boolean => {
    const tps = options.faults.rateLimitTps;
    if (tps <= 0) return false;
    const now = Date.now();
    while (recentRequests.length > 0 && (recentRequests[0] ?? 0) <= now - 1000) recentRequests.shift();
    if (recentRequests.length >= tps) return true;
    recentRequests.push(now);
    return false;
  };

  const send = (res: ServerResponse, requestId: string, result: HandlerResult) => {
    const headers: Record<string, string> = { 'X-REQUEST-ID': requestId, ...result.headers };
    if (typeof result.body === 'string' && result.contentType === 'text/plain') {
      res.writeHead(result.status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(result.body);
      return;
    }
    const payload = JSON.stringify(result.body);
    res.writeHead(result.status, {
      ...headers,
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(payload),
    });
    res.end(payload);
  };

  const errorResult = (error: SimulatorHttpError, requestId: string, path: string): HandlerResult => ({
    status: error.status,
    body: errorBody(error, requestId, path),
    headers: error.headers,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    const path = url.pathname;
    totalRequests += 1;
    let found: ReturnType<typeof route>;
    try {
      found = route(method, path);
    } catch {
      found = undefined; // a malformed %-escape in the path
    }
    if (!found || !('handler' in found)) {
      const name = found ? `${method} ${path}` : 'unknown route';
      const error = found
        ? new SimulatorHttpError(
            405,
            '405.001',
            `${method} is not supported on ${path}; use ${found.allowed.join(', ')}`,
          )
        : new SimulatorHttpError(404, '404.000', `No endpoint ${method} ${path}`);
      count(name, String(error.status));
      send(res, requestId, errorResult(error, requestId, path));
      return;
    }
    const routeName = found.name;
    let lost = false;
    try {
      if (routeName.includes(' /_admin/')) checkAdminAccess(req);
      if (found.tango) {
        const { latencyMs, latencySpikeRate, latencySpikeMs } = options.faults;
        const delay = latencyMs + (faultRandom.chance(latencySpikeRate) ? latencySpikeMs : 0);
        if (delay > 0) {
          faultCounts.delayedRequests += 1;
          await sleep(delay);
        }
        authenticate(req);
        const scripted = takeScripted(method, path);
        if (scripted === 'rateLimit' || (scripted === undefined && rateLimited())) {
          faultCounts.rateLimited += 1;
          throw new SimulatorHttpError(
            429,
            '429.001',
            'Exceeded the allowable TPS rate limit; retry later',
            [],
            {
              'Retry-After': String(options.faults.retryAfterSeconds),
            },
          );
        }
        const serverError =
          scripted === 'serverError500'
            ? 500
            : scripted === 'serverError503'
              ? 503
              : scripted === undefined && faultRandom.chance(options.faults.serverErrorRate)
                ? faultRandom.next() < 0.5
                  ? 500
                  : 503
                : undefined;
        if (serverError === 500) {
          faultCounts.serverErrors += 1;
          throw new SimulatorHttpError(
            500,
            '500.001',
            'Something went wrong on the server (simulated fault)',
          );
        }
        if (serverError === 503) {
          faultCounts.serverErrors += 1;
          throw new SimulatorHttpError(503, '503.501', 'Temporary outage (simulated fault); retry later');
        }
        if (
          scripted === 'dropConnection' ||
          (scripted === undefined && faultRandom.chance(options.faults.dropConnectionRate))
        ) {
          faultCounts.droppedConnections += 1;
          count(routeName, 'dropped');
          req.socket.destroy();
          return;
        }
        lost =
          found.mutating &&
          (scripted === 'responseLost' ||
            (scripted === undefined && faultRandom.chance(options.faults.responseLostRate)));
      }
      const result = await found.handler({ req, url, params: [], requestId });
      if (lost) {
        faultCounts.responsesLost += 1;
        count(routeName, 'response-lost');
        req.socket.destroy();
        return;
      }
      count(routeName, String(result.status));
      send(res, requestId, result);
    } catch (error) {
      let result: HandlerResult;
      if (error instanceof TextError) {
        result = { status: error.status, body: error.message, contentType: 'text/plain' };
      } else if (error instanceof SimulatorHttpError) {
        result = errorResult(error, requestId, path);
      } else {
        const message = error instanceof Error ? error.message : String(error);
        result = errorResult(
          new SimulatorHttpError(500, '500.001', `Simulator error: ${message}`),
          requestId,
          path,
        );
      }
      count(routeName, String(result.status));
      if (!res.headersSent && !res.destroyed) send(res, requestId, result);
    }
  };

  const stats = (): SimulatorStats => {
    book.deliverDue();
    return {
      requests: structuredClone(requestCounts),
      totalRequests,
      faults: { ...faultCounts },
      orders: {
        ...book.counters,
        failuresByCode: { ...book.counters.failuresByCode },
        count: book.orderCount(),
      },
      webhooks: { ...webhooks.counters },
      ledgerSize: book.ledger.size,
    };
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`simulator failure: ${String(error)}`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const origin = `http://${hostForUrl}:${port}`;
  let closing: Promise<void> | undefined;

  return {
    baseUrl: `${origin}/raas/v2`,
    tokenUrl: `${origin}/oauth/token`,
    adminUrl: `${origin}/_admin`,
    host: options.host,
    port,
    get options() {
      return options;
    },
    // Reads first deliver what the clock has made due, as a GET would.
    ledger: {
      entries: () => {
        book.deliverDue();
        return book.ledger.entries();
      },
      duplicates: () => {
        book.deliverDue();
        return book.ledger.duplicates();
      },
      get size() {
        return book.ledger.size;
      },
    },
    configure,
    addFunds: (accountIdentifier, amount) => book.addFunds(accountIdentifier, amount).balance,
    preloadOrder: (order) => book.preload(parsePreload(order)),
    now: () => new Date(book.now()),
    advanceClock: (ms) => new Date(book.advanceClock(ms)),
    reverseLineItem: (reversal) => book.reverse(reversal),
    stats,
    webhookSubscriptions: () => webhooks.list(),
    removeWebhookSubscription: (webhookId) => webhooks.remove(webhookId),
    webhookDeliveries: () => webhooks.deliveries(),
    whenIdle: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!book.isIdle()) {
        if (Date.now() > deadline)
          throw new Error(`simulator: orders still processing after ${timeoutMs} ms`);
        await sleep(5);
      }
      const remaining = Math.max(deadline - Date.now(), 1);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        webhooks.idle(),
        new Promise<void>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`simulator: webhook deliveries still pending after ${timeoutMs} ms`)),
            remaining,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    },
    close: () => {
      closing ??= (async () => {
        book.close();
        await webhooks.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

export type { Ledger, LedgerDuplicates, LedgerEntry };
