// The benchmark harness end to end at a tiny size: baseline, lower bound and product side by side on
// a real dev server and a worker process, and a results file with every figure the docs quote.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseBenchArgs, runBenchmark, type BenchResults } from '../../bench/run.ts';

describe('npm run bench harness', () => {
  const resultsDir = mkdtempSync(path.join(tmpdir(), 'tango-bench-test-'));
  after(() => rmSync(resultsDir, { recursive: true, force: true }));

  it('parses sizes and refuses nonsense', () => {
    assert.deepEqual(parseBenchArgs(['--sizes', '1000,10_000']).sizes, [1000, 10000]);
    assert.deepEqual(parseBenchArgs([]).sizes, [1000, 10000, 100000]);
    assert.throws(() => parseBenchArgs(['--sizes', '10,x']), /--sizes takes positive whole numbers/);
    assert.throws(() => parseBenchArgs(['--fast']), /unknown option --fast/);
  });

  it('runs every side at a tiny size and writes JSON with every field', { timeout: 60_000 }, async () => {
    const { results, jsonPath } = await runBenchmark({
      ...parseBenchArgs([
        '--sizes',
        '120',
        '--chunk',
        '40',
        '--compare-items',
        '100',
        '--compare-chunks',
        '50,100',
      ]),
      // A short resubmit pause, so the profile shows the timer step too.
      resubmitDelayMs: 100,
      resultsDir,
      docsPath: undefined,
      command: 'test',
      env: process.env,
      log: () => {},
    });
    const written = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchResults;
    assert.deepEqual(written, JSON.parse(JSON.stringify(results)));
    assert.equal(written.sizes.length, 1);
    const size = written.sizes[0]!;
    assert.equal(size.items, 120);
    for (const side of [size.lowerBound, size.baseline, size.product]) {
      assert.ok(side.wallMs > 0 && side.itemsPerSecond > 0);
    }
    assert.ok(size.lowerBound.tangoRequests >= 3, 'one POST per order of 40');
    assert.equal(size.baseline.delivered, 120);
    assert.ok(size.baseline.tangoRequests > size.lowerBound.tangoRequests);
    assert.ok(size.ratioToBaseline > 0 && size.ratioToLowerBound > 0);

    const { product } = size;
    assert.equal(product.status, 'completed');
    assert.equal(product.delivered, 120);
    assert.equal(product.orders, 3);
    assert.equal(product.duplicatesInLedger, 0);
    assert.ok(product.workerPeakRssBytes! > 50 * 2 ** 20, 'a Node worker holds tens of MB at least');
    assert.ok(
      product.workerRssTimeline.length >= 1 && product.workerRssTimeline.every((point) => point.rssBytes > 0),
    );
    assert.ok(product.history.events > product.orders * 10);
    assert.ok(product.history.bytes > product.history.events * 10);
    assert.equal(product.history.events, product.history.campaignEvents + product.history.orderEvents);
    assert.ok(product.eventsPerOrder > 0 && product.bytesPerOrder > 0);
    assert.ok(product.tangoRequests.total > 0);
    assert.ok(product.tangoRequests.byRoute['POST /raas/v2/asyncOrders']! >= 3);
    // Round 0 of three orders plus the two resubmissions.
    assert.equal(product.webhooks.published, 5);
    assert.equal(product.webhookToSignal.count, 5);
    assert.equal(product.webhookToWake.count, 5);
    assert.ok(product.webhookToWake.p50Ms! >= product.webhookToSignal.p50Ms! - 1);
    // The profile from history: two orders hold a transient item (indexes 0 and 100) and ran a second
    // round after a resubmit timer; the middle one finished in one round.
    assert.equal(product.orderSteps['activity submitOrderRound']?.count, 5);
    // Settled one request per activity: at least one step per round (a poll before the webhook adds one).
    assert.ok((product.orderSteps['activity settleOrderStep']?.count ?? 0) >= 5);
    assert.equal(product.orderSteps['activity sealOrderBook']?.count, 3);
    assert.equal(product.orderSteps['timer']?.count, 2);
    assert.ok(product.orderSteps['workflow task']!.count > 3 * 6);

    assert.deepEqual(
      written.chunkComparison.map((entry) => [entry.chunkSize, entry.orders]),
      [
        [50, 2],
        [100, 1],
      ],
    );
    assert.ok(written.chunkComparison.every((entry) => entry.eventsPerOrder > 0 && entry.bytesPerOrder > 0));
    assert.deepEqual(
      written.targets.map(
        (target) =>
          target.verdict === 'met' || target.verdict === 'missed' || target.verdict === 'not measured',
      ),
      written.targets.map(() => true),
    );
    assert.ok(written.machine.cores > 0 && written.machine.temporalCli.length > 0);
  });
});
