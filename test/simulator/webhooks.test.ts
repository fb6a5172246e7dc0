// AsyncOrderStatus webhooks: the event shape, HMAC and X.509 signatures, retries with backoff on
// non-2xx and connection errors, RETRYING events, and the drop / duplicate / delay / reorder faults.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  SIMULATOR_CREDENTIAL_DEFAULTS as D,
  startSimulator,
  type RunningSimulator,
  type SimulatorOptionsPatch,
} from '../../src/simulator/index.ts';
import { call, lineItem, orderBody, startReceiver, waitFor } from './helpers.ts';

const SECRET = Buffer.from('a shared secret for the webhook tests').toString('base64');

async function withSimAndReceiver(
  options: SimulatorOptionsPatch,
  respond: Parameters<typeof startReceiver>[0],
  body: (sim: RunningSimulator, receiver: Awaited<ReturnType<typeof startReceiver>>) => Promise<void>,
  registration: Record<string, unknown> = { payloadVerificationMethod: 'HMAC', hmacSharedSecretKey: SECRET },
) {
  const receiver = await startReceiver(respond);
  const sim = await startSimulator({ processingDelayMs: 0, ...options });
  try {
    const registered = await call(sim, 'POST', '/webhooks', { url: receiver.url, ...registration });
    assert.equal(registered.status, 201, registered.text);
    await body(sim, receiver);
  } finally {
    await sim.close();
    await receiver.close();
  }
}

function hmac(raw: Buffer, secret = SECRET): string {
  return createHmac('sha256', Buffer.from(secret, 'base64')).update(raw).digest('base64');
}

