// The simulator's authentication, OAuth token endpoint, catalog, accounts, PATCH and routing errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  SIMULATOR_CREDENTIAL_DEFAULTS as D,
  startSimulator,
  type RunningSimulator,
} from '../../src/simulator/index.ts';
import { ACCOUNT, call, lineItem, orderBody, orderPath } from './helpers.ts';

function tokenForm(overrides: Record<string, string> = {}): string {
  return new URLSearchParams({
    grant_type: 'password',
    client_id: D.oauthClientId,
    client_secret: D.oauthClientSecret,
    username: D.oauthUsername,
    password: D.oauthPassword,
    scope: 'raas.all',
    audience: 'https://api.tangocard.com/',
    ...overrides,
  }).toString();
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('simulator authentication', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ credentials: { ...credentials(), tokenExpiresInSeconds: 1 } });
  });
  after(() => sim.close());

  function credentials() {
    return {
      platformName: D.platformName,
      platformKey: D.platformKey,
      oauthClientId: D.oauthClientId,
      oauthClientSecret: D.oauthClientSecret,
      oauthUsername: D.oauthUsername,
      oauthPassword: D.oauthPassword,
    };
  }

  it('refuses /raas/v2 without credentials with a Tango error body and a request id', async () => {
    const reply = await call(sim, 'GET', '/catalogs', undefined, { authorization: '' });
    assert.equal(reply.status, 401);
    assert.equal(reply.json.httpCode, 401);
    assert.equal(reply.json.i18nKey, '401.001');
    assert.equal(reply.json.path, '/raas/v2/catalogs');
    assert.ok(reply.headers.get('x-request-id'));
    assert.equal(reply.json.requestId, reply.headers.get('x-request-id'));
  });

  it('refuses a wrong platform key', async () => {
    const wrong = `Basic ${Buffer.from(`${D.platformName}:nope`).toString('base64')}`;
    const reply = await call(sim, 'GET', '/catalogs', undefined, { authorization: wrong });
    assert.equal(reply.status, 401);
  });

  it('issues a bearer token for the password grant and accepts it until it expires', async () => {
    const issued = await call(sim, 'POST', '/oauth/token', tokenForm(), form);
    assert.equal(issued.status, 200);
    assert.equal(issued.json.token_type, 'Bearer');
    assert.equal(issued.json.expires_in, 1);
    assert.equal(issued.json.scope, 'raas.all');
    const bearer = { authorization: `Bearer ${issued.json.access_token}` };
    assert.equal((await call(sim, 'GET', '/catalogs', undefined, bearer)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await call(sim, 'GET', '/catalogs', undefined, bearer);
    assert.equal(expired.status, 401);
    assert.equal(expired.json.i18nKey, '401.002');
  });

  it('answers token errors as text/plain 400/401', async () => {
    const json = await call(sim, 'POST', '/oauth/token', { grant_type: 'password' });
    assert.equal(json.status, 400);
    assert.match(json.headers.get('content-type') ?? '', /text\/plain/);
    const grant = await call(
      sim,
      'POST',
      '/oauth/token',
      tokenForm({ grant_type: 'client_credentials' }),
      form,
    );
    assert.equal(grant.status, 400);
    assert.match(grant.text, /unsupported_grant_type/);
    const missing = await call(sim, 'POST', '/oauth/token', 'grant_type=password&client_id=x', form);
    assert.equal(missing.status, 400);
    assert.match(missing.text, /missing client_secret, username, password/);
    const client = await call(sim, 'POST', '/oauth/token', tokenForm({ client_secret: 'wrong' }), form);
    assert.equal(client.status, 401);
    assert.match(client.text, /invalid_client/);
    const user = await call(sim, 'POST', '/oauth/token', tokenForm({ password: 'wrong' }), form);
    assert.equal(user.status, 401);
    assert.match(user.headers.get('content-type') ?? '', /text\/plain/);
  });

  it('rejects a made-up bearer token', async () => {
    const reply = await call(sim, 'GET', '/catalogs', undefined, { authorization: 'Bearer not-a-token' });
    assert.equal(reply.status, 401);
  });
});

