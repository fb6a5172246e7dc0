// The deliveries index on a real filesystem store: contacts normalised the way the guard compares
// them, entries partitioned by hash prefix, read and written in passes, idempotent per campaign.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeliveriesIndex, DeliveriesKeyMismatchError } from '../../src/deliveries/index-store.ts';
import {
  deliveryHash,
  normaliseAddress,
  normaliseEmail,
  normaliseMobileNumber,
  recipientContact,
} from '../../src/deliveries/recipient.ts';
import { loadSpendLimits, periodId } from '../../src/deliveries/spend-limits.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import type { LineItemRequest } from '../../src/tango/schemas.ts';

const key = Buffer.from('a test key of enough length');
const DAY = 86_400_000;

function emailItem(id: string, email: string, amount = 25, utid = 'U000001'): LineItemRequest {
  return {
    externalRefLineItemID: id,
    recipient: { firstName: 'A', lastName: 'B', email },
    utid,
    amount,
    deliveryMethod: 'EMAIL',
  };
}

async function* each<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of keys) out.push(k);
  return out;
}

describe('recipient normalisation', () => {
  it('compares emails lower-cased and trimmed, numbers by their digits, addresses field by field', () => {
    assert.equal(normaliseEmail('  Ann.Lee@Example.TEST '), 'ann.lee@example.test');
    assert.equal(normaliseMobileNumber('+1 (555) 010-2000'), '15550102000');
    const address = {
      streetLine1: '10  Downing St.',
      city: 'LONDON',
      stateOrProvince: 'Greater London',
      postalCode: 'SW1A 2AA',
      country: 'GB',
    };
    assert.equal(
      normaliseAddress(address),
      normaliseAddress({ ...address, streetLine1: '10 downing st', city: ' London ', postalCode: 'sw1a2aa' }),
    );
    assert.notEqual(
      normaliseAddress(address),
      normaliseAddress({ ...address, streetLine1: '11 Downing St' }),
    );
  });

  it('takes the contact the delivery method sends to', () => {
    const item: LineItemRequest = {
      externalRefLineItemID: 'x',
      recipient: { email: 'a@b.test', mobileNumber: '555-0100' },
      utid: 'U1',
      amount: 5,
      deliveryMethod: 'PHONE',
    };
    assert.deepEqual(recipientContact(item), { kind: 'phone', value: '5550100' });
    assert.deepEqual(recipientContact({ ...item, deliveryMethod: 'EMAIL' }), {
      kind: 'email',
      value: 'a@b.test',
    });
    assert.equal(
      recipientContact({ ...item, recipient: { firstName: 'Pat', lastName: 'Lee' }, deliveryMethod: 'NONE' }),
      undefined,
      'a name alone is no contact',
    );
  });

  it('hashes account, contact, utid and amount with the key: the same person written two ways is one entry', () => {
    const a = deliveryHash(key, 'acct-1', emailItem('1', 'Ann@Example.test', 25));
    assert.equal(a, deliveryHash(key, 'acct-1', emailItem('2', ' ann@example.test', 25.0)));
    assert.notEqual(a, deliveryHash(key, 'acct-2', emailItem('1', 'ann@example.test', 25)));
    assert.notEqual(a, deliveryHash(key, 'acct-1', emailItem('1', 'ann@example.test', 26)));
    assert.notEqual(a, deliveryHash(key, 'acct-1', emailItem('1', 'ann@example.test', 25, 'U000002')));
    assert.notEqual(
      a,
      deliveryHash(Buffer.from('another key, also long'), 'acct-1', emailItem('1', 'ann@example.test')),
    );
    assert.match(a!, /^[0-9a-f]{64}$/);
  });
});

describe('spend periods and limits file', () => {
  it('names calendar periods in UTC, ISO weeks from Monday', () => {
    const at = Date.parse('2026-12-01T23:30:00Z'); // a Tuesday
    assert.equal(periodId('day', at), 'day-2026-12-01');
    assert.equal(periodId('week', at), 'week-2026-W49');
    assert.equal(periodId('week', Date.parse('2026-11-30T00:00:00Z')), 'week-2026-W49');
    assert.equal(periodId('week', Date.parse('2026-11-29T23:59:59Z')), 'week-2026-W48');
    assert.equal(periodId('week', Date.parse('2027-01-01T12:00:00Z')), 'week-2026-W53');
    assert.equal(periodId('month', at), 'month-2026-12');
    assert.equal(periodId('year', at), 'year-2026');
  });

  it('reads SPEND_LIMITS and refuses what it does not know', () => {
    assert.deepEqual(loadSpendLimits({ SPEND_LIMITS: '{"accounts":{"acct-1":{"week":50000}}}' }), {
      accounts: { 'acct-1': { week: 50000 } },
    });
    assert.deepEqual(loadSpendLimits({}), { accounts: {} });
    assert.throws(
      () => loadSpendLimits({ SPEND_LIMITS: '{"accounts":{"acct-1":{"fortnight":5}}}' }),
      /SPEND_LIMITS: .*accounts.acct-1/,
    );
  });
});

