// The order activities' money-safety rules with a scripted Tango: what may be sent again after a
// refused request, a lost POST response, a failed order, and a retried settle that resumes its cursor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { campaignDefinitionKey, orderBookKey, roundRejectedKey } from '../../src/store/keys.ts';
import { classifyErrors } from '../../src/campaign/classification.ts';
import { type BookEntry, newEntry } from '../../src/campaign/order-book.ts';
import { createOrderActivities } from '../../src/activities/orders.ts';
import type { TangoApi } from '../../src/activities/deps.ts';
import { getJson, putJson, putJsonLines, readJsonLines } from '../../src/store/json.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { TangoHttpError, TangoRequestValidationError } from '../../src/tango/errors.ts';
import type { AsyncOrderDetail, LineItemDetail, LineItemRequest } from '../../src/tango/schemas.ts';
import { lineItem as validLineItem } from '../helpers/line-items.ts';

const campaignId = 'act';
const item = (id: string): LineItemRequest => validLineItem(id);

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

/** The worker's clock, moved by tests (the visibility grace is 10 minutes). */
const clock = { now: Date.parse('2026-12-01T10:00:00Z') };
const GRACE_MS = 10 * 60_000;

function activities(store: MemoryStore, tango: Partial<TangoApi>) {
  return createOrderActivities({
    store,
    tango: tango as TangoApi,
    classify: (errors) => classifyErrors(errors),
    autoFixerFor: () => undefined,
    visibilityGraceMs: GRACE_MS,
    now: () => clock.now,
  });
}

/** One page of an order as GET returns it, with a cursor to the next when there is one. */
const pageOf = (patch: Partial<AsyncOrderDetail>, lineItems: LineItemDetail[], nextCursor?: string) =>
  order({
    ...patch,
    lineItems,
    ...(nextCursor ? { pagination: { nextCursor, nextPageAvailable: true } as never } : {}),
  });
const notFound = () => new TangoHttpError({ status: 404, body: 'not found', method: 'GET', path: '/x' });
const created = (patch: Record<string, unknown> = {}) =>
  ({
    httpStatus: 201,
    created: true,
    order: {
      externalRefID: 'act-0',
      createdAt: new Date(clock.now).toISOString(),
      failedLineItems: [],
      duplicateLineItemRefIds: {},
      extra: {},
      ...patch,
    },
  }) as never;
const lineItem = (id: string, status: string, patch: Partial<LineItemDetail> = {}): LineItemDetail =>
  ({ externalRefLineItemID: id, lineItemStatus: status, lineItemErrors: [], ...patch }) as LineItemDetail;
const failureType = (type: string, retryable: boolean) => (error: unknown) => {
  const failure = error as { type?: string; nonRetryable?: boolean };
  assert.equal(failure.type, type);
  assert.equal(
    failure.nonRetryable === true,
    !retryable,
    `${type} should be ${retryable ? '' : 'non-'}retryable`,
  );
  return true;
};

/** Runs an activity in a mock activity context (heartbeat details from a "previous attempt"). */
function run<A, R>(fn: (input: A) => Promise<R>, input: A, heartbeatDetails?: unknown): Promise<R> {
  const env = new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails });
  return env.run(fn, input) as Promise<R>;
}

const round0 = { campaignId, chunk: 0, round: 0, step: 0, externalRefID: 'act-0' };

