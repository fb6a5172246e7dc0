// Cursor pages of an order's line items: many pages forward and back, failedOnly, id filters and
// their limits, and a 10,000-item order posted and paged fast enough not to slow the product's tests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { call, lineItem, orderBody, orderPath } from './helpers.ts';

interface Page {
  ids: string[];
  next?: string;
  prev?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

async function page(
  sim: RunningSimulator,
  ref: string,
  params: Record<string, string | string[]>,
): Promise<Page> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, one);
  }
  const reply = await call(sim, 'GET', orderPath(ref, `?${search.toString()}`));
  assert.equal(reply.status, 200, reply.text);
  const items = Array.isArray(reply.json.lineItems) ? reply.json.lineItems : [];
  return {
    ids: items.map((item: { externalRefLineItemID: string }) => item.externalRefLineItemID),
    next: reply.json.pagination.nextCursor ?? undefined,
    prev: reply.json.pagination.prevCursor ?? undefined,
    json: reply.json,
  };
}

describe('line item pagination', () => {
  let sim: RunningSimulator;
  // 250 items; every 7th fails (blocked), so failedOnly has 36 of them.
  const ids = Array.from({ length: 250 }, (_, i) => `item-${String(i).padStart(3, '0')}`);
  const failing = ids.filter((_, i) => i % 7 === 0);
  before(async () => {
    sim = await startSimulator({ processingDelayMs: 0 });
    const items = ids.map((id, i) =>
      lineItem(id, i % 7 === 0 ? { recipient: { email: `${id}@blocked.test` } } : {}),
    );
    assert.equal((await call(sim, 'POST', '/asyncOrders', orderBody('paged', items))).status, 201);
    await call(sim, 'POST', '/asyncOrders', orderBody('all-good', [lineItem('g1'), lineItem('g2')]));
    await sim.whenIdle();
  });
  after(() => sim.close());

  it('walks every item once across many pages with nextCursor, and back with prevCursor', async () => {
    const seen: string[] = [];
    const cursors: (string | undefined)[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const current = await page(
        sim,
        'paged',
        cursor ? { maxResults: '23', nextCursor: cursor } : { maxResults: '23' },
      );
      assert.equal(current.json.pagination.maxResults, 23);
      assert.equal(current.json.pagination.numberOfElements, current.ids.length);
      assert.equal(current.json.pagination.nextPageAvailable, current.next !== undefined);
      assert.equal(current.json.pagination.prevPageAvailable, pages > 0);
      seen.push(...current.ids);
      cursors.push(cursor);
      cursor = current.next;
      pages += 1;
    } while (cursor);
    assert.equal(pages, Math.ceil(250 / 23));
    assert.deepEqual(seen, ids);
    assert.equal(seen.length, 250);

    // From the last page, prevCursor walks back to the start.
    let back = await page(sim, 'paged', { maxResults: '23', nextCursor: cursors[cursors.length - 1]! });
    const backwards: string[][] = [back.ids];
    while (back.prev) {
      back = await page(sim, 'paged', { maxResults: '23', prevCursor: back.prev });
      backwards.unshift(back.ids);
    }
    assert.deepEqual(backwards.flat(), ids);
    assert.equal(back.json.pagination.prevPageAvailable, false);
  });

  it('defaults to 100 per page and enforces 1..500', async () => {
    assert.equal((await page(sim, 'paged', {})).ids.length, 100);
    assert.equal((await page(sim, 'paged', { maxResults: '500' })).ids.length, 250);
    assert.equal((await page(sim, 'paged', { maxResults: '1' })).ids.length, 1);
    for (const bad of ['0', '501', 'ten', '-1', '2.5']) {
      const reply = await call(sim, 'GET', orderPath('paged', `?maxResults=${bad}`));
      assert.equal(reply.status, 400, bad);
      assert.equal(reply.json.errors[0].path, 'maxResults');
    }
  });

  it('pages failedOnly items with their errors, and answers an empty failed page with lineItems null', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const current = await page(sim, 'paged', {
        failedOnly: 'true',
        maxResults: '10',
        ...(cursor ? { nextCursor: cursor } : {}),
      });
      for (const item of current.json.lineItems) {
        assert.equal(item.lineItemStatus, 'FAILED');
        assert.equal(item.lineItemErrors[0].errorCode, 'RECIPIENT_BLOCKED');
        assert.ok(item.lineItemErrors[0].errorMessage);
      }
      seen.push(...current.ids);
      cursor = current.next;
    } while (cursor);
    assert.deepEqual(seen, failing);
    const none = await page(sim, 'all-good', { failedOnly: 'true' });
    assert.equal(none.json.lineItems, null);
    assert.equal(none.json.pagination.numberOfElements, 0);
    assert.equal((await call(sim, 'GET', orderPath('paged', '?failedOnly=maybe'))).status, 400);
  });

  it('answers an empty failed page with "NONE" when configured', async () => {
    sim.configure({ responses: { emptyFailedPage: 'NONE' } });
    try {
      assert.equal((await page(sim, 'all-good', { failedOnly: 'true' })).json.lineItems, 'NONE');
    } finally {
      sim.configure({ responses: { emptyFailedPage: 'null' } });
    }
  });

  it('filters by externalLineItemReferenceIds (repeated or comma-separated) and by referenceLineItemIds', async () => {
    const repeated = await page(sim, 'paged', {
      externalLineItemReferenceIds: ['item-010', 'item-003', 'nope'],
    });
    assert.deepEqual(repeated.ids, ['item-003', 'item-010']);
    const comma = await page(sim, 'paged', { externalLineItemReferenceIds: 'item-010,item-003' });
    assert.deepEqual(comma.ids, ['item-003', 'item-010']);
    const refs = repeated.json.lineItems.map(
      (item: { referenceLineItemId: string }) => item.referenceLineItemId,
    );
    const byRef = await page(sim, 'paged', { referenceLineItemIds: refs.join(',') });
    assert.deepEqual(byRef.ids, ['item-003', 'item-010']);
    const failedAmongThem = await page(sim, 'paged', {
      externalLineItemReferenceIds: ['item-007', 'item-008'],
      failedOnly: 'true',
    });
    assert.deepEqual(failedAmongThem.ids, ['item-007']);
    // Fifty ids across pages of 20.
    const fifty = ids.slice(100, 150);
    const first = await page(sim, 'paged', { externalLineItemReferenceIds: fifty, maxResults: '20' });
    const second = await page(sim, 'paged', {
      externalLineItemReferenceIds: fifty,
      maxResults: '20',
      nextCursor: first.next!,
    });
    const third = await page(sim, 'paged', {
      externalLineItemReferenceIds: fifty,
      maxResults: '20',
      nextCursor: second.next!,
    });
    assert.deepEqual([...first.ids, ...second.ids, ...third.ids], fifty);
    assert.equal(third.next, undefined);
  });

  it('enforces the id filter limits and the not-both rule with Tango error bodies', async () => {
    const tooMany = await call(
      sim,
      'GET',
      orderPath('paged', `?externalLineItemReferenceIds=${ids.slice(0, 51).join(',')}`),
    );
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.json.errors[0].path, 'externalLineItemReferenceIds');
    const fiftyOk = await call(
      sim,
      'GET',
      orderPath('paged', `?externalLineItemReferenceIds=${ids.slice(0, 50).join(',')}`),
    );
    assert.equal(fiftyOk.status, 200);
    const tooLong = await call(sim, 'GET', orderPath('paged', `?referenceLineItemIds=${'r'.repeat(101)}`));
    assert.equal(tooLong.status, 400);
    const both = await call(
      sim,
      'GET',
      orderPath('paged', '?referenceLineItemIds=a&externalLineItemReferenceIds=b'),
    );
    assert.equal(both.status, 400);
    assert.equal(both.json.httpCode, 400);
    assert.match(both.json.errors[0].message, /not both/);
  });

  it('refuses cursors that are forged, from another order, or replayed with other filters', async () => {
    const forged = await call(sim, 'GET', orderPath('paged', '?nextCursor=abc'));
    assert.equal(forged.status, 400);
    const other = await page(sim, 'all-good', { maxResults: '1' });
    const crossOrder = await call(sim, 'GET', orderPath('paged', `?nextCursor=${other.next!}`));
    assert.equal(crossOrder.status, 400);
    const plain = await page(sim, 'paged', { maxResults: '5' });
    const refiltered = await call(
      sim,
      'GET',
      orderPath('paged', `?failedOnly=true&nextCursor=${plain.next!}`),
    );
    assert.equal(refiltered.status, 400);
    const unknownOrder = await call(sim, 'GET', orderPath('never-created'));
    assert.equal(unknownOrder.status, 404);
  });
});

