// The dev command's pure pieces: the sample's mix of failure kinds, argument parsing, the progress line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLineItem } from '../../src/campaign/line-item.ts';
import { parseDevArgs, progressLine } from '../../src/dev/cli.ts';
import { newSampleCampaignId, sampleKind, sampleLineItems } from '../../src/dev/sample.ts';
import { emptyCounts } from '../../src/workflows/types.ts';

describe('sample campaign', () => {
  it('has every failure kind in the documented proportions, and valid, unique items', () => {
    const items = sampleLineItems(3000);
    const kinds = new Map<string, number>();
    for (let index = 0; index < items.length; index++)
      kinds.set(sampleKind(index), (kinds.get(sampleKind(index)) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(kinds), {
      transient: 120,
      'wrong-method': 90,
      blocked: 30,
      bounce: 30,
      'over-max': 30,
      ok: 2700,
    });
    assert.equal(new Set(items.map((item) => item.externalRefLineItemID)).size, 3000);
    // Every item passes staging: the failures happen at Tango, as in real life.
    for (const item of items) assert.ok(checkLineItem(item).ok, JSON.stringify(item));
    assert.match(JSON.stringify(items[0]), /@transient\.test/);
    assert.equal(items[4]!.utid, 'U000002');
    assert.equal(items[9]!.amount, 750);
  });

  it('uses a new, valid campaign id each run', () => {
    const a = newSampleCampaignId();
    const b = newSampleCampaignId();
    assert.notEqual(a, b);
    assert.match(a, /^sample-\d{8}-\d{6}-[a-z0-9]{1,4}$/);
  });
});

describe('parseDevArgs', () => {
  it('takes ports from flags over variables over defaults', () => {
    const args = parseDevArgs(
      ['--ui-port', '9233', '--sample-items', '50'],
      { DEV_TEMPORAL_PORT: '9000' },
      '/tmp',
    );
    assert.notEqual(args, 'help');
    if (args === 'help') return;
    assert.deepEqual(args.ports, { temporal: 9000, ui: 9233, simulator: 8790, webhook: 8787, codec: 8888 });
    assert.equal(args.sampleItems, 50);
    assert.equal(args.dataDir, '/tmp/.data');
  });

  it('refuses bad values with the flag or variable name', () => {
    assert.throws(() => parseDevArgs(['--ui-port', 'x'], {}), /--ui-port must be a port number/);
    assert.throws(() => parseDevArgs([], { WEBHOOK_PORT: '70000' }), /WEBHOOK_PORT must be a port number/);
    assert.throws(() => parseDevArgs(['--sample-items', '-1'], {}), /--sample-items/);
    assert.throws(() => parseDevArgs(['--correction-window', 'soon'], {}), /--correction-window/);
    assert.throws(() => parseDevArgs(['--ui-port', '7233'], {}), /both set to port 7233/);
    assert.throws(() => parseDevArgs(['--bogus'], {}), /bogus/);
  });
});

describe('progressLine', () => {
  it('shows the settled share and the counts', () => {
    const counts = {
      ...emptyCounts(),
      total: 200,
      delivered: 150,
      givenUp: 10,
      autoFixed: 6,
      awaitingCorrection: 4,
    };
    const line = progressLine(
      {
        campaignId: 'c',
        status: 'running',
        counts,
        orders: { total: 1, started: 1, finished: 0, inFlight: 1, overdue: 0 },
        rounds: 2,
        totalAmount: 0,
      },
      10,
    );
    assert.equal(
      line,
      '[########--]  80%  running  delivered 150/200  given up 10  auto-fixed 6  waiting 4  orders 0/1  round 2',
    );
  });
});
