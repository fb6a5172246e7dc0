// TangoClient edge cases against a scripted local HTTP server: what is sent, how each failure
// surfaces (HTTP error with Retry-After, timeout, reset, refused, bad response), pagination,
// OAuth token caching / refresh, and that no secret reaches the logs.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { TangoClient } from '../../src/tango/client.ts';
import { LOCAL_SIMULATOR_DEFAULTS, loadTangoConfig, type TangoConfig } from '../../src/tango/config.ts';
import {
  TangoError,
  TangoHttpError,
  TangoNetworkError,
  TangoRequestValidationError,
  TangoResponseValidationError,
} from '../../src/tango/errors.ts';
import type { CreateAsyncOrderRequest, OrderRef } from '../../src/tango/schemas.ts';
import { json, startScriptedServer, type ScriptedServer } from './helpers/http-server.ts';

const ref: OrderRef = {
  customerIdentifier: 'sim-customer',
  accountIdentifier: 'sim-account-1',
  externalRefID: 'camp 1/0',
};
const ORDER_PATH = '/raas/v2/asyncOrders/customers/sim-customer/accounts/sim-account-1/camp%201%2F0';

const order: CreateAsyncOrderRequest = {
  externalRefID: 'camp-1-0',
  customerIdentifier: 'sim-customer',
  accountIdentifier: 'sim-account-1',
  lineItems: [
    {
      externalRefLineItemID: 'row-1',
      recipient: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' },
      utid: 'U000001',
      amount: 10,
      deliveryMethod: 'EMAIL',
    },
  ],
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

interface LogLine {
  message: string;
  attributes?: Record<string, unknown>;
}

describe('TangoClient against a scripted server', () => {
  let server: ScriptedServer;
  let config: TangoConfig;
  let logs: LogLine[];
  let client: TangoClient;

  before(async () => {
    server = await startScriptedServer();
    config = loadTangoConfig({ TANGO_BASE_URL: `${server.origin}/raas/v2`, TANGO_TIMEOUT_MS: '400' });
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    logs = [];
    client = new TangoClient(config, {
      logger: { debug: (message, attributes) => logs.push({ message, attributes }) },
    });
  });

  describe('requests', () => {
    it('POSTs the order with Basic auth and reports created for 201, existing for 200', async () => {
      server.handle((_req, res) =>
        json(res, 201, { externalRefID: 'camp-1-0', status: 'PENDING', totalLineItems: 1 }),
      );
      const created = await client.createAsyncOrder(order);
      assert.deepEqual(created, {
        httpStatus: 201,
        created: true,
        order: {
          externalRefID: 'camp-1-0',
          status: 'PENDING',
          totalLineItems: 1,
          createdAt: undefined,
          failedLineItems: [],
          duplicateLineItemRefIds: {},
          extra: {},
        },
      });
      const sent = server.requests[0]!;
      assert.equal(sent.method, 'POST');
      assert.equal(sent.url, '/raas/v2/asyncOrders');
      assert.equal(sent.headers['content-type'], 'application/json');
      const expectedAuth = Buffer.from(
        `${LOCAL_SIMULATOR_DEFAULTS.platformName}:${LOCAL_SIMULATOR_DEFAULTS.platformKey}`,
      );
      assert.equal(sent.headers.authorization, `Basic ${expectedAuth.toString('base64')}`);
      assert.deepEqual(JSON.parse(sent.body), order);

      server.handle((_req, res) =>
        json(res, 200, {
          externalRefID: 'camp-1-0',
          order: { externalRefID: 'camp-1-0', status: 'complete' },
        }),
      );
      const again = await client.createAsyncOrder(order);
      assert.equal(again.created, false);
      assert.equal(again.httpStatus, 200);
      assert.equal(again.order.status, 'complete');
    });

    it('refuses an order that breaks a documented limit before sending anything', async () => {
      const bad = { ...order, lineItems: [{ ...order.lineItems[0]!, recipient: { email: 'a@b.c' } }] };
      const error = await rejection(client.createAsyncOrder(bad));
      assert.ok(error instanceof TangoRequestValidationError);
      assert.equal(error.path, 'lineItems[0].recipient.firstName');
      assert.match(error.message, /recipient\.firstName is missing: deliveryMethod EMAIL needs it/);
      assert.equal(server.requests.length, 0);
    });

    it('GET sends the query as documented, ids as repeated parameters, path segments encoded', async () => {
      server.handle((_req, res) =>
        json(res, 200, { externalRefID: 'camp 1/0', orderStatus: 'PENDING', lineItems: [] }),
      );
      await client.getAsyncOrder(ref, {
        failedOnly: true,
        maxResults: 25,
        nextCursor: 'c/2',
        externalLineItemReferenceIds: ['a', 'b,c'],
      });
      const url = new URL(server.requests[0]!.url, server.origin);
      assert.equal(url.pathname, ORDER_PATH);
      assert.equal(url.searchParams.get('failedOnly'), 'true');
      assert.equal(url.searchParams.get('maxResults'), '25');
      assert.equal(url.searchParams.get('nextCursor'), 'c/2');
      assert.deepEqual(url.searchParams.getAll('externalLineItemReferenceIds'), ['a', 'b,c']);
    });

    it('PATCH, webhooks, catalog and account go to their documented paths', async () => {
      server.handle((req, res) => {
        if (req.url.startsWith('/raas/v2/asyncOrders/'))
          return json(res, 200, { externalRefID: 'x', notes: 'n' });
        if (req.url === '/raas/v2/webhooks') return json(res, 200, { id: 42, url: 'https://h.example/t' });
        if (req.url === '/raas/v2/catalogs')
          return json(res, 200, { brands: [{ items: [{ utid: 'U000001' }] }] });
        if (req.url === '/raas/v2/accounts/sim-account-1') {
          return json(res, 200, { accountIdentifier: 'sim-account-1', currentBalance: 12.5 });
        }
        return json(res, 404, { message: 'nope' });
      });
      assert.equal((await client.updateAsyncOrder(ref, { notes: 'n' })).notes, 'n');
      assert.deepEqual(JSON.parse(server.requests[0]!.body), { notes: 'n' });
      assert.equal(server.requests[0]!.method, 'PATCH');
      const hook = await client.registerWebhook({
        url: 'https://h.example/t',
        payloadVerificationMethod: 'HMAC',
        hmacSharedSecretKey: LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret,
      });
      assert.equal(hook.id, '42');
      assert.equal((await client.getCatalog()).brands[0]!.items[0]!.utid, 'U000001');
      assert.equal((await client.getAccount('sim-account-1')).currentBalance, 12.5);
      assert.deepEqual(
        server.requests.map((r) => r.method),
        ['PATCH', 'POST', 'GET', 'GET'],
      );
    });
  });

  describe('failures are distinguishable', () => {
    it('HTTP error: status, Tango error body, i18nKey, request id, Retry-After in seconds', async () => {
      server.handle((_req, res) =>
        json(
          res,
          429,
          { httpCode: 429, i18nKey: '429.001', message: 'Too many requests', errors: null },
          { 'X-REQUEST-ID': 'req-429', 'Retry-After': '3' },
        ),
      );
      const error = await rejection(client.createAsyncOrder(order));
      assert.ok(error instanceof TangoHttpError);
      assert.equal(error.status, 429);
      assert.equal(error.i18nKey, '429.001');
      assert.equal(error.requestId, 'req-429');
      assert.equal(error.retryAfterMs, 3000);
      assert.equal(error.method, 'POST');
      assert.equal(error.path, '/raas/v2/asyncOrders');
      assert.equal(typeof error.body === 'object' && error.body.message, 'Too many requests');
      assert.match(
        error.message,
        /POST \/raas\/v2\/asyncOrders returned HTTP 429 429\.001: Too many requests \(request id req-429\)/,
      );
    });

    it('Retry-After as an HTTP date, absent, and field errors in the message', async () => {
      const at = new Date(Date.now() + 5000).toUTCString();
      server.handle((_req, res) => json(res, 503, { i18nKey: '503.501' }, { 'Retry-After': at }));
      const dated = await rejection(client.getAccount('sim-account-1'));
      assert.ok(dated instanceof TangoHttpError);
      assert.ok(
        dated.retryAfterMs !== undefined && dated.retryAfterMs > 3000 && dated.retryAfterMs <= 5000,
        String(dated.retryAfterMs),
      );

      server.handle((_req, res) =>
        json(res, 422, {
          i18nKey: '422.134',
          message: 'Validation failed',
          errors: [{ path: 'sender.email', i18nKey: '422.134', message: 'not a well-formed email address' }],
        }),
      );
      const invalid = await rejection(client.createAsyncOrder(order));
      assert.ok(invalid instanceof TangoHttpError);
      assert.equal(invalid.retryAfterMs, undefined);
      assert.match(invalid.message, /Validation failed - sender\.email: not a well-formed email address/);
    });

    it('a non-JSON error body is kept as text', async () => {
      server.handle((_req, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>Bad gateway</html>');
      });
      const error = await rejection(client.getCatalog());
      assert.ok(error instanceof TangoHttpError);
      assert.equal(error.status, 502);
      assert.equal(error.body, '<html>Bad gateway</html>');
      assert.equal(error.i18nKey, undefined);
    });

    it('timeout: TangoNetworkError with isTimeout', async () => {
      server.handle(() => undefined); // never answers
      const started = Date.now();
      const error = await rejection(client.getCatalog());
      assert.ok(error instanceof TangoNetworkError, String(error));
      assert.equal(error.isTimeout, true);
      assert.equal(error.code, 'ETIMEDOUT');
      assert.ok(Date.now() - started < 2000, 'honours TANGO_TIMEOUT_MS');
      assert.ok(!(error instanceof TangoHttpError));
    });

    it('cancellation by the caller rejects with the caller’s reason, not a network error', async () => {
      server.handle(() => undefined); // never answers
      const controller = new AbortController();
      const reason = new Error('activity cancelled');
      setTimeout(() => controller.abort(reason), 50);
      const started = Date.now();
      const error = await rejection(client.getCatalog({ signal: controller.signal }));
      assert.equal(error, reason);
      assert.ok(Date.now() - started < 300, 'aborted before the 400 ms timeout');

      const before = server.requests.length;
      const pages = client.lineItemPages(ref, { signal: AbortSignal.abort(reason) });
      assert.equal(await rejection(pages.next()), reason);
      assert.equal(server.requests.length, before, 'nothing sent once already cancelled');
    });

    it('connection reset: TangoNetworkError, not a timeout', async () => {
      server.handle((_req, res) => {
        res.socket?.destroy();
      });
      const error = await rejection(client.getCatalog());
      assert.ok(error instanceof TangoNetworkError, String(error));
      assert.equal(error.isTimeout, false);
      assert.equal(error.code, 'ECONNRESET');
    });

    it('connection refused: TangoNetworkError', async () => {
      const closed = await startScriptedServer();
      await closed.close();
      const offline = new TangoClient(
        loadTangoConfig({ TANGO_BASE_URL: `${closed.origin}/raas/v2`, TANGO_TIMEOUT_MS: '400' }),
      );
      const error = await rejection(offline.getCatalog());
      assert.ok(error instanceof TangoNetworkError);
      assert.equal(error.code, 'ECONNREFUSED');
      assert.equal(error.isTimeout, false);
    });

    it('a 2xx response that does not match the schema names the JSON path', async () => {
      server.handle((_req, res) =>
        json(
          res,
          200,
          { externalRefID: 'x', lineItems: [{ externalRefLineItemID: 'a' }, { lineItemStatus: 'FAILED' }] },
          { 'x-request-id': 'req-bad' },
        ),
      );
      const error = await rejection(client.getAsyncOrder(ref));
      assert.ok(error instanceof TangoResponseValidationError);
      assert.equal(error.path, 'lineItems[1].externalRefLineItemID');
      assert.equal(error.requestId, 'req-bad');
      assert.equal(error.endpoint, `GET ${ORDER_PATH}`);
      assert.match(error.message, /at lineItems\[1\]\.externalRefLineItemID/);
    });

    it('a 2xx response that is not JSON', async () => {
      server.handle((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('OK');
      });
      const error = await rejection(client.getCatalog());
      assert.ok(error instanceof TangoResponseValidationError);
      assert.equal(error.path, '');
      assert.match(error.message, /body is not JSON/);
    });
  });

  describe('pagination', () => {
    // 7 items, served 3 per page with opaque cursors, the way the simulator and Tango page.
    const items = Array.from({ length: 7 }, (_, i) => ({
      externalRefLineItemID: `row-${i}`,
      lineItemStatus: 'FAILED',
    }));
    function pagingHandler(pageSize: number) {
      return (req: { url: string }, res: Parameters<typeof json>[0]) => {
        const url = new URL(req.url, 'http://x');
        const offset = Number(Buffer.from(url.searchParams.get('nextCursor') ?? 'MA==', 'base64').toString());
        const size = Number(url.searchParams.get('maxResults') ?? pageSize);
        const page = items.slice(offset, offset + size);
        const next =
          offset + size < items.length ? Buffer.from(String(offset + size)).toString('base64') : undefined;
        json(res, 200, {
          externalRefID: 'camp 1/0',
          orderStatus: 'PARTIAL',
          totalLineItems: items.length,
          pagination: { nextCursor: next ?? null, nextPageAvailable: next !== undefined, maxResults: size },
          lineItems: page.length ? page : 'NONE',
        });
      };
    }

    it('walks every page, each carrying the cursor that fetched it and the next one', async () => {
      server.handle(pagingHandler(3));
      const pages = [];
      for await (const page of client.lineItemPages(ref, { failedOnly: true, maxResults: 3 }))
        pages.push(page);
      assert.deepEqual(
        pages.map((p) => p.lineItems.map((i) => i.externalRefLineItemID)),
        [['row-0', 'row-1', 'row-2'], ['row-3', 'row-4', 'row-5'], ['row-6']],
      );
      assert.deepEqual(
        pages.map((p) => [p.cursor, p.nextCursor]),
        [
          [undefined, 'Mw=='],
          ['Mw==', 'Ng=='],
          ['Ng==', undefined],
        ],
      );
      assert.equal(server.requests.length, 3);
      assert.ok(
        server.requests.every((r) => r.url.includes('failedOnly=true') && r.url.includes('maxResults=3')),
      );
    });

    it('resumes from a saved cursor', async () => {
      server.handle(pagingHandler(3));
      const ids = [];
      for await (const page of client.lineItemPages(ref, { maxResults: 3, startCursor: 'Ng==' })) {
        ids.push(...page.lineItems.map((i) => i.externalRefLineItemID));
      }
      assert.deepEqual(ids, ['row-6']);
      assert.equal(server.requests.length, 1);
    });

    it('stops with an error instead of looping when Tango repeats a cursor', async () => {
      server.handle((_req, res) =>
        json(res, 200, {
          externalRefID: 'x',
          pagination: { nextCursor: 'same', nextPageAvailable: true },
          lineItems: [],
        }),
      );
      const error = await rejection(
        (async () => {
          for await (const _page of client.lineItemPages(ref)) {
            // drain
          }
        })(),
      );
      assert.ok(error instanceof TangoError);
      assert.match(error.message, /cursor same twice/);
      assert.equal(server.requests.length, 2);
    });

    it('rejects bad page options before any request', async () => {
      for (const options of [
        { maxResults: 501 },
        { maxResults: 0 },
        { externalLineItemReferenceIds: ['a'], referenceLineItemIds: ['b'] },
        { referenceLineItemIds: Array.from({ length: 51 }, (_, i) => `id-${i}`) },
      ]) {
        const error = await rejection(client.lineItemPages(ref, options).next());
        assert.ok(error instanceof TangoRequestValidationError, JSON.stringify(options));
      }
      assert.equal(server.requests.length, 0);
    });

    it('lookupLineItems asks for 50 ids per request and returns what Tango holds', async () => {
      const wanted = Array.from({ length: 120 }, (_, i) => `row-${i}`);
      server.handle((req, res) => {
        const asked = new URL(req.url, 'http://x').searchParams.getAll('externalLineItemReferenceIds');
        // Tango holds only the even rows.
        const held = asked.filter((id) => Number(id.slice(4)) % 2 === 0);
        json(res, 200, { externalRefID: 'x', lineItems: held.map((id) => ({ externalRefLineItemID: id })) });
      });
      const found = await client.lookupLineItems(ref, [...wanted, 'row-0']);
      assert.equal(found.length, 60);
      assert.deepEqual(
        server.requests.map(
          (r) => new URL(r.url, 'http://x').searchParams.getAll('externalLineItemReferenceIds').length,
        ),
        [50, 50, 20],
      );
      assert.deepEqual(await client.lookupLineItems(ref, []), []);
      assert.equal(server.requests.length, 3);
      const tooLong = await rejection(client.lookupLineItems(ref, ['x'.repeat(101)]));
      assert.ok(tooLong instanceof TangoRequestValidationError);
    });
  });

  describe('logging', () => {
    it('one debug line per request with method, path, status, request id and ms; no secrets', async () => {
      server.handle((_req, res) => json(res, 200, { brands: [] }, { 'X-REQUEST-ID': 'req-log' }));
      await client.getCatalog();
      server.handle((_req, res) => json(res, 401, { i18nKey: '401.001', message: 'Unauthorized' }));
      await rejection(client.getCatalog());
      assert.equal(logs.length, 2);
      assert.equal(logs[0]!.message, 'tango request');
      const { ms, ...rest } = logs[0]!.attributes!;
      assert.deepEqual(rest, { method: 'GET', path: '/raas/v2/catalogs', status: 200, requestId: 'req-log' });
      assert.equal(typeof ms, 'number');
      const everything = JSON.stringify(logs);
      assert.ok(!everything.includes(LOCAL_SIMULATOR_DEFAULTS.platformKey));
      assert.ok(!everything.toLowerCase().includes('authorization'));
      assert.ok(!everything.includes('Basic '));
    });
  });
});

describe('OAuth service-account tokens', () => {
  let server: ScriptedServer;
  let tokensIssued: number;
  let nowMs: number;
  let logs: string[];
  let client: TangoClient;
  let rejectTokens: Set<string>;
  let tokenLifetimeSeconds: number;
  const secrets = {
    TANGO_OAUTH_CLIENT_ID: 'client-id-123',
    TANGO_OAUTH_CLIENT_SECRET: 'client-secret-xyz',
    TANGO_OAUTH_USERNAME: 'svc-user',
    TANGO_OAUTH_PASSWORD: 'hunter2-password',
  };

  before(async () => {
    server = await startScriptedServer();
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    tokensIssued = 0;
    nowMs = 1_000_000;
    logs = [];
    rejectTokens = new Set();
    tokenLifetimeSeconds = 100;
    const config = loadTangoConfig({
      TANGO_BASE_URL: `${server.origin}/raas/v2`,
      TANGO_AUTH: 'oauth',
      TANGO_TIMEOUT_MS: '1000',
      ...secrets,
    });
    client = new TangoClient(config, {
      now: () => nowMs,
      logger: { debug: (message, attributes) => logs.push(`${message} ${JSON.stringify(attributes)}`) },
    });
    server.handle((req, res) => {
      if (req.url === '/oauth/token') {
        tokensIssued += 1;
        return json(res, 200, {
          access_token: `token-${tokensIssued}`,
          expires_in: tokenLifetimeSeconds,
          token_type: 'Bearer',
          scope: 'raas.all',
        });
      }
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
      if (rejectTokens.has(token)) return json(res, 401, { i18nKey: '401.002', message: 'token expired' });
      return json(res, 200, { accountIdentifier: 'sim-account-1', currentBalance: 1 });
    });
  });
  afterEach(() => {
    const everything = logs.join('\n');
    for (const secret of Object.values(secrets))
      assert.ok(!everything.includes(secret), `log leaked ${secret}`);
    assert.ok(!everything.includes('token-'), 'log leaked an access token');
  });

  it('fetches a token with the password grant and reuses it', async () => {
    await client.getAccount('sim-account-1');
    await client.getAccount('sim-account-1');
    assert.equal(tokensIssued, 1);
    const tokenRequest = server.requests[0]!;
    assert.equal(tokenRequest.method, 'POST');
    assert.equal(tokenRequest.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(tokenRequest.body)), {
      grant_type: 'password',
      client_id: 'client-id-123',
      client_secret: 'client-secret-xyz',
      username: 'svc-user',
      password: 'hunter2-password',
      audience: 'https://api.tangocard.com/',
      scope: 'raas.all',
    });
    assert.equal(server.requests[1]!.headers.authorization, 'Bearer token-1');
    assert.equal(server.requests[2]!.headers.authorization, 'Bearer token-1');
  });

  it('refreshes before expiry (a tenth of the lifetime early)', async () => {
    await client.getAccount('sim-account-1');
    nowMs += 89_000;
    await client.getAccount('sim-account-1');
    assert.equal(tokensIssued, 1, 'still valid well before expiry');
    nowMs += 2_000; // 91 s of 100: inside the refresh margin, not yet expired
    await client.getAccount('sim-account-1');
    assert.equal(tokensIssued, 2);
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer token-2');
  });

  it('concurrent requests share one token request', async () => {
    await Promise.all(Array.from({ length: 5 }, () => client.getAccount('sim-account-1')));
    assert.equal(tokensIssued, 1);
  });

  it('on 401 refreshes once and retries', async () => {
    await client.getAccount('sim-account-1');
    rejectTokens.add('token-1'); // revoked early on Tango's side
    const account = await client.getAccount('sim-account-1');
    assert.equal(account.currentBalance, 1);
    assert.equal(tokensIssued, 2);
    assert.deepEqual(
      server.requests.map((r) => r.headers.authorization ?? r.url),
      ['/oauth/token', 'Bearer token-1', 'Bearer token-1', '/oauth/token', 'Bearer token-2'],
    );
  });

  it('a second 401 surfaces as TangoHttpError after exactly one refresh', async () => {
    rejectTokens.add('token-1');
    rejectTokens.add('token-2');
    const error = await rejection(client.getAccount('sim-account-1'));
    assert.ok(error instanceof TangoHttpError);
    assert.equal(error.status, 401);
    assert.equal(error.i18nKey, '401.002');
    assert.equal(tokensIssued, 2);
  });

  it('token endpoint errors come back as text/plain and keep their text', async () => {
    server.handle((_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('invalid_client: client authentication failed');
    });
    const error = await rejection(client.getAccount('sim-account-1'));
    assert.ok(error instanceof TangoHttpError);
    assert.equal(error.status, 401);
    assert.equal(error.path, '/oauth/token');
    assert.equal(error.body, 'invalid_client: client authentication failed');
    assert.ok(!error.message.includes('hunter2'));
  });

  it('a token response without access_token is a validation error', async () => {
    server.handle((_req, res) => json(res, 200, { expires_in: 10 }));
    const error = await rejection(client.getAccount('sim-account-1'));
    assert.ok(error instanceof TangoResponseValidationError);
    assert.equal(error.path, 'access_token');
  });
});
