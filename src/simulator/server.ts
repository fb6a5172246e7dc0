// The simulator's HTTP face: wires the simulated Tango, its webhooks, access rules, faults and routes
// (router.ts, handlers.ts) into a server on loopback; answers errors with Tango's error body and an
// X-REQUEST-ID, and counts every request.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { SimulatorAccess } from './access.ts';
import { DEFAULT_ACCOUNTS, DEFAULT_CATALOG, SIMULATOR_CREDENTIAL_DEFAULTS } from './defaults.ts';
import { FaultInjector } from './faults.ts';
import { createHandlers } from './handlers.ts';
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
import { SeededRandom } from './random.ts';
import { parsePreload, TextError } from './requests.ts';
import { createRouter, type HandlerResult, type RouteLookup } from './router.ts';
import {
  SimulatedTango,
  type PreloadedOrder,
  type ProcessingCounters,
  type ReversalInput,
} from './simulated-tango.ts';
import { errorBody, SimulatorHttpError } from './tango-errors.ts';
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function send(res: ServerResponse, requestId: string, result: HandlerResult): void {
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
}

function errorResult(error: SimulatorHttpError, requestId: string, path: string): HandlerResult {
  return { status: error.status, body: errorBody(error, requestId, path), headers: error.headers };
}

/** Starts a simulator on loopback. Options are validated; anything left out takes its documented default. */
export async function startSimulator(input: SimulatorOptionsPatch = {}): Promise<RunningSimulator> {
  let options = parseOptions(input, 'startSimulator');
  const currentOptions = () => options;
  const accounts = (options.accounts ?? DEFAULT_ACCOUNTS).map((account) =>
    accountOptionSchema.parse(account),
  );
  const catalog = (options.catalog ?? DEFAULT_CATALOG).map((item) => catalogItemOptionSchema.parse(item));
  const failureRandom = new SeededRandom(options.seed);
  const faults = new FaultInjector(currentOptions, new SeededRandom(options.seed ^ 0x5bd1e995));
  const webhookRandom = new SeededRandom(options.seed ^ 0x27d4eb2f);
  // Expiry is measured on the simulator clock; `tango` exists by the time anything asks.
  const webhooks: WebhookDispatcher = new WebhookDispatcher(currentOptions, webhookRandom, (): number =>
    tango.now(),
  );
  const tango = new SimulatedTango(
    currentOptions,
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
  const access = new SimulatorAccess(currentOptions);

  const requestCounts: Record<string, Record<string, number>> = {};
  let totalRequests = 0;
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
    if (patch.faults?.script !== undefined) faults.resetScript();
    return options;
  };

  const stats = (): SimulatorStats => {
    tango.deliverDue();
    return {
      requests: structuredClone(requestCounts),
      totalRequests,
      faults: { ...faults.counts },
      orders: {
        ...tango.counters,
        failuresByCode: { ...tango.counters.failuresByCode },
        count: tango.orderCount(),
      },
      webhooks: { ...webhooks.counters },
      ledgerSize: tango.ledger.size,
    };
  };

  const route = createRouter(
    createHandlers({ options: currentOptions, configure, tango, webhooks, access, stats }),
  );

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    const path = url.pathname;
    totalRequests += 1;
    let found: RouteLookup;
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
      if (routeName.includes(' /_admin/')) access.checkAdminAccess(req);
      if (found.tango) {
        await faults.delay();
        access.authenticate(req);
        const outcome = faults.apply(req, method, path, found.mutating);
        if (outcome.dropped) {
          count(routeName, 'dropped');
          return;
        }
        lost = outcome.responseLost;
      }
      const result = await found.handler({ req, url, params: [], requestId });
      if (lost) {
        faults.counts.responsesLost += 1;
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
        tango.deliverDue();
        return tango.ledger.entries();
      },
      duplicates: () => {
        tango.deliverDue();
        return tango.ledger.duplicates();
      },
      get size() {
        return tango.ledger.size;
      },
    },
    configure,
    addFunds: (accountIdentifier, amount) => tango.addFunds(accountIdentifier, amount).balance,
    preloadOrder: (order) => tango.preload(parsePreload(order)),
    now: () => new Date(tango.now()),
    advanceClock: (ms) => new Date(tango.advanceClock(ms)),
    reverseLineItem: (reversal) => tango.reverse(reversal),
    stats,
    webhookSubscriptions: () => webhooks.list(),
    removeWebhookSubscription: (webhookId) => webhooks.remove(webhookId),
    webhookDeliveries: () => webhooks.deliveries(),
    whenIdle: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!tango.isIdle()) {
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
        tango.close();
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
