// What Tango's docs allow after (or around) an order's creation, reproduced on demand: a GET that
// does not see a new order yet (the GET lag), an order another client created earlier under the
// same externalRefID (preloaded), line items scheduled for a future deliveryDate on a clock tests
// can move, and delivered line items reversed to FAILED.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import {
  ACCOUNT,
  call,
  CUSTOMER,
  lineItem,
  orderBody,
  orderPath,
  startReceiver,
  waitFor,
} from './helpers.ts';

const DAY = 86_400_000;
const inDays = (days: number, from = Date.now()) => new Date(from + days * DAY).toISOString();

async function withSim(
  options: Parameters<typeof startSimulator>[0],
  body: (sim: RunningSimulator) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ processingDelayMs: 0, ...options });
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

function entriesOf(sim: RunningSimulator, externalRefID: string) {
  return sim.ledger.entries().filter((entry) => entry.externalRefID === externalRefID);
}

describe('GET lag (faults.getLagMs)', () => {
  it('answers the unknown-order 404 for getLagMs after the POST, whatever the query, then 200', async () => {
    await withSim({ faults: { getLagMs: 400 } }, async (sim) => {
      const created = await call(sim, 'POST', '/asyncOrders', orderBody('lagged', [lineItem('a')]));
      assert.equal(created.status, 201);
      const unknown = await call(sim, 'GET', orderPath('never-created'));
      for (const query of ['', '?failedOnly=true', '?externalLineItemReferenceIds=a', '?maxResults=1']) {
        const hidden = await call(sim, 'GET', orderPath('lagged', query));
        assert.equal(hidden.status, 404, `GET ${query}`);
        assert.equal(hidden.json.i18nKey, unknown.json.i18nKey);
        assert.equal(hidden.json.httpPhrase, 'Not Found');
        assert.deepEqual(Object.keys(hidden.json).sort(), Object.keys(unknown.json).sort());
        assert.match(hidden.json.message, /No async order with externalRefID 'lagged'/);
      }
      // A repeated POST during the lag still finds the order.
      const again = await call(sim, 'POST', '/asyncOrders', orderBody('lagged', [lineItem('a')]));
      assert.equal(again.status, 200);
      assert.equal(sim.stats().orders.count, 1);

      await waitFor(() => Date.now() - Date.parse(created.json.createdAt) > 450, 2000, 'the lag');
      const visible = await call(sim, 'GET', orderPath('lagged'));
      assert.equal(visible.status, 200);
      assert.equal(visible.json.orderStatus, 'COMPLETE', 'processing went on during the lag');
    });
  });

  it('is measured on the simulator clock (advanceClock ends it) and can hit a seeded share of orders', async () => {
    await withSim({ faults: { getLagMs: 60_000 } }, async (sim) => {
      await call(sim, 'POST', '/asyncOrders', orderBody('long-lag', [lineItem('a')]));
      assert.equal((await call(sim, 'GET', orderPath('long-lag'))).status, 404);
      sim.advanceClock(60_000);
      assert.equal((await call(sim, 'GET', orderPath('long-lag'))).status, 200);
    });
    const hiddenOnes = async (seed: number) => {
      const hidden: string[] = [];
      await withSim({ seed, faults: { getLagMs: 60_000, getLagRate: 0.5 } }, async (sim) => {
        for (let i = 0; i < 40; i += 1) {
          await call(sim, 'POST', '/asyncOrders', orderBody(`share-${i}`, [lineItem('a')]));
          if ((await call(sim, 'GET', orderPath(`share-${i}`))).status === 404) hidden.push(`share-${i}`);
        }
      });
      return hidden;
    };
    const first = await hiddenOnes(3);
    assert.ok(first.length > 8 && first.length < 32, `${first.length} of 40 lagged at 50%`);
    assert.deepEqual(await hiddenOnes(3), first, 'the same seed lags the same orders');
  });
});