describe('deliveries index', () => {
  let dir: string;
  let store: FileSystemStore;
  let clock = Date.parse('2026-12-01T12:00:00Z');
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'deliveries-index-'));
    store = new FileSystemStore(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an index never written without writing anything', async () => {
    const index = new DeliveriesIndex(store, key, { now: () => clock });
    const found = await index.findRepeats({
      campaignId: 'early',
      accountIdentifier: 'acct-1',
      items: () => each([emailItem('e-0', 'e@example.test')]),
      windowMs: DAY,
    });
    assert.deepEqual(found, []);
    assert.deepEqual(await collect(store.list('')), []);
  });

  it('finds repeats of an earlier campaign within the window, and not outside it, in passes of bounded size', async () => {
    // A pass size of 7 forces several passes over 40 items, each holding a share of the partitions.
    const index = new DeliveriesIndex(store, key, { now: () => clock, passSize: 7 });
    const first = Array.from({ length: 40 }, (_, i) => emailItem(`a-${i}`, `person${i}@example.test`));
    const record = await index.recordCampaign({
      campaignId: 'first',
      accountIdentifier: 'acct-1',
      delivered: () => each(first),
    });
    assert.deepEqual(record, {
      campaignId: 'first',
      recordedAt: '2026-12-01T12:00:00.000Z',
      items: 40,
      amount: 1000,
    });
    const keys = await collect(store.list('deliveries/'));
    const partitions = new Set(keys.filter((k) => /\/p[0-9a-f]{2}\//.test(k)).map((k) => k.split('/')[2]));
    assert.ok(partitions.size > 10, `entries spread over partitions (${partitions.size})`);
    const everything = keys.map((k) => readFileSync(path.join(dir, k), 'utf8')).join('\n');
    assert.doesNotMatch(everything, /example\.test|person|acct-1/, 'no contact or account in clear');

    clock += 3 * DAY;
    const second = [
      emailItem('b-0', 'new@example.test'),
      emailItem('b-1', ' PERSON3@example.test'),
      emailItem('b-2', 'person4@example.test', 30), // another amount: not a repeat
      emailItem('b-3', 'person39@example.test'),
    ];
    const find = (windowMs: number, campaignId = 'second', accountIdentifier = 'acct-1') =>
      index.findRepeats({ campaignId, accountIdentifier, items: () => each(second), windowMs });
    assert.deepEqual(await find(30 * DAY), [
      {
        position: 1,
        externalRefLineItemID: 'b-1',
        earlierCampaignId: 'first',
        deliveredAt: '2026-12-01T12:00:00.000Z',
      },
      {
        position: 3,
        externalRefLineItemID: 'b-3',
        earlierCampaignId: 'first',
        deliveredAt: '2026-12-01T12:00:00.000Z',
      },
    ]);
    assert.deepEqual(await find(2 * DAY), [], 'outside the window');
    assert.deepEqual(await find(30 * DAY, 'second', 'acct-2'), [], 'another account');
    assert.deepEqual(await find(30 * DAY, 'first'), [], "a campaign's own record is not a repeat");
  });

  it('records a campaign once: a repeated call changes nothing and counts nothing twice', async () => {
    const index = new DeliveriesIndex(store, key, { now: () => clock });
    const items = [emailItem('c-0', 'c0@example.test', 10), emailItem('c-1', 'c1@example.test', 15.5)];
    const once = await index.recordCampaign({
      campaignId: 'third',
      accountIdentifier: 'acct-1',
      delivered: () => each(items),
    });
    const before = await collect(store.list('deliveries/'));
    clock += DAY;
    const again = await index.recordCampaign({
      campaignId: 'third',
      accountIdentifier: 'acct-1',
      delivered: () => each(items),
    });
    assert.deepEqual(again, once);
    assert.deepEqual(await collect(store.list('deliveries/')), before);
    // 1000 from "first" (recorded in the same week) + 25.5 from "third".
    assert.equal(await index.spent({ accountIdentifier: 'acct-1', period: 'week' }), 1025.5);
    assert.equal(
      await index.spent({ accountIdentifier: 'acct-1', period: 'week', exceptCampaignId: 'third' }),
      1000,
    );
    assert.equal(await index.spent({ accountIdentifier: 'acct-1', period: 'day' }), 0, 'recorded yesterday');
    const recordedDay = Date.parse(once.recordedAt);
    assert.equal(await index.spent({ accountIdentifier: 'acct-1', period: 'day', at: recordedDay }), 25.5);
    assert.equal(await index.spent({ accountIdentifier: 'acct-2', period: 'week' }), 0);
  });

  it('counts the money of items without a contact (embedded links) toward the spend, with no entry', async () => {
    const index = new DeliveriesIndex(store, key, { now: () => clock });
    const link: LineItemRequest = { ...emailItem('l-0', 'x@example.test', 40), deliveryMethod: 'EMBEDDED' };
    delete (link.recipient as { email?: string }).email;
    const before = await collect(store.list('deliveries/'));
    const recorded = await index.recordCampaign({
      campaignId: 'links-only',
      accountIdentifier: 'acct-3',
      delivered: () => each([link]),
    });
    assert.equal(recorded.amount, 40);
    assert.equal(await index.spent({ accountIdentifier: 'acct-3', period: 'week' }), 40);
    const added = (await collect(store.list('deliveries/'))).filter((k) => !before.includes(k));
    assert.ok(
      added.every((k) => !/\/p[0-9a-f]{2}\//.test(k)),
      `an item without a contact got a hash entry: ${added.join(', ')}`,
    );
  });

  it('refuses a process whose key differs from the one the index was written with', async () => {
    const other = new DeliveriesIndex(store, Buffer.from('not the same key at all'));
    await assert.rejects(
      other.findRepeats({
        campaignId: 'x',
        accountIdentifier: 'acct-1',
        items: () => each([]),
        windowMs: DAY,
      }),
      DeliveriesKeyMismatchError,
    );
  });
});
