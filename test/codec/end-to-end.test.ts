// Payload encryption on a real Temporal dev server: a client and a worker with the codec run a workflow;
// the server's history holds only ciphertext, a client without the key cannot read it, and the codec
// server decodes it for the Temporal CLI (a client nobody here wrote).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { AesGcmPayloadCodec, type RunningCodecServer, startCodecServer } from '../../src/codec/index.ts';
import { createLocalEnv, temporalServerPaths } from '../helpers/temporal.ts';
import {
  type NoticeActivities,
  type Recipient,
  rewardNoticeWorkflow,
} from './fixtures/reward-notice-workflow.ts';

const { temporal } = proto;
const workflowsPath = fileURLToPath(new URL('./fixtures/reward-notice-workflow.ts', import.meta.url));
const taskQueue = 'codec-e2e';
const workflowId = 'codec-e2e-reward-notice';
const recipient: Recipient = { email: 'katherine.johnson@example.org', firstName: 'Katherine', amount: 75 };
const codec = new AesGcmPayloadCodec([{ id: 'e2e-2026', key: randomBytes(32) }]);
const activities: NoticeActivities = {
  async composeNotice(r) {
    return `Dear ${r.firstName}, a ${r.amount} USD reward is on its way to ${r.email}.`;
  },
};

/** Every payload in the history's events, wherever the event type keeps it. */
function historyPayloads(
  history: proto.temporal.api.history.v1.IHistory,
): { event: string; payload: Payload }[] {
  const found: { event: string; payload: Payload }[] = [];
  for (const event of history.events ?? []) {
    const sources: [string, Payload[] | null | undefined][] = [
      ['started.input', event.workflowExecutionStartedEventAttributes?.input?.payloads],
      ['activityScheduled.input', event.activityTaskScheduledEventAttributes?.input?.payloads],
      ['activityCompleted.result', event.activityTaskCompletedEventAttributes?.result?.payloads],
      ['completed.result', event.workflowExecutionCompletedEventAttributes?.result?.payloads],
    ];
    for (const [name, payloads] of sources)
      for (const payload of payloads ?? []) found.push({ event: name, payload });
  }
  return found;
}

/** Payloads anywhere in the CLI's JSON output (proto JSON: bytes in base64), with encoding and data as text. */
function payloadsIn(output: unknown): { encoding: string; data: string }[] {
  if (Array.isArray(output)) return output.flatMap(payloadsIn);
  if (typeof output !== 'object' || output === null) return [];
  const found: { encoding: string; data: string }[] = [];
  for (const [key, value] of Object.entries(output)) {
    if (key === 'payloads' && Array.isArray(value)) {
      for (const payload of value as { metadata?: { encoding?: string }; data?: string }[]) {
        found.push({
          encoding: Buffer.from(payload.metadata?.encoding ?? '', 'base64').toString('utf8'),
          data: Buffer.from(payload.data ?? '', 'base64').toString('utf8'),
        });
      }
    } else {
      found.push(...payloadsIn(value));
    }
  }
  return found;
}

function metadataText(payload: Payload, key: string): string {
  return Buffer.from(payload.metadata?.[key] ?? []).toString('utf8');
}

