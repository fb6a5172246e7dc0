// The order activities' money-safety rules with a scripted Tango: what may be sent again after a
// refused request, a lost POST response, a failed order, and a retried settle that resumes its cursor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { campaignDefinitionKey, orderBookKey, roundRejectedKey } from '../../src/campaign/book-keys.ts';
import { classifyErrors } from '../../src/campaign/classification.ts';
import { type BookEntry, newEntry } from '../../src/campaign/order-book.ts';
import { createOrderActivities } from '../../src/activities/orders.ts';
import type { TangoApi } from '../../src/activities/deps.ts';
import { getJson, putJson, putJsonLines, readJsonLines } from '../../src/store/json.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { TangoHttpError, TangoRequestValidationError } from '../../src/tango/errors.ts';
import type { AsyncOrderDetail, LineItemDetail, LineItemRequest } from '../../src/tango/schemas.ts';

const campaignId = 'act';
const item = (id: string): LineItemRequest =>
  ({
    externalRefLineItemID: id,
    recipient: { firstName: 'A', lastName: 'B', email: `${id}@example.test` },
    utid: 'U000001',
    amount: 10,
    deliveryMethod: 'EMAIL',
  }) as LineItemRequest;

async function setup(ids: string[]) {
  const store = new MemoryStore();
  await putJson(store, campaignDefinitionKey(campaignId), {
    campaignId,
    customerIdentifier: 'c',
    accountIdentifier: 'account-1',
    autoCorrect: false,
    utidFallbacks: {},
  });
  await putJsonLines(
    store,
    orderBookKey(campaignId, 0, 0),
    ids.map((id) => newEntry(item(id))),
  );
  return store;
}

async function book(store: MemoryStore, step: number): Promise<Map<string, BookEntry>> {
  const entries = new Map<string, BookEntry>();
  for await (const row of readJsonLines(store, orderBookKey(campaignId, 0, step))) {
    entries.set((row as BookEntry).id, row as BookEntry);
  }
  return entries;
}

const order = (patch: Partial<AsyncOrderDetail>): AsyncOrderDetail =>
  ({
    externalRefID: 'act-0',
    orderStatus: 'COMPLETE',
    orderErrors: [],
    lineItems: [],
    ...patch,
  }) as AsyncOrderDetail;
const failedItem = (id: string, code: string): LineItemDetail =>
  ({
    externalRefLineItemID: id,
    lineItemStatus: 'FAILED',
    lineItemErrors: [{ errorCode: code }],
  }) as LineItemDetail;

function activities(store: MemoryStore, tango: Partial<TangoApi>) {
  return createOrderActivities({
    store,
    tango: tango as TangoApi,
    classify: (errors) => classifyErrors(errors),
    autoFixerFor: () => undefined,
  });
}

/** Runs an activity in a mock activity context (heartbeat details from a "previous attempt"). */
function run<A, R>(fn: (input: A) => Promise<R>, input: A, heartbeatDetails?: unknown): Promise<R> {
  const env = new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails });
  return env.run(fn, input) as Promise<R>;
}

const round0 = { campaignId, chunk: 0, round: 0, step: 0, externalRefID: 'act-0' };

describe('submitOrderRound', () => {
  it('rejects only the item a refused request names, when Tango holds no such order', async () => {
    const store = await setup(['a', 'b', 'c']);
    const refusal = new TangoRequestValidationError('POST /asyncOrders body', [
      {
        code: 'custom',
        path: ['lineItems', 1, 'deliveryDate'],
        message: 'must be at least 7 days ahead',
        input: '',
      },
    ] as never);
    const { submitOrderRound } = activities(store, {
      createAsyncOrder: async () => {
        throw refusal;
      },
      getAsyncOrder: async () => {
        throw new TangoHttpError({ status: 404, body: 'not found', method: 'GET', path: '/x' });
      },
    });
    const result = await run(submitOrderRound, round0);
    assert.ok(result.requestRejected);
    const entries = await book(store, 1);
    assert.equal(entries.get('b')?.state, 'awaiting-correction');
    assert.equal(entries.get('a')?.state, 'queued');
    assert.equal(entries.get('c')?.state, 'queued');
  });

  it('never reads a refusal on a retried POST as "not created" when the order exists', async () => {
    const store = await setup(['a', 'b']);
    const { submitOrderRound } = activities(store, {
      createAsyncOrder: async () => {
        throw new TangoHttpError({
          status: 422,
          body: { errors: [{ path: 'lineItems[0].deliveryDate', message: 'too soon' }] } as never,
          method: 'POST',
          path: '/asyncOrders',
        });
      },
      getAsyncOrder: async () => order({ orderStatus: 'PENDING', totalLineItems: 2 }),
    });
    const result = await run(submitOrderRound, round0);
    assert.equal(result.requestRejected, undefined);
    const entries = await book(store, 1);
    assert.deepEqual(
      [...entries.values()].map((entry) => entry.state),
      ['submitted', 'submitted'],
    );
  });

  it('keeps the rejected items of a first attempt when a repeated POST omits failedLineItems', async () => {
    const store = await setup(['a', 'b']);
    let calls = 0;
    const { submitOrderRound } = activities(store, {
      createAsyncOrder: async () => {
        calls += 1;
        const failedLineItems =
          calls === 1
            ? [
                {
                  externalRefLineItemID: 'b',
                  errors: [{ errorCodeName: 'AMOUNT_OUT_OF_RANGE', errorCodeValue: 25 }],
                },
              ]
            : [];
        return {
          httpStatus: calls === 1 ? 201 : 200,
          created: calls === 1,
          order: { externalRefID: 'act-0', failedLineItems, duplicateLineItemRefIds: {}, extra: {} },
        } as never;
      },
    });
    await run(submitOrderRound, round0);
    await run(submitOrderRound, round0);
    const rejected = (await getJson(store, roundRejectedKey(campaignId, 0, 0))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(rejected), ['b']);
  });
});

