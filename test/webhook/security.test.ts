// The webhook receiver under attack, against a real Temporal dev server: each attack from the
// security review, shown failing. Oversized fields get 400 before anything is signalled, sources
// outside TANGO_WEBHOOK_ALLOWED_IPS get 403 (X-Forwarded-For believed only from trusted proxies),
// a flood of final events for one order costs one signal per minute, undated events are stale, and
// a receiver off loopback will not start with the public secret or unverified.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { orderWorkflowId } from '../../src/definitions.ts';
import { LOCAL_SIMULATOR_DEFAULTS, type TangoWebhookConfig } from '../../src/tango/config.ts';
import { signHmacPayload } from '../../src/tango/webhook-signature.ts';
import { parseAddressList } from '../../src/webhook/ip-allowlist.ts';
import {
  startWebhookReceiver,
  type RunningWebhookReceiver,
  type WebhookLogger,
} from '../../src/webhook/receiver.ts';
import type { OrderStatusNotice } from '../../src/workflows/types.ts';
import { createLocalEnv } from '../helpers/temporal.ts';
import { noticeRecorderWorkflow, noticesQuery } from '../workflows/notice-recorder.ts';

const workflowsPath = fileURLToPath(new URL('../workflows/notice-recorder.ts', import.meta.url));
const taskQueue = 'webhook-security-test';
const secret = LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret;
const ownSecret = Buffer.from('the secret registered with Tango!').toString('base64');
const verification: TangoWebhookConfig = {
  method: 'hmac',
  hmacSecret: secret,
  headerName: 'X-Signed-Payload',
  maxAgeSeconds: 600,
};
const silent: WebhookLogger = { info() {}, warn() {}, error() {} };

let sequence = 0;
function event(externalRefID: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  sequence += 1;
  return {
    eventId: `sec-evt-${sequence}`,
    revision: sequence,
    category: 'ORDER',
    eventType: 'AsyncOrderStatus',
    eventOccurredAt: new Date().toISOString(),
    ...overrides,
    eventData: {
      externalRefID,
      status: 'SUCCESSFUL',
      totalLineItems: 1,
      failedLineItems: 0,
      successfulLineItems: 1,
      ...((overrides['eventData'] as Record<string, unknown> | undefined) ?? {}),
    },
  };
}

