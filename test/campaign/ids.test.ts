// externalRefID derivation: deterministic, unique across campaigns / chunks / rounds, within Tango's limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidCampaignIdError,
  campaignRef,
  orderExternalRefId,
  stableHash,
} from '../../src/campaign/ids.ts';

describe('stableHash', () => {
  it('is 64-bit FNV-1a (published test vectors) rendered in base 36', () => {
    assert.equal(stableHash(''), 0xcbf29ce484222325n.toString(36).padStart(13, '0'));
    assert.equal(stableHash('a'), 0xaf63dc4c8601ec8cn.toString(36).padStart(13, '0'));
    assert.equal(stableHash('foobar'), 0x85944171f73967e8n.toString(36).padStart(13, '0'));
    assert.equal(stableHash('é'), stableHash('\u00e9'));
    assert.notEqual(stableHash('é'), stableHash('e\u0301'));
  });
});

describe('campaignRef', () => {
  it('keeps short lower-case ids as they are', () => {
    assert.equal(campaignRef('spring-2026'), 'spring-2026');
    assert.equal(campaignRef('a'), 'a');
  });

  it('turns other ids into a readable prefix plus a stable hash, at most 40 characters', () => {
    const ref = campaignRef('Weekly_Wellness.2026-03-02T0900');
    assert.match(ref, /^weekly-wellness-2026-03--[0-9a-z]{13}$/);
    assert.equal(campaignRef('Weekly_Wellness.2026-03-02T0900'), ref, 'deterministic');
    const long = campaignRef('x'.repeat(80));
    assert.ok(long.length <= 40);
    assert.equal(campaignRef('___'), `c--${stableHash('___')}`);
    for (const id of ['a--b', '-a', 'a-', 'A', 'x'.repeat(41), 'a.b', 'a_b'])
      assert.match(campaignRef(id), /^[a-z0-9]+(-[a-z0-9]+)*--[0-9a-z]{13}$/, id);
  });

  it('gives different ids different refs, also ids that differ only in case or punctuation', () => {
    const ids = ['abc', 'ABC', 'Abc', 'a.b', 'a_b', 'a-b', 'a--b', 'x'.repeat(80), 'x'.repeat(79) + 'y'];
    const refs = ids.map(campaignRef);
    assert.equal(new Set(refs).size, ids.length);
    assert.equal(new Set(refs.map((r) => r.toLowerCase())).size, ids.length);
  });

  it('rejects invalid campaign ids', () => {
    for (const bad of ['', '.', '..', 'a b', 'a/b', 'x'.repeat(81), 'café'])
      assert.throws(() => campaignRef(bad), InvalidCampaignIdError, bad);
  });
});

describe('orderExternalRefId', () => {
  it('follows <ref>-<chunk> for round 0 and <ref>-<chunk>-r<round> later', () => {
    assert.equal(orderExternalRefId('spring-2026', 0, 0), 'spring-2026-0');
    assert.equal(orderExternalRefId('spring-2026', 12, 0), 'spring-2026-12');
    assert.equal(orderExternalRefId('spring-2026', 12, 3), 'spring-2026-12-r3');
  });

  it('stays within 100 characters at the extremes', () => {
    const ref = campaignRef('Z'.repeat(80));
    const id = orderExternalRefId(ref, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    assert.ok(id.length <= 100, `${id.length}`);
    assert.match(id, /^[a-z0-9-]+$/);
  });

  it('never gives two (campaign, chunk, round) triples the same id, even when one ref extends another', () => {
    const ids = ['a', 'a-1', 'a-1-r2', 'a-r2', 'a-0', 'A', 'a.1', '1', '1-1', 'b-12', 'b-1', 'b'];
    const seen = new Map<string, string>();
    for (const campaignId of ids) {
      const ref = campaignRef(campaignId);
      for (let chunk = 0; chunk < 15; chunk += 1)
        for (let round = 0; round < 4; round += 1) {
          const id = orderExternalRefId(ref, chunk, round);
          const owner = `${campaignId}/${chunk}/${round}`;
          assert.equal(seen.get(id), undefined, `${id} from ${owner} and ${seen.get(id)}`);
          seen.set(id, owner);
        }
    }
    assert.equal(seen.size, ids.length * 15 * 4);
  });

  it('rejects things that are not refs or indexes', () => {
    assert.throws(() => orderExternalRefId('Has Space', 0, 0), /campaignRef/);
    assert.throws(() => orderExternalRefId('a', -1, 0), /chunk/);
    assert.throws(() => orderExternalRefId('a', 0, 0.5), /round/);
  });
});
