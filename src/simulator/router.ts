// The simulator's routes: Tango's endpoints (and whether a fault may lose their response), the OAuth
// token endpoint, and the test-only /_admin endpoints, each mapped to its handler.
import type { IncomingMessage } from 'node:http';
import type { Handler, SimulatorHandlers } from './handlers.ts';

export interface RequestContext {
  req: IncomingMessage;
  url: URL;
  params: string[];
  requestId: string;
}

export interface HandlerResult {
  status: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteMatch {
  name: string;
  handler: Handler;
  /** Whether a "processed but response lost" fault may hit it (only requests that change state). */
  mutating: boolean;
  tango: boolean;
}

export type RouteLookup = RouteMatch | { params: string[]; allowed: string[] } | undefined;

const orderPath = /^\/raas\/v2\/asyncOrders\/customers\/([^/]+)\/accounts\/([^/]+)\/([^/]+)$/;

function routeTable(handlers: SimulatorHandlers): [RegExp, Record<string, RouteMatch>][] {
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
  return [
    [/^\/raas\/v2\/asyncOrders$/, { POST: tango('POST /raas/v2/asyncOrders', handlers.createOrder, true) }],
    [
      orderPath,
      {
        GET: tango('GET /raas/v2/asyncOrders/customers/{c}/accounts/{a}/{externalRefID}', handlers.getOrder),
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
      { POST: { name: 'POST /oauth/token', handler: handlers.issueToken, mutating: false, tango: false } },
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
}

/** route(method, path): the route's handler with its path parameters, or the methods the path allows. */
export function createRouter(handlers: SimulatorHandlers): (method: string, path: string) => RouteLookup {
  const table = routeTable(handlers);
  return (method, path) => {
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
}
