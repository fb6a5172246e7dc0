// The webhook receiver against a real Temporal dev server: what each kind of request gets back,
// and which of them reach the order workflow (a recorder standing in for it) as signals.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { orderWorkflowId } from '../../src/definitions.ts';
import { LOCAL_SIMULATOR_DEFAULTS, type TangoWebhookConfig } from '../../src/tango/config.ts';
import { signHmacPayload } from '../../src/tango/webhook-signature.ts';
import {
  startWebhookReceiver,
  type RunningWebhookReceiver,
  type WebhookLogger,
} from '../../src/webhook/receiver.ts';
import type { OrderStatusNotice } from '../../src/workflows/types.ts';
import { createLocalEnv } from '../helpers/temporal.ts';
import { finishSignal, noticeRecorderWorkflow, noticesQuery } from '../workflows/notice-recorder.ts';

const workflowsPath = fileURLToPath(new URL('../workflows/notice-recorder.ts', import.meta.url));
const taskQueue = 'webhook-receiver-test';
const secret = LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret;
const verification: TangoWebhookConfig = {
  method: 'hmac',
  hmacSecret: secret,
  headerName: 'X-Signed-Payload',
  maxAgeSeconds: 600,
};

let eventSequence = 0;
function event(externalRefID: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  eventSequence += 1;
  return {
    eventId: `evt-${eventSequence}`,
    revision: eventSequence,
    category: 'ORDER',
    eventType: 'AsyncOrderStatus',
    eventOccurredAt: new Date().toISOString(),
    eventData: {
      externalRefID,
      status: 'SUCCESSFUL',
      totalLineItems: 3,
      failedLineItems: 1,
      successfulLineItems: 2,
      referenceOrderId: `RA-${eventSequence}`,
      accountIdentifier: 'sim-account-1',
      customerIdentifier: 'sim-customer',
    },
    ...overrides,
  };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = { 'X-Signed-Payload': signHmacPayload(body, secret) },
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

const postEvent = (url: string, value: Record<string, unknown>) => post(url, JSON.stringify(value));

async function get(url: string): Promise<Answer> {
  const response = await fetch(url);
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

function captureLogger(): WebhookLogger & { lines: Record<string, unknown>[]; text(): string } {
  const lines: Record<string, unknown>[] = [];
  const push =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, msg, ...fields });
  return {
    lines,
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
    text: () => JSON.stringify(lines),
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('webhook receiver on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: RunningWebhookReceiver;
  const logger = captureLogger();
  const handles: WorkflowHandle[] = [];

  async function recorder(roundZeroRef: string): Promise<WorkflowHandle<typeof noticeRecorderWorkflow>> {
    const handle = await env.client.workflow.start(noticeRecorderWorkflow, {
      taskQueue,
      workflowId: orderWorkflowId(roundZeroRef),
      args: ['10 minutes'],
    });
    handles.push(handle);
    return handle;
  }
  const notices = (handle: WorkflowHandle): Promise<OrderStatusNotice[]> => handle.query(noticesQuery);
  async function signalCount(handle: WorkflowHandle): Promise<number> {
    const history = await handle.fetchHistory();
    return (history.events ?? []).filter(
      (entry) => entry.workflowExecutionSignaledEventAttributes?.signalName === 'orderStatus',
    ).length;
  }

  before(async () => {
    env = await createLocalEnv();
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath });
    running = worker.run();
    receiver = await startWebhookReceiver({ port: 0, client: env.client, verification, logger });
  });
  after(async () => {
    await receiver?.close();
    for (const handle of handles) await handle.terminate('test over').catch(() => undefined);
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await env?.teardown();
  });

  it('signals the order workflow for a valid HMAC-signed event and answers 200', async () => {
    const handle = await recorder('camp-a-0');
    const sent = event('camp-a-0');
    const answer = await postEvent(receiver.url, sent);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { outcome: 'signalled' });
    const received = await notices(handle);
    assert.equal(received.length, 1);
    assert.deepEqual(received[0], {
      externalRefID: 'camp-a-0',
      status: 'SUCCESSFUL',
      eventId: sent.eventId,
      revision: sent.revision,
      eventOccurredAt: sent.eventOccurredAt,
      totalLineItems: 3,
      failedLineItems: 1,
      successfulLineItems: 2,
    });
    const line = logger.lines.find((entry) => entry['eventId'] === sent.eventId);
    assert.ok(line, 'one log line per event');
    assert.equal(line['outcome'], 'signalled');
    assert.equal(line['externalRefID'], 'camp-a-0');
    assert.equal(line['workflowId'], 'tango-order-camp-a-0');
    assert.equal(typeof line['ms'], 'number');
  });

  it('refuses forged, missing and stale signatures with 401 and signals nothing', async () => {
    const handle = await recorder('camp-b-0');
    const genuine = JSON.stringify(event('camp-b-0'));
    const tampered = genuine.replace('"failedLineItems":1', '"failedLineItems":0');
    const otherSecret = Buffer.from('an attacker guessing the secret').toString('base64');
    // 'sign' = a correct signature of the body as sent.
    const cases: [string, string, Record<string, string> | 'sign'][] = [
      ['signature of another body', tampered, { 'X-Signed-Payload': signHmacPayload(genuine, secret) }],
      ['wrong secret', genuine, { 'X-Signed-Payload': signHmacPayload(genuine, otherSecret) }],
      ['no signature header', genuine, {}],
      ['empty signature', genuine, { 'X-Signed-Payload': '' }],
      ['not base64', genuine, { 'X-Signed-Payload': '!!not a signature!!' }],
      [
        'stale: signed correctly but occurred an hour ago',
        JSON.stringify(
          event('camp-b-0', { eventOccurredAt: new Date(Date.now() - 3_600_000).toISOString() }),
        ),
        'sign',
      ],
      [
        'from the future beyond the window',
        JSON.stringify(
          event('camp-b-0', { eventOccurredAt: new Date(Date.now() + 3_600_000).toISOString() }),
        ),
        'sign',
      ],
      [
        'unreadable eventOccurredAt',
        JSON.stringify(event('camp-b-0', { eventOccurredAt: 'yesterday' })),
        'sign',
      ],
    ];
    for (const [name, body, headers] of cases) {
      const answer = await post(receiver.url, body, headers === 'sign' ? undefined : headers);
      assert.equal(answer.status, 401, name);
    }
    assert.deepEqual(await notices(handle), []);
    assert.equal(await signalCount(handle), 0);
    const refused = logger.lines.filter((line) => line['httpStatus'] === 401);
    assert.ok(refused.length >= cases.length);
    assert.ok(refused.every((line) => typeof line['reason'] === 'string'));
    // The body and the signature never reach the log.
    assert.doesNotMatch(logger.text(), /RA-\d+|sim-customer/);
    assert.ok(!logger.text().includes(signHmacPayload(genuine, secret)));
  });

  it('routes a later round (x-3-r2) to the order workflow of round 0 (tango-order-x-3)', async () => {
    const handle = await recorder('x-3');
    const answer = await postEvent(
      receiver.url,
      event('x-3-r2', { eventData: { externalRefID: 'x-3-r2', status: 'PARTIALFAILED' } }),
    );
    assert.equal(answer.status, 200);
    const received = await notices(handle);
    assert.equal(received.length, 1);
    assert.equal(received[0]?.externalRefID, 'x-3-r2');
    assert.equal(received[0]?.status, 'PARTIALFAILED');
  });

  it('answers 200 to a duplicate eventId and signals once, sequential or concurrent', async () => {
    const handle = await recorder('camp-c-0');
    const once = JSON.stringify(event('camp-c-0'));
    assert.deepEqual((await post(receiver.url, once)).body, { outcome: 'signalled' });
    const again = await post(receiver.url, once);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { outcome: 'duplicate' });

    // Another round of the same order (another externalRefID): its own final status is news.
    const burst = JSON.stringify(event('camp-c-0-r1'));
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(receiver.url, burst)));
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal(answers.filter((answer) => answer.body['outcome'] === 'signalled').length, 1);
    assert.equal((await notices(handle)).length, 2);
    assert.equal(await signalCount(handle), 2);
  });

  it('answers 200 for an order nobody runs, or whose workflow has finished, and logs it', async () => {
    const unknown = await postEvent(receiver.url, event('never-started-0'));
    assert.equal(unknown.status, 200);
    assert.deepEqual(unknown.body, { outcome: 'unknown-order' });

    const handle = await recorder('camp-d-0');
    await handle.signal(finishSignal);
    await handle.result();
    const late = await postEvent(receiver.url, event('camp-d-0-r1'));
    assert.equal(late.status, 200);
    assert.deepEqual(late.body, { outcome: 'unknown-order' });
    const logged = logger.lines.filter((line) => line['outcome'] === 'unknown-order');
    assert.deepEqual(
      logged.map((line) => [line['level'], line['workflowId']]),
      [
        ['warn', 'tango-order-never-started-0'],
        ['warn', 'tango-order-camp-d-0'],
      ],
    );
  });

  it('answers 400 to signed bodies that are not AsyncOrderStatus events, and ignores other event types', async () => {
    const handle = await recorder('camp-e-0');
    assert.equal((await post(receiver.url, 'not json at all')).status, 400);
    assert.equal((await post(receiver.url, '{"eventId":"e-1"}')).status, 400);
    assert.equal((await post(receiver.url, JSON.stringify(event('camp-e-0', { eventId: '' })))).status, 400);
    const other = await postEvent(receiver.url, event('camp-e-0', { eventType: 'SomethingElse' }));
    assert.equal(other.status, 200);
    assert.deepEqual(other.body, { outcome: 'ignored-event-type' });
    assert.deepEqual(await notices(handle), []);
  });

  it('refuses bodies over the limit with 413, declared or streamed', async () => {
    const small = await startWebhookReceiver({
      port: 0,
      client: env.client,
      verification,
      maxBodyBytes: 2048,
      logger,
    });
    try {
      const big = Buffer.alloc(4096, 'x');
      const declared = await post(small.url, big);
      assert.equal(declared.status, 413);
      // Chunked: no Content-Length, so the receiver must count while reading.
      const streamed = await new Promise<number>((resolve, reject) => {
        const req = request(
          small.url,
          { method: 'POST', headers: { 'transfer-encoding': 'chunked' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        for (let i = 0; i < 8; i += 1) req.write(Buffer.alloc(1024, 'y'));
        req.end();
      });
      assert.equal(streamed, 413);
      // A body just under the limit still goes through.
      const handle = await recorder('camp-f-0');
      const fits = event('camp-f-0', { padding: 'p'.repeat(1500) });
      assert.equal((await postEvent(small.url, fits)).status, 200);
      assert.equal((await notices(handle)).length, 1);
    } finally {
      await small.close();
    }
  });

  it('serves /healthz and /readyz, 404 elsewhere, 405 for other methods', async () => {
    const base = new URL(receiver.url);
    assert.deepEqual((await get(new URL('/healthz', base).href)).body, { status: 'ok' });
    const ready = await get(new URL('/readyz', base).href);
    assert.equal(ready.status, 200);
    assert.equal((await get(new URL('/elsewhere', base).href)).status, 404);
    const wrongMethod = await get(receiver.url);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    const postHealth = await fetch(new URL('/healthz', base), { method: 'POST' });
    assert.equal(postHealth.status, 405);
    await postHealth.arrayBuffer();
  });

  it('answers 503 when Temporal is unreachable, and /readyz says not ready', async () => {
    const connection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}` });
    const unreachable = await startWebhookReceiver({
      port: 0,
      client: new Client({ connection }),
      verification,
      logger,
      signalTimeoutMs: 1_000,
      readinessTimeoutMs: 500,
    });
    try {
      const started = Date.now();
      const answer = await postEvent(unreachable.url, event('camp-g-0'));
      assert.equal(answer.status, 503);
      assert.ok(Date.now() - started < 5_000, 'the deadline bounds how long Tango waits');
      const ready = await get(new URL('/readyz', unreachable.url).href);
      assert.equal(ready.status, 503);
      assert.equal((await get(new URL('/healthz', unreachable.url).href)).status, 200);
      const line = logger.lines.find((entry) => entry['outcome'] === 'temporal-unavailable');
      assert.equal(line?.['level'], 'error');
      assert.equal(typeof line?.['error'], 'string');
    } finally {
      await unreachable.close();
      await connection.close();
    }
  });

  it("says not ready, naming it, when Temporal lacks the receiver's namespace", async () => {
    const wrong = await startWebhookReceiver({
      port: 0,
      client: new Client({ connection: env.connection, namespace: 'no-such-namespace' }),
      verification,
      logger,
    });
    try {
      const ready = await get(new URL('/readyz', wrong.url).href);
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, {
        status: 'not ready',
        reason: 'Temporal has no namespace "no-such-namespace"',
      });
    } finally {
      await wrong.close();
    }
  });

  it('does not remember an eventId whose signal failed: the redelivery signals', async () => {
    let failNext = true;
    const flaky = new Client({
      connection: env.connection,
      interceptors: {
        workflow: [
          {
            async signal(input, next) {
              if (failNext) {
                failNext = false;
                throw new Error('injected: Temporal frontend unavailable');
              }
              return next(input);
            },
          },
        ],
      },
    });
    const viaFlaky = await startWebhookReceiver({ port: 0, client: flaky, verification, logger });
    try {
      const handle = await recorder('camp-h-0');
      const body = JSON.stringify(event('camp-h-0'));
      assert.equal((await post(viaFlaky.url, body)).status, 503);
      assert.deepEqual(await notices(handle), []);
      const redelivered = await post(viaFlaky.url, body);
      assert.equal(redelivered.status, 200);
      assert.deepEqual(redelivered.body, { outcome: 'signalled' });
      assert.equal((await post(viaFlaky.url, body)).body['outcome'], 'duplicate');
      assert.equal((await notices(handle)).length, 1);
      assert.equal(viaFlaky.stats()['temporal-unavailable'], 1);
    } finally {
      await viaFlaky.close();
    }
  });

  it('answers 503, not 200, when the namespace is wrong (configuration, not an unknown order)', async () => {
    const misconfigured = await startWebhookReceiver({
      port: 0,
      client: new Client({ connection: env.connection, namespace: 'no-such-namespace' }),
      verification,
      logger,
    });
    try {
      await recorder('camp-j-0');
      const answer = await postEvent(misconfigured.url, event('camp-j-0'));
      assert.equal(answer.status, 503);
      assert.equal(misconfigured.stats()['unknown-order'], 0);
    } finally {
      await misconfigured.close();
    }
  });

  it('answers 503 after the Temporal server is gone', async () => {
    // Runs last: tears the dev server down under the main receiver.
    worker.shutdown();
    await running;
    await env.teardown();
    const answer = await postEvent(receiver.url, event('camp-i-0'));
    assert.equal(answer.status, 503);
    env = undefined as unknown as TestWorkflowEnvironment;
    handles.length = 0;
  });
});
