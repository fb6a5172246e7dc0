// Item-level reconciliation end to end on the dev server with a real worker against the simulator:
// a cancel while orders are with Tango, GET lagging lost POSTs, an externalRefID another client
// used first, a bad input from the Temporal CLI, scheduled deliveries, and a cancel during staging.
// Each campaign is judged item by item: its report.json rows against the simulator's ledger.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { campaignRef, orderExternalRefId } from '../../src/campaign/ids.ts';
import {
  campaignWorkflowId,
  orderProgressQuery,
  orderWorkflowId,
  progressQuery,
  searchAttributes,
} from '../../src/definitions.ts';
import { putJsonLines } from '../../src/store/json.ts';
import { campaignWorkflow } from '../../src/workflows/index.ts';
import type { CampaignOptionsInput } from '../../src/workflows/types.ts';
import {
  type CampaignStack,
  assertCampaignInvariants,
  lineItem,
  startCampaignStack,
  waitForProgress,
} from '../helpers/campaign-stack.ts';
import { temporalServerPaths } from '../helpers/temporal.ts';
import { lineItems } from '../helpers/line-items.ts';

const execFileAsync = promisify(execFile);

const fast: CampaignOptionsInput = {
  pollInitial: '300ms',
  pollMax: '1s',
  resubmitDelay: '100ms',
  correctionWindow: '1h',
};

const ids = (items: Record<string, unknown>[]) => items.map((item) => String(item.externalRefLineItemID));

/** Items with ids of their own (`<prefix>-<n>`), deliverable unless `transient` says otherwise. */
function items(prefix: string, count: number, transientEvery = 0): Record<string, unknown>[] {
  return lineItems(prefix, count, (index, id) => {
    const transient = transientEvery > 0 && index % transientEvery === transientEvery - 1;
    return {
      recipient: {
        firstName: 'Recon',
        lastName: `Recipient ${index}`,
        email: `${id}@${transient ? 'transient.test' : 'example.test'}`,
      },
      amount: 5 + (index % 10),
    };
  });
}