describe('settleOrderRound', () => {
  async function submitted(ids: string[]) {
    const store = await setup(ids);
    const { submitOrderRound } = activities(store, {
      createAsyncOrder: async () =>
        ({
          httpStatus: 201,
          created: true,
          order: { externalRefID: 'act-0', failedLineItems: [], duplicateLineItemRefIds: {}, extra: {} },
        }) as never,
    });
    await run(submitOrderRound, round0);
    return store;
  }
  const settleInput = { ...round0, step: 1 };

  it('resends only what Tango confirms it does not hold, and never an item it holds', async () => {
    const store = await submitted(['a', 'b', 'c', 'd']);
    const looked: string[][] = [];
    const { settleOrderRound } = activities(store, {
      // Tango holds 3 of the 4 items: c failed, a and b were delivered, d is not in the order.
      async *lineItemPages() {
        yield { order: order({ totalLineItems: 3 }), lineItems: [failedItem('c', 'PROCESSING_ERROR')] };
      },
      lookupLineItems: async (_ref, ids) => {
        looked.push(ids);
        return ids
          .filter((id) => id !== 'd')
          .map(
            (id) => ({ externalRefLineItemID: id, lineItemStatus: 'COMPLETE', lineItemErrors: [] }) as never,
          );
      },
    });
    const result = await run(settleOrderRound, settleInput);
    assert.deepEqual(looked, [['a', 'b', 'd']]);
    const entries = await book(store, 2);
    assert.equal(entries.get('a')?.state, 'delivered');
    assert.equal(entries.get('b')?.state, 'delivered');
    assert.equal(entries.get('c')?.state, 'queued'); // transient: Tango reported it failed
    assert.equal(entries.get('d')?.state, 'queued'); // confirmed not held
    assert.equal(result.counts.delivered, 2);
  });

  it("doesn't count the items of a failed order as delivered", async () => {
    const store = await submitted(['a', 'b']);
    const { settleOrderRound } = activities(store, {
      async *lineItemPages() {
        yield {
          order: order({
            orderStatus: 'FAILED',
            totalLineItems: 2,
            orderErrors: [{ errorCode: 'ACCOUNT_NOT_ACTIVE' }],
          }),
          lineItems: [],
        };
      },
      lookupLineItems: async (_ref, ids) =>
        ids.map(
          (id) => ({ externalRefLineItemID: id, lineItemStatus: 'FAILED', lineItemErrors: [] }) as never,
        ),
    });
    await run(settleOrderRound, settleInput);
    const entries = await book(store, 2);
    assert.equal(entries.get('a')?.state, 'given-up');
    assert.match(entries.get('a')?.reason ?? '', /ACCOUNT_NOT_ACTIVE/);
  });

  it('refuses to settle while a submitted item is unaccounted for', async () => {
    const store = await submitted(['a', 'b']);
    const { settleOrderRound } = activities(store, {
      async *lineItemPages() {
        yield { order: order({ totalLineItems: 1 }), lineItems: [] };
      },
      lookupLineItems: async () => {
        throw new TangoHttpError({ status: 503, body: 'down', method: 'GET', path: '/x' });
      },
    });
    await assert.rejects(run(settleOrderRound, settleInput));
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 2)), false);
  });

  it('does not settle an order Tango is still processing, and asks to be retried', async () => {
    const store = await submitted(['a', 'b']);
    const { settleOrderRound } = activities(store, {
      async *lineItemPages() {
        yield { order: order({ orderStatus: 'PROCESSING', totalLineItems: 2 }), lineItems: [] };
      },
    });
    await assert.rejects(run(settleOrderRound, settleInput), (error: unknown) => {
      const failure = error as { type?: string; nonRetryable?: boolean };
      return failure.type === 'OrderNotSettled' && failure.nonRetryable !== true;
    });
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 2)), false, 'no item was settled');
  });

  it('resumes paging from the heartbeated cursor after a retry', async () => {
    const store = await submitted(['a', 'b', 'c']);
    const cursors: (string | undefined)[] = [];
    const { settleOrderRound } = activities(store, {
      async *lineItemPages(_ref, options) {
        cursors.push(options?.startCursor);
        yield { order: order({ totalLineItems: 3 }), lineItems: [failedItem('c', 'PROCESSING_ERROR')] };
      },
    });
    // A retry of an attempt that stored page 0 and heartbeated the cursor of page 1.
    await putJsonLines(store, 'campaigns/act/orders/000000/round-000/failed/page-000000.jsonl', [
      failedItem('b', 'RECIPIENT_BLOCKED'),
    ]);
    await run(settleOrderRound, settleInput, { cursor: 'cursor-1', page: 1 });
    assert.deepEqual(cursors, ['cursor-1']);
    const entries = await book(store, 2);
    assert.equal(entries.get('a')?.state, 'delivered');
    assert.equal(entries.get('b')?.state, 'given-up');
    assert.equal(entries.get('c')?.state, 'queued');
  });
});
