// Creating async orders: request validation, per-line-item failures, duplicates, idempotency,
// both response shapes, 402, and the processing that moves orders to their final status.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { ACCOUNT, call, CUSTOMER, lineItem, orderBody, orderPath } from './helpers.ts';

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe('POST /asyncOrders request validation', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ processingDelayMs: 0 });
  });
  after(() => sim.close());

  it('answers malformed JSON with 400 and the Tango error body', async () => {
    const reply = await call(sim, 'POST', '/asyncOrders', '{"externalRefID": ', {
      'content-type': 'application/json',
    });
    assert.equal(reply.status, 400);
    for (const key of [
      'timestamp',
      'requestId',
      'path',
      'httpCode',
      'httpPhrase',
      'i18nKey',
      'message',
      'errors',
    ]) {
      assert.ok(key in reply.json, `error body has ${key}`);
    }
    assert.equal(reply.json.httpPhrase, 'Bad Request');
    assert.match(reply.json.message, /Malformed JSON/);
  });

  it('refuses a body that is not JSON by content type (415)', async () => {
    const reply = await call(sim, 'POST', '/asyncOrders', 'a=b', { 'content-type': 'text/plain' });
    assert.equal(reply.status, 415);
  });

  it('lists every missing required field and limit, with path and constraint', async () => {
    const reply = await call(sim, 'POST', '/asyncOrders', {
      customerIdentifier: CUSTOMER,
      accountIdentifier: 'abcd',
      notes: 'n'.repeat(151),
      campaign: 'c'.repeat(1025),
      purchaseOrderNumber: 'p'.repeat(101),
      lineItems: [
        { recipient: { email: 'a@example.com' }, utid: 'U000001', deliveryMethod: 'EMAIL' },
        lineItem('x'.repeat(151), {
          message: 'm'.repeat(1025),
          lineItemNote: 'l'.repeat(151),
          deliveryMethod: 'FAX',
        }),
      ],
    });
    assert.equal(reply.status, 400);
    const paths = reply.json.errors.map((error: { path: string }) => error.path).sort();
    assert.deepEqual(paths, [
      'accountIdentifier',
      'campaign',
      'externalRefID',
      'lineItems[0].amount',
      'lineItems[0].externalRefLineItemID',
      'lineItems[1].deliveryMethod',
      'lineItems[1].externalRefLineItemID',
      'lineItems[1].lineItemNote',
      'lineItems[1].message',
      'notes',
      'purchaseOrderNumber',
    ]);
    const size = reply.json.errors.find((error: { path: string }) => error.path === 'notes');
    assert.equal(size.constraint, 'Size');
    assert.equal(sim.stats().orders.count, 0, 'nothing was created');
  });

  it('accepts every limit exactly at its maximum', async () => {
    const reply = await call(
      sim,
      'POST',
      '/asyncOrders',
      orderBody(
        'e'.repeat(100),
        [lineItem('i'.repeat(150), { message: 'm'.repeat(1024), lineItemNote: 'l'.repeat(150) })],
        {
          notes: 'n'.repeat(150),
          campaign: 'c'.repeat(1024),
          purchaseOrderNumber: 'p'.repeat(100),
        },
      ),
    );
    assert.equal(reply.status, 201, reply.text);
  });

  it('requires at least one line item', async () => {
    const reply = await call(sim, 'POST', '/asyncOrders', orderBody('empty', []));
    assert.equal(reply.status, 400);
    assert.equal(reply.json.errors[0].path, 'lineItems');
  });

  it('rejects a malformed sender email with 422.134 on sender.email', async () => {
    const reply = await call(
      sim,
      'POST',
      '/asyncOrders',
      orderBody('sender', [lineItem('s1')], { sender: { email: 'nope' } }),
    );
    assert.equal(reply.status, 400);
    assert.equal(reply.json.errors[0].path, 'sender.email');
    assert.equal(reply.json.errors[0].i18nKey, '422.134');
  });

  it('answers unknown customer or account with 422', async () => {
    const customer = await call(sim, 'POST', '/asyncOrders', {
      ...orderBody('c1', [lineItem('a')]),
      customerIdentifier: 'ghost',
    });
    assert.equal(customer.status, 422);
    assert.equal(customer.json.errors[0].path, 'customerIdentifier');
    const account = await call(sim, 'POST', '/asyncOrders', {
      ...orderBody('c2', [lineItem('a')]),
      accountIdentifier: 'ghost-account',
    });
    assert.equal(account.status, 422);
    assert.equal(account.json.errors[0].path, 'accountIdentifier');
  });
});

