// Plain-HTTP helpers for the simulator tests (deliberately not our Tango client, which the
// simulator is meant to check independently).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo } from 'node:net';
import { SIMULATOR_CREDENTIAL_DEFAULTS as D, type RunningSimulator } from '../../src/simulator/index.ts';
import { lineItem as validLineItem } from '../helpers/line-items.ts';

export const CUSTOMER = D.customerIdentifier;
export const ACCOUNT = D.accountIdentifier;
export const BASIC_AUTH = `Basic ${Buffer.from(`${D.platformName}:${D.platformKey}`).toString('base64')}`;

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // Tests read arbitrary JSON shapes; asserting on them is the point.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function call(
  sim: RunningSimulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const url = path.startsWith('http')
    ? path
    : path.startsWith('/_admin') || path.startsWith('/oauth')
      ? `${sim.adminUrl.replace(/\/_admin$/, '')}${path}`
      : `${sim.baseUrl}${path}`;
  const init: RequestInit = { method, headers: { authorization: BASIC_AUTH, ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export function orderPath(externalRefID: string, query = ''): string {
  return `/asyncOrders/customers/${CUSTOMER}/accounts/${ACCOUNT}/${encodeURIComponent(externalRefID)}${query}`;
}

export interface TestLineItem {
  externalRefLineItemID: string;
  recipient?: Record<string, unknown>;
  utid: string;
  amount: number;
  deliveryMethod: string;
  [key: string]: unknown;
}

/** The shared line item, open to the malformed values these tests send on purpose. */
export function lineItem(id: string, overrides: Partial<TestLineItem> = {}): TestLineItem {
  return { ...validLineItem(id), ...overrides };
}

export function orderBody(
  externalRefID: string,
  lineItems: TestLineItem[],
  extra: Record<string, unknown> = {},
) {
  return { externalRefID, customerIdentifier: CUSTOMER, accountIdentifier: ACCOUNT, lineItems, ...extra };
}

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  at: number;
}

/** A tiny webhook receiver; `respond` picks the status for each request (default 200). */
export async function startReceiver(
  respond: (index: number, request: ReceivedRequest) => number = () => 200,
) {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const request = {
        headers: req.headers,
        raw,
        json: JSON.parse(raw.toString('utf8')) as unknown,
        at: Date.now(),
      };
      received.push(request);
      res.writeHead(respond(received.length - 1, request)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/tango-events`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
