// A recording proxy between the worker and the Tango simulator: forwards every request unchanged and
// notes when it arrived, which order it was about and what came back (status, Retry-After), so a
// scenario can check from the outside that a 429's Retry-After was honoured.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoggedRequest {
  /** Epoch ms when the request reached the proxy. */
  at: number;
  /** Epoch ms when the answer (or the broken connection) came back. */
  doneAt: number;
  method: string;
  path: string;
  /** The query string without its '?' (empty when none): tells a status GET from a page or a lookup. */
  query: string;
  /** The order the request is about: the body's externalRefID for a POST, the path's last segment for GET/PATCH. */
  externalRefID?: string;
  /** HTTP status, or 0 when the connection broke without an answer. */
  status: number;
  retryAfterSeconds?: number;
}

export interface RequestLogProxy {
  /** Base URL to give the worker as TANGO_BASE_URL. */
  baseUrl: string;
  entries(): LoggedRequest[];
  close(): Promise<void>;
}

function externalRefOf(method: string, path: string, body: Buffer): string | undefined {
  if (method === 'POST' && path.endsWith('/asyncOrders')) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { externalRefID?: unknown };
      return typeof parsed.externalRefID === 'string' ? parsed.externalRefID : undefined;
    } catch {
      return undefined;
    }
  }
  const match = /\/asyncOrders\/customers\/[^/]+\/accounts\/[^/]+\/([^/?]+)/.exec(path);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the proxy on a free loopback port in front of `target` (the simulator's origin). */
export async function startRequestLogProxy(targetBaseUrl: string): Promise<RequestLogProxy> {
  const target = new URL(targetBaseUrl);
  const log: LoggedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const path = req.url ?? '/';
    void readAll(req).then((body) => {
      const entry: LoggedRequest = {
        at,
        doneAt: at,
        method,
        path: path.replace(/\?.*$/, ''),
        query: /\?(.*)$/.exec(path)?.[1] ?? '',
        status: 0,
      };
      const ref = externalRefOf(method, path, body);
      if (ref !== undefined) entry.externalRefID = ref;
      log.push(entry);
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method,
          path,
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
      // The simulator destroys sockets on purpose (dropped connection, lost response): pass that on.
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
    baseUrl: `http://127.0.0.1:${port}${target.pathname}`,
    entries: () => log.slice(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface RetryAfterViolation {
  externalRefID: string;
  method: string;
  rateLimitedAt: string;
  retryAfterSeconds: number;
  nextRequestAt: string;
  earlyByMs: number;
}

/**
 * Every request that came back 429 with Retry-After, followed by the next request for the same
 * order and method sooner than Retry-After allowed. The activity's retry of that call is the next
 * such request (one order is driven by one workflow, one activity at a time).
 */
export function retryAfterViolations(
  entries: LoggedRequest[],
  toleranceMs = 50,
): { rateLimited: number; checked: number; violations: RetryAfterViolation[] } {
  const violations: RetryAfterViolation[] = [];
  let rateLimited = 0;
  let checked = 0;
  const byKey = new Map<string, LoggedRequest[]>();
  for (const entry of entries) {
    if (entry.externalRefID === undefined) continue;
    const key = `${entry.method} ${entry.externalRefID}`;
    const list = byKey.get(key) ?? [];
    list.push(entry);
    byKey.set(key, list);
  }
  for (const list of byKey.values()) {
    list.sort((a, b) => a.at - b.at);
    list.forEach((entry, index) => {
      if (entry.status !== 429 || entry.retryAfterSeconds === undefined) return;
      rateLimited += 1;
      const next = list[index + 1];
      if (!next) return;
      checked += 1;
      const allowedAt = entry.doneAt + entry.retryAfterSeconds * 1000;
      if (next.at + toleranceMs < allowedAt) {
        violations.push({
          externalRefID: entry.externalRefID ?? '',
          method: entry.method,
          rateLimitedAt: new Date(entry.doneAt).toISOString(),
          retryAfterSeconds: entry.retryAfterSeconds,
          nextRequestAt: new Date(next.at).toISOString(),
          earlyByMs: allowedAt - next.at,
        });
      }
    });
  }
  return { rateLimited, checked, violations };
}