describe('POST /asyncOrders line items, duplicates and idempotency', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ processingDelayMs: 30 });
  });
  after(() => sim.close());

  it('reports each submit-time failure in failedLineItems with Tango codes, and keeps the rest', async () => {
    const items = [
      lineItem('ok-1'),
      lineItem('bad-email', { recipient: { email: 'not-an-email' } }),
      lineItem('no-email', { recipient: { firstName: 'No' } }),
      lineItem('too-much', { amount: 501 }),
      lineItem('fixed-wrong', { utid: 'U000003', amount: 20 }),
      lineItem('inactive', { utid: 'U000004' }),
      lineItem('unknown-utid', { utid: 'U999999' }),
      lineItem('bad-utid', { utid: 'gift-card' }),
      lineItem('no-phone', { deliveryMethod: 'PHONE', recipient: { mobileNumber: '12' } }),
      lineItem('no-address', {
        utid: 'U000002',
        deliveryMethod: 'ADDRESS',
        recipient: { address: { city: 'Paris' } },
      }),
      lineItem('too-soon', { deliveryDate: inDays(2) }),
      lineItem('scheduled', { deliveryDate: inDays(8) }),
    ];
    const reply = await call(sim, 'POST', '/asyncOrders', orderBody('rejections', items));
    assert.equal(reply.status, 201);
    const failed = new Map<
      string,
      { field: string; errorCodeValue: number; errorCodeName: string; message: string }
    >(
      reply.json.failedLineItems.map((f: { externalRefLineItemID: string; errors: never[] }) => [
        f.externalRefLineItemID,
        f.errors[0],
      ]),
    );
    const expected: Record<string, [string, number, string]> = {
      'bad-email': ['INVALID_EMAIL', 134, 'recipient.email'],
      'no-email': ['EMAIL_REQUIRED', 29, 'recipient.email'],
      'too-much': ['AMOUNT_OUT_OF_RANGE', 25, 'amount'],
      'fixed-wrong': ['WRONG_FIXED_AMOUNT', 27, 'amount'],
      inactive: ['ITEM_INACTIVE', 30, 'utid'],
      'unknown-utid': ['UNKNOWN_UTID', 33, 'utid'],
      'bad-utid': ['INVALID_UTID_FORMAT', 147, 'utid'],
      'no-phone': ['INVALID_PHONE', 135, 'recipient.mobileNumber'],
      'no-address': ['INVALID_ADDRESS', 136, 'recipient.address'],
      'too-soon': ['INVALID_DELIVERY_DATE', 171, 'deliveryDate'],
    };
    assert.deepEqual([...failed.keys()].sort(), Object.keys(expected).sort());
    for (const [id, [name, value, field]] of Object.entries(expected)) {
      const error = failed.get(id);
      assert.equal(error?.errorCodeName, name, id);
      assert.equal(error?.errorCodeValue, value, id);
      assert.equal(error?.field, field, id);
      assert.ok(error?.message, id);
    }
    assert.equal(reply.json.totalLineItems, 2, 'only the accepted items make up the order');
    assert.equal(reply.json.failedLineItems[0].utid, 'U000001');
    assert.ok(reply.json.failedLineItems[0].lineItemId);

    await sim.whenIdle();
    const read = await call(sim, 'GET', orderPath('rejections'));
    assert.deepEqual(
      read.json.lineItems.map((item: { externalRefLineItemID: string }) => item.externalRefLineItemID),
      ['ok-1', 'scheduled'],
      'items rejected at submit time are not in GET',
    );
    assert.equal(read.json.lineItems[1].deliveryStatus, 'SCHEDULED');
    assert.equal(read.json.orderStatus, 'COMPLETE');
  });

  it('reports ids repeated in one request and processes only their first occurrence', async () => {
    const reply = await call(
      sim,
      'POST',
      '/asyncOrders',
      orderBody('dupes', [
        lineItem('d1'),
        lineItem('d2'),
        lineItem('d1', { amount: 99 }),
        lineItem('d1'),
        lineItem('d2'),
      ]),
    );
    assert.equal(reply.status, 201);
    assert.deepEqual(reply.json.duplicateLineItemRefIds, { d1: 3, d2: 2 });
    assert.equal(reply.json.totalLineItems, 2);
    await sim.whenIdle();
    const read = await call(sim, 'GET', orderPath('dupes'));
    assert.deepEqual(
      read.json.lineItems.map((item: { externalRefLineItemID: string; amount: number }) => [
        item.externalRefLineItemID,
        item.amount,
      ]),
      [
        ['d1', 10],
        ['d2', 10],
      ],
    );
    assert.equal(sim.ledger.entries().filter((entry) => entry.externalRefID === 'dupes').length, 2);
  });

  it('answers a repeated externalRefID with 200 and the existing status, creating nothing', async () => {
    const body = orderBody('idem-1', [lineItem('i1'), lineItem('i-bad', { recipient: { email: 'bad' } })]);
    const first = await call(sim, 'POST', '/asyncOrders', body);
    assert.equal(first.status, 201);
    assert.equal(first.json.status, 'PENDING');
    assert.equal(first.json.failedLineItems.length, 1);
    const ordersBefore = sim.stats().orders.count;
    const again = await call(sim, 'POST', '/asyncOrders', body);
    assert.equal(again.status, 200);
    assert.equal(again.json.externalRefID, 'idem-1');
    assert.deepEqual(again.json.failedLineItems, [], 'failedLineItems are not repeated');
    assert.equal(sim.stats().orders.count, ordersBefore);
    await sim.whenIdle();
    const different = await call(
      sim,
      'POST',
      '/asyncOrders',
      orderBody('idem-1', [lineItem('other', { amount: 400 })]),
    );
    assert.equal(different.status, 200);
    assert.equal(different.json.status, 'COMPLETE');
    assert.equal(sim.ledger.entries().filter((entry) => entry.externalRefID === 'idem-1').length, 1);
  });

  it('returns the existing order for an externalRefID POSTed again with other line items, changing nothing', async () => {
    const original = orderBody('idem-other', [
      lineItem('o1', { amount: 20 }),
      lineItem('o2', { amount: 30 }),
    ]);
    assert.equal((await call(sim, 'POST', '/asyncOrders', original)).status, 201);
    await sim.whenIdle();
    const before = await call(sim, 'GET', orderPath('idem-other'));
    const balance = (await call(sim, 'GET', `/accounts/${ACCOUNT}`)).json.currentBalance;
    const { ordersCreated, ordersRepeated, lineItemsAccepted } = sim.stats().orders;
    const ledgerBefore = sim.ledger.entries().filter((entry) => entry.externalRefID === 'idem-other');

    // Other ids, another count, other amounts, one item that would be rejected on its own.
    const other = orderBody('idem-other', [
      lineItem('x1', { amount: 5 }),
      lineItem('x2', { amount: 6 }),
      lineItem('x3', { amount: 7 }),
      lineItem('x-bad', { recipient: { email: 'not-an-email' } }),
    ]);
    const again = await call(sim, 'POST', '/asyncOrders', other);
    assert.equal(again.status, 200);
    assert.equal(again.json.externalRefID, 'idem-other');
    assert.equal(again.json.status, 'COMPLETE');
    assert.equal(again.json.totalLineItems, 2, "the existing order's count, not the new request's");
    assert.deepEqual(again.json.failedLineItems, []);
    assert.deepEqual(again.json.duplicateLineItemRefIds, {});
    await sim.whenIdle();

    const after = await call(sim, 'GET', orderPath('idem-other'));
    assert.deepEqual(after.json, before.json, 'the order reads exactly as before');
    assert.deepEqual(
      after.json.lineItems.map((item: { externalRefLineItemID: string }) => item.externalRefLineItemID),
      ['o1', 'o2'],
    );
    assert.deepEqual(after.json.amountCharged, { currencyCode: 'USD', value: 50, total: 50 });
    assert.equal((await call(sim, 'GET', `/accounts/${ACCOUNT}`)).json.currentBalance, balance, 'no charge');
    const stats = sim.stats().orders;
    assert.equal(stats.ordersCreated, ordersCreated);
    assert.equal(stats.ordersRepeated, ordersRepeated + 1);
    assert.equal(stats.lineItemsAccepted, lineItemsAccepted);
    assert.deepEqual(
      sim.ledger.entries().filter((entry) => entry.externalRefID === 'idem-other'),
      ledgerBefore,
    );
    assert.equal(
      sim.ledger.entries().filter((entry) => entry.externalRefLineItemID.startsWith('x')).length,
      0,
      'none of the new items was fulfilled',
    );
  });
});