describe('preloaded orders (an externalRefID another client used first)', () => {
  it('stages a collision: our later POST of that externalRefID gets the existing order, its items are fulfilled', async () => {
    await withSim({}, async (sim) => {
      const preloaded = sim.preloadOrder({
        customerIdentifier: CUSTOMER,
        accountIdentifier: ACCOUNT,
        externalRefID: 'taken-1',
        lineItems: [lineItem('theirs-1', { amount: 40 }), lineItem('theirs-2', { amount: 60 })],
      });
      assert.equal(preloaded.externalRefID, 'taken-1');
      assert.equal(preloaded.totalLineItems, 2);
      assert.match(preloaded.referenceOrderID, /^RA-SIM-/);

      const ours = await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('taken-1', [lineItem('ours-1'), lineItem('ours-2'), lineItem('ours-3')]),
      );
      assert.equal(ours.status, 200);
      assert.equal(ours.json.totalLineItems, 2);
      await sim.whenIdle();
      const read = await call(sim, 'GET', orderPath('taken-1'));
      assert.equal(read.json.referenceOrderID, preloaded.referenceOrderID);
      assert.deepEqual(
        read.json.lineItems.map((item: { externalRefLineItemID: string }) => item.externalRefLineItemID),
        ['theirs-1', 'theirs-2'],
      );
      assert.deepEqual(
        entriesOf(sim, 'taken-1').map((entry) => [entry.externalRefLineItemID, entry.state]),
        [
          ['theirs-1', 'fulfilled'],
          ['theirs-2', 'fulfilled'],
        ],
      );
      assert.equal(sim.ledger.entries().filter((e) => e.externalRefLineItemID.startsWith('ours')).length, 0);
      assert.equal((await call(sim, 'GET', `/accounts/${ACCOUNT}`)).json.currentBalance, 10_000_000 - 100);
    });
  });

  it('POST /_admin/orders takes a createdAt, refuses an existing externalRefID (409) and a bad body (400)', async () => {
    await withSim({}, async (sim) => {
      const createdAt = '2026-01-05T08:00:00.000Z';
      const staged = await call(sim, 'POST', '/_admin/orders', {
        ...orderBody('taken-2', [lineItem('t1'), lineItem('t-bad', { amount: 0 })]),
        createdAt,
        campaign: 'someone else',
      });
      assert.equal(staged.status, 201, staged.text);
      assert.equal(staged.json.createdAt, createdAt);
      assert.equal(staged.json.totalLineItems, 1);
      assert.equal(staged.json.failedLineItems[0].externalRefLineItemID, 't-bad');
      await sim.whenIdle();
      const read = await call(sim, 'GET', orderPath('taken-2'));
      assert.equal(read.json.createdAt, createdAt);
      assert.equal(read.json.campaign, 'someone else');

      const twice = await call(sim, 'POST', '/_admin/orders', orderBody('taken-2', [lineItem('t9')]));
      assert.equal(twice.status, 409);
      assert.equal(twice.json.i18nKey, '409.024');
      const noItems = await call(sim, 'POST', '/_admin/orders', orderBody('taken-3', []));
      assert.equal(noItems.status, 400);
      const badDate = await call(sim, 'POST', '/_admin/orders', {
        ...orderBody('taken-3', [lineItem('t1')]),
        createdAt: 'yesterday',
      });
      assert.equal(badDate.status, 400);
      const unknownAccount = await call(sim, 'POST', '/_admin/orders', {
        ...orderBody('taken-3', [lineItem('t1')]),
        accountIdentifier: 'nobody-here',
      });
      assert.equal(unknownAccount.status, 422);
      assert.equal(sim.stats().orders.count, 1);
    });
  });
});

