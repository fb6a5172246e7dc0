// The counting proxy of the rate-limited benchmark: sits between one side (the paced script or the
// product's workers) and the simulator, forwards every request unchanged and records it with its
// answer (status, Retry-After) and, for an order POST, how many line items it carried. The entries
// have the shape of chaos/request-log.ts's, so its retryAfterViolations() reads them as they are.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LoggedRequest } from '../chaos/request-log.ts';

export interface CountedRequest extends LoggedRequest {
  /** What the request was for (see routeOf). */
  route: RequestRoute;
  /** Line items in an order POST's body. */
  lineItems?: number;
}

export const REQUEST_ROUTES = [
  'POST order',
  'GET status',
  'GET page',
  'GET lookup by id',
  'PATCH order',
  'GET balance',
  'GET catalog',
  'webhooks',
  'OAuth token',
  'other',
] as const;
export type RequestRoute = (typeof REQUEST_ROUTES)[number];

/** What one request was for, from its method, path and query (the way scripts/count-requests.ts tells). */
export function routeOf(method: string, path: string, query: string): RequestRoute {
  const params = new URLSearchParams(query);
  if (path.endsWith('/oauth/token')) return 'OAuth token';
  if (method === 'POST' && path.endsWith('/asyncOrders')) return 'POST order';
  if (/\/asyncOrders\/customers\//.test(path)) {
    if (method === 'PATCH') return 'PATCH order';
    if (params.has('externalLineItemReferenceIds') || params.has('referenceLineItemIds'))
      return 'GET lookup by id';
    if (params.get('maxResults') === '1' && !params.has('nextCursor') && !params.has('prevCursor'))
      return 'GET status';
    return 'GET page';
  }
  if (/\/accounts\/[^/]+$/.test(path)) return 'GET balance';
  if (path.endsWith('/catalogs')) return 'GET catalog';
  if (/\/webhooks(\/|$)/.test(path)) return 'webhooks';
  return 'other';
}

export interface CountingProxy {
  /** Base URL to use as TANGO_BASE_URL (same path as the simulator's). */
  baseUrl: string;
  entries(): CountedRequest[];
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function orderOf(method: string, path: string, body: Buffer): { ref?: string; lineItems?: number } {
  if (method === 'POST' && path.endsWith('/asyncOrders')) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { externalRefID?: unknown; lineItems?: unknown };
      return {
        ...(typeof parsed.externalRefID === 'string' ? { ref: parsed.externalRefID } : {}),
        ...(Array.isArray(parsed.lineItems) ? { lineItems: parsed.lineItems.length } : {}),
      };
    } catch {
      return {};
    }
  }
  const match = /\/asyncOrders\/customers\/[^/]+\/accounts\/[^/]+\/([^/?]+)/.exec(path);
  return match?.[1] ? { ref: decodeURIComponent(match[1]) } : {};
}

/** Starts the proxy on a free loopback port in front of `targetBaseUrl` (the simulator's base URL). */
export async function startCountingProxy(targetBaseUrl: string): Promise<CountingProxy> {
  const target = new URL(targetBaseUrl);
  const log: CountedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    void readAll(req).then((body) => {
      const path = url.replace(/\?.*$/, '');
      const query = /\?(.*)$/.exec(url)?.[1] ?? '';
      const order = orderOf(method, path, body);
      const entry: CountedRequest = {
        at,
        doneAt: at,
        method,
        path,
        query,
        status: 0,
        route: routeOf(method, path, query),
        ...(order.ref !== undefined ? { externalRefID: order.ref } : {}),
        ...(order.lineItems !== undefined ? { lineItems: order.lineItems } : {}),
      };
      log.push(entry);
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method,
          path: url,
          headers: { ...req.headers, host: target.host },
        },
        (answer) => {
          entry.status = answer.statusCode ?? 0;
          const retryAfter = answer.headers['retry-after'];
          if (typeof retryAfter === 'string' && /^\d+$/.test(retryAfter))
            entry.retryAfterSeconds = Number(retryAfter);
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => {
            entry.doneAt = Date.now();
          });
        },
      );
      upstream.on('error', () => {
        entry.doneAt = Date.now();
        req.socket.destroy();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}${target.pathname.replace(/\/+$/, '')}`,
    entries: () => log.slice(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