describe('POST /asyncOrders response shapes and modes', () => {
  it('alternates between the two documented response shapes when asked', async () => {
    const sim = await startSimulator({ responses: { createShape: 'alternate' } });
    try {
      const first = await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('shape-1', [lineItem('a'), lineItem('b')]),
      );
      assert.equal(first.status, 201);
      assert.ok(Array.isArray(first.json.failedLineItems));
      assert.equal(first.json.totalLineItems, 2);
      const second = await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('shape-2', [lineItem('a'), lineItem('b')]),
      );
      assert.equal(second.status, 201);
      assert.deepEqual(Object.keys(second.json).sort(), ['externalRefID', 'order']);
      assert.equal(second.json.order.totalLineItems, '2');
      assert.equal(second.json.order.status, 'pending');
      assert.ok(second.json.order.created_at);
    } finally {
      await sim.close();
    }
  });

  it('refuses an order the balance cannot cover with 402 in 402 mode', async () => {
    const sim = await startSimulator({
      responses: { insufficientFunds: '402' },
      accounts: [{ customerIdentifier: CUSTOMER, accountIdentifier: ACCOUNT, balance: 15 }],
    });
    try {
      const reply = await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('poor', [lineItem('a'), lineItem('b')]),
      );
      assert.equal(reply.status, 402);
      assert.equal(reply.json.i18nKey, '402.001');
      assert.equal(sim.stats().orders.count, 0);
      sim.addFunds(ACCOUNT, 5);
      const retry = await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('poor', [lineItem('a'), lineItem('b')]),
      );
      assert.equal(retry.status, 201);
    } finally {
      await sim.close();
    }
  });

  it('answers 409.002 to a repeat while the order is processing when configured', async () => {
    const sim = await startSimulator({
      processingDelayMs: 10_000,
      responses: { repeatWhileProcessing: '409' },
    });
    try {
      assert.equal((await call(sim, 'POST', '/asyncOrders', orderBody('busy', [lineItem('a')]))).status, 201);
      const again = await call(sim, 'POST', '/asyncOrders', orderBody('busy', [lineItem('a')]));
      assert.equal(again.status, 409);
      assert.equal(again.json.i18nKey, '409.002');
    } finally {
      await sim.close();
    }
  });

  it('refuses orders on an inactive account with 422.156', async () => {
    const sim = await startSimulator({
      accounts: [
        { customerIdentifier: CUSTOMER, accountIdentifier: ACCOUNT, balance: 100, status: 'FROZEN' },
      ],
    });
    try {
      const reply = await call(sim, 'POST', '/asyncOrders', orderBody('frozen', [lineItem('a')]));
      assert.equal(reply.status, 422);
      assert.equal(reply.json.i18nKey, '422.156');
    } finally {
      await sim.close();
    }
  });
});