describe('submitOrderRound', () => {
  it('rejects only the item a refused first POST names, without asking Tango (nothing can exist)', async () => {
    const store = await setup(['a', 'b', 'c']);
    const refusal = new TangoRequestValidationError('POST /asyncOrders body', [
      {
        code: 'custom',
        path: ['lineItems', 1, 'deliveryDate'],
        message: 'must be at least 7 days ahead',
        input: '',
      },
    ] as never);
    let gets = 0;
    const { submitOrderRound } = activities(store, {
      createAsyncOrder: async () => {
        throw refusal;
      },
      getAsyncOrder: async () => {
        gets += 1;
        throw notFound();
      },
    });
    const result = await run(submitOrderRound, round0);
    assert.ok(result.requestRejected);
    assert.equal(gets, 0, 'a refusal of the first attempt needs no GET');
    const entries = await book(store, 1);
    assert.equal(entries.get('b')?.state, 'awaiting-correction');
    assert.equal(entries.get('a')?.state, 'queued');
    assert.equal(entries.get('c')?.state, 'queued');
  });

  async function afterLostFirstAttempt(ids: string[], tango: Partial<TangoApi>) {
    const store = await setup(ids);
    const first = activities(store, {
      createAsyncOrder: async () => {
        throw new Error('socket hang up');
      },
    });
    await assert.rejects(run(first.submitOrderRound, round0));
    return { store, ...activities(store, tango) };
  }

  it('never reads a refusal on a retried POST as "not created" when the order exists', async () => {
    const { store, submitOrderRound } = await afterLostFirstAttempt(['a', 'b'], {
      createAsyncOrder: async () => {
        throw new TangoHttpError({
          status: 422,
          body: { errors: [{ path: 'lineItems[0].deliveryDate', message: 'too soon' }] } as never,
          method: 'POST',
          path: '/asyncOrders',
        });
      },
      getAsyncOrder: async () =>
        order({ orderStatus: 'PENDING', totalLineItems: 2, createdAt: new Date(clock.now).toISOString() }),
    });
    const result = await run(submitOrderRound, round0);
    assert.equal(result.requestRejected, undefined);
    const entries = await book(store, 1);
    assert.deepEqual(
      [...entries.values()].map((entry) => entry.state),
      ['submitted', 'submitted'],
    );
  });

  it('reads a 404 after a refused retry as "not visible yet" within the grace, and retries', async () => {
    const { store, submitOrderRound } = await afterLostFirstAttempt(['a', 'b'], {
      createAsyncOrder: async () => {
        throw new TangoHttpError({ status: 422, body: 'no', method: 'POST', path: '/asyncOrders' });
      },
      getAsyncOrder: async () => {
        throw notFound();
      },
    });
    await assert.rejects(run(submitOrderRound, round0), failureType('OrderNotVisibleYet', true));
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 1)), false, 'nothing settled');
    assert.equal(await store.exists(roundRejectedKey(campaignId, 0, 0)), false, 'nothing rejected');
    // After the grace, with no 2xx on any attempt, Tango's 404 means it holds none of the items.
    clock.now += GRACE_MS + 1000;
    const result = await run(submitOrderRound, round0);
    assert.ok(result.requestRejected);
    clock.now -= GRACE_MS + 1000;
  });

  it('checks whether a retried POST answered 402 was created by the first attempt', async () => {
    const { store, submitOrderRound } = await afterLostFirstAttempt(['a', 'b'], {
      createAsyncOrder: async () => {
        throw new TangoHttpError({ status: 402, body: 'no funds', method: 'POST', path: '/asyncOrders' });
      },
      getAsyncOrder: async () =>
        order({ orderStatus: 'COMPLETE', createdAt: new Date(clock.now).toISOString() }),
    });
    const result = await run(submitOrderRound, round0);
    assert.equal(result.submitted, 2, 'the first attempt created it: settle it, never wait to resend it');
    assert.equal((await book(store, 1)).get('a')?.state, 'submitted');
  });

  it('waits for funds after a first POST answered 402, asking nothing more', async () => {
    const store = await setup(['a']);
    let gets = 0;
    const { submitOrderRound } = activities(store, {
      createAsyncOrder: async () => {
        throw new TangoHttpError({ status: 402, body: 'no funds', method: 'POST', path: '/asyncOrders' });
      },
      getAsyncOrder: async () => {
        gets += 1;
        return order({});
      },
    });
    await assert.rejects(run(submitOrderRound, round0), failureType('TangoInsufficientFunds', false));
    assert.equal(gets, 0);
  });

  it('stops at an existing order answered to our first POST: a collision, never resent', async () => {
    const store = await setup(['a', 'b']);
    let posts = 0;
    const { submitOrderRound, settleOrderRound } = activities(store, {
      createAsyncOrder: async () => {
        posts += 1;
        return {
          httpStatus: 200,
          created: false,
          order: {
            externalRefID: 'act-0',
            status: 'COMPLETE',
            createdAt: '2026-08-01T09:00:00Z',
            failedLineItems: [],
            duplicateLineItemRefIds: {},
            extra: {},
          },
        } as never;
      },
      getAsyncOrder: () => {
        throw new Error('settling a collision must not read Tango');
      },
    });
    await assert.rejects(run(submitOrderRound, round0), (error: unknown) => {
      failureType('OrderCollision', false)(error);
      assert.match((error as Error).message, /existing order.*2026-08-01/);
      return true;
    });
    // A retry (the workflow's blocked retry) neither POSTs again nor accepts the order as ours.
    await assert.rejects(run(submitOrderRound, round0), failureType('OrderCollision', false));
    await assert.rejects(run(settleOrderRound, { ...round0, step: 1 }), failureType('OrderCollision', false));
    assert.equal(posts, 1);
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 1)), false, 'nothing inferred');
  });

  it('takes a 200 to our first POST as a collision even when the order looks new', async () => {
    const store = await setup(['a']);
    const { submitOrderRound } = activities(store, {
      createAsyncOrder: async () =>
        ({
          httpStatus: 200,
          created: false,
          order: {
            externalRefID: 'act-0',
            createdAt: new Date(clock.now + 1000).toISOString(),
            failedLineItems: [],
            duplicateLineItemRefIds: {},
            extra: {},
          },
        }) as never,
    });
    await assert.rejects(run(submitOrderRound, round0), failureType('OrderCollision', false));
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 1)), false, 'nothing inferred');
  });

  it('takes an order created before our first attempt, answered to a retried POST, as a collision', async () => {
    const { store, submitOrderRound } = await afterLostFirstAttempt(['a'], {
      createAsyncOrder: async () =>
        ({
          httpStatus: 200,
          created: false,
          order: {
            externalRefID: 'act-0',
            createdAt: new Date(clock.now - 10 * 60_000).toISOString(),
            failedLineItems: [],
            duplicateLineItemRefIds: {},
            extra: {},
          },
        }) as never,
    });
    await assert.rejects(run(submitOrderRound, round0), failureType('OrderCollision', false));
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 1)), false, 'nothing inferred');
  });

  it('accepts the existing order answered to a retried POST when it was created after our first attempt', async () => {
    const { store, submitOrderRound } = await afterLostFirstAttempt(['a'], {
      createAsyncOrder: async () =>
        ({
          httpStatus: 200,
          created: false,
          order: {
            externalRefID: 'act-0',
            createdAt: new Date(clock.now + 500).toISOString(),
            failedLineItems: [],
            duplicateLineItemRefIds: {},
            extra: {},
          },
        }) as never,
    });
    const result = await run(submitOrderRound, round0);
    assert.equal(result.submitted, 1);
    assert.equal((await book(store, 1)).get('a')?.state, 'submitted');
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
          order: {
            externalRefID: 'act-0',
            createdAt: new Date(clock.now).toISOString(),
            failedLineItems,
            duplicateLineItemRefIds: {},
            extra: {},
          },
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
    const { submitOrderRound } = activities(store, { createAsyncOrder: async () => created() });
    await run(submitOrderRound, round0);
    return store;
  }
  const settleInput = { ...round0, step: 1 };
  const later = (days: number) => new Date(clock.now + days * 86_400_000).toISOString();

  it("decides every item by Tango's own record of it, never by counts", async () => {
    const store = await submitted(['a', 'b', 'c', 'd', 'e']);
    const looked: string[][] = [];
    const deliveryDate = later(8);
    const { settleOrderRound } = activities(store, {
      getAsyncOrder: async (_ref, query) => {
        assert.equal(query?.failedOnly, undefined, 'every item is read, not only the failed ones');
        assert.equal(query?.maxResults, 500);
        return pageOf({ totalLineItems: 5 }, [
          lineItem('a', 'COMPLETE', { referenceLineItemId: 'RL-a' }),
          failedItem('b', 'PROCESSING_ERROR'),
          lineItem('c', 'PENDING', { scheduledDeliveryDate: deliveryDate }),
          lineItem('d', 'PENDING'),
        ]);
      },
      lookupLineItems: async (_ref, ids) => {
        looked.push(ids);
        return [];
      },
    });
    clock.now += GRACE_MS;
    const result = await run(settleOrderRound, settleInput);
    clock.now -= GRACE_MS;
    assert.deepEqual(looked, [['e']], 'only the item absent from the pages is looked up');
    const entries = await book(store, 2);
    assert.equal(entries.get('a')?.state, 'delivered');
    assert.equal(entries.get('a')?.tangoLineItemId, 'RL-a');
    assert.equal(entries.get('a')?.tangoStatus, 'COMPLETE');
    assert.equal(entries.get('b')?.state, 'queued'); // transient: Tango reported it failed
    assert.equal(entries.get('c')?.state, 'scheduled');
    assert.equal(entries.get('c')?.scheduledFor, deliveryDate);
    assert.equal(entries.get('d')?.state, 'submitted', 'PENDING without a date is not decided');
    assert.equal(entries.get('e')?.state, 'queued'); // confirmed not held, after the grace
    assert.equal(result.counts.delivered, 1);
    assert.equal(result.pending, 1);
    assert.equal(result.nextScheduled, deliveryDate);
  });

  it('does not take an item absent from the pages as not held within the visibility grace', async () => {
    const store = await submitted(['a', 'b']);
    const { settleOrderRound } = activities(store, {
      getAsyncOrder: async () => {
        return pageOf({}, [lineItem('a', 'COMPLETE')]);
      },
      lookupLineItems: async () => [],
    });
    await assert.rejects(run(settleOrderRound, settleInput), failureType('OrderNotVisibleYet', true));
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 2)), false);
  });

  it("doesn't count the items of a failed order as delivered, nor a PENDING one", async () => {
    const store = await submitted(['a', 'b']);
    const { settleOrderRound } = activities(store, {
      getAsyncOrder: async () => {
        return pageOf({ orderStatus: 'FAILED', orderErrors: [{ errorCode: 'ACCOUNT_NOT_ACTIVE' }] }, [
          lineItem('a', 'FAILED'),
          lineItem('b', 'PENDING'),
        ]);
      },
    });
    await run(settleOrderRound, settleInput);
    const entries = await book(store, 2);
    assert.equal(entries.get('a')?.state, 'given-up');
    assert.match(entries.get('a')?.reason ?? '', /ACCOUNT_NOT_ACTIVE/);
    assert.equal(entries.get('b')?.state, 'submitted', 'a PENDING item of a FAILED order is not delivered');
  });

  it('stops at an order that holds items we never sent in it: a collision, nothing settled', async () => {
    const store = await submitted(['a', 'b']);
    let reads = 0;
    const { settleOrderRound } = activities(store, {
      getAsyncOrder: async () => {
        reads += 1;
        return pageOf({}, [
          lineItem('a', 'COMPLETE'),
          lineItem('x-1', 'COMPLETE'),
          lineItem('b', 'COMPLETE'),
        ]);
      },
    });
    await assert.rejects(run(settleOrderRound, settleInput), (error: unknown) => {
      failureType('OrderCollision', false)(error);
      assert.match((error as Error).message, /1 line item\(s\) this campaign never sent.*x-1/);
      return true;
    });
    await assert.rejects(run(settleOrderRound, settleInput), failureType('OrderCollision', false));
    assert.equal(reads, 1, 'the collision is remembered, not read again');
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 2)), false, 'nothing inferred');
  });

  it('keeps an item Tango lists twice as delivered when either reading says COMPLETE (never resent)', async () => {
    const store = await submitted(['a']);
    const { settleOrderRound } = activities(store, {
      getAsyncOrder: async () => pageOf({}, [lineItem('a', 'COMPLETE'), failedItem('a', 'PROCESSING_ERROR')]),
    });
    await run(settleOrderRound, settleInput);
    assert.equal((await book(store, 2)).get('a')?.state, 'delivered');
  });

  it('matches ids Tango returns with surrounding spaces', async () => {
    const store = await submitted(['a']);
    const { settleOrderRound } = activities(store, {
      getAsyncOrder: async () => {
        return pageOf({}, [lineItem(' a ', 'COMPLETE')]);
      },
    });
    await run(settleOrderRound, settleInput);
    assert.equal((await book(store, 2)).get('a')?.state, 'delivered');
  });

  it('refuses to settle while a submitted item is unaccounted for', async () => {
    const store = await submitted(['a', 'b']);
    const { settleOrderRound } = activities(store, {
      getAsyncOrder: async () => {
        return pageOf({}, []);
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
      getAsyncOrder: async () => {
        return pageOf({ orderStatus: 'PROCESSING' }, [lineItem('a', 'COMPLETE')], 'c1');
      },
    });
    await assert.rejects(run(settleOrderRound, settleInput), failureType('OrderNotSettled', true));
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 2)), false, 'no item was settled');
  });

  it('stores nothing it read while the order was still processing, and starts over when it is final', async () => {
    const store = await submitted(['a', 'b']);
    const cursors: (string | undefined)[] = [];
    let final = false;
    const { settleOrderStep } = activities(store, {
      getAsyncOrder: async (_ref, query) => {
        cursors.push(query?.nextCursor);
        if (!final) return pageOf({ orderStatus: 'PROCESSING' }, [lineItem('a', 'PENDING')], 'cursor-1');
        return pageOf({}, [lineItem('a', 'COMPLETE'), failedItem('b', 'RECIPIENT_BLOCKED')]);
      },
    });
    assert.deepEqual(await run(settleOrderStep, settleInput), {
      settled: false,
      final: false,
      orderStatus: 'PROCESSING',
    });
    final = true;
    const settled = await run(settleOrderStep, settleInput);
    assert.equal(settled.settled, true);
    assert.deepEqual(cursors, [undefined, undefined], 'read again from the first page');
    const entries = await book(store, 2);
    assert.equal(entries.get('a')?.state, 'delivered');
    assert.equal(entries.get('b')?.state, 'given-up');
  });

  it('makes one Tango request per step, going on from the stored progress', async () => {
    const store = await submitted(['a', 'b', 'c', 'd']);
    const requests: string[] = [];
    const { settleOrderStep } = activities(store, {
      getAsyncOrder: async (_ref, query) => {
        requests.push(`page ${query?.nextCursor ?? 'first'}`);
        if (query?.nextCursor === undefined) return pageOf({}, [lineItem('a', 'COMPLETE')], 'cursor-1');
        if (query.nextCursor === 'cursor-1') return pageOf({}, [lineItem('b', 'COMPLETE')], 'cursor-2');
        return pageOf({}, [failedItem('c', 'PROCESSING_ERROR')]);
      },
      lookupLineItems: async (_ref, ids) => {
        requests.push(`lookup ${ids.join(',')}`);
        return [lineItem('d', 'COMPLETE')];
      },
    });
    const results = [];
    for (let call = 0; call < 10; call += 1) {
      const before = requests.length;
      const result = await run(settleOrderStep, settleInput);
      assert.ok(requests.length - before <= 1, `call ${call + 1} made ${requests.length - before} requests`);
      results.push(result.settled);
      if (result.settled) break;
    }
    assert.deepEqual(requests, ['page first', 'page cursor-1', 'page cursor-2', 'lookup d']);
    assert.deepEqual(results, [false, false, false, true], 'the last request settles in the same call');
    const entries = await book(store, 2);
    assert.equal(entries.get('d')?.state, 'delivered');
    assert.equal(entries.get('c')?.state, 'queued');
  });

  it('goes on from the stored progress after a retried attempt', async () => {
    const store = await submitted(['a', 'b', 'c']);
    const cursors: (string | undefined)[] = [];
    const { settleOrderRound } = activities(store, {
      getAsyncOrder: async (_ref, query) => {
        cursors.push(query?.nextCursor);
        return pageOf({}, [failedItem('c', 'PROCESSING_ERROR')]);
      },
    });
    // What an attempt left before it died: page 0 of the final order and the cursor of page 1.
    await putJson(store, 'campaigns/act/orders/000000/round-000/line-items/page-000000.json', {
      order: { orderStatus: 'COMPLETE', orderErrors: [] },
      lineItems: [lineItem('a', 'COMPLETE'), failedItem('b', 'RECIPIENT_BLOCKED')],
    });
    await putJson(store, 'campaigns/act/orders/000000/round-000/settle-progress.json', {
      pages: 1,
      cursor: 'cursor-1',
      paged: false,
      checked: [],
      found: {},
    });
    await run(settleOrderRound, settleInput);
    assert.deepEqual(cursors, ['cursor-1']);
    const entries = await book(store, 2);
    assert.equal(entries.get('a')?.state, 'delivered');
    assert.equal(entries.get('b')?.state, 'given-up');
    assert.equal(entries.get('c')?.state, 'queued');
  });

  it("waits out a GET that lags the POST: 404 within the grace is retried, not a person's problem", async () => {
    const store = await submitted(['a']);
    const { settleOrderRound, getOrderStatus } = activities(store, {
      getAsyncOrder: async () => {
        throw notFound();
      },
    });
    await assert.rejects(run(settleOrderRound, settleInput), failureType('OrderNotVisibleYet', true));
    await assert.rejects(
      run(getOrderStatus, { campaignId, externalRefID: 'act-0', chunk: 0, round: 0 }),
      failureType('OrderNotVisibleYet', true),
    );
    // Past the grace, an order Tango acknowledged but does not show is for a person: nothing is resent.
    clock.now += GRACE_MS + 1000;
    await assert.rejects(
      run(getOrderStatus, { campaignId, externalRefID: 'act-0', chunk: 0, round: 0 }),
      failureType('OrderMissing', false),
    );
    clock.now -= GRACE_MS + 1000;
  });
});

