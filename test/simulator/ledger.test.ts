// The fulfilment ledger: every delivered item is recorded, and anything delivered twice (the same
// line item id across orders, or the same recipient + reward + amount) is reported. The simulator
// itself lets double deliveries through, as Tango would; catching them is the ledger's job.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSimulator } from '../../src/simulator/index.ts';
import { ACCOUNT, call, CUSTOMER, lineItem, orderBody } from './helpers.ts';

describe('fulfilment ledger', () => {
  it('records each delivered item with its order, recipient, utid, amount and time', async () => {
    const sim = await startSimulator({ processingDelayMs: 0 });
    try {
      await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('ledger-1', [
          lineItem('l1', { recipient: { email: 'Ada@Example.com' }, amount: 12.5 }),
          lineItem('l2', { recipient: { email: 'x@blocked.test' } }),
          lineItem('l3', { deliveryMethod: 'PHONE', recipient: { mobileNumber: '+1 (555) 010-0000' } }),
        ]),
      );
      await sim.whenIdle();
      assert.equal(sim.ledger.size, 2, 'failed items are not in the ledger');
      const [first, second] = sim.ledger.entries();
      assert.ok(first && second);
      assert.equal(first.externalRefID, 'ledger-1');
      assert.equal(first.externalRefLineItemID, 'l1');
      assert.equal(first.recipientKey, 'email:ada@example.com');
      assert.equal(first.utid, 'U000001');
      assert.equal(first.amount, 12.5);
      assert.equal(first.customerIdentifier, CUSTOMER);
      assert.equal(first.accountIdentifier, ACCOUNT);
      assert.ok(first.referenceOrderID && first.referenceLineItemId);
      assert.equal(first.state, 'fulfilled');
      assert.ok(!Number.isNaN(Date.parse(first.fulfilledAt ?? '')));
      assert.equal(first.recordedAt, first.fulfilledAt);
      assert.equal(first.scheduledFor, null);
      assert.equal(first.reversedAt, null);
      assert.equal(second.recipientKey, 'phone:15550100000');
      assert.deepEqual(sim.ledger.duplicates(), { lineItems: [], recipients: [] });
    } finally {
      await sim.close();
    }
  });

  it('reports a line item id fulfilled in two orders, and the same recipient rewarded twice', async () => {
    const sim = await startSimulator({
      processingDelayMs: 0,
      accounts: [
        { customerIdentifier: CUSTOMER, accountIdentifier: ACCOUNT, balance: 10_000 },
        { customerIdentifier: CUSTOMER, accountIdentifier: 'sim-account-2', balance: 10_000 },
      ],
    });
    try {
      const twice = lineItem('campaign-7-item-42', { recipient: { email: 'grace@example.com' } });
      assert.equal((await call(sim, 'POST', '/asyncOrders', orderBody('camp-7-0', [twice]))).status, 201);
      // The product's bug we want to catch: the same item sent again in a later round.
      assert.equal((await call(sim, 'POST', '/asyncOrders', orderBody('camp-7-0-r1', [twice]))).status, 201);
      // Another id, same person, same reward and amount.
      await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('camp-8-0', [lineItem('other-id', { recipient: { email: 'GRACE@example.com' } })]),
      );
      // Same id under another account is a different line item for Tango, but still the same person.
      await call(sim, 'POST', '/asyncOrders', {
        ...orderBody('camp-9-0', [twice]),
        accountIdentifier: 'sim-account-2',
      });
      // No recipient at all (NONE delivery): never counted as a recipient duplicate.
      await call(
        sim,
        'POST',
        '/asyncOrders',
        orderBody('codes', [
          lineItem('code-1', { deliveryMethod: 'NONE', recipient: undefined }),
          lineItem('code-2', { deliveryMethod: 'NONE', recipient: undefined }),
        ]),
      );
      await sim.whenIdle();
      assert.equal(sim.ledger.size, 6, 'the simulator delivered every one of them');

      const { lineItems, recipients } = sim.ledger.duplicates();
      assert.equal(lineItems.length, 1);
      assert.equal(lineItems[0]?.externalRefLineItemID, 'campaign-7-item-42');
      assert.equal(lineItems[0]?.accountIdentifier, ACCOUNT);
      assert.equal(lineItems[0]?.count, 2);
      assert.deepEqual(
        lineItems[0]?.entries.map((entry) => entry.externalRefID),
        ['camp-7-0', 'camp-7-0-r1'],
      );
      assert.equal(recipients.length, 1);
      assert.equal(recipients[0]?.recipientKey, 'email:grace@example.com');
      assert.equal(recipients[0]?.count, 4);
      assert.deepEqual(
        recipients[0]?.entries.map((entry) => entry.externalRefID),
        ['camp-7-0', 'camp-7-0-r1', 'camp-8-0', 'camp-9-0'],
      );

      const admin = await call(sim, 'GET', '/_admin/ledger');
      assert.equal(admin.status, 200);
      assert.equal(admin.json.size, 6);
      assert.equal(admin.json.entries.length, 6);
      assert.equal(admin.json.duplicates.lineItems[0].externalRefLineItemID, 'campaign-7-item-42');
      assert.equal(admin.json.duplicates.recipients[0].count, 4);
    } finally {
      await sim.close();
    }
  });

  it('credits funds over the admin endpoint and refuses bad amounts or unknown accounts', async () => {
    const sim = await startSimulator({
      accounts: [{ customerIdentifier: CUSTOMER, accountIdentifier: ACCOUNT, balance: 1 }],
    });
    try {
      const credited = await call(sim, 'POST', `/_admin/accounts/${ACCOUNT}/funds`, { amount: 99.5 });
      assert.equal(credited.status, 200);
      assert.equal(credited.json.currentBalance, 100.5);
      assert.equal(sim.addFunds(ACCOUNT, 0.5), 101);
      assert.equal(
        (await call(sim, 'POST', `/_admin/accounts/${ACCOUNT}/funds`, { amount: -5 })).status,
        400,
      );
      assert.equal(
        (await call(sim, 'POST', '/_admin/accounts/nobody-home/funds', { amount: 5 })).status,
        404,
      );
    } finally {
      await sim.close();
    }
  });
});
