// The Tango client against the real simulator (in-process, loopback, free port): every endpoint,
// both auth kinds, pagination over many pages, idempotent resubmission (also after a lost
// response), each failure class, each error class, and signed webhooks the product can verify.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  SIMULATOR_CREDENTIAL_DEFAULTS,
  startSimulator,
  type RunningSimulator,
} from '../../src/simulator/index.ts';
import { TangoClient } from '../../src/tango/client.ts';
import { LOCAL_SIMULATOR_DEFAULTS, loadTangoConfig, type TangoConfig } from '../../src/tango/config.ts';
import { TangoHttpError, TangoNetworkError } from '../../src/tango/errors.ts';
import {
  asyncOrderStatusEventSchema,
  isFinalOrderStatus,
  type CreateAsyncOrderRequest,
  type LineItemRequest,
  type OrderRef,
} from '../../src/tango/schemas.ts';
import { isEventFresh, verifyWebhookSignature } from '../../src/tango/webhook-signature.ts';
import { defineClientContract } from './helpers/contract.ts';
import { generateSelfSignedCertificate, type TestCertificate } from './helpers/x509.ts';
import { lineItem } from '../helpers/line-items.ts';

const CUSTOMER = LOCAL_SIMULATOR_DEFAULTS.customerIdentifier;
const ACCOUNT = LOCAL_SIMULATOR_DEFAULTS.accountIdentifier;

function item(id: string, overrides: Partial<LineItemRequest> = {}): LineItemRequest {
  return lineItem(id, { amount: 5, ...overrides });
}

function order(externalRefID: string, lineItems: LineItemRequest[]): CreateAsyncOrderRequest {
  return { externalRefID, customerIdentifier: CUSTOMER, accountIdentifier: ACCOUNT, lineItems };
}

