// Store keys: derived from campaign id / chunk / round only, valid store keys, ordered when listed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidCampaignIdError,
  assertValidKey,
  campaignItemsKey,
  isValidCampaignId,
  reportCsvKey,
  reportJsonKey,
} from '../../src/store/index.ts';
import {
  operatorInputKey,
  orderBookKey,
  orderFinalBookKey,
  orderPrefix,
  roundLineItemsPageKey,
  roundOrderKey,
} from '../../src/store/keys.ts';

describe('store keys', () => {
  it('builds the documented layout', () => {
    assert.equal(campaignItemsKey('spring-2026'), 'campaigns/spring-2026/items.jsonl');
    assert.equal(orderBookKey('c1', 7, 3), 'campaigns/c1/orders/000007/book-0003.jsonl');
    assert.equal(orderFinalBookKey('c1', 7), 'campaigns/c1/orders/000007/final.jsonl');
    assert.ok(orderBookKey('c1', 7, 3).startsWith(orderPrefix('c1', 7)));
    assert.equal(roundOrderKey('c1', 7, 2), 'campaigns/c1/orders/000007/round-002/order.json');
    assert.equal(
      roundLineItemsPageKey('c1', 7, 2, 13),
      'campaigns/c1/orders/000007/round-002/line-items/page-000013.json',
    );
    assert.equal(operatorInputKey('c1', 4, 7), 'campaigns/c1/operator/00004/000007.jsonl');
    assert.equal(reportCsvKey('c1'), 'campaigns/c1/report.csv');
    assert.equal(reportJsonKey('c1'), 'campaigns/c1/report.json');
  });

  it('produces valid store keys that sort in numeric order', () => {
    const keys = [0, 1, 9, 10, 99, 100, 123456].map((n) => roundLineItemsPageKey('c.1_x', n, n % 3, n));
    for (const key of keys) assertValidKey(key);
    assert.deepEqual([...keys].sort(), keys);
  });

  it('validates campaign ids and indexes', () => {
    for (const good of ['a', 'A_b.c-9', 'x'.repeat(80)]) assert.equal(isValidCampaignId(good), true, good);
    for (const bad of ['', '.', '..', 'x'.repeat(81), 'a/b', 'a b', 'é', 'a:b']) {
      assert.equal(isValidCampaignId(bad), false, bad);
      assert.throws(() => campaignItemsKey(bad), InvalidCampaignIdError);
    }
    assert.throws(() => roundOrderKey('c', -1, 0), /chunk must be a non-negative integer/);
    assert.throws(() => roundOrderKey('c', 0, 1.5), /round must be a non-negative integer/);
  });
});