describe('lookups across the visibility grace', () => {
  it('takes items as not held only when the whole pass of lookups began after the grace', async () => {
    const ids = Array.from({ length: 60 }, (_, index) => `x${index}`);
    const store = await setup(ids);
    const { submitOrderRound, settleOrderStep } = activities(store, {
      createAsyncOrder: async () => created(),
      // The order holds none of them in its pages, and the lookups find nothing.
      getAsyncOrder: async () => pageOf({}, []),
      lookupLineItems: async () => [],
    });
    await run(submitOrderRound, round0);
    const input = { ...round0, step: 1 };
    assert.equal((await run(settleOrderStep, input)).settled, false); // the page
    clock.now += GRACE_MS - 60_000;
    assert.equal((await run(settleOrderStep, input)).settled, false); // lookup 1 of 2, inside the grace
    clock.now += 120_000;
    // Lookup 2 runs after the grace, but the pass began inside it: nothing is taken as not held.
    await assert.rejects(run(settleOrderStep, input), failureType('OrderNotVisibleYet', true));
    assert.equal(await store.exists(orderBookKey(campaignId, 0, 2)), false);
    // A new pass, wholly after the grace, may.
    assert.equal((await run(settleOrderStep, input)).settled, false);
    const done = await run(settleOrderStep, input);
    clock.now -= GRACE_MS + 60_000;
    assert.equal(done.settled, true);
    assert.equal((await book(store, 2)).get('x0')?.state, 'queued');
  });
});