async function post(
  url: string,
  value: Record<string, unknown> | string,
  { key = secret, headers = {} }: { key?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'X-Signed-Payload': signHmacPayload(body, key),
      ...headers,
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('webhook receiver: attacks from the security review', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: RunningWebhookReceiver;
  let clockMs = Date.now();
  const handles: WorkflowHandle[] = [];

  async function recorder(ref: string): Promise<WorkflowHandle<typeof noticeRecorderWorkflow>> {
    const handle = await env.client.workflow.start(noticeRecorderWorkflow, {
      taskQueue,
      workflowId: orderWorkflowId(ref),
      args: ['10 minutes'],
    });
    handles.push(handle);
    return handle;
  }
  const notices = (handle: WorkflowHandle): Promise<OrderStatusNotice[]> => handle.query(noticesQuery);

  before(async () => {
    env = await createLocalEnv();
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath });
    running = worker.run();
    receiver = await startWebhookReceiver({
      port: 0,
      client: env.client,
      verification,
      logger: silent,
      // A clock the tests move: events stay fresh (real time) while the signal window advances.
      now: () => new Date(clockMs),
    });
  });
  after(async () => {
    await receiver?.close();
    for (const handle of handles) await handle.terminate('test over').catch(() => undefined);
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await env?.teardown();
  });

  it('answers 400 to every out-of-bounds field and signals nothing', async () => {
    const handle = await recorder('sec-bounds-0');
    const ref = 'sec-bounds-0';
    const cases: [string, Record<string, unknown>][] = [
      ['eventId of 201 characters', event(ref, { eventId: 'e'.repeat(201) })],
      ['eventId of 1 MiB', event(ref, { eventId: 'e'.repeat(12_000) })],
      ['externalRefID of 101 characters', event(`${ref}-${'x'.repeat(101)}`)],
      ['externalRefID with spaces', event(`${ref} and more`)],
      ['status of 41 characters', event(ref, { eventData: { status: 'S'.repeat(41) } })],
      ['blank status', event(ref, { eventData: { status: '   ' } })],
      ['negative revision', event(ref, { revision: -1 })],
      ['fractional revision', event(ref, { revision: 1.5 })],
      ['count over 1e9', event(ref, { eventData: { totalLineItems: 1e12 } })],
      ['eventType of 101 characters', event(ref, { eventType: 'A'.repeat(101) })],
      ['eventOccurredAt of 65 characters', event(ref, { eventOccurredAt: `${'2'.repeat(65)}` })],
      ['11 categories', event(ref, { category: Array.from({ length: 11 }, () => 'ORDER') })],
      [
        'referenceOrderId of 101 characters',
        event(ref, { eventData: { referenceOrderId: 'R'.repeat(101) } }),
      ],
    ];
    for (const [name, body] of cases) {
      const answer = await post(receiver.url, body);
      assert.equal(answer.status, 400, name);
      assert.deepEqual(answer.body, { error: 'invalid' }, name);
    }
    // The default raw-body bound is 16 KiB: a padded body is 413 before it is parsed.
    const padded = await post(receiver.url, event(ref, { padding: 'p'.repeat(20_000) }));
    assert.equal(padded.status, 413);
    assert.deepEqual(await notices(handle), []);
    // A well-formed event for the same order still goes through.
    assert.equal((await post(receiver.url, event(ref))).body['outcome'], 'signalled');
  });

  it('signals one final status per order per minute, whatever eventId or revision the copies carry', async () => {
    const handle = await recorder('sec-flood-0');
    const first = await post(receiver.url, event('sec-flood-0'));
    assert.deepEqual(first.body, { outcome: 'signalled' });
    // A replay under a new eventId, a "newer" revision, another final status: all within the minute.
    for (const overrides of [
      {},
      { revision: 10_000 },
      { eventData: { status: 'FAILED' } },
      { eventData: { status: 'partialfailed' } },
    ]) {
      const answer = await post(receiver.url, event('sec-flood-0', overrides));
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { outcome: 'throttled' });
    }
    // Concurrent copies cannot slip through together either.
    clockMs += 61_000;
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => post(receiver.url, event('sec-flood-0'))),
    );
    assert.deepEqual(
      burst.map((answer) => answer.status),
      Array.from({ length: 10 }, () => 200),
    );
    assert.equal(burst.filter((answer) => answer.body['outcome'] === 'signalled').length, 1);
    // A non-final status is separate news (it does not make the order ask Tango), once a minute too.
    const retrying = await post(receiver.url, event('sec-flood-0', { eventData: { status: 'RETRYING' } }));
    assert.deepEqual(retrying.body, { outcome: 'signalled' });
    const again = await post(receiver.url, event('sec-flood-0', { eventData: { status: 'RETRYING' } }));
    assert.deepEqual(again.body, { outcome: 'throttled' });
    // The next round of the order (another externalRefID) is its own news.
    assert.deepEqual((await post(receiver.url, event('sec-flood-0-r1'))).body, { outcome: 'signalled' });
    const received = await notices(handle);
    assert.deepEqual(
      received.map((notice) => [notice.externalRefID, notice.status]),
      [
        ['sec-flood-0', 'SUCCESSFUL'],
        ['sec-flood-0', 'SUCCESSFUL'],
        ['sec-flood-0', 'RETRYING'],
        ['sec-flood-0-r1', 'SUCCESSFUL'],
      ],
    );
    assert.ok(receiver.stats().throttled >= 14);
  });

  it('treats an event without eventOccurredAt as stale unless TANGO_WEBHOOK_ALLOW_UNDATED', async () => {
    const handle = await recorder('sec-undated-0');
    const undated = event('sec-undated-0');
    delete undated['eventOccurredAt'];
    const refused = await post(receiver.url, undated);
    assert.equal(refused.status, 401);
    assert.deepEqual(refused.body, { error: 'stale' });
    assert.deepEqual(await notices(handle), []);
    const lenient = await startWebhookReceiver({
      port: 0,
      client: env.client,
      verification: { ...verification, allowUndated: true },
      logger: silent,
    });
    try {
      assert.deepEqual((await post(lenient.url, undated)).body, { outcome: 'signalled' });
    } finally {
      await lenient.close();
    }
  });

  it('refuses sources outside TANGO_WEBHOOK_ALLOWED_IPS with 403, believing X-Forwarded-For only from trusted proxies', async () => {
    const handle = await recorder('sec-ip-0');
    const tangoOnly = await startWebhookReceiver({
      port: 0,
      client: env.client,
      verification,
      allowedIps: parseAddressList('203.0.113.0/24'),
      logger: silent,
    });
    const proxied = await startWebhookReceiver({
      port: 0,
      client: env.client,
      verification: { ...verification, hmacSecret: ownSecret },
      allowedIps: parseAddressList('203.0.113.0/24'),
      trustedProxies: parseAddressList('127.0.0.1'),
      logger: silent,
    });
    try {
      // From 127.0.0.1, not in the list: 403, and a forged X-Forwarded-For does not help.
      assert.equal((await post(tangoOnly.url, event('sec-ip-0'))).status, 403);
      const spoofed = await post(tangoOnly.url, event('sec-ip-0'), {
        headers: { 'X-Forwarded-For': '203.0.113.7' },
      });
      assert.equal(spoofed.status, 403);
      assert.deepEqual(spoofed.body, { error: 'forbidden' });
      assert.equal(tangoOnly.stats().forbidden, 2);

      // Behind our proxy (127.0.0.1 trusted): the hop it appended is the source.
      const viaProxy = { key: ownSecret, headers: { 'X-Forwarded-For': '203.0.113.7' } };
      assert.deepEqual((await post(proxied.url, event('sec-ip-0'), viaProxy)).body, {
        outcome: 'signalled',
      });
      // The sender's own prefix is not believed: the proxy saw 198.51.100.9.
      const prefixed = await post(proxied.url, event('sec-ip-0-r1'), {
        key: ownSecret,
        headers: { 'X-Forwarded-For': '203.0.113.7, 198.51.100.9' },
      });
      assert.equal(prefixed.status, 403);
      // No header from the proxy: the proxy itself is the source, not allowed.
      assert.equal((await post(proxied.url, event('sec-ip-0-r1'), { key: ownSecret })).status, 403);
      assert.equal((await notices(handle)).length, 1);
    } finally {
      await tangoOnly.close();
      await proxied.close();
    }
  });

  it('will not start off loopback with the public secret, or unverified without the override', async () => {
    await assert.rejects(
      startWebhookReceiver({ host: '0.0.0.0', port: 0, client: env.client, verification, logger: silent }),
      /TANGO_WEBHOOK_HMAC_SECRET: the receiver listens on 0\.0\.0\.0, off loopback with the simulator's public test secret/,
    );
    const none: TangoWebhookConfig = { method: 'none', headerName: 'X-Signed-Payload', maxAgeSeconds: 600 };
    await assert.rejects(
      startWebhookReceiver({
        host: '0.0.0.0',
        port: 0,
        client: env.client,
        verification: none,
        logger: silent,
      }),
      /TANGO_WEBHOOK_VERIFICATION: 'none' is refused/,
    );
    await assert.rejects(
      startWebhookReceiver({
        port: 0,
        client: env.client,
        verification,
        trustedProxies: parseAddressList('127.0.0.1'),
        logger: silent,
      }),
      /behind a proxy/,
    );
    const warnings: string[] = [];
    const overridden = await startWebhookReceiver({
      host: '0.0.0.0',
      port: 0,
      client: env.client,
      verification: { ...none, allowUnverified: true },
      logger: { ...silent, warn: (message) => void warnings.push(message) },
    });
    await overridden.close();
    assert.match(warnings.join('\n'), /NOT verified off loopback \(TANGO_WEBHOOK_ALLOW_UNVERIFIED=true\)/);
    const own = await startWebhookReceiver({
      host: '0.0.0.0',
      port: 0,
      client: env.client,
      verification: { ...verification, hmacSecret: ownSecret },
      logger: silent,
    });
    await own.close();
  });
});