describe('scheduled deliveries (deliveryDate) and the simulator clock', () => {
  it('keeps a scheduled item PENDING / SCHEDULED (charged) until the clock passes its date, then COMPLETE', async () => {
    const receiver = await startReceiver();
    try {
      await withSim({ webhooks: { subscriptions: [{ url: receiver.url }] } }, async (sim) => {
        const deliveryDate = inDays(8);
        const created = await call(
          sim,
          'POST',
          '/asyncOrders',
          orderBody('scheduled-1', [
            lineItem('now', { amount: 10 }),
            lineItem('later', { amount: 15, deliveryDate }),
          ]),
        );
        assert.equal(created.status, 201);
        assert.deepEqual(created.json.failedLineItems, []);
        await sim.whenIdle();

        const read = await call(sim, 'GET', orderPath('scheduled-1'));
        assert.equal(read.json.orderStatus, 'COMPLETE', 'the order finishes with the scheduled item pending');
        assert.ok(read.json.completedAt);
        assert.deepEqual(read.json.amountCharged, { currencyCode: 'USD', value: 25, total: 25 });
        const [now, later] = read.json.lineItems;
        assert.equal(now.lineItemStatus, 'COMPLETE');
        assert.equal(now.deliveryStatus, 'DELIVERED');
        assert.equal(now.scheduledDeliveryDate, null);
        assert.equal(later.lineItemStatus, 'PENDING');
        assert.equal(later.deliveryStatus, 'SCHEDULED');
        assert.equal(later.scheduledDeliveryDate, deliveryDate);
        assert.equal(later.amountCharged.total, 15, 'charged at order time');
        assert.equal((await call(sim, 'GET', `/accounts/${ACCOUNT}`)).json.currentBalance, 10_000_000 - 25);

        const event = receiver.received.at(-1)?.json;
        assert.equal(event.eventData.status, 'SUCCESSFUL');
        assert.equal(event.eventData.successfulLineItems, 2);
        assert.equal(event.eventData.failedLineItems, 0);

        const scheduled = entriesOf(sim, 'scheduled-1').find((e) => e.externalRefLineItemID === 'later');
        assert.equal(scheduled?.state, 'scheduled');
        assert.equal(scheduled?.scheduledFor, deliveryDate);
        assert.equal(scheduled?.fulfilledAt, null);
        assert.ok(scheduled?.recordedAt);
        assert.equal(sim.stats().orders.lineItemsScheduled, 1);

        // Seven days on: not yet.
        sim.advanceClock(7 * DAY);
        const waiting = await call(
          sim,
          'GET',
          orderPath('scheduled-1', '?externalLineItemReferenceIds=later'),
        );
        assert.equal(waiting.json.lineItems[0].lineItemStatus, 'PENDING');
        assert.equal(
          entriesOf(sim, 'scheduled-1').find((e) => e.externalRefLineItemID === 'later')?.state,
          'scheduled',
        );

        // Past the date, over the admin endpoint: delivered.
        const moved = await call(sim, 'POST', '/_admin/clock', { advanceMs: DAY + 60_000 });
        assert.equal(moved.status, 200);
        assert.ok(Date.parse(moved.json.now) > Date.parse(deliveryDate));
        assert.equal(moved.json.offsetMs, 8 * DAY + 60_000);
        const ledger = (await call(sim, 'GET', '/_admin/ledger')).json;
        const delivered = ledger.entries.find(
          (e: { externalRefLineItemID: string }) => e.externalRefLineItemID === 'later',
        );
        assert.equal(delivered.state, 'fulfilled');
        assert.equal(delivered.fulfilledAt, deliveryDate);
        assert.equal(delivered.scheduledFor, deliveryDate);
        const after = await call(sim, 'GET', orderPath('scheduled-1'));
        assert.equal(after.json.lineItems[1].lineItemStatus, 'COMPLETE');
        assert.equal(after.json.lineItems[1].deliveryStatus, 'DELIVERED');
        assert.equal(after.json.orderStatus, 'COMPLETE');
        assert.equal((await call(sim, 'GET', `/accounts/${ACCOUNT}`)).json.currentBalance, 10_000_000 - 25);
        assert.equal(receiver.received.length, 1, 'no further webhook for the delivery');
      });
    } finally {
      await receiver.close();
    }
  });

  it('validates deliveryDate against the simulator clock, and GET /_admin/clock shows it', async () => {
    await withSim({}, async (sim) => {
      const start = (await call(sim, 'GET', '/_admin/clock')).json;
      assert.equal(start.offsetMs, 0);
      assert.ok(Math.abs(Date.parse(start.now) - Date.now()) < 5_000);
      sim.advanceClock(30 * DAY);
      assert.ok(Math.abs(sim.now().getTime() - (Date.now() + 30 * DAY)) < 5_000);
      const reply = await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('clock-dates', [
          lineItem('wall-clock-ahead', { deliveryDate: inDays(10) }),
          lineItem('sim-clock-ahead', { deliveryDate: inDays(40) }),
        ]),
      );
      assert.deepEqual(
        reply.json.failedLineItems.map(
          (f: { externalRefLineItemID: string; errors: { errorCodeName: string }[] }) => [
            f.externalRefLineItemID,
            f.errors[0]?.errorCodeName,
          ],
        ),
        [['wall-clock-ahead', 'INVALID_DELIVERY_DATE']],
      );
      assert.equal((await call(sim, 'POST', '/_admin/clock', { advanceMs: -1 })).status, 400);
      assert.equal((await call(sim, 'POST', '/_admin/clock', { advanceMs: 'soon' })).status, 400);
      assert.throws(() => sim.advanceClock(Number.NaN));
    });
  });

  it('counts a scheduled item in duplicates(): scheduled twice is rewarded twice', async () => {
    await withSim({}, async (sim) => {
      const deliveryDate = inDays(9);
      const item = lineItem('twice-scheduled', { deliveryDate });
      await call(sim, 'POST', '/asyncOrders', orderBody('sched-a', [item]));
      await call(sim, 'POST', '/asyncOrders', orderBody('sched-b', [item]));
      await sim.whenIdle();
      const { lineItems, recipients } = sim.ledger.duplicates();
      assert.equal(lineItems.length, 1);
      assert.equal(lineItems[0]?.count, 2);
      assert.deepEqual(
        lineItems[0]?.entries.map((entry) => entry.state),
        ['scheduled', 'scheduled'],
      );
      assert.equal(recipients.length, 1);
    });
  });
});