describe('recheckOrderItems', () => {
  it('reads due scheduled and pending items by id and settles each by its record', async () => {
    const store = await setup(['a', 'b', 'c']);
    const { submitOrderRound, settleOrderRound, recheckOrderItems } = activities(store, {
      createAsyncOrder: async () => created(),
      getAsyncOrder: async () => {
        return pageOf({}, [
          lineItem('a', 'PENDING', {
            scheduledDeliveryDate: new Date(clock.now + 8 * 86_400_000).toISOString(),
          }),
          lineItem('b', 'PENDING'),
          lineItem('c', 'COMPLETE'),
        ]);
      },
      lookupLineItems: async (_ref, ids) =>
        ids.map((id) =>
          lineItem(
            id,
            id === 'a' ? 'COMPLETE' : 'FAILED',
            id === 'b' ? ({ lineItemErrors: [{ errorCode: 'PROCESSING_ERROR' }] } as never) : {},
          ),
        ),
    });
    await run(submitOrderRound, round0);
    await run(settleOrderRound, { ...round0, step: 1 });
    // Before a's date only b (pending) is read; after it, a too.
    clock.now += 9 * 86_400_000;
    const result = await run(recheckOrderItems, { campaignId, chunk: 0, step: 2 });
    clock.now -= 9 * 86_400_000;
    const entries = await book(store, 3);
    assert.equal(entries.get('a')?.state, 'delivered');
    assert.equal(entries.get('b')?.state, 'queued');
    assert.equal(entries.get('c')?.state, 'delivered');
    assert.equal(result.counts.scheduled, 0);
    assert.equal(result.lookups, 1);
  });
});

