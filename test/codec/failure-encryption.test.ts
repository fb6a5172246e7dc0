// With CODEC_KEYS, failure messages and stack traces are encrypted too: an activity failure that names
// a recipient is not readable in the raw history, and a client with the key still reads the message.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { codecDataConverter, encryptedFailureConverterPath } from '../../src/codec/index.ts';
import { loadProcessConfig } from '../../src/config.ts';
import { startupWarnings } from '../../src/worker.ts';
import { createLocalEnv } from '../helpers/temporal.ts';
import { type FailingActivities, failingActivityWorkflow } from './fixtures/failing-activity-workflow.ts';

const { temporal } = proto;
const workflowsPath = fileURLToPath(new URL('./fixtures/failing-activity-workflow.ts', import.meta.url));
const taskQueue = 'failure-encryption';
const email = 'grace.hopper@example.org';
const secretText = `item r-17 recipient.email "${email}" is refused by Tango: RECIPIENT_BLOCKED`;
const keys = [{ id: 'fail-2026', key: randomBytes(32) }];
const activities: FailingActivities = {
  async checkRecipient(address) {
    throw ApplicationFailure.create({
      type: 'TangoLineItemRefused',
      message: secretText.replace(email, address),
      nonRetryable: true,
    });
  },
};

describe('failure encryption on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let raw: Buffer;
  let failure: unknown;

  before(async () => {
    env = await createLocalEnv();
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath,
      activities,
      dataConverter: codecDataConverter({ keys }),
    });
    const client = new Client({ connection: env.connection, dataConverter: codecDataConverter({ keys }) });
    const workflowId = `failure-encryption-${Date.now()}`;
    failure = await worker.runUntil(
      client.workflow.execute(failingActivityWorkflow, { taskQueue, workflowId, args: [email] }).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    // env.client has the default data converter: it sees what the server stores.
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  });
  after(async () => {
    await env?.teardown();
  });

  it('keeps the activity failure message, the workflow failure and stack traces out of the raw history', () => {
    assert.ok(raw.length > 500);
    for (const secret of [email, 'grace.hopper', 'RECIPIENT_BLOCKED', 'r-17', 'checkRecipient (', 'at ']) {
      assert.equal(raw.includes(secret), false, `"${secret}" appears in clear in the stored history`);
    }
    assert.ok(raw.includes('Encoded failure'), 'the messages were replaced by the encoded placeholder');
  });

  it('gives the client with the key the message', () => {
    assert.ok(failure instanceof WorkflowFailedError, String(failure));
    const activity = failure.cause;
    assert.ok(activity instanceof ActivityFailure, String(activity));
    const cause = activity.cause;
    assert.ok(cause instanceof ApplicationFailure, String(cause));
    assert.equal(cause.message, secretText);
    assert.equal(cause.type, 'TangoLineItemRefused');
  });

  it('builds the encrypting converter only with keys, and warns about a real Tango without them', async () => {
    assert.deepEqual(codecDataConverter({ keys: [] }), {});
    const converter = (await import(encryptedFailureConverterPath)) as {
      failureConverter: { options: { encodeCommonAttributes: boolean } };
    };
    assert.equal(converter.failureConverter.options.encodeCommonAttributes, true);
    const real = loadProcessConfig({
      TANGO_BASE_URL: 'https://integration-api.tangocard.com/raas/v2',
      TANGO_PLATFORM_NAME: 'acme',
      TANGO_PLATFORM_KEY: 'k'.repeat(20),
      TANGO_WEBHOOK_VERIFICATION: 'none',
    });
    assert.match(startupWarnings(real).join('\n'), /payload encryption is off \(CODEC_KEYS is not set\)/);
    assert.deepEqual(startupWarnings(loadProcessConfig({})), [], 'the local simulator needs no warning');
  });
});
