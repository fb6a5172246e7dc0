// Campaigns under Tango storms, history size against items per order, and continue-as-new, on the
// dev server with a real worker against the simulator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { campaignWorkflowId, orderWorkflowId } from '../../src/definitions.ts';
import { campaignRef, orderExternalRefId } from '../../src/campaign/ids.ts';
import { putJsonLines } from '../../src/store/json.ts';
import { campaignWorkflow } from '../../src/workflows/index.ts';
import type { CampaignResult } from '../../src/workflows/types.ts';
import {
  type CampaignStack,
  assertCampaignInvariants,
  historySize,
  lineItem,
  startCampaignStack,
} from '../helpers/campaign-stack.ts';

const ids = (items: Record<string, unknown>[]) => items.map((item) => String(item.externalRefLineItemID));

const fast = { pollInitial: '200ms', pollMax: '1s', resubmitDelay: '100ms', correctionWindow: '1h' };

async function runCampaign(
  stack: CampaignStack,
  campaignId: string,
  items: Record<string, unknown>[],
  options: Record<string, unknown>,
): Promise<CampaignResult> {
  // Items go through the store, as the client does for every campaign beyond a handful of items.
  const storeKey = `inputs/${campaignId}.jsonl`;
  await putJsonLines(stack.store, storeKey, items);
  return stack.env.client.workflow.execute(campaignWorkflow, {
    taskQueue: stack.taskQueue,
    workflowId: campaignWorkflowId(campaignId),
    args: [
      {
        campaignId,
        customerIdentifier: 'sim-customer',
        accountIdentifier: 'sim-account-1',
        items: { storeKey },
        options: { ...fast, ...options },
      },
    ],
  });
}

describe('campaigns under Tango faults and at different order sizes', () => {
  let stack: CampaignStack;
  before(async () => {
    stack = await startCampaignStack();
    await stack.startWorker();
  });
  after(async () => {
    await stack?.close();
  });

  it('survives 5xx, 429 storms, resets and lost responses without rewarding anyone twice', async () => {
    stack.simulator.configure({
      faults: {
        serverErrorRate: 0.2,
        rateLimitTps: 4,
        retryAfterSeconds: 1,
        dropConnectionRate: 0.05,
        responseLostRate: 0.15,
        // The product spaces its requests, so the storm is also scripted: the first requests get 429.
        script: [{ kind: 'rateLimit', times: 3 }],
      },
    });
    const items = [
      ...Array.from({ length: 90 }, () => lineItem('ok')),
      ...Array.from({ length: 10 }, () => lineItem('transient')),
    ];
    try {
      const result = await runCampaign(stack, 'storm', items, { chunkSize: 20, maxConcurrentOrders: 3 });
      assert.equal(result.status, 'completed');
      assert.equal(result.counts.delivered, 100);
    } finally {
      stack.simulator.configure({
        faults: { serverErrorRate: 0, rateLimitTps: 0, dropConnectionRate: 0, responseLostRate: 0 },
      });
    }
    await assertCampaignInvariants(stack, 'storm', ids(items));
    const { faults } = stack.simulator.stats();
    assert.ok(
      faults.serverErrors > 0 && faults.rateLimited > 0,
      `faults injected: ${JSON.stringify(faults)}`,
    );
    assert.ok(
      faults.responsesLost > 0,
      `some POST responses were lost after processing: ${JSON.stringify(faults)}`,
    );
  });

  it('keeps order history the same size whether an order holds 10 items or 200', async () => {
    const small = Array.from({ length: 40 }, () => lineItem('ok'));
    const large = Array.from({ length: 800 }, () => lineItem('ok'));
    await runCampaign(stack, 'hist-small', small, { chunkSize: 10 });
    await runCampaign(stack, 'hist-large', large, { chunkSize: 200 });
    const orders = async (campaignId: string) => {
      const sizes = [];
      for (let chunk = 0; chunk < 4; chunk += 1) {
        sizes.push(
          await historySize(
            stack.env,
            orderWorkflowId(orderExternalRefId(campaignRef(campaignId), chunk, 0)),
          ),
        );
      }
      return sizes;
    };
    const smallOrders = await orders('hist-small');
    const largeOrders = await orders('hist-large');
    const smallCampaign = await historySize(stack.env, campaignWorkflowId('hist-small'));
    const largeCampaign = await historySize(stack.env, campaignWorkflowId('hist-large'));
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const smallBytes = mean(smallOrders.map((order) => order.bytes));
    const largeBytes = mean(largeOrders.map((order) => order.bytes));
    console.log(
      `order history: ${mean(smallOrders.map((o) => o.events))} events / ${smallBytes} B at 10 items, ` +
        `${mean(largeOrders.map((o) => o.events))} events / ${largeBytes} B at 200 items; campaign ` +
        `${smallCampaign.events} events / ${smallCampaign.bytes} B vs ${largeCampaign.events} / ${largeCampaign.bytes} B`,
    );
    // 20x the items per order: if items reached history, bytes would grow ~20x. Polls vary by timing.
    assert.ok(largeBytes < smallBytes * 1.5, `order history bytes ${smallBytes} -> ${largeBytes}`);
    assert.ok(
      largeCampaign.bytes < smallCampaign.bytes * 1.5,
      `campaign history bytes ${smallCampaign.bytes} -> ${largeCampaign.bytes}`,
    );
    await assertCampaignInvariants(stack, 'hist-large', ids(large));
  });
});

describe('continue-as-new', () => {
  let stack: CampaignStack;
  before(async () => {
    // Ask the server to suggest continue-as-new early so that a small campaign crosses it.
    stack = await startCampaignStack({
      taskQueue: 'campaigns-can',
      serverArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'],
    });
    await stack.startWorker();
  });
  after(async () => {
    await stack?.close();
  });

  it('continues as new without losing orders, counts or items', async () => {
    const items = [
      ...Array.from({ length: 54 }, () => lineItem('ok')),
      ...Array.from({ length: 6 }, () => lineItem('transient')),
    ];
    const result = await runCampaign(stack, 'long-campaign', items, { chunkSize: 5, maxConcurrentOrders: 2 });
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.total, 60);
    assert.equal(result.counts.delivered, 60);
    assert.equal(result.orders, 12);
    await assertCampaignInvariants(stack, 'long-campaign', ids(items));
    const runs = [];
    for await (const execution of stack.env.client.workflow.list({
      query: `WorkflowId = '${campaignWorkflowId('long-campaign')}'`,
    })) {
      runs.push(execution.runId);
    }
    assert.ok(runs.length > 1, `the campaign continued as new (${runs.length} run(s))`);
  });
});