const ref = (externalRefID: string): OrderRef => ({
  customerIdentifier: CUSTOMER,
  accountIdentifier: ACCOUNT,
  externalRefID,
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

async function allPages(
  client: TangoClient,
  r: OrderRef,
  options: Parameters<TangoClient['lineItemPages']>[1],
) {
  const pages = [];
  for await (const page of client.lineItemPages(r, options)) pages.push(page);
  return pages;
}

describe('TangoClient against the simulator', () => {
  let sim: RunningSimulator;
  let config: TangoConfig;
  let client: TangoClient;

  before(async () => {
    sim = await startSimulator({ processingDelayMs: 0 });
    config = loadTangoConfig({ TANGO_BASE_URL: sim.baseUrl });
    client = new TangoClient(config);
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.configure({ faults: { script: [] } });
  });

  // The same portable suite that runs against the real sandbox (sandbox-contract.test.ts).
  defineClientContract({
    env: () => ({ TANGO_BASE_URL: sim.baseUrl }),
    customerIdentifier: () => CUSTOMER,
    accountIdentifier: () => ACCOUNT,
    utid: () => 'U000001',
    amount: 5,
    recipientEmail: (id) => `${id}@example.com`,
    refPrefix: 'cs-contract',
    pace: () => Promise.resolve(),
    finalWithinMs: 5000,
  });

  it('shares the simulator’s default credentials and webhook secret', () => {
    for (const key of Object.keys(
      SIMULATOR_CREDENTIAL_DEFAULTS,
    ) as (keyof typeof SIMULATOR_CREDENTIAL_DEFAULTS)[]) {
      assert.equal(LOCAL_SIMULATOR_DEFAULTS[key], SIMULATOR_CREDENTIAL_DEFAULTS[key], key);
    }
  });

  it('catalog and account', async () => {
    const catalog = await client.getCatalog();
    const utids = catalog.brands.flatMap((brand) => brand.items.map((i) => i.utid));
    for (const utid of ['U000001', 'U000002', 'U000003', 'U000004']) assert.ok(utids.includes(utid), utid);
    const account = await client.getAccount(ACCOUNT);
    assert.equal(account.accountIdentifier, ACCOUNT);
    assert.ok(account.currentBalance > 0);
  });

  it('create, process, GET, PATCH', async () => {
    const created = await client.createAsyncOrder(order('cs-basic-0', [item('b-1'), item('b-2')]));
    assert.equal(created.created, true);
    assert.equal(created.order.externalRefID, 'cs-basic-0');
    assert.equal(created.order.failedLineItems.length, 0);
    await sim.whenIdle(5000);
    const detail = await client.getAsyncOrder(ref('cs-basic-0'));
    assert.ok(isFinalOrderStatus(detail.orderStatus), detail.orderStatus);
    assert.equal(detail.totalLineItems, 2);
    assert.deepEqual(detail.lineItems.map((i) => i.externalRefLineItemID).sort(), ['b-1', 'b-2']);
    assert.ok(detail.lineItems.every((i) => i.lineItemStatus?.toUpperCase() === 'COMPLETE'));
    const patched = await client.updateAsyncOrder(ref('cs-basic-0'), {
      notes: 'PO fixed',
      purchaseOrderNumber: 'PO-7',
    });
    assert.equal(patched.notes, 'PO fixed');
    assert.equal((await client.getAsyncOrder(ref('cs-basic-0'))).purchaseOrderNumber, 'PO-7');
  });

  it('OAuth against the simulator’s token endpoint', async () => {
    const oauth = new TangoClient(loadTangoConfig({ TANGO_BASE_URL: sim.baseUrl, TANGO_AUTH: 'oauth' }));
    assert.equal((await oauth.getAccount(ACCOUNT)).accountIdentifier, ACCOUNT);
  });

  it('idempotent resubmission: 200, the same order, failed items not repeated, nothing fulfilled twice', async () => {
    const request = order('cs-idem-0', [
      item('i-1'),
      item('i-2', { recipient: { firstName: 'A', lastName: 'B', email: 'bad' } }),
    ]);
    const first = await client.createAsyncOrder(request);
    assert.equal(first.created, true);
    assert.deepEqual(
      first.order.failedLineItems.map((f) => [f.externalRefLineItemID, f.errors[0]?.errorCodeName]),
      [['i-2', 'INVALID_EMAIL']],
    );
    const second = await client.createAsyncOrder(request);
    assert.equal(second.httpStatus, 200);
    assert.equal(second.created, false);
    assert.equal(second.order.externalRefID, 'cs-idem-0');
    assert.deepEqual(second.order.failedLineItems, []);
    await sim.whenIdle(5000);
    assert.equal(sim.ledger.entries().filter((e) => e.externalRefLineItemID === 'i-1').length, 1);
    assert.deepEqual(sim.ledger.duplicates().lineItems, []);
  });

  it('a processed order whose response was lost: network error, then resubmission finds it', async () => {
    sim.configure({ faults: { script: [{ kind: 'responseLost', method: 'POST', path: '/asyncOrders' }] } });
    const request = order('cs-lost-0', [item('l-1')]);
    const lost = await rejection(client.createAsyncOrder(request));
    assert.ok(lost instanceof TangoNetworkError, String(lost));
    const retried = await client.createAsyncOrder(request);
    assert.equal(retried.created, false);
    await sim.whenIdle(5000);
    assert.equal(sim.ledger.entries().filter((e) => e.externalRefLineItemID === 'l-1').length, 1);
  });

  it('failure classes show up where the product looks for them', async () => {
    const created = await client.createAsyncOrder(
      order('cs-fail-0', [
        item('f-ok'),
        item('f-range', { amount: 9999 }),
        item('f-blocked', { recipient: { firstName: 'A', lastName: 'B', email: 'x@blocked.test' } }),
        item('f-transient', { recipient: { firstName: 'A', lastName: 'B', email: 'x@transient.test' } }),
        item('f-method', { utid: 'U000002', amount: 20, deliveryMethod: 'EMAIL' }),
      ]),
    );
    assert.deepEqual(
      created.order.failedLineItems.map((f) => [
        f.externalRefLineItemID,
        f.errors[0]?.errorCodeName,
        f.errors[0]?.field,
      ]),
      [['f-range', 'AMOUNT_OUT_OF_RANGE', 'amount']],
    );
    await sim.whenIdle(5000);
    const failed = (await allPages(client, ref('cs-fail-0'), { failedOnly: true })).flatMap(
      (p) => p.lineItems,
    );
    const codes = Object.fromEntries(
      failed.map((f) => [f.externalRefLineItemID, f.lineItemErrors[0]?.errorCode]),
    );
    assert.deepEqual(codes, {
      'f-blocked': 'RECIPIENT_BLOCKED',
      'f-transient': 'PROCESSING_ERROR',
      'f-method': 'DELIVERY_METHOD_NOT_SUPPORTED',
    });
    // The transient item succeeds when resubmitted in a later order with the same line item id.
    await client.createAsyncOrder(
      order('cs-fail-0-r1', [
        item('f-transient', { recipient: { firstName: 'A', lastName: 'B', email: 'x@transient.test' } }),
      ]),
    );
    await sim.whenIdle(5000);
    const round1 = await client.getAsyncOrder(ref('cs-fail-0-r1'));
    assert.equal(round1.lineItems[0]?.lineItemStatus?.toUpperCase(), 'COMPLETE');
  });

  it('pages through 1,000 line items, resumes from a cursor, finds items by id', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `p-${String(i).padStart(4, '0')}`);
    const lineItems = ids.map((id, i) =>
      item(
        id,
        i % 10 === 0 ? { recipient: { firstName: 'A', lastName: 'B', email: `${id}@blocked.test` } } : {},
      ),
    );
    await client.createAsyncOrder(order('cs-pages-0', lineItems));
    await sim.whenIdle(10_000);

    const pages = await allPages(client, ref('cs-pages-0'), { maxResults: 37 });
    assert.equal(pages.length, Math.ceil(1000 / 37));
    const seen = pages.flatMap((p) => p.lineItems.map((i) => i.externalRefLineItemID));
    assert.equal(new Set(seen).size, 1000);
    assert.deepEqual([...seen].sort(), ids);
    assert.equal(pages[0]!.cursor, undefined);
    assert.equal(pages.at(-1)!.nextCursor, undefined);
    for (let i = 1; i < pages.length; i += 1) assert.equal(pages[i]!.cursor, pages[i - 1]!.nextCursor);

    const resumed = await allPages(client, ref('cs-pages-0'), {
      maxResults: 37,
      startCursor: pages[10]!.nextCursor,
    });
    assert.deepEqual(
      resumed.flatMap((p) => p.lineItems.map((i) => i.externalRefLineItemID)),
      seen.slice(11 * 37),
    );

    const failed = (await allPages(client, ref('cs-pages-0'), { failedOnly: true, maxResults: 500 })).flatMap(
      (p) => p.lineItems,
    );
    assert.equal(failed.length, 100);
    assert.ok(failed.every((f) => f.lineItemStatus?.toUpperCase() === 'FAILED'));

    const wanted = [...ids.slice(0, 120), 'p-not-there'];
    const found = await client.lookupLineItems(ref('cs-pages-0'), wanted);
    assert.deepEqual(found.map((f) => f.externalRefLineItemID).sort(), ids.slice(0, 120));
  });

  it('an empty failed-only page is an empty list', async () => {
    await client.createAsyncOrder(order('cs-empty-0', [item('e-1')]));
    await sim.whenIdle(5000);
    sim.configure({ responses: { emptyFailedPage: 'NONE' } });
    const pages = await allPages(client, ref('cs-empty-0'), { failedOnly: true });
    assert.equal(pages.length, 1);
    assert.deepEqual(pages[0]!.lineItems, []);
    sim.configure({ responses: { emptyFailedPage: 'null' } });
  });

  describe('error classes', () => {
    it('401 with wrong credentials', async () => {
      const wrong = new TangoClient(
        loadTangoConfig({ TANGO_BASE_URL: sim.baseUrl, TANGO_PLATFORM_NAME: 'x', TANGO_PLATFORM_KEY: 'y' }),
      );
      const error = await rejection(wrong.getAccount(ACCOUNT));
      assert.ok(error instanceof TangoHttpError);
      assert.equal(error.status, 401);
    });

    it('404 for an order that does not exist, with Tango’s error body and a request id', async () => {
      const error = await rejection(client.getAsyncOrder(ref('cs-never-created')));
      assert.ok(error instanceof TangoHttpError);
      assert.equal(error.status, 404);
      assert.equal(typeof error.body, 'object');
      assert.ok(error.requestId, 'request id captured');
    });

    it('429 with Retry-After surfaced in milliseconds', async () => {
      sim.configure({ faults: { retryAfterSeconds: 2, script: [{ kind: 'rateLimit', times: 1 }] } });
      const error = await rejection(client.getAccount(ACCOUNT));
      assert.ok(error instanceof TangoHttpError);
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterMs, 2000);
    });

    it('5xx and dropped connections', async () => {
      sim.configure({ faults: { script: [{ kind: 'serverError503' }, { kind: 'dropConnection' }] } });
      const unavailable = await rejection(client.getCatalog());
      assert.ok(unavailable instanceof TangoHttpError);
      assert.equal(unavailable.status, 503);
      const dropped = await rejection(client.getCatalog());
      assert.ok(dropped instanceof TangoNetworkError, String(dropped));
      assert.equal(dropped.isTimeout, false);
    });

    it('an order the simulator rejects as a whole (unknown account)', async () => {
      const error = await rejection(
        client.createAsyncOrder({
          ...order('cs-noacct-0', [item('n-1')]),
          accountIdentifier: 'no-such-account',
        }),
      );
      assert.ok(error instanceof TangoHttpError);
      assert.ok(error.status >= 400 && error.status < 500, String(error.status));
    });
  });

  describe('webhooks', () => {
    let receiver: Server;
    let received: { headers: IncomingHttpHeaders; body: Buffer }[];
    let receiverUrl: string;

    before(async () => {
      received = [];
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          received.push({ headers: req.headers, body: Buffer.concat(chunks) });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/tango`;
    });
    after(
      () =>
        new Promise<void>((resolve) => {
          receiver.closeAllConnections();
          receiver.close(() => resolve());
        }),
    );

    it('registered through the client, signed by the simulator, verified with the product’s config', async () => {
      const registration = await client.registerWebhook({
        url: receiverUrl,
        payloadVerificationMethod: 'HMAC',
        hmacSharedSecretKey: config.webhook.hmacSecret!,
      });
      assert.ok(registration.id, 'registration returns an id');
      await client.createAsyncOrder(order('cs-hook-0', [item('h-1')]));
      await sim.whenIdle(5000);
      const delivery = received.find((r) => r.body.toString().includes('cs-hook-0'));
      assert.ok(delivery, 'the AsyncOrderStatus event arrived');
      assert.deepEqual(verifyWebhookSignature(delivery.body, delivery.headers, config.webhook), { ok: true });
      const forged = Buffer.from(delivery.body.toString().replace('cs-hook-0', 'cs-hook-9'));
      assert.equal(verifyWebhookSignature(forged, delivery.headers, config.webhook).ok, false);
      const event = asyncOrderStatusEventSchema.parse(JSON.parse(delivery.body.toString()));
      assert.equal(event.eventData.externalRefID, 'cs-hook-0');
      assert.equal(event.eventData.status.toUpperCase(), 'SUCCESSFUL');
      assert.equal(isEventFresh(event, new Date(), config.webhook.maxAgeSeconds), true);
      assert.equal(
        isEventFresh(event, new Date(Date.now() + 3_600_000), config.webhook.maxAgeSeconds),
        false,
      );
    });
  });
});

describe('TangoClient and a simulator with short tokens and X.509-signed webhooks', () => {
  let sim: RunningSimulator;
  let cert: TestCertificate;
  let receiver: Server;
  let received: { headers: IncomingHttpHeaders; body: Buffer }[];
  let receiverUrl: string;

  before(async () => {
    cert = generateSelfSignedCertificate();
    sim = await startSimulator({
      processingDelayMs: 0,
      credentials: { ...simulatorCredentials(), tokenExpiresInSeconds: 1 },
      webhooks: { x509PrivateKeyPem: cert.privateKeyPem },
    });
    received = [];
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/tango`;
  });
  after(async () => {
    await sim.close();
    await new Promise<void>((resolve) => {
      receiver.closeAllConnections();
      receiver.close(() => resolve());
    });
  });

  it('keeps working across token expiry (refreshed before it runs out)', async () => {
    const oauth = new TangoClient(loadTangoConfig({ TANGO_BASE_URL: sim.baseUrl, TANGO_AUTH: 'oauth' }));
    await oauth.getAccount(ACCOUNT);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await oauth.getAccount(ACCOUNT)).accountIdentifier, ACCOUNT);
    const tokenRequests = Object.entries(sim.stats().requests)
      .filter(([route]) => route.includes('/oauth/token'))
      .reduce((sum, [, outcomes]) => sum + Object.values(outcomes).reduce((a, b) => a + b, 0), 0);
    assert.equal(tokenRequests, 2);
    const unauthorized = Object.values(sim.stats().requests).reduce(
      (sum, outcomes) => sum + (outcomes['401'] ?? 0),
      0,
    );
    assert.equal(unauthorized, 0, 'the token was replaced before Tango could reject it');
  });

  it('X.509: registered with the base64 DER certificate, verified with TANGO_WEBHOOK_CERTIFICATE', async () => {
    const config = loadTangoConfig({
      TANGO_BASE_URL: sim.baseUrl,
      TANGO_WEBHOOK_VERIFICATION: 'x509',
      TANGO_WEBHOOK_CERTIFICATE: cert.certificateBase64Der,
    });
    const client = new TangoClient(config);
    await client.registerWebhook({
      url: receiverUrl,
      payloadVerificationMethod: 'X509',
      signingCertificate: cert.certificateBase64Der,
    });
    await client.createAsyncOrder(order('cs-x509-0', [item('x-1')]));
    await sim.whenIdle(5000);
    const delivery = received.find((r) => r.body.toString().includes('cs-x509-0'));
    assert.ok(delivery, 'the event arrived');
    assert.deepEqual(verifyWebhookSignature(delivery.body, delivery.headers, config.webhook), { ok: true });
    const tampered = Buffer.from(delivery.body.toString().replace('cs-x509-0', 'cs-x509-1'));
    assert.equal(verifyWebhookSignature(tampered, delivery.headers, config.webhook).ok, false);
  });
});

function simulatorCredentials() {
  const d = SIMULATOR_CREDENTIAL_DEFAULTS;
  return {
    platformName: d.platformName,
    platformKey: d.platformKey,
    oauthClientId: d.oauthClientId,
    oauthClientSecret: d.oauthClientSecret,
    oauthUsername: d.oauthUsername,
    oauthPassword: d.oauthPassword,
  };
}
