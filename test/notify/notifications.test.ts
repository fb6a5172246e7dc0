// The notification rules without Temporal: which events a campaign owes as its state changes (each
// status once per entry, counts once per change and throttled, each blocked or overdue order once),
// the NOTIFY_* settings, and the signature a receiver checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type WatchSnapshot, dueNotifications, emptyWatchMemory } from '../../src/notify/campaign-watch.ts';
import { ConfigError } from '../../src/tango/config.ts';
import { loadNotifyConfig } from '../../src/notify/config.ts';
import { notificationBody, signNotification, verifyNotificationSignature } from '../../src/notify/sender.ts';

const snapshot = (patch: Partial<WatchSnapshot> = {}): WatchSnapshot => ({
  campaignId: 'c1',
  status: 'running',
  totalAmount: 100,
  awaitingCorrection: 0,
  awaitingFunds: 0,
  awaitingFundsAmount: 0,
  orders: [],
  ...patch,
});
const MINUTE = 60_000;

/** Feeds snapshots in turn (time `at` each), as the campaign's loop does; returns the kinds sent. */
function run(steps: [number, WatchSnapshot][], throttleMs = 10 * MINUTE) {
  let memory = emptyWatchMemory();
  const sent: string[] = [];
  for (const [at, now] of steps) {
    const due = dueNotifications(memory, now, at, throttleMs);
    if (due.changed) memory = due.memory;
    for (const event of due.events)
      sent.push(
        `${event.kind}${event.items !== undefined ? `:${event.items}` : ''}${event.order ? `@${event.order.chunk}` : ''}`,
      );
  }
  return sent;
}

describe('dueNotifications', () => {
  it('tells each status that needs a person once per entry, again after it left it', () => {
    assert.deepEqual(
      run([
        [0, snapshot({ status: 'awaiting-approval', statusReason: 'total 100 exceeds 50' })],
        [1, snapshot({ status: 'awaiting-approval', statusReason: 'total 100 exceeds 50' })],
        [2, snapshot({ status: 'running' })],
        [3, snapshot({ status: 'awaiting-approval' })],
        [4, snapshot({ status: 'awaiting-funds' })],
      ]),
      ['awaiting-approval', 'awaiting-approval', 'awaiting-funds'],
    );
    const [event] = dueNotifications(
      emptyWatchMemory(),
      snapshot({ status: 'awaiting-approval', statusReason: 'x'.repeat(5000) }),
      0,
      0,
    ).events;
    assert.equal(event?.reason?.length, 2000, 'reasons are bounded');
  });

  it('tells a correction count once per change, at most once per throttle interval, the latest count', () => {
    const sent = run([
      [0, snapshot({ awaitingCorrection: 2 })],
      [1 * MINUTE, snapshot({ awaitingCorrection: 2 })],
      [2 * MINUTE, snapshot({ awaitingCorrection: 5 })], // throttled
      [3 * MINUTE, snapshot({ awaitingCorrection: 7 })], // throttled
      [11 * MINUTE, snapshot({ awaitingCorrection: 7 })], // due: the latest
      [12 * MINUTE, snapshot({ awaitingCorrection: 0 })], // all fixed: nothing to tell
      [30 * MINUTE, snapshot({ awaitingCorrection: 1 })],
    ]);
    assert.deepEqual(sent, ['awaiting-correction:2', 'awaiting-correction:7', 'awaiting-correction:1']);
    const waiting = dueNotifications(
      { ...emptyWatchMemory(), corrections: 2, correctionsAt: 0 },
      snapshot({ awaitingCorrection: 5 }),
      2 * MINUTE,
      10 * MINUTE,
    );
    assert.equal(waiting.events.length, 0);
    assert.equal(waiting.wakeAt, 10 * MINUTE, 'the campaign wakes when the throttle ends');
  });

  it('tells items awaiting funds with their amount, and each blocked or overdue order once', () => {
    const [funds] = dueNotifications(
      emptyWatchMemory(),
      snapshot({ awaitingFunds: 3, awaitingFundsAmount: 75 }),
      0,
      0,
    ).events;
    assert.equal(funds?.kind, 'awaiting-funds');
    assert.equal(funds?.amount, 75);
    assert.equal(funds?.items, 3);
    const blocked = { chunk: 4, externalRefID: 'c1-4', blockedReason: 'OrderCollision', overdue: false };
    const overdue = { chunk: 5, externalRefID: 'c1-5', overdue: true };
    assert.deepEqual(
      run([
        [0, snapshot({ orders: [blocked] })],
        [1, snapshot({ orders: [blocked, overdue] })],
        [2, snapshot({ orders: [blocked, overdue] })],
        [3, snapshot({ orders: [] })],
        [4, snapshot({ orders: [blocked] })],
      ]),
      ['order-blocked@4', 'order-overdue@5', 'order-blocked@4'],
    );
  });
});

describe('NOTIFY_* settings and the signature', () => {
  it('is off without NOTIFY_URL, needs a signing secret with it, and names the variable at fault', () => {
    assert.equal(loadNotifyConfig({}).url, undefined);
    const on = loadNotifyConfig({
      NOTIFY_URL: 'https://hooks.example.test/x',
      NOTIFY_SIGNING_SECRET: 'a-long-enough-secret',
      NOTIFY_THROTTLE_SECONDS: '60',
    });
    assert.equal(on.url, 'https://hooks.example.test/x');
    assert.equal(on.throttleMs, 60_000);
    assert.equal(on.signatureHeader, 'X-Tango-Campaigns-Signature');
    assert.throws(
      () => loadNotifyConfig({ NOTIFY_URL: 'https://hooks.example.test/x' }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'NOTIFY_SIGNING_SECRET',
    );
    assert.throws(
      () => loadNotifyConfig({ NOTIFY_URL: 'ftp://x', NOTIFY_SIGNING_SECRET: 'a-long-enough-secret' }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'NOTIFY_URL',
    );
    assert.throws(
      () => loadNotifyConfig({ NOTIFY_TIMEOUT_MS: 'soon' }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'NOTIFY_TIMEOUT_MS',
    );
  });

  it('signs the raw body with HMAC-SHA256; any change to body or secret fails the check', () => {
    const body = notificationBody(
      { kind: 'awaiting-correction', campaignId: 'c1', occurredAt: '2026-12-01T00:00:00.000Z', items: 2 },
      'notify-c1-1',
    );
    const parsed = JSON.parse(body) as { text: string; eventId: string; items: number };
    assert.match(parsed.text, /2 item\(s\) wait for corrections/);
    assert.equal(parsed.eventId, 'notify-c1-1');
    const signature = signNotification(body, 'secret-0123456789');
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyNotificationSignature(body, 'secret-0123456789', signature), true);
    assert.equal(verifyNotificationSignature(`${body} `, 'secret-0123456789', signature), false);
    assert.equal(verifyNotificationSignature(body, 'another-secret-000', signature), false);
    assert.equal(verifyNotificationSignature(body, 'secret-0123456789', undefined), false);
  });
});
