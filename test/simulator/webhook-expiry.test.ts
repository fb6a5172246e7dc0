// Subscription expiry in the simulator: registration answers expiresAt (webhooks.subscription-
// LifetimeSeconds, on the simulator clock), an expired subscription gets no events, POST
// /webhooks/{id}/renew extends it (through TangoClient.renewWebhook too), an unknown id is 404.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSimulator } from '../../src/simulator/index.ts';
import { TangoClient } from '../../src/tango/client.ts';
import { loadTangoConfig } from '../../src/tango/config.ts';
import { TangoHttpError } from '../../src/tango/errors.ts';
import { call, lineItem, orderBody, startReceiver } from './helpers.ts';

const HOUR = 3_600_000;

/** `expiresAt` is `lifetime` after the simulator's now (within the test's own run time). */
function assertExpiresIn(expiresAt: unknown, nowMs: number, lifetimeMs: number): void {
  const delta = Date.parse(String(expiresAt)) - nowMs - lifetimeMs;
  assert.ok(Math.abs(delta) < 2_000, `expiresAt ${String(expiresAt)} is ${delta} ms off`);
}

describe('webhook subscription expiry and renewal', () => {
  it('expires after its lifetime, gets no events then, and renew brings it back', async () => {
    const receiver = await startReceiver(() => 200);
    const sim = await startSimulator({
      processingDelayMs: 0,
      webhooks: { subscriptionLifetimeSeconds: 24 * 3600 },
    });
    try {
      const tango = new TangoClient(loadTangoConfig({ TANGO_BASE_URL: sim.baseUrl }));
      const registered = await tango.registerWebhook({
        url: receiver.url,
        payloadVerificationMethod: 'NONE',
      });
      assert.ok(registered.id);
      assertExpiresIn(registered.expiresAt, sim.now().getTime(), 24 * HOUR);

      await call(sim, 'POST', '/asyncOrders', orderBody('before-expiry', [lineItem('a')]));
      await sim.whenIdle();
      assert.equal(receiver.received.length, 1);

      sim.advanceClock(25 * HOUR);
      await call(sim, 'POST', '/asyncOrders', orderBody('after-expiry', [lineItem('b')]));
      await sim.whenIdle();
      assert.equal(receiver.received.length, 1, 'no event for an expired subscription');
      assert.equal(sim.stats().webhooks.expired, 1);
      assert.ok(
        sim.webhookDeliveries().some((d) => d.outcome === 'expired' && d.externalRefID === 'after-expiry'),
      );

      const renewed = await tango.renewWebhook(registered.id);
      assert.equal(renewed.id, registered.id);
      assertExpiresIn(renewed.expiresAt, sim.now().getTime(), 24 * HOUR);
      assert.equal('hmacSharedSecretKey' in renewed, false);
      await call(sim, 'POST', '/asyncOrders', orderBody('after-renewal', [lineItem('c')]));
      await sim.whenIdle();
      assert.equal(receiver.received.length, 2, 'a renewed subscription gets events again');

      // Renewing before expiry moves expiresAt forward from now.
      sim.advanceClock(20 * HOUR);
      const early = await tango.renewWebhook(registered.id);
      assertExpiresIn(early.expiresAt, sim.now().getTime(), 24 * HOUR);

      const unknown = await tango.renewWebhook('whk-unknown').catch((error: unknown) => error);
      assert.ok(unknown instanceof TangoHttpError && unknown.status === 404);

      // A subscription Tango lost: renew answers 404.
      assert.equal(sim.removeWebhookSubscription(registered.id), true);
      const lost = await tango.renewWebhook(registered.id).catch((error: unknown) => error);
      assert.ok(lost instanceof TangoHttpError && lost.status === 404);
    } finally {
      await sim.close();
      await receiver.close();
    }
  });

  it('without a lifetime (the default) a subscription has no expiresAt and never expires', async () => {
    const sim = await startSimulator({ processingDelayMs: 0 });
    try {
      const registered = await call(sim, 'POST', '/webhooks', {
        url: 'http://127.0.0.1:9/hook',
        payloadVerificationMethod: 'NONE',
      });
      const body = registered.json as { webhookId: string; expiresAt?: string };
      assert.equal(body.expiresAt, undefined);
      const renewed = await call(sim, 'POST', `/webhooks/${body.webhookId}/renew`);
      assert.equal(renewed.status, 200);
    } finally {
      await sim.close();
    }
  });
});