describe('payload encryption end to end on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let codecServer: RunningCodecServer;
  let history: proto.temporal.api.history.v1.IHistory;
  let result: { to: string; notice: string };

  before(async () => {
    env = await createLocalEnv();
    codecServer = await startCodecServer({ codec, corsOrigins: ['http://localhost:8233'], port: 0 });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath,
      activities,
      dataConverter: { payloadCodecs: [codec] },
    });
    const client = new Client({ connection: env.connection, dataConverter: { payloadCodecs: [codec] } });
    result = await worker.runUntil(
      client.workflow.execute(rewardNoticeWorkflow, { taskQueue, workflowId, args: [recipient] }),
    );
    // env.client has the default data converter: it sees what the server stores.
    history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  });
  after(async () => {
    await codecServer?.close();
    await env?.teardown();
  });

  it('gives the client with the codec the decrypted result', () => {
    assert.equal(result.to, recipient.email);
    assert.match(
      result.notice,
      /Dear Katherine, a 75 USD reward is on its way to katherine\.johnson@example\.org/,
    );
  });

  it('stores every input and result as binary/encrypted with the key id, the email nowhere in clear', () => {
    const payloads = historyPayloads(history);
    assert.deepEqual(
      payloads.map(({ event }) => event),
      ['started.input', 'activityScheduled.input', 'activityCompleted.result', 'completed.result'],
    );
    for (const { event, payload } of payloads) {
      assert.equal(metadataText(payload, 'encoding'), 'binary/encrypted', event);
      assert.equal(metadataText(payload, 'encryption-key-id'), 'e2e-2026', event);
    }
    // The whole history as the server returns it, every field of every event.
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    assert.ok(raw.length > 500, `history has ${raw.length} bytes`);
    for (const secret of [recipient.email, 'katherine', 'Katherine', 'Dear ']) {
      assert.equal(raw.includes(secret), false, `"${secret}" appears in clear in the stored history`);
    }
  });

  it('leaves a client without the key unable to read the result', async () => {
    await assert.rejects(env.client.workflow.getHandle(workflowId).result(), /binary\/encrypted|encoding/i);
  });

  it('decodes the stored payloads through the codec server, as the Web UI does', async () => {
    const stored = historyPayloads(history).find(({ event }) => event === 'started.input')?.payload;
    assert.ok(stored);
    const response = await fetch(`${codecServer.url}/decode`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Namespace': 'default',
        Origin: 'http://localhost:8233',
      },
      body: JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(stored.metadata ?? {}).map(([key, value]) => [
                key,
                Buffer.from(value).toString('base64'),
              ]),
            ),
            data: Buffer.from(stored.data ?? []).toString('base64'),
          },
        ],
      }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    const decoded = body.payloads[0];
    assert.ok(decoded);
    assert.equal(Buffer.from(decoded.metadata.encoding ?? '', 'base64').toString(), 'json/plain');
    assert.deepEqual(JSON.parse(Buffer.from(decoded.data, 'base64').toString('utf8')), recipient);
  });

  it('lets `temporal workflow show --codec-endpoint` display the decrypted history', async () => {
    const { cli } = temporalServerPaths();
    // Asynchronously: the codec server answering the CLI runs in this very process.
    const show = (extra: string[]) =>
      promisify(execFile)(
        cli,
        [
          'workflow',
          'show',
          '--address',
          env.address,
          '--namespace',
          'default',
          '-w',
          workflowId,
          '-o',
          'json',
          ...extra,
        ],
        { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      );
    const withoutCodec = payloadsIn(JSON.parse((await show([])).stdout));
    assert.equal(withoutCodec.length >= 4, true, `${withoutCodec.length} payloads`);
    for (const payload of withoutCodec) assert.equal(payload.encoding, 'binary/encrypted');

    const withCodec = payloadsIn(
      JSON.parse((await show(['--codec-endpoint', `${codecServer.url}/{namespace}`])).stdout),
    );
    assert.equal(withCodec.length, withoutCodec.length);
    for (const payload of withCodec) assert.equal(payload.encoding, 'json/plain');
    assert.ok(withCodec.some((payload) => payload.data.includes(recipient.email)));
    assert.ok(withCodec.some((payload) => payload.data.includes('Dear Katherine')));

    // With a token, the CLI authenticates through --codec-auth. (Refusals are covered in server.test.ts:
    // the CLI retries a refused codec call until its 10 s deadline, too slow to repeat here.)
    const guarded = await startCodecServer({
      codec,
      token: 'e2e-codec-token-0123456789',
      corsOrigins: [],
      port: 0,
    });
    try {
      const endpoint = ['--codec-endpoint', `${guarded.url}/{namespace}`];
      const authorized = await show([...endpoint, '--codec-auth', 'Bearer e2e-codec-token-0123456789']);
      assert.ok(
        payloadsIn(JSON.parse(authorized.stdout)).some((payload) => payload.data.includes(recipient.email)),
      );
    } finally {
      await guarded.close();
    }
  });
});
