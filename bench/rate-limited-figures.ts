// The figures of one side of the rate-limited benchmark, computed from the counting proxy's log:
// requests by route, 429 answers, requests sent before a 429's Retry-After had passed, the orders
// that were created (with their items) and the minimum number of requests that work needed.
import { retryAfterViolations } from '../chaos/request-log.ts';
import { REQUEST_ROUTES, type CountedRequest, type RequestRoute } from './tango-proxy.ts';

/** Tango's largest line-item page (maxResults 1..500). */
export const PAGE_SIZE = 500;

export interface RequestFigures {
  byRoute: Record<RequestRoute, number>;
  /** Requests that count against the work: every /raas/v2 request but the webhook registration. */
  counted: number;
  /** Every request through the proxy, OAuth and webhook registration included. */
  total: number;
  rateLimited: number;
  /**
   * chaos/request-log.ts's retryAfterViolations(): after a 429 with Retry-After, the next request for
   * the same order and method sent before Retry-After had passed.
   */
  retryAfterViolations: number;
  /** Any /raas/v2 request sent after a 429 came back and before its Retry-After had passed. */
  sentDuringRetryAfter: number;
  /** The most /raas/v2 requests that reached the proxy within one second. */
  peakPerSecond: number;
  /** Orders created (a 2xx POST), in the order they were first POSTed, with their line items. */
  orders: { externalRefID: string; lineItems: number }[];
  /** Per order 1 POST + ceil(items / 500) pages, plus 1 balance check for the campaign. */
  minimum: number;
  /** Every request in the order sent: ms after the first one reached the proxy, ms it took, route, status. */
  timeline: { at: number; tookMs: number; route: RequestRoute; status: number; order?: string }[];
}

export function emptyRoutes(): Record<RequestRoute, number> {
  return Object.fromEntries(REQUEST_ROUTES.map((route) => [route, 0])) as Record<RequestRoute, number>;
}

/** The minimum for a list of orders: 1 POST + ceil(items / 500) pages each, 1 balance check. */
export function minimumFor(orderSizes: number[], campaigns = 1): number {
  return orderSizes.reduce((sum, size) => sum + 1 + Math.max(1, Math.ceil(size / PAGE_SIZE)), 0) + campaigns;
}

/** Orders of `chunk` items over `items`: their sizes. */
export function chunkSizes(items: number, chunk: number): number[] {
  return Array.from({ length: Math.ceil(items / chunk) }, (_, index) =>
    Math.min(chunk, items - index * chunk),
  );
}

/**
 * The ideal minimum for a campaign: the first round in orders of `chunk`, the transient failures of
 * every order gathered into as few orders as they need for the second round (each fails once).
 */
export function idealMinimum(items: number, chunk: number, transientItems: number): number {
  return minimumFor([
    ...chunkSizes(items, chunk),
    ...(transientItems > 0 ? chunkSizes(transientItems, chunk) : []),
  ]);
}

const isTango = (entry: CountedRequest) => entry.route !== 'OAuth token';

export function requestFigures(entries: CountedRequest[], toleranceMs = 50): RequestFigures {
  const byRoute = emptyRoutes();
  for (const entry of entries) byRoute[entry.route] += 1;
  const tango = entries.filter(isTango).sort((a, b) => a.at - b.at);
  const limited = tango.filter((entry) => entry.status === 429);
  const early = new Set<CountedRequest>();
  for (const answer of limited) {
    const until = answer.doneAt + (answer.retryAfterSeconds ?? 1) * 1000 - toleranceMs;
    for (const entry of tango) {
      if (entry.at >= until) break;
      if (entry !== answer && entry.at >= answer.doneAt) early.add(entry);
    }
  }
  let peak = 0;
  for (let first = 0, last = 0; last < tango.length; last += 1) {
    while (tango[last]!.at - tango[first]!.at >= 1000) first += 1;
    peak = Math.max(peak, last - first + 1);
  }
  const orders = new Map<string, number>();
  for (const entry of entries) {
    if (entry.route !== 'POST order' || entry.status < 200 || entry.status > 299) continue;
    if (entry.externalRefID === undefined || orders.has(entry.externalRefID)) continue;
    orders.set(entry.externalRefID, entry.lineItems ?? 0);
  }
  const orderList = [...orders].map(([externalRefID, lineItems]) => ({ externalRefID, lineItems }));
  return {
    byRoute,
    counted: tango.filter((entry) => entry.route !== 'webhooks').length,
    total: entries.length,
    rateLimited: limited.length,
    retryAfterViolations: retryAfterViolations(entries, toleranceMs).violations.length,
    sentDuringRetryAfter: early.size,
    peakPerSecond: peak,
    orders: orderList,
    minimum: minimumFor(orderList.map((order) => order.lineItems)),
    timeline: [...entries]
      .sort((a, b) => a.at - b.at)
      .map((entry, _, sorted) => ({
        at: entry.at - sorted[0]!.at,
        tookMs: entry.doneAt - entry.at,
        route: entry.route,
        status: entry.status,
        ...(entry.externalRefID !== undefined ? { order: entry.externalRefID } : {}),
      })),
  };
}