/** A YYYY-MM-DD date `days` days after today (UTC). */
function dayAhead(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

describe('reconciliation on the dev server: report = ledger item by item', () => {
  let stack: CampaignStack;
  before(async () => {
    stack = await startCampaignStack({ taskQueue: 'reconciliation', recordRequests: true });
    await stack.startWorker();
  });
  after(async () => {
    await stack?.close();
  });

  async function start(
    campaignId: string,
    list: Record<string, unknown>[],
    options: CampaignOptionsInput,
  ): Promise<WorkflowHandle<typeof campaignWorkflow>> {
    const storeKey = `inputs/${campaignId}.jsonl`;
    await putJsonLines(stack.store, storeKey, list);
    return stack.env.client.workflow.start(campaignWorkflow, {
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

  /** The status of each chunk's order workflow; undefined for a chunk never started. */
  async function orderStatuses(campaignId: string, chunks: number): Promise<(string | undefined)[]> {
    const statuses: (string | undefined)[] = [];
    for (let chunk = 0; chunk < chunks; chunk += 1) {
      const workflowId = orderWorkflowId(orderExternalRefId(campaignRef(campaignId), chunk, 0));
      const status = await stack.env.client.workflow
        .getHandle(workflowId)
        .describe()
        .then(
          (description) => description.status.name,
          () => undefined,
        );
      statuses.push(status);
    }
    return statuses;
  }

  it('a cancel mid-campaign lets orders with Tango settle and never starts the rest', async () => {
    // Tango is slow: orders are with it (PENDING / PROCESSING) when the cancel arrives.
    stack.simulator.configure({ processingDelayMs: 500, throughput: 150 });
    const campaignId = 'recon-cancel-mid';
    const list = items('cancel-mid', 2000);
    const ordersBefore = stack.simulator.stats().orders.count;
    const handle = await start(campaignId, list, { chunkSize: 200, maxConcurrentOrders: 3 });
    try {
      const deadline = Date.now() + 60_000;
      while (stack.simulator.stats().orders.count - ordersBefore < 2) {
        assert.ok(Date.now() < deadline, 'no order reached Tango within 60 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await handle.cancel();
      const result = await handle.result();
      assert.equal(result.status, 'cancelled');
    } finally {
      stack.simulator.configure({ processingDelayMs: 20, throughput: 0 });
    }

    const statuses = await orderStatuses(campaignId, 10);
    const started = statuses.filter((status) => status !== undefined);
    assert.ok(started.length >= 2 && started.length < 10, `orders started: ${JSON.stringify(statuses)}`);
    assert.deepEqual(
      started,
      started.map(() => 'COMPLETED'),
      'every order workflow completed',
    );

    const byId = await assertCampaignInvariants(stack, campaignId, ids(list));
    const ref = campaignRef(campaignId);
    const atTango = new Set(stack.simulator.ledger.entries().map((entry) => entry.externalRefID));
    for (let chunk = 0; chunk < 10; chunk += 1) {
      const states = new Set(
        list
          .slice(chunk * 200, (chunk + 1) * 200)
          .map((item) => byId.get(String(item.externalRefLineItemID))?.state),
      );
      const posted = atTango.has(orderExternalRefId(ref, chunk, 0));
      // An order with Tango: every item delivered; one never POSTed (or never started): all cancelled.
      assert.deepEqual(
        [...states],
        [posted ? 'delivered' : 'cancelled'],
        `chunk ${chunk} (${statuses[chunk]})`,
      );
    }
    const delivered = [...byId.values()].filter((row) => row.state === 'delivered').length;
    console.log(
      `cancel mid-campaign: ${started.length} orders started, ${delivered} delivered, ${2000 - delivered} cancelled`,
    );
  });

  it('GET lagging the POST, with lost POST responses, pays nobody twice', async () => {
    stack.simulator.configure({ faults: { getLagMs: 4000, responseLostRate: 0.3 } });
    const campaignId = 'recon-get-lag';
    const list = items('get-lag', 300, 25);
    const before = stack.simulator.stats();
    const started = Date.now();
    let result;
    try {
      const handle = await start(campaignId, list, { chunkSize: 50, maxConcurrentOrders: 3 });
      result = await handle.result();
    } finally {
      stack.simulator.configure({ faults: { getLagMs: 0, responseLostRate: 0 } });
    }
    const wallMs = Date.now() - started;
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.delivered, 300);
    await assertCampaignInvariants(stack, campaignId, ids(list));

    const after = stack.simulator.stats();
    const getRoute = 'GET /raas/v2/asyncOrders/customers/{c}/accounts/{a}/{externalRefID}';
    const lagged = (after.requests[getRoute]?.['404'] ?? 0) - (before.requests[getRoute]?.['404'] ?? 0);
    const lost = after.faults.responsesLost - before.faults.responsesLost;
    assert.ok(lost > 0, `some POST responses were lost (${lost})`);
    assert.ok(lagged > 0, `GET answered 404 while the order was not visible (${lagged})`);
    console.log(
      `GET lag 4 s + 30% lost POST responses: 300 items in ${(wallMs / 1000).toFixed(1)} s, ` +
        `${lost} responses lost, ${lagged} GETs answered 404, ${result.rounds} rounds`,
    );
  });

  it('an order under our externalRefID that we did not create blocks its chunk; a cancel ends it', async () => {
    const campaignId = 'recon-collision';
    const list = items('collision', 60);
    const ref0 = orderExternalRefId(campaignRef(campaignId), 0, 0);
    // Another client's order under chunk 0's round-0 externalRefID, with other items of the same count.
    stack.simulator.preloadOrder({
      customerIdentifier: 'sim-customer',
      accountIdentifier: 'sim-account-1',
      externalRefID: ref0,
      lineItems: items('someone-else', 20),
    });
    const handle = await start(campaignId, list, { chunkSize: 20, maxConcurrentOrders: 3 });
    await waitForProgress(
      () => handle.query(progressQuery),
      (progress) => progress.orders.finished === 2,
    );
    const order = stack.env.client.workflow.getHandle(orderWorkflowId(ref0));
    const blocked = await waitForProgressOf(() => order.query(orderProgressQuery));
    assert.equal(blocked.phase, 'blocked');
    assert.match(blocked.blockedReason ?? '', /not this campaign's/);
    assert.match(blocked.blockedReason ?? '', /existing order/);
    const description = await order.describe();
    assert.equal(description.status.name, 'RUNNING');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.orderBlocked), 'OrderCollision');

    const chunk0 = new Set(ids(list.slice(0, 20)));
    const ledgerIds = () => stack.simulator.ledger.entries().map((entry) => entry.externalRefLineItemID);
    assert.deepEqual(
      ledgerIds().filter((id) => chunk0.has(id)),
      [],
      "none of chunk 0's items is in the ledger",
    );
    const postsOf = (externalRefID: string) =>
      stack
        .requests!.entries()
        .filter((entry) => entry.method === 'POST' && entry.externalRefID === externalRefID);
    assert.equal(postsOf(ref0).length, 1, 'chunk 0 was POSTed once, never again');

    await handle.cancel();
    const result = await handle.result();
    assert.equal(result.status, 'cancelled');
    assert.equal((await order.describe()).status.name, 'COMPLETED');
    const byId = await assertCampaignInvariants(stack, campaignId, ids(list));
    for (const id of chunk0) {
      const row = byId.get(id)!;
      assert.equal(row.state, 'given-up', id);
      assert.match(row.reason, /fate unknown/, id);
      assert.match(row.reason, /not this campaign's/, id);
    }
    for (const id of ids(list.slice(20))) assert.equal(byId.get(id)?.state, 'delivered', id);
    assert.equal(postsOf(ref0).length, 1, 'nothing was resent for chunk 0 after the cancel');
    assert.deepEqual(
      ledgerIds().filter((id) => chunk0.has(id)),
      [],
      "chunk 0's items are still not in the ledger",
    );
  });

  it('a bad input started with `temporal workflow start` fails at once, naming the field', async () => {
    const temporal = async (...args: string[]) =>
      (
        await execFileAsync(temporalServerPaths().cli, [...args, '--address', stack.env.address], {
          timeout: 30_000,
        })
      ).stdout;
    const cases: { name: string; input: Record<string, unknown>; field: RegExp }[] = [
      {
        name: 'cli-bad-account',
        input: { accountIdentifier: 'abc' },
        field: /accountIdentifier: .*5/,
      },
      { name: 'cli-bad-chunk', input: { options: { chunkSize: 0 } }, field: /options\.chunkSize/ },
    ];
    for (const { name, input, field } of cases) {
      const started = Date.now();
      await temporal(
        'workflow',
        'start',
        '--type',
        'campaignWorkflow',
        '--task-queue',
        stack.taskQueue,
        '--workflow-id',
        campaignWorkflowId(name),
        '--input',
        JSON.stringify({
          campaignId: name,
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
          items: { inline: [lineItem('ok')] },
          ...input,
        }),
      );
      const handle = stack.env.client.workflow.getHandle(campaignWorkflowId(name));
      let status = '';
      while (Date.now() - started < 15_000) {
        status = (await handle.describe()).status.name;
        if (status !== 'RUNNING') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(status, 'FAILED', `${name} is ${status} after ${Date.now() - started} ms`);
      const error = await handle.result().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof WorkflowFailedError, String(error));
      const message = String(error.cause?.message);
      assert.match(message, /campaignWorkflow input is invalid/);
      assert.match(message, field);
      console.log(`${name}: FAILED in ${Date.now() - started} ms: ${message}`);
    }
  });

  it('scheduled deliveries are watched, and a cancel reports them scheduled as Tango holds them', async () => {
    const campaignId = 'recon-scheduled';
    const date = dayAhead(9);
    const list = items('scheduled', 40);
    // Chunk 1 entirely scheduled, chunk 2 half: 15 items for later.
    const later = new Set([...ids(list.slice(10, 20)), ...ids(list.slice(20, 25))]);
    for (const item of list) if (later.has(String(item.externalRefLineItemID))) item.deliveryDate = date;
    const handle = await start(campaignId, list, { chunkSize: 10, maxConcurrentOrders: 4 });
    const progress = await waitForProgress(
      () => handle.query(progressQuery),
      // The orders without scheduled items finish (their "done" may trail their last counts).
      (current) =>
        current.counts.scheduled === 15 && current.counts.delivered === 25 && current.orders.inFlight === 2,
    );
    assert.equal(progress.status, 'running');
    assert.equal(progress.orders.inFlight, 2, 'the orders with scheduled items keep watching them');
    // Still watching a moment later: nothing settles a scheduled item before its date.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const still = await handle.query(progressQuery);
    assert.equal(still.status, 'running');
    assert.equal(still.counts.scheduled, 15);

    await handle.cancel();
    const result = await handle.result();
    assert.equal(result.status, 'cancelled');
    assert.equal(result.counts.scheduled, 15);
    assert.equal(result.counts.delivered, 25);
    const byId = await assertCampaignInvariants(stack, campaignId, ids(list));
    for (const id of later) {
      const row = byId.get(id)!;
      assert.equal(row.state, 'scheduled', id);
      assert.equal(row.scheduledFor.slice(0, 10), date, id);
      assert.ok(row.tangoLineItemId, `${id} names Tango's line item`);
    }
    const statuses = await orderStatuses(campaignId, 4);
    assert.deepEqual(statuses, ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
  });

  it('a cancel during staging writes a full report, every item cancelled', async () => {
    const campaignId = 'recon-cancel-staging';
    const list = items('staging', 20_000);
    const postsBefore = stack.requests!.entries().filter((entry) => entry.method === 'POST').length;
    const handle = await start(campaignId, list, { chunkSize: 500 });
    await handle.cancel();
    const result = await handle.result();
    assert.equal(result.status, 'cancelled');
    assert.equal(result.counts.total, 20_000);
    assert.equal(result.counts.cancelled, 20_000);
    assert.equal(result.report.rows, 20_000);
    const byId = await assertCampaignInvariants(stack, campaignId, ids(list));
    assert.deepEqual([...new Set([...byId.values()].map((row) => row.state))], ['cancelled']);
    assert.match(byId.get('staging-0')!.reason, /cancel/);
    assert.deepEqual(await orderStatuses(campaignId, 1), [undefined], 'no order was started');
    assert.equal(
      stack.requests!.entries().filter((entry) => entry.method === 'POST').length,
      postsBefore,
      'nothing was POSTed',
    );
  });
});

/** Polls an order's own progress until it is blocked. */
async function waitForProgressOf<T extends { phase: string }>(
  read: () => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (last.phase === 'blocked') return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the order did not block; last progress: ${JSON.stringify(last)}`);
}