describe('asynchronous processing', () => {
  it('moves PENDING -> PROCESSING -> COMPLETE at the configured pace and debits the balance', async () => {
    const sim = await startSimulator({ processingDelayMs: 100, throughput: 50 });
    try {
      const items = Array.from({ length: 20 }, (_, i) => lineItem(`p${i}`, { amount: 2.5 }));
      const created = await call(sim, 'POST', '/asyncOrders', orderBody('paced', items));
      assert.equal(created.status, 201);
      const pending = await call(sim, 'GET', orderPath('paced'));
      assert.equal(pending.json.orderStatus, 'PENDING');
      assert.equal(pending.json.completedAt, null);
      assert.ok(
        pending.json.lineItems.every((item: { lineItemStatus: string }) => item.lineItemStatus === 'PENDING'),
      );
      let sawProcessing = false;
      let sawPartialProgress = false;
      const started = Date.now();
      for (;;) {
        const read = await call(sim, 'GET', orderPath('paced'));
        if (read.json.orderStatus === 'PROCESSING') {
          sawProcessing = true;
          const done = read.json.lineItems.filter(
            (item: { lineItemStatus: string }) => item.lineItemStatus === 'COMPLETE',
          );
          if (done.length > 0 && done.length < 20) sawPartialProgress = true;
        }
        if (read.json.orderStatus === 'COMPLETE') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const elapsed = Date.now() - started;
      assert.ok(sawProcessing, 'PROCESSING was visible');
      assert.ok(sawPartialProgress, 'items completed one batch at a time');
      assert.ok(elapsed >= 300, `20 items at 50/s took ${elapsed} ms`);
      const done = await call(sim, 'GET', orderPath('paced'));
      assert.ok(done.json.completedAt);
      assert.deepEqual(done.json.amountCharged, { currencyCode: 'USD', value: 50, total: 50 });
      const account = await call(sim, 'GET', `/accounts/${ACCOUNT}`);
      assert.equal(account.json.currentBalance, 10_000_000 - 50);
    } finally {
      await sim.close();
    }
  });

  it('fails items INSUFFICIENT_FUNDS once the balance runs out, then delivers them after funds are added', async () => {
    const sim = await startSimulator({
      processingDelayMs: 0,
      accounts: [{ customerIdentifier: CUSTOMER, accountIdentifier: ACCOUNT, balance: 25 }],
    });
    try {
      const items = [lineItem('f1'), lineItem('f2'), lineItem('f3'), lineItem('f4')];
      assert.equal((await call(sim, 'POST', '/asyncOrders', orderBody('funds-1', items))).status, 201);
      await sim.whenIdle();
      const read = await call(sim, 'GET', orderPath('funds-1'));
      assert.equal(read.json.orderStatus, 'PARTIAL');
      const statuses = read.json.lineItems.map(
        (item: { lineItemStatus: string; lineItemErrors: { errorCode: string }[] }) => [
          item.lineItemStatus,
          item.lineItemErrors[0]?.errorCode,
        ],
      );
      assert.deepEqual(statuses, [
        ['COMPLETE', undefined],
        ['COMPLETE', undefined],
        ['FAILED', 'INSUFFICIENT_FUNDS'],
        ['FAILED', 'INSUFFICIENT_FUNDS'],
      ]);
      assert.equal(
        (await call(sim, 'POST', `/_admin/accounts/${ACCOUNT}/funds`, { amount: 100 })).json.currentBalance,
        105,
      );
      await call(sim, 'POST', '/asyncOrders', orderBody('funds-1-r1', [lineItem('f3'), lineItem('f4')]));
      await sim.whenIdle();
      assert.equal((await call(sim, 'GET', orderPath('funds-1-r1'))).json.orderStatus, 'COMPLETE');
      assert.equal((await call(sim, 'GET', `/accounts/${ACCOUNT}`)).json.currentBalance, 85);
    } finally {
      await sim.close();
    }
  });

  it('applies each content failure rule at processing time', async () => {
    const sim = await startSimulator({ processingDelayMs: 0 });
    try {
      const items = [
        lineItem('t1', { recipient: { email: 'flaky@transient.test' } }),
        lineItem('b1', { recipient: { email: 'someone@blocked.test' } }),
        lineItem('x1', { recipient: { email: 'ghost@bounce.test' } }),
        lineItem('m1', { utid: 'U000002', deliveryMethod: 'EMAIL' }),
        lineItem('ok', {}),
      ];
      await call(sim, 'POST', '/asyncOrders', orderBody('rules', items));
      await sim.whenIdle();
      const read = await call(sim, 'GET', orderPath('rules'));
      const outcome = Object.fromEntries(
        read.json.lineItems.map(
          (item: {
            externalRefLineItemID: string;
            lineItemStatus: string;
            lineItemErrors: { errorCode: string; errorMessage: string }[];
          }) => [item.externalRefLineItemID, item.lineItemErrors[0]?.errorCode ?? item.lineItemStatus],
        ),
      );
      assert.deepEqual(outcome, {
        t1: 'PROCESSING_ERROR',
        b1: 'RECIPIENT_BLOCKED',
        x1: 'INVALID_EMAIL',
        m1: 'DELIVERY_METHOD_NOT_SUPPORTED',
        ok: 'COMPLETE',
      });
      assert.equal(read.json.orderStatus, 'PARTIAL');

      // Resubmitted in a later order, the transient item succeeds; the blocked one fails again.
      await call(sim, 'POST', '/asyncOrders', orderBody('rules-r1', [items[0]!, items[1]!]));
      await sim.whenIdle();
      const second = await call(sim, 'GET', orderPath('rules-r1'));
      assert.deepEqual(
        second.json.lineItems.map((item: { lineItemStatus: string }) => item.lineItemStatus),
        ['COMPLETE', 'FAILED'],
      );
      const all = await call(sim, 'POST', '/asyncOrders', orderBody('all-bad', [items[1]!]));
      assert.equal(all.status, 201);
      await sim.whenIdle();
      assert.equal((await call(sim, 'GET', orderPath('all-bad'))).json.orderStatus, 'FAILED');
    } finally {
      await sim.close();
    }
  });

  it('applies seeded random failure rates, the same way for the same seed', async () => {
    const run = async (seed: number) => {
      const sim = await startSimulator({
        seed,
        processingDelayMs: 0,
        failures: { rates: { transient: 0.2, badContact: 0.1, permanent: 0.05 } },
      });
      try {
        const items = Array.from({ length: 400 }, (_, i) => lineItem(`r${i}`));
        await call(sim, 'POST', '/asyncOrders', orderBody('random', items));
        await sim.whenIdle();
        return sim.stats().orders.failuresByCode;
      } finally {
        await sim.close();
      }
    };
    const first = await run(7);
    const again = await run(7);
    assert.deepEqual(first, again);
    const transient = (first['PROCESSING_ERROR'] ?? 0) + (first['PROVIDER_TIMEOUT'] ?? 0);
    assert.ok(transient > 40 && transient < 120, `transient failures ${transient} of 400 at 20%`);
    assert.ok((first['INVALID_EMAIL'] ?? 0) > 10, 'bad-contact failures happen');
    assert.ok((first['RECIPIENT_BLOCKED'] ?? 0) > 0, 'permanent failures happen');
    assert.notDeepEqual(await run(8), first, 'another seed gives another run');
  });

  it('shows items rejected at submit time in GET when configured', async () => {
    const sim = await startSimulator({ processingDelayMs: 0, responses: { rejectedItemsInGet: true } });
    try {
      await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('visible', [lineItem('v1'), lineItem('v2', { amount: 0 })]),
      );
      await sim.whenIdle();
      const read = await call(sim, 'GET', orderPath('visible'));
      assert.equal(read.json.totalLineItems, 2);
      assert.equal(read.json.lineItems[1].lineItemErrors[0].errorCode, 'AMOUNT_OUT_OF_RANGE');
      assert.equal(read.json.orderStatus, 'PARTIAL');
    } finally {
      await sim.close();
    }
  });
});
