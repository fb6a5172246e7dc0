// Judging one item: what the report (or a running campaign's book) says against every record Tango
// holds of it in the campaign's orders.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ItemClaim, type TangoItemReading, judgeItem } from '../../src/campaign/reconcile.ts';
import { reconcilePageKey, reconcilePrefix } from '../../src/store/keys.ts';

const claim = (state: string, externalRefID = 'c-0', tangoLineItemId = ''): ItemClaim => ({
  externalRefLineItemID: 'a',
  state,
  externalRefID,
  tangoLineItemId,
});
const reading = (status: string, externalRefID = 'c-0', extra: Partial<TangoItemReading> = {}) => ({
  externalRefID,
  status,
  errors: [],
  ...extra,
});
const kinds = (claimed: ItemClaim | undefined, readings: TangoItemReading[]) =>
  judgeItem('a', claimed, readings).map((found) => found.kind);

describe('judgeItem', () => {
  it('agrees when Tango holds what the report says', () => {
    assert.deepEqual(
      kinds(claim('delivered', 'c-0-r1'), [reading('FAILED'), reading('COMPLETE', 'c-0-r1')]),
      [],
    );
    assert.deepEqual(kinds(claim('scheduled'), [reading('PENDING')]), []);
    assert.deepEqual(
      kinds(claim('scheduled'), [reading('COMPLETE')]),
      [],
      'a scheduled item delivered since',
    );
    assert.deepEqual(kinds(claim('given-up'), [reading('FAILED')]), []);
    assert.deepEqual(kinds(claim('given-up'), []), [], 'given up before Tango held it');
    assert.deepEqual(kinds(claim('cancelled', ''), []), []);
    assert.deepEqual(kinds(claim('submitted'), [reading('PENDING')]), [], 'a running order');
    assert.deepEqual(kinds(claim('awaiting-correction'), [reading('FAILED')]), []);
  });

  it('names a delivered item Tango reversed, or does not hold at all', () => {
    const [reversed] = judgeItem('a', claim('delivered', 'c-0'), [
      reading('FAILED', 'c-0', { errors: [{ code: 'REVERSED', message: 'reward reversed after delivery' }] }),
    ]);
    assert.equal(reversed?.kind, 'not-delivered');
    assert.equal(reversed?.tangoStatus, 'FAILED');
    assert.equal(reversed?.tangoErrors, 'REVERSED: reward reversed after delivery');
    assert.equal(reversed?.externalRefID, 'c-0');
    const [absent] = judgeItem('a', claim('delivered', 'c-0'), []);
    assert.equal(absent?.kind, 'not-delivered');
    assert.equal(absent?.tangoStatus, 'ABSENT');
    assert.deepEqual(kinds(claim('scheduled'), [reading('FAILED')]), ['not-delivered']);
  });

  it('finds items reported given up, cancelled or waiting that Tango holds COMPLETE or PENDING', () => {
    assert.deepEqual(kinds(claim('given-up'), [reading('FAILED'), reading('COMPLETE', 'c-0-r1')]), [
      'delivered-by-tango',
    ]);
    assert.deepEqual(kinds(claim('given-up'), [reading('PENDING')]), ['pending-at-tango']);
    // A status outside the documented set is undecided too, as the order book reads it.
    assert.deepEqual(kinds(claim('given-up'), [reading('PROCESSING')]), ['pending-at-tango']);
    assert.deepEqual(kinds(claim('cancelled', ''), [reading('COMPLETE')]), ['delivered-by-tango']);
    assert.deepEqual(kinds(claim('cancelled', ''), [reading('FAILED')]), ['sent-but-reported-unsent']);
    assert.deepEqual(kinds(claim('queued'), [reading('COMPLETE')]), ['delivered-by-tango']);
    assert.deepEqual(kinds(claim('awaiting-funds'), [reading('COMPLETE')]), ['delivered-by-tango']);
  });

  it('finds double rewards, another record than the one reported, and items the campaign lacks', () => {
    assert.deepEqual(kinds(claim('delivered'), [reading('COMPLETE'), reading('COMPLETE', 'c-0-r1')]), [
      'delivered-twice',
    ]);
    assert.deepEqual(
      kinds(claim('delivered', 'c-0', 'LI-1'), [reading('COMPLETE', 'c-0', { referenceLineItemId: 'LI-2' })]),
      ['different-record'],
    );
    assert.deepEqual(
      kinds(claim('delivered', 'c-0', 'LI-1'), [reading('COMPLETE', 'c-0', { referenceLineItemId: 'LI-1' })]),
      [],
    );
    const [unknown] = judgeItem('stranger', undefined, [reading('COMPLETE')]);
    assert.equal(unknown?.kind, 'unknown-item');
    assert.equal(unknown?.externalRefLineItemID, 'stranger');
    assert.equal(unknown?.reportState, '');
  });

  it('keys a run under the campaign, refusing ids that are not plain', () => {
    assert.equal(
      reconcilePageKey('q4', '20261201T000000Z-abc123', 3, 1),
      'campaigns/q4/reconcile/20261201T000000Z-abc123/orders/000003/page-000001.json',
    );
    assert.throws(() => reconcilePrefix('q4', '../x'), /reconcile id/);
  });
});
