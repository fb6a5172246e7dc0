// The rate-limited benchmark (npm run bench -- --rate-limited): its figures from a synthetic request
// log, and the whole mode at a tiny size (paced script and the product with one worker process at 1
// request/s) producing every figure. No timed assertions: the targets are for the full run to judge.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isTransientAt, transientShareCount } from '../../bench/items.ts';
import {
  parseRateLimitedArgs,
  rateLimitedVerdicts,
  runRateLimitedBenchmark,
  type RateLimitedResults,
} from '../../bench/rate-limited.ts';
import { idealMinimum, minimumFor, requestFigures } from '../../bench/rate-limited-figures.ts';
import { orderSizeTable, rateLimitedMarkdown } from '../../bench/rate-limited-report.ts';
import { routeOf, type CountedRequest } from '../../bench/tango-proxy.ts';

const orders = '/raas/v2/asyncOrders/customers/c/accounts/a';

function entry(at: number, fields: Partial<CountedRequest> & Pick<CountedRequest, 'route'>): CountedRequest {
  return { at, doneAt: at + 5, method: 'GET', path: '/raas/v2/x', query: '', status: 200, ...fields };
}

describe('rate-limited benchmark figures', () => {
  it('tells the routes apart', () => {
    assert.equal(routeOf('POST', '/raas/v2/asyncOrders', ''), 'POST order');
    assert.equal(routeOf('GET', `${orders}/o-1`, 'maxResults=1'), 'GET status');
    assert.equal(routeOf('GET', `${orders}/o-1`, 'maxResults=500'), 'GET page');
    assert.equal(routeOf('GET', `${orders}/o-1`, 'maxResults=1&nextCursor=abc'), 'GET page');
    assert.equal(routeOf('GET', `${orders}/o-1`, 'externalLineItemReferenceIds=a,b'), 'GET lookup by id');
    assert.equal(routeOf('GET', '/raas/v2/accounts/sim-account-1', ''), 'GET balance');
    assert.equal(routeOf('GET', '/raas/v2/catalogs', ''), 'GET catalog');
    assert.equal(routeOf('POST', '/raas/v2/webhooks', ''), 'webhooks');
    assert.equal(routeOf('POST', '/oauth/token', ''), 'OAuth token');
  });

  it('computes minimums: 1 POST + ceil(items / 500) pages per order, 1 balance check', () => {
    assert.equal(minimumFor([500, 500, 30, 30]), 2 + 2 + 2 + 2 + 1);
    assert.equal(minimumFor([5000]), 1 + 10 + 1);
    // 2,000 items in orders of 500, 120 transient gathered into one second-round order.
    assert.equal(idealMinimum(2000, 500, 120), 4 * 2 + 2 + 1);
    assert.equal(transientShareCount(2000, 0.06), 120);
    assert.equal(isTransientAt(16, 0.06), true);
    assert.equal(isTransientAt(0, 0.06), false);
  });

  it('counts 429s, requests sent inside a Retry-After, the peak second and the orders', () => {
    const log: CountedRequest[] = [
      entry(0, { route: 'OAuth token', method: 'POST', path: '/oauth/token' }),
      entry(10, { route: 'GET balance' }),
      entry(1100, { route: 'POST order', method: 'POST', externalRefID: 'o-1', lineItems: 500, status: 201 }),
      // Refused, then repeated 300 ms later (same order and method): early; a page for o-1 also early.
      entry(1500, {
        route: 'POST order',
        method: 'POST',
        externalRefID: 'o-2',
        status: 429,
        retryAfterSeconds: 1,
      }),
      entry(1805, { route: 'POST order', method: 'POST', externalRefID: 'o-2', lineItems: 30, status: 201 }),
      entry(1900, { route: 'GET page', externalRefID: 'o-1', query: 'maxResults=500' }),
      entry(3000, { route: 'GET page', externalRefID: 'o-2', query: 'maxResults=500' }),
      entry(4100, { route: 'webhooks', method: 'POST' }),
    ];
    const figures = requestFigures(log);
    assert.equal(figures.total, 8);
    assert.equal(figures.counted, 6, 'neither OAuth nor the webhook registration');
    assert.equal(figures.byRoute['POST order'], 3);
    assert.equal(figures.rateLimited, 1);
    assert.equal(figures.retryAfterViolations, 1);
    assert.equal(figures.sentDuringRetryAfter, 2);
    assert.equal(figures.peakPerSecond, 4);
    assert.deepEqual(figures.orders, [
      { externalRefID: 'o-1', lineItems: 500 },
      { externalRefID: 'o-2', lineItems: 30 },
    ]);
    assert.equal(figures.minimum, 2 + 2 + 1);
  });

  it('parses its flags and refuses nonsense', () => {
    const parsed = parseRateLimitedArgs([
      '--rate-limited',
      '--items',
      '400',
      '--chunk',
      '100',
      '--workers',
      '1,2',
    ]);
    assert.equal(parsed.items, 400);
    assert.equal(parsed.chunkSize, 100);
    assert.deepEqual(parsed.workers, [1, 2]);
    assert.deepEqual(parseRateLimitedArgs([]).workers, [1, 2, 4]);
    assert.deepEqual(parseRateLimitedArgs(['--order-sizes', 'none']).orderSizes, []);
    assert.throws(() => parseRateLimitedArgs(['--resubmit-delay-ms', '500']), /at least 1000/);
    assert.throws(() => parseRateLimitedArgs(['--fast']), /unknown option --fast/);
  });
});