describe('reversals (a COMPLETE line item turned FAILED later)', () => {
  it('shows a reversed item FAILED in failedOnly pages, derives the order status again, marks the ledger', async () => {
    await withSim({}, async (sim) => {
      await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('reversed-1', [lineItem('r1'), lineItem('r2'), lineItem('r3')]),
      );
      await sim.whenIdle();
      const empty = await call(sim, 'GET', orderPath('reversed-1', '?failedOnly=true'));
      assert.equal(empty.json.lineItems, null);

      const reply = await call(sim, 'POST', '/_admin/reversals', {
        externalRefID: 'reversed-1',
        externalRefLineItemID: 'r2',
      });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.lineItemStatus, 'FAILED');
      assert.deepEqual(reply.json.lineItemErrors, [
        { errorCode: 'REVERSED', errorMessage: 'reward reversed after delivery' },
      ]);

      const failed = await call(sim, 'GET', orderPath('reversed-1', '?failedOnly=true'));
      assert.equal(failed.json.orderStatus, 'PARTIAL');
      assert.deepEqual(
        failed.json.lineItems.map(
          (item: {
            externalRefLineItemID: string;
            lineItemStatus: string;
            lineItemErrors: { errorCode: string }[];
          }) => [item.externalRefLineItemID, item.lineItemStatus, item.lineItemErrors[0]?.errorCode],
        ),
        [['r2', 'FAILED', 'REVERSED']],
      );
      const entry = entriesOf(sim, 'reversed-1').find((e) => e.externalRefLineItemID === 'r2');
      assert.equal(entry?.state, 'reversed');
      assert.ok(entry?.reversedAt);
      assert.ok(entry?.fulfilledAt, 'it was delivered before');
      assert.equal(sim.stats().orders.lineItemsReversed, 1);

      // Delivered again in a later order: not a duplicate, the reversed reward does not count.
      await call(sim, 'POST', '/asyncOrders', orderBody('reversed-1-r1', [lineItem('r2')]));
      await sim.whenIdle();
      assert.deepEqual(sim.ledger.duplicates(), { lineItems: [], recipients: [] });
    });
  });

  it('in process: a custom error, FAILED when nothing is left complete, and refusals', async () => {
    await withSim({}, async (sim) => {
      await call(sim, 'POST', '/asyncOrders', orderBody('reversed-2', [lineItem('only')]));
      await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('reversed-3', [lineItem('blocked', { recipient: { email: 'x@blocked.test' } })]),
      );
      await sim.whenIdle();
      const view = sim.reverseLineItem({
        customerIdentifier: CUSTOMER,
        accountIdentifier: ACCOUNT,
        externalRefID: 'reversed-2',
        externalRefLineItemID: 'only',
        errorCode: 'FRAUD_REVERSAL',
        errorMessage: 'reversed by the fraud team',
      });
      assert.deepEqual(view['lineItemErrors'], [
        { errorCode: 'FRAUD_REVERSAL', errorMessage: 'reversed by the fraud team' },
      ]);
      assert.equal((await call(sim, 'GET', orderPath('reversed-2'))).json.orderStatus, 'FAILED');

      const again = await call(sim, 'POST', '/_admin/reversals', {
        externalRefID: 'reversed-2',
        externalRefLineItemID: 'only',
      });
      assert.equal(again.status, 409, 'already FAILED');
      const neverDelivered = await call(sim, 'POST', '/_admin/reversals', {
        externalRefID: 'reversed-3',
        externalRefLineItemID: 'blocked',
      });
      assert.equal(neverDelivered.status, 409);
      const noItem = await call(sim, 'POST', '/_admin/reversals', {
        externalRefID: 'reversed-2',
        externalRefLineItemID: 'missing',
      });
      assert.equal(noItem.status, 404);
      const noOrder = await call(sim, 'POST', '/_admin/reversals', {
        externalRefID: 'nothing-here',
        externalRefLineItemID: 'only',
      });
      assert.equal(noOrder.status, 404);
      assert.equal((await call(sim, 'POST', '/_admin/reversals', { externalRefID: 'x' })).status, 400);
    });
  });

  it('refuses to reverse a scheduled item that is still pending', async () => {
    await withSim({}, async (sim) => {
      await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('reversed-4', [lineItem('s', { deliveryDate: inDays(8) })]),
      );
      await sim.whenIdle();
      const reply = await call(sim, 'POST', '/_admin/reversals', {
        externalRefID: 'reversed-4',
        externalRefLineItemID: 's',
      });
      assert.equal(reply.status, 409);
      assert.match(reply.json.message, /SCHEDULED/);
    });
  });

  it('sends another AsyncOrderStatus event for a reversal when webhooks.reversalEvents is on', async () => {
    const receiver = await startReceiver();
    try {
      await withSim(
        { webhooks: { subscriptions: [{ url: receiver.url }], reversalEvents: true } },
        async (sim) => {
          await call(sim, 'POST', '/asyncOrders', orderBody('reversed-5', [lineItem('a'), lineItem('b')]));
          await sim.whenIdle();
          sim.reverseLineItem({ externalRefID: 'reversed-5', externalRefLineItemID: 'b' });
          await sim.whenIdle();
          await waitFor(() => receiver.received.length === 2, 2000, 'the reversal event');
          const [first, second] = receiver.received.map((request) => request.json);
          assert.equal(first.eventData.status, 'SUCCESSFUL');
          assert.equal(second.revision, first.revision + 1);
          assert.equal(second.eventData.status, 'PARTIALFAILED');
          assert.equal(second.eventData.successfulLineItems, 1);
          assert.equal(second.eventData.failedLineItems, 1);
        },
      );
    } finally {
      await receiver.close();
    }
  });

  it('reverses a seeded share of delivered items reversalAfterMs later; whenIdle waits for them', async () => {
    const reversedIds = async (seed: number) => {
      let ids: string[] = [];
      await withSim({ seed, faults: { reversalRate: 0.3, reversalAfterMs: 30 } }, async (sim) => {
        const items = Array.from({ length: 60 }, (_, i) => lineItem(`rv${i}`));
        await call(sim, 'POST', '/asyncOrders', orderBody('random-reversals', items));
        await sim.whenIdle();
        ids = sim.ledger
          .entries()
          .filter((entry) => entry.state === 'reversed')
          .map((entry) => entry.externalRefLineItemID);
        assert.equal(sim.stats().orders.lineItemsReversed, ids.length);
        const failed = await call(
          sim,
          'GET',
          orderPath('random-reversals', '?failedOnly=true&maxResults=100'),
        );
        assert.deepEqual(
          failed.json.lineItems.map((item: { externalRefLineItemID: string }) => item.externalRefLineItemID),
          ids,
        );
        assert.equal(failed.json.orderStatus, 'PARTIAL');
      });
      return ids;
    };
    const first = await reversedIds(11);
    assert.ok(first.length > 5 && first.length < 35, `${first.length} of 60 reversed at 30%`);
    assert.deepEqual(await reversedIds(11), first);
  });
});
