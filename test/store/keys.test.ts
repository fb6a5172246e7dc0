// Store keys: derived from campaign id / chunk / round only, valid store keys, ordered when listed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidCampaignIdError,
  assertValidKey,
  campaignItemsKey,
  correctionsKey,
  failedItemsPageKey,
  failedItemsPrefix,
  isValidCampaignId,
  orderRoundItemsKey,
  reportCsvKey,
  reportJsonKey,
} from '../../src/store/index.ts';

describe('store keys', () => {
  it('builds the documented layout', () => {
    assert.equal(campaignItemsKey('spring-2026'), 'campaigns/spring-2026/items.jsonl');
    assert.equal(orderRoundItemsKey('c1', 7, 0), 'campaigns/c1/orders/000007/round-000/items.jsonl');
    assert.equal(
      failedItemsPageKey('c1', 7, 2, 13),
      'campaigns/c1/orders/000007/round-002/failed/page-000013.jsonl',
    );
    assert.ok(failedItemsPageKey('c1', 7, 2, 13).startsWith(failedItemsPrefix('c1', 7, 2)));
    assert.equal(correctionsKey('c1', 7, 2), 'campaigns/c1/orders/000007/round-002/corrections.jsonl');
    assert.equal(reportCsvKey('c1'), 'campaigns/c1/report.csv');
    assert.equal(reportJsonKey('c1'), 'campaigns/c1/report.json');
  });

  it('produces valid store keys that sort in numeric order', () => {
    const keys = [0, 1, 9, 10, 99, 100, 123456].map((n) => failedItemsPageKey('c.1_x', n, n % 3, n));
    for (const key of keys) assertValidKey(key);
    assert.deepEqual([...keys].sort(), keys);
  });

  it('validates campaign ids and indexes', () => {
    for (const good of ['a', 'A_b.c-9', 'x'.repeat(80)]) assert.equal(isValidCampaignId(good), true, good);
    for (const bad of ['', '.', '..', 'x'.repeat(81), 'a/b', 'a b', 'é', 'a:b']) {
      assert.equal(isValidCampaignId(bad), false, bad);
      assert.throws(() => campaignItemsKey(bad), InvalidCampaignIdError);
    }
    assert.throws(() => orderRoundItemsKey('c', -1, 0), /chunk must be a non-negative integer/);
    assert.throws(() => orderRoundItemsKey('c', 0, 1.5), /round must be a non-negative integer/);
    assert.throws(() => failedItemsPageKey('c', 0, 0, Number.NaN), /page/);
  });
});