describe('npm run bench -- --rate-limited at a tiny size', () => {
  const resultsDir = mkdtempSync(path.join(tmpdir(), 'tango-bench-rl-test-'));
  after(() => rmSync(resultsDir, { recursive: true, force: true }));

  it('runs the paced script and the product and writes every figure', { timeout: 240_000 }, async () => {
    const { results, jsonPath } = await runRateLimitedBenchmark({
      ...parseRateLimitedArgs([
        '--items',
        '200',
        '--chunk',
        '100',
        '--workers',
        '1',
        '--order-sizes',
        'none',
        '--processing-delay-ms',
        '500',
      ]),
      resultsDir,
      docsPath: undefined,
      command: 'test',
      env: process.env,
      log: () => {},
    });
    const written = JSON.parse(readFileSync(jsonPath, 'utf8')) as RateLimitedResults;
    assert.deepEqual(written, JSON.parse(JSON.stringify(results)));
    assert.equal(written.mode, 'rate-limited');
    assert.equal(written.settings.transientItems, 12);
    assert.equal(written.product.length, 1);
    for (const side of [written.script, written.product[0]!]) {
      assert.equal(side.status, 'completed', `${side.side}: ${side.status}`);
      assert.equal(side.delivered, 200);
      assert.equal(side.duplicatesInLedger, 0);
      assert.ok(side.wallMs > 0);
      // Two orders of 100, then a second round for the transient items of each.
      assert.equal(side.rounds, 2);
      assert.ok(side.requests.orders.length >= 3);
      assert.equal(side.largestOrder, 100);
      assert.ok(side.requests.byRoute['POST order'] >= side.requests.orders.length);
      assert.ok(side.requests.byRoute['GET page'] >= side.requests.orders.length);
      assert.ok(side.requests.byRoute['GET balance'] >= 1);
      assert.ok(side.requests.counted >= side.requests.minimum);
      assert.equal(side.idealMinimum, 2 * 2 + 2 + 1);
      assert.ok(side.ratioToMinimum >= 1 && side.ratioToIdeal >= 1);
      for (const figure of [
        side.requests.rateLimited,
        side.requests.retryAfterViolations,
        side.requests.sentDuringRetryAfter,
      ])
        assert.ok(Number.isInteger(figure) && figure >= 0);
      assert.ok(side.requests.peakPerSecond >= 1);
    }
    const [product] = written.product;
    assert.equal(product!.workers, 1);
    assert.equal(product!.requests.byRoute.webhooks, 1, 'the receiver registered through POST /webhooks');
    assert.ok(product!.product!.webhooks.published >= product!.requests.orders.length);
    assert.ok(written.script.script!.polls >= written.script.requests.orders.length);
    assert.ok(written.script.requests.byRoute['GET status'] >= written.script.script!.polls);
    assert.deepEqual(
      written.targets.map((target) => ['met', 'missed', 'not measured'].includes(target.verdict)),
      [true, true, true, true],
    );
    // One worker count only: a target it meets cannot be called met for 1, 2 and 4 workers.
    assert.ok(written.targets.every((target) => target.verdict !== 'met'));
    assert.equal(rateLimitedVerdicts(written).length, 4);

    // The order-size table and the docs section render from the same figures.
    const withSizes: RateLimitedResults = {
      ...written,
      orderSizes: [{ chunkSize: 100, items: 200, script: written.script, product: product! }],
    };
    assert.match(orderSizeTable(withSizes), /\| 100 \| 200 \|/);
    const section = rateLimitedMarkdown(withSizes, 'bench/results/x.json');
    assert.match(section, /### Side by side/);
    assert.match(section, /### Items per order at 1 request\/s/);
    assert.match(section, /### Targets/);
  });
});