describe('applyOrderInput', () => {
  it('gives up exhausted items but sends an operator correction once more, and keeps waiting items', async () => {
    const store = await setup(['a', 'b', 'c']);
    const entries = [...(await book(store, 0)).values()];
    entries[0]!.state = 'queued';
    entries[0]!.rounds = [0, 1];
    entries[1]!.state = 'queued';
    entries[1]!.rounds = [0, 1];
    entries[1]!.operatorQueued = true;
    entries[2]!.state = 'awaiting-correction';
    entries[2]!.rounds = [0];
    await putJsonLines(store, orderBookKey(campaignId, 0, 0), entries);
    const { applyOrderInput } = activities(store, {});
    await run(applyOrderInput, {
      campaignId,
      chunk: 0,
      step: 0,
      action: { kind: 'give-up-exhausted', reason: 'still failing after 2 round(s)' },
    });
    const after = await book(store, 1);
    assert.equal(after.get('a')?.state, 'given-up');
    assert.equal(after.get('b')?.state, 'queued');
    assert.equal(after.get('c')?.state, 'awaiting-correction');
  });

  it('reports the items of a POST that may have reached Tango as fate unknown, never as not sent', async () => {
    const withAttempt = await setup(['a']);
    await assert.rejects(
      run(
        activities(withAttempt, { createAsyncOrder: async () => Promise.reject(new Error('timeout')) })
          .submitOrderRound,
        round0,
      ),
    );
    const action = { kind: 'give-up-unsent' as const, round: 0, externalRefID: 'act-0', reason: 'cancelled' };
    await run(activities(withAttempt, {}).applyOrderInput, { campaignId, chunk: 0, step: 0, action });
    const attempted = (await book(withAttempt, 1)).get('a');
    assert.equal(attempted?.state, 'given-up');
    assert.match(attempted?.reason ?? '', /fate unknown: sent in act-0/);

    // Items already sent in that order (a collision found at settle, then a cancel): fate unknown too.
    const sentIn = await setup(['a', 'b']);
    const sentBook = [...(await book(sentIn, 0)).values()];
    sentBook[0]!.state = 'submitted';
    sentBook[0]!.externalRefID = 'act-0';
    sentBook[0]!.rounds = [0];
    sentBook[1]!.state = 'delivered';
    await putJsonLines(sentIn, orderBookKey(campaignId, 0, 0), sentBook);
    await putJson(sentIn, 'campaigns/act/orders/000000/round-000/order.json', {
      externalRefID: 'act-0',
      firstAttemptAt: new Date(clock.now).toISOString(),
      acknowledged: true,
      collision: 'not ours',
    });
    await run(activities(sentIn, {}).applyOrderInput, { campaignId, chunk: 0, step: 0, action });
    const afterCancel = await book(sentIn, 1);
    assert.equal(afterCancel.get('a')?.state, 'given-up');
    assert.match(afterCancel.get('a')?.reason ?? '', /fate unknown: sent in act-0/);
    assert.equal(afterCancel.get('b')?.state, 'delivered');

    const never = await setup(['a']);
    await run(activities(never, {}).applyOrderInput, { campaignId, chunk: 0, step: 0, action });
    assert.equal((await book(never, 1)).get('a')?.state, 'cancelled');
  });
});
