// Webhook signature tests: HMAC (a published test vector, valid / forged / missing / wrong key),
// X.509 with a self-signed certificate generated here, and the staleness window.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { isEventFresh, signHmacPayload, verifyWebhookSignature } from '../../src/tango/webhook-signature.ts';
import { generateSelfSignedCertificate, type TestCertificate } from './helpers/x509.ts';

const secret = Buffer.from('a shared secret of enough length').toString('base64');
const body = Buffer.from(
  '{"eventId":"e-1","eventType":"AsyncOrderStatus","eventData":{"externalRefID":"c-1-0"}}',
);
const hmac = { method: 'hmac', hmacSecret: secret, headerName: 'X-Signed-Payload' } as const;

describe('HMAC-SHA256 signatures', () => {
  it('matches RFC 4231 test case 2 (key "Jefe")', () => {
    const expected = Buffer.from('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'hex');
    assert.equal(
      signHmacPayload('what do ya want for nothing?', Buffer.from('Jefe').toString('base64')),
      expected.toString('base64'),
    );
  });

  it('accepts a valid signature (header names are case-insensitive)', () => {
    const signature = signHmacPayload(body, secret);
    assert.deepEqual(verifyWebhookSignature(body, { 'x-signed-payload': signature }, hmac), { ok: true });
    assert.deepEqual(
      verifyWebhookSignature(body, { 'x-tango-sig': signature }, { ...hmac, headerName: 'X-Tango-Sig' }),
      { ok: true },
    );
  });

  it('accepts the same digest hex-encoded or with a sha256= prefix', () => {
    const hex = Buffer.from(signHmacPayload(body, secret), 'base64').toString('hex');
    assert.deepEqual(verifyWebhookSignature(body, { 'x-signed-payload': hex }, hmac), { ok: true });
    assert.deepEqual(verifyWebhookSignature(body, { 'x-signed-payload': `sha256=${hex}` }, hmac), {
      ok: true,
    });
  });

  it('rejects a forged body, a wrong key, a truncated signature and garbage', () => {
    const signature = signHmacPayload(body, secret);
    const forged = Buffer.from(body.toString().replace('c-1-0', 'c-1-1'));
    const forgedResult = verifyWebhookSignature(forged, { 'x-signed-payload': signature }, hmac);
    assert.equal(forgedResult.ok, false);
    assert.match((forgedResult as { reason: string }).reason, /does not match/);

    const otherKey = signHmacPayload(body, Buffer.from('another secret, also long').toString('base64'));
    assert.equal(verifyWebhookSignature(body, { 'x-signed-payload': otherKey }, hmac).ok, false);

    const truncated = Buffer.from(signature, 'base64').subarray(0, 16).toString('base64');
    assert.equal(verifyWebhookSignature(body, { 'x-signed-payload': truncated }, hmac).ok, false);

    assert.deepEqual(verifyWebhookSignature(body, { 'x-signed-payload': 'not base64!' }, hmac), {
      ok: false,
      reason: 'X-Signed-Payload is not base64 or hex',
    });
  });

  it('rejects a missing or duplicated header', () => {
    assert.deepEqual(verifyWebhookSignature(body, {}, hmac), {
      ok: false,
      reason: 'missing X-Signed-Payload header',
    });
    const signature = signHmacPayload(body, secret);
    assert.equal(
      verifyWebhookSignature(body, { 'x-signed-payload': [signature, signature] } as never, hmac).ok,
      false,
    );
  });

  it('rejects everything when no secret is configured, and accepts everything with method none', () => {
    const signature = signHmacPayload(body, secret);
    assert.equal(
      verifyWebhookSignature(body, { 'x-signed-payload': signature }, { ...hmac, hmacSecret: undefined }).ok,
      false,
    );
    assert.deepEqual(verifyWebhookSignature(body, {}, { method: 'none', headerName: 'X-Signed-Payload' }), {
      ok: true,
    });
  });
});

describe('X.509 signatures', () => {
  let cert: TestCertificate;
  before(() => {
    cert = generateSelfSignedCertificate();
  });
  const x509 = (certificate: string) =>
    ({ method: 'x509', certificate, headerName: 'X-Signed-Payload' }) as const;

  it('accepts an RSA-SHA256 signature made with the certificate’s key (PEM or base64 DER configured)', () => {
    const signature = sign('sha256', body, cert.privateKeyPem).toString('base64');
    assert.deepEqual(
      verifyWebhookSignature(body, { 'x-signed-payload': signature }, x509(cert.certificatePem)),
      {
        ok: true,
      },
    );
    assert.deepEqual(
      verifyWebhookSignature(body, { 'x-signed-payload': signature }, x509(cert.certificateBase64Der)),
      {
        ok: true,
      },
    );
  });

  it('rejects a tampered body and a signature from another key', () => {
    const signature = sign('sha256', body, cert.privateKeyPem).toString('base64');
    const tampered = Buffer.concat([body, Buffer.from(' ')]);
    assert.equal(
      verifyWebhookSignature(tampered, { 'x-signed-payload': signature }, x509(cert.certificatePem)).ok,
      false,
    );

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const foreign = sign('sha256', body, privateKey).toString('base64');
    const result = verifyWebhookSignature(body, { 'x-signed-payload': foreign }, x509(cert.certificatePem));
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, /not a valid signature/);
  });

  it('reports an unreadable certificate instead of throwing', () => {
    const result = verifyWebhookSignature(body, { 'x-signed-payload': 'AAAA' }, x509('bm90IGEgY2VydA=='));
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, /certificate is unreadable/);
  });
});

describe('staleness window on eventOccurredAt', () => {
  const now = new Date('2026-01-27T21:40:00.000Z');

  it('fresh within the window on either side, stale outside it', () => {
    assert.equal(isEventFresh({ eventOccurredAt: '2026-01-27T21:30:01.000Z' }, now, 600), true);
    assert.equal(isEventFresh({ eventOccurredAt: '2026-01-27T21:29:59.000Z' }, now, 600), false);
    assert.equal(isEventFresh({ eventOccurredAt: '2026-01-27T21:49:59.000Z' }, now, 600), true);
    assert.equal(isEventFresh({ eventOccurredAt: '2026-01-27T21:50:01.000Z' }, now, 600), false);
  });

  it('reads Tango’s nanosecond timestamps', () => {
    assert.equal(isEventFresh({ eventOccurredAt: '2026-01-27T21:30:11.562578300Z' }, now, 600), true);
    assert.equal(isEventFresh({ eventOccurredAt: '2026-01-27T21:30:11.562578300Z' }, now, 500), false);
  });

  it('no timestamp counts as stale (a replay would be fresh forever) unless allowed; an unreadable one is stale', () => {
    assert.equal(isEventFresh({}, now, 600), false);
    assert.equal(isEventFresh({ eventOccurredAt: null }, now, 600), false);
    assert.equal(isEventFresh({}, now, 600, true), true);
    assert.equal(isEventFresh({ eventOccurredAt: null }, now, 600, true), true);
    assert.equal(isEventFresh({ eventOccurredAt: 'yesterday' }, now, 600, true), false);
    assert.equal(isEventFresh({ eventOccurredAt: 'yesterday' }, now, 600), false);
  });
});
