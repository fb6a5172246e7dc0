// Staging reads its source twice: the first pass checks (every item valid, ids unique, the total the
// approval gate compares), the second writes the items and the order books. A source that changes in
// between must fail the campaign before any book exists, or the second pass would stage items nobody
// checked: a duplicate id, a larger total.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createStagingActivities } from '../../src/activities/staging.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { campaignItemsKey, campaignPrefix } from '../../src/store/keys.ts';
import { lineItem } from '../helpers/line-items.ts';

function item(id: string, amount = 25): Record<string, unknown> {
  return lineItem(id, { amount });
}

const jsonl = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).join('\n') + '\n';

/** A store whose source object reads as `first` once, then as `later`: a file edited mid-staging. */
class ChangingSourceStore extends MemoryStore {
  reads = 0;
  constructor(
    readonly sourceKey: string,
    readonly first: string,
    readonly later: string,
  ) {
    super('changing-source');
  }
  override stream(key: string): AsyncIterable<Buffer> {
    if (key !== this.sourceKey) return super.stream(key);
    this.reads += 1;
    const text = this.reads === 1 ? this.first : this.later;
    return (async function* () {
      yield Buffer.from(text);
    })();
  }
}

const definition = (campaignId: string) => ({
  campaignId,
  customerIdentifier: 'sim-customer',
  accountIdentifier: 'sim-account-1',
  autoCorrect: true,
  utidFallbacks: {},
});

async function keysUnder(store: MemoryStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list(prefix)) keys.push(key);
  return keys;
}

async function stage(store: MemoryStore, campaignId: string, sourceKey: string) {
  const { stageCampaign } = createStagingActivities(store);
  return new MockActivityEnvironment().run(stageCampaign, {
    definition: definition(campaignId),
    items: { storeKey: sourceKey },
    chunkSize: 2,
  });
}

describe('stageCampaign second pass', () => {
  const original = [item('a'), item('b'), item('c'), item('d')];

  for (const [what, later] of [
    // Same count and total: only the ids changed, and now two items share one.
    ['a duplicate id', [item('a'), item('b'), item('c'), item('a')]],
    ['a larger total', [item('a'), item('b'), item('c'), item('d', 400)]],
    ['another item in the same place', [item('a'), item('b'), item('c'), item('e')]],
    ['an item fewer', [item('a'), item('b'), item('c')]],
    ['an invalid item', [item('a'), item('b'), item('c'), { ...item('d'), amount: 'lots' }]],
  ] as const) {
    it(`fails before any book is written when the source changed to ${what}`, async () => {
      const campaignId = `changed-${what.replace(/\W+/g, '-')}`;
      const sourceKey = `${campaignPrefix(campaignId)}input/source.jsonl`;
      const store = new ChangingSourceStore(sourceKey, jsonl(original), jsonl([...later]));
      await store.put(sourceKey, jsonl(original));
      await assert.rejects(stage(store, campaignId, sourceKey), (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure, String(error));
        assert.equal(error.type, 'InvalidCampaignInput');
        assert.equal(error.nonRetryable, true);
        assert.equal(
          error.message,
          "the campaign's input changed while it was being staged; nothing was sent",
        );
        return true;
      });
      assert.equal(store.reads, 2, 'both passes read the source');
      assert.deepEqual(await keysUnder(store, `${campaignPrefix(campaignId)}orders/`), [], 'no book');
      assert.equal(await store.exists(campaignItemsKey(campaignId)), false, 'no items.jsonl');
    });
  }

  it('stages the items and books when both passes see the same items', async () => {
    const campaignId = 'unchanged';
    const sourceKey = `${campaignPrefix(campaignId)}input/source.jsonl`;
    // Same items, other key order and spacing: the canonical JSON is what is compared.
    const reordered = original
      .map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).reverse()), null, 0))
      .join('\n');
    const store = new ChangingSourceStore(sourceKey, jsonl(original), `${reordered}\n`);
    await store.put(sourceKey, jsonl(original));
    const result = await stage(store, campaignId, sourceKey);
    assert.deepEqual(result, {
      items: 4,
      chunks: 2,
      totalAmount: 100,
      itemsKey: campaignItemsKey(campaignId),
    });
    assert.equal((await keysUnder(store, `${campaignPrefix(campaignId)}orders/`)).length, 2);
  });
});

describe('stageCampaign settings', () => {
  it('fails the campaign at once on a sender email Tango would refuse, before anything is stored', async () => {
    const store = new MemoryStore('sender');
    const { stageCampaign } = createStagingActivities(store);
    await assert.rejects(
      new MockActivityEnvironment().run(stageCampaign, {
        definition: { ...definition('bad-sender'), sender: { email: 'not-an-email' } },
        items: { inline: [item('a')] },
        chunkSize: 2,
      }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure, String(error));
        assert.equal(error.type, 'InvalidCampaignInput');
        assert.equal(error.nonRetryable, true);
        assert.match(error.message, /sender\.email: sender\.email must be a well-formed email address/);
        return true;
      },
    );
    assert.deepEqual(await keysUnder(store, campaignPrefix('bad-sender')), []);
  });
});
