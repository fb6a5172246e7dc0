// Proves both real Temporal servers start from the project's own install and run a workflow.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { createLocalEnv, createTimeSkippingEnv } from '../helpers/temporal.ts';
import { releaseSignal, waitForReleaseWorkflow } from '../workflows/signal-wait.ts';

const workflowsPath = fileURLToPath(new URL('../workflows/signal-wait.ts', import.meta.url));

async function runWithWorker<T>(env: TestWorkflowEnvironment, taskQueue: string, body: () => Promise<T>) {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath });
  return worker.runUntil(body);
}

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTimeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  it('skips a three-day wait when no signal comes', async () => {
    const result = await runWithWorker(env, 'foundation-ts', () =>
      env.client.workflow.execute(waitForReleaseWorkflow, {
        taskQueue: 'foundation-ts',
        workflowId: 'wait-timeout',
        args: ['3 days'],
      }),
    );
    assert.equal(result, 'timed out after 3 days');
  });

  it('wakes on the signal before the timeout', async () => {
    const result = await runWithWorker(env, 'foundation-ts', async () => {
      const handle = await env.client.workflow.start(waitForReleaseWorkflow, {
        taskQueue: 'foundation-ts',
        workflowId: 'wait-signal',
        args: ['3 days'],
      });
      await handle.signal(releaseSignal, 'operator');
      return handle.result();
    });
    assert.equal(result, 'released by operator');
  });
});

describe('dev server with a real worker', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createLocalEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  it('runs the workflow and delivers the signal', async () => {
    const result = await runWithWorker(env, 'foundation-dev', async () => {
      const handle = await env.client.workflow.start(waitForReleaseWorkflow, {
        taskQueue: 'foundation-dev',
        workflowId: 'wait-signal-dev',
        args: ['3 days'],
      });
      await handle.signal(releaseSignal, 'service');
      return handle.result();
    });
    assert.equal(result, 'released by service');
    const history = await env.client.workflow.getHandle('wait-signal-dev').fetchHistory();
    assert.ok(history.events?.some((event) => event.workflowExecutionSignaledEventAttributes));
  });
});