describe('AsyncOrderStatus webhooks', () => {
  it('sends the documented event, signed with HMAC-SHA256 over the raw body, with the registered headers', async () => {
    await withSimAndReceiver(
      {},
      () => 200,
      async (sim, receiver) => {
        await call(
          sim,
          'POST',
          '/asyncOrders',
          orderBody('hooked', [lineItem('a'), lineItem('b', { recipient: { email: 'x@blocked.test' } })]),
        );
        await sim.whenIdle();
        assert.equal(receiver.received.length, 1);
        const [request] = receiver.received;
        assert.ok(request);
        assert.equal(request.headers['x-signed-payload'], hmac(request.raw));
        assert.notEqual(
          request.headers['x-signed-payload'],
          hmac(request.raw, D.webhookHmacSecret),
          'keyed by the registered secret',
        );
        assert.equal(request.headers['x-env'], 'test');
        assert.match(request.headers['content-type'] ?? '', /application\/json/);
        const event = request.json;
        assert.equal(event.eventType, 'AsyncOrderStatus');
        assert.equal(event.category, 'ORDER');
        assert.equal(event.revision, 0);
        assert.ok(event.eventId);
        assert.ok(!Number.isNaN(Date.parse(event.eventOccurredAt)));
        assert.deepEqual(
          { ...event.eventData, referenceOrderId: 'x' },
          {
            externalRefID: 'hooked',
            status: 'PARTIALFAILED',
            totalLineItems: 2,
            failedLineItems: 1,
            successfulLineItems: 1,
            referenceOrderId: 'x',
            accountIdentifier: D.accountIdentifier,
            customerIdentifier: D.customerIdentifier,
          },
        );
        await call(sim, 'POST', '/asyncOrders', orderBody('hooked-ok', [lineItem('c')]));
        await call(
          sim,
          'POST',
          '/asyncOrders',
          orderBody('hooked-bad', [lineItem('d', { recipient: { email: 'x@blocked.test' } })]),
        );
        await sim.whenIdle();
        const statuses = Object.fromEntries(
          receiver.received.map((r) => [r.json.eventData.externalRefID, r.json.eventData.status]),
        );
        assert.deepEqual(statuses, {
          hooked: 'PARTIALFAILED',
          'hooked-ok': 'SUCCESSFUL',
          'hooked-bad': 'FAILED',
        });
      },
      {
        payloadVerificationMethod: 'HMAC',
        hmacSharedSecretKey: SECRET,
        headers: [{ name: 'X-Env', value: 'test' }],
      },
    );
  });

  it('retries non-2xx answers with growing backoff until one succeeds', async () => {
    await withSimAndReceiver(
      { webhooks: { initialBackoffMs: 40, backoffMultiplier: 2 } },
      (index) => (index < 2 ? 500 : 204),
      async (sim, receiver) => {
        await call(sim, 'POST', '/asyncOrders', orderBody('retry', [lineItem('a')]));
        await sim.whenIdle();
        assert.equal(receiver.received.length, 3);
        const [first, second, third] = receiver.received.map((r) => r.at);
        assert.ok(second! - first! >= 35, 'first backoff ~40 ms');
        assert.ok(third! - second! >= 75, 'second backoff ~80 ms');
        assert.equal(
          new Set(receiver.received.map((r) => r.json.eventId)).size,
          1,
          'the same event each time',
        );
        assert.deepEqual(
          sim.webhookDeliveries().map((d) => [d.attempt, d.outcome, d.httpStatus]),
          [
            [1, 'http-error', 500],
            [2, 'http-error', 500],
            [3, 'delivered', 204],
          ],
        );
        assert.equal(sim.stats().webhooks.failedAttempts, 2);
      },
    );
  });

  it('retries connection errors and gives up after maxAttempts', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sim = await startSimulator({
      processingDelayMs: 0,
      webhooks: { maxAttempts: 3, initialBackoffMs: 10 },
    });
    try {
      await call(sim, 'POST', '/webhooks', {
        url: `http://127.0.0.1:${port}/gone`,
        payloadVerificationMethod: 'NONE',
      });
      await call(sim, 'POST', '/asyncOrders', orderBody('unreachable', [lineItem('a')]));
      await sim.whenIdle();
      assert.deepEqual(
        sim.webhookDeliveries().map((d) => [d.attempt, d.outcome]),
        [
          [1, 'network-error'],
          [2, 'network-error'],
          [3, 'network-error'],
          [3, 'gave-up'],
        ],
      );
      assert.equal(sim.stats().webhooks.gaveUp, 1);
    } finally {
      await sim.close();
    }
  });

  it('sends a RETRYING event before the final one when enabled', async () => {
    await withSimAndReceiver(
      { webhooks: { retryingEvents: true } },
      () => 200,
      async (sim, receiver) => {
        await call(sim, 'POST', '/asyncOrders', orderBody('two-events', [lineItem('a')]));
        await sim.whenIdle();
        await waitFor(() => receiver.received.length === 2, 2000, 'two events');
        const byRevision = receiver.received.map((r) => r.json).sort((a, b) => a.revision - b.revision);
        assert.deepEqual(
          byRevision.map((e) => [e.revision, e.eventData.status]),
          [
            [0, 'RETRYING'],
            [1, 'SUCCESSFUL'],
          ],
        );
      },
    );
  });

  it('leaves the signature out for NONE and signs with the registered certificate key for X509', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-x509-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=tango-sim-test',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const keyPem = readFileSync(path.join(dir, 'key.pem'), 'utf8');
      const certificate = new X509Certificate(readFileSync(path.join(dir, 'cert.pem')));
      const certBase64 = certificate.raw.toString('base64');
      await withSimAndReceiver(
        { webhooks: { x509PrivateKeyPem: keyPem } },
        () => 200,
        async (sim, receiver) => {
          const none = await startReceiver();
          try {
            await call(sim, 'POST', '/webhooks', { url: none.url, payloadVerificationMethod: 'NONE' });
            await call(sim, 'POST', '/asyncOrders', orderBody('x509', [lineItem('a')]));
            await sim.whenIdle();
            const [signed] = receiver.received;
            assert.ok(signed);
            const signature = Buffer.from(String(signed.headers['x-signed-payload']), 'base64');
            assert.ok(
              verify('sha256', signed.raw, certificate.publicKey, signature),
              'RSA-SHA256 verifies with the certificate',
            );
            assert.ok(!verify('sha256', Buffer.from('tampered'), certificate.publicKey, signature));
            assert.equal(none.received.length, 1);
            assert.equal(none.received[0]?.headers['x-signed-payload'], undefined);
          } finally {
            await none.close();
          }
        },
        { payloadVerificationMethod: 'X509', signingCertificate: certBase64 },
      );
      const noKey = await startSimulator();
      try {
        const refused = await call(noKey, 'POST', '/webhooks', {
          url: 'http://127.0.0.1:9/h',
          payloadVerificationMethod: 'X509',
          signingCertificate: certBase64,
        });
        assert.equal(refused.status, 422);
        assert.match(refused.json.message, /x509PrivateKeyPem/);
      } finally {
        await noKey.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends AsyncOrderStatus only to subscriptions that asked for it', async () => {
    const other = await startReceiver();
    try {
      await withSimAndReceiver(
        {},
        () => 200,
        async (sim, receiver) => {
          await call(sim, 'POST', '/webhooks', {
            url: other.url,
            eventTypes: ['SomethingElse'],
            payloadVerificationMethod: 'NONE',
          });
          await call(sim, 'POST', '/asyncOrders', orderBody('filtered', [lineItem('a')]));
          await sim.whenIdle();
          assert.equal(receiver.received.length, 1);
          assert.equal(other.received.length, 0);
        },
        { eventTypes: 'AsyncOrderStatus', payloadVerificationMethod: 'NONE' },
      );
    } finally {
      await other.close();
    }
  });

  it('delivers to subscriptions given at start, signed with the default local secret', async () => {
    const receiver = await startReceiver();
    const sim = await startSimulator({
      processingDelayMs: 0,
      webhooks: { subscriptions: [{ url: receiver.url }] },
    });
    try {
      await call(sim, 'POST', '/asyncOrders', orderBody('preregistered', [lineItem('a')]));
      await sim.whenIdle();
      const [request] = receiver.received;
      assert.ok(request);
      assert.equal(request.headers['x-signed-payload'], hmac(request.raw, D.webhookHmacSecret));
    } finally {
      await sim.close();
      await receiver.close();
    }
  });
});