describe('simulator catalog, accounts, PATCH and routing', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ processingDelayMs: 0 });
  });
  after(() => sim.close());

  it('serves the seeded catalog with ranges and delivery methods', async () => {
    const reply = await call(sim, 'GET', '/catalogs');
    assert.equal(reply.status, 200);
    const items = reply.json.brands.flatMap((brand: { items: unknown[] }) => brand.items);
    const byUtid = new Map(items.map((item: { utid: string }) => [item.utid, item]));
    assert.deepEqual([...byUtid.keys()].sort(), ['U000001', 'U000002', 'U000003', 'U000004']);
    const physical = byUtid.get('U000002') as Record<string, unknown>;
    assert.equal(physical['minValue'], 10);
    assert.equal(physical['maxValue'], 200);
    assert.deepEqual(physical['deliveryMethods'], ['ADDRESS']);
    assert.equal((byUtid.get('U000003') as Record<string, unknown>)['faceValue'], 25);
    assert.equal((byUtid.get('U000004') as Record<string, unknown>)['status'], 'inactive');
  });

  it('reports an account balance and 404 for an unknown account', async () => {
    const reply = await call(sim, 'GET', `/accounts/${ACCOUNT}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.json.currentBalance, 10_000_000);
    assert.equal(reply.json.status, 'ACTIVE');
    assert.equal(reply.json.currencyCode, 'USD');
    const missing = await call(sim, 'GET', '/accounts/nobody-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.httpCode, 404);
  });

  it('updates only the metadata fields with PATCH', async () => {
    assert.equal(
      (await call(sim, 'POST', '/asyncOrders', orderBody('patch-1', [lineItem('p1')]))).status,
      201,
    );
    const patched = await call(sim, 'PATCH', orderPath('patch-1'), {
      campaign: 'Q3 recognition',
      purchaseOrderNumber: 'PO-7',
      notes: 'fixed',
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.campaign, 'Q3 recognition');
    assert.equal(patched.json.purchaseOrderNumber, 'PO-7');
    assert.equal(patched.json.notes, 'fixed');
    assert.deepEqual(patched.json.lineItems, []);
    assert.equal(patched.json.pagination, null);
    const read = await call(sim, 'GET', orderPath('patch-1'));
    assert.equal(read.json.campaign, 'Q3 recognition');

    const tooLong = await call(sim, 'PATCH', orderPath('patch-1'), { notes: 'x'.repeat(151) });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.json.errors[0].path, 'notes');
    const okLimit = await call(sim, 'PATCH', orderPath('patch-1'), {
      notes: 'x'.repeat(150),
      campaign: 'c'.repeat(1024),
    });
    assert.equal(okLimit.status, 200);
    const fulfilment = await call(sim, 'PATCH', orderPath('patch-1'), { amount: 500 });
    assert.equal(fulfilment.status, 400);
    assert.equal(fulfilment.json.errors[0].path, 'amount');
    const unknown = await call(sim, 'PATCH', orderPath('no-such-order'), { notes: 'x' });
    assert.equal(unknown.status, 404);
  });

  it('answers unknown paths 404 and wrong methods 405, with the error body', async () => {
    const notFound = await call(sim, 'GET', '/nothing');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.json.httpCode, 404);
    const wrongMethod = await call(sim, 'DELETE', '/asyncOrders');
    assert.equal(wrongMethod.status, 405);
    assert.ok(wrongMethod.headers.get('x-request-id'));
  });

  it('puts X-REQUEST-ID on every kind of answer', async () => {
    const answers = [
      await call(sim, 'GET', '/catalogs'),
      await call(sim, 'GET', '/catalogs', undefined, { authorization: '' }),
      await call(sim, 'POST', '/oauth/token', 'grant_type=nope', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      await call(sim, 'GET', '/_admin/stats'),
      await call(sim, 'GET', '/no/such/path'),
    ];
    const ids = answers.map((answer) => answer.headers.get('x-request-id'));
    assert.ok(
      ids.every((id) => typeof id === 'string' && id.length > 0),
      JSON.stringify(ids),
    );
    assert.equal(new Set(ids).size, ids.length, 'a new id for each request');
  });

  it('registers webhooks strictly', async () => {
    const ok = await call(sim, 'POST', '/webhooks', {
      url: 'http://127.0.0.1:9/hook',
      headers: [{ name: 'X-Env', value: 'test' }],
      categories: ['ORDER'],
      eventTypes: ['AsyncOrderStatus'],
      payloadVerificationMethod: 'HMAC',
      hmacSharedSecretKey: D.webhookHmacSecret,
    });
    assert.equal(ok.status, 201);
    assert.match(ok.json.webhookId, /^whk-/);
    assert.equal(ok.json.hmacSharedSecretKey, undefined, 'the secret is never echoed');
    const noUrl = await call(sim, 'POST', '/webhooks', { payloadVerificationMethod: 'NONE' });
    assert.equal(noUrl.status, 400);
    assert.equal(noUrl.json.errors[0].path, 'url');
    const noSecret = await call(sim, 'POST', '/webhooks', {
      url: 'http://127.0.0.1:9/h',
      payloadVerificationMethod: 'HMAC',
    });
    assert.equal(noSecret.status, 400);
    const notBase64 = await call(sim, 'POST', '/webhooks', {
      url: 'http://127.0.0.1:9/h',
      payloadVerificationMethod: 'HMAC',
      hmacSharedSecretKey: 'not base64!',
    });
    assert.equal(notBase64.status, 400);
    const badMethod = await call(sim, 'POST', '/webhooks', {
      url: 'http://127.0.0.1:9/h',
      payloadVerificationMethod: 'RSA',
    });
    assert.equal(badMethod.status, 400);
    const pem = await call(sim, 'POST', '/webhooks', {
      url: 'http://127.0.0.1:9/h',
      payloadVerificationMethod: 'X509',
      signingCertificate: '-----BEGIN CERTIFICATE-----',
    });
    assert.equal(pem.status, 400);
    assert.equal(sim.webhookSubscriptions().length, 1);
  });
});
