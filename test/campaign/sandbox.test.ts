// The pure campaign modules run inside the workflow sandbox and give the same answers there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createTimeSkippingEnv } from '../helpers/temporal.ts';
import { pureModulesWorkflow } from './sandbox-workflow.ts';

describe('pure campaign modules in the workflow sandbox', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTimeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  it('bundle without Node imports and compute the same results as outside', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'campaign-sandbox',
      workflowsPath: fileURLToPath(new URL('./sandbox-workflow.ts', import.meta.url)),
    });
    const inSandbox = await worker.runUntil(
      env.client.workflow.execute(pureModulesWorkflow, {
        taskQueue: 'campaign-sandbox',
        workflowId: 'campaign-sandbox-1',
        args: ['Spring_Promo.2026'],
      }),
    );
    assert.deepEqual(inSandbox, await pureModulesWorkflow('Spring_Promo.2026'));
    assert.deepEqual((inSandbox as { classes: string[] }).classes, ['needs-funds', 'needs-correction']);
  });
});