describe('webhook faults', () => {
  it('drops events at the drop rate', async () => {
    await withSimAndReceiver(
      { faults: { webhook: { dropRate: 1 } } },
      () => 200,
      async (sim, receiver) => {
        await call(sim, 'POST', '/asyncOrders', orderBody('dropped', [lineItem('a')]));
        await sim.whenIdle();
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(receiver.received.length, 0);
        assert.equal(sim.stats().webhooks.dropped, 1);
        assert.equal(sim.webhookDeliveries()[0]?.outcome, 'dropped');
      },
    );
  });

  it('duplicates events at the duplicate rate (same eventId twice)', async () => {
    await withSimAndReceiver(
      { faults: { webhook: { duplicateRate: 1 } } },
      () => 200,
      async (sim, receiver) => {
        await call(sim, 'POST', '/asyncOrders', orderBody('doubled', [lineItem('a')]));
        await sim.whenIdle();
        assert.equal(receiver.received.length, 2);
        assert.equal(receiver.received[0]?.json.eventId, receiver.received[1]?.json.eventId);
        assert.deepEqual(receiver.received[0]?.raw, receiver.received[1]?.raw);
      },
    );
  });

  it('delays events by the configured time', async () => {
    await withSimAndReceiver(
      { faults: { webhook: { delayMs: 250 } } },
      () => 200,
      async (sim, receiver) => {
        const start = Date.now();
        await call(sim, 'POST', '/asyncOrders', orderBody('late', [lineItem('a')]));
        await sim.whenIdle();
        assert.equal(receiver.received.length, 1);
        assert.ok(
          receiver.received[0]!.at - start >= 240,
          `arrived after ${receiver.received[0]!.at - start} ms`,
        );
      },
    );
  });

  it('reorders events held in the same window (newest first)', async () => {
    await withSimAndReceiver(
      { webhooks: { retryingEvents: true }, faults: { webhook: { reorderWindowMs: 80 } } },
      () => 200,
      async (sim, receiver) => {
        await call(sim, 'POST', '/asyncOrders', orderBody('shuffled', [lineItem('a')]));
        await sim.whenIdle();
        await waitFor(() => receiver.received.length === 2, 2000, 'both events');
        assert.deepEqual(
          receiver.received.map((r) => r.json.revision),
          [1, 0],
          'the final event (revision 1) arrives before the RETRYING one (revision 0)',
        );
      },
    );
  });
});