describe('simulator speed', () => {
  it('takes a 10,000-item POST and pages all of it quickly (reported, not asserted)', async () => {
    const sim = await startSimulator({ processingDelayMs: 0 });
    try {
      const items = Array.from({ length: 10_000 }, (_, i) => lineItem(`bulk-${i}`, { amount: 1 }));
      const postStart = performance.now();
      const created = await call(sim, 'POST', '/asyncOrders', orderBody('bulk', items));
      const postMs = performance.now() - postStart;
      assert.equal(created.status, 201);
      assert.equal(created.json.totalLineItems, 10_000);
      await sim.whenIdle();
      const pageStart = performance.now();
      let cursor: string | undefined;
      let count = 0;
      let pages = 0;
      do {
        const current = await page(
          sim,
          'bulk',
          cursor ? { maxResults: '500', nextCursor: cursor } : { maxResults: '500' },
        );
        count += current.ids.length;
        pages += 1;
        cursor = current.next;
      } while (cursor);
      const pageMs = performance.now() - pageStart;
      assert.equal(count, 10_000);
      assert.equal(pages, 20);
      assert.equal(sim.ledger.size, 10_000);
      console.log(
        `simulator speed: POST 10,000 items ${postMs.toFixed(0)} ms; 20 pages of 500 ${pageMs.toFixed(0)} ms`,
      );
    } finally {
      await sim.close();
    }
  });
});
