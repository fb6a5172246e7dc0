// Faults on demand: rate limiting with Retry-After, 5xx, latency, dropped connections, "processed
// but response lost", scripted one-shot faults, and reconfiguration at runtime over /_admin/config.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { call, lineItem, orderBody, orderPath } from './helpers.ts';

describe('simulator faults', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ processingDelayMs: 0 });
  });
  after(() => sim.close());

  it('answers 429 (429.001) with Retry-After above the configured TPS, and recovers after a second', async () => {
    sim.configure({ faults: { rateLimitTps: 2, retryAfterSeconds: 3 } });
    try {
      const statuses: number[] = [];
      let limited;
      for (let i = 0; i < 4; i += 1) {
        const reply = await call(sim, 'GET', '/catalogs');
        statuses.push(reply.status);
        if (reply.status === 429) limited = reply;
      }
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      assert.equal(limited?.headers.get('retry-after'), '3');
      assert.equal(limited?.json.i18nKey, '429.001');
      assert.equal(limited?.json.httpCode, 429);
      await new Promise((resolve) => setTimeout(resolve, 1050));
      assert.equal((await call(sim, 'GET', '/catalogs')).status, 200);
    } finally {
      sim.configure({ faults: { rateLimitTps: 0 } });
    }
  });

  it('answers 500/503 with the error body at the 5xx rate, without applying the request', async () => {
    sim.configure({ faults: { serverErrorRate: 1 } });
    const seen = new Set<number>();
    try {
      for (let i = 0; i < 12; i += 1) {
        const reply = await call(sim, 'POST', '/asyncOrders', orderBody('five-hundred', [lineItem('a')]));
        seen.add(reply.status);
        assert.ok(reply.status === 500 || reply.status === 503);
        assert.equal(reply.json.httpCode, reply.status);
        assert.equal(reply.json.i18nKey, reply.status === 503 ? '503.501' : '500.001');
      }
    } finally {
      sim.configure({ faults: { serverErrorRate: 0 } });
    }
    assert.deepEqual([...seen].sort(), [500, 503]);
    assert.equal((await call(sim, 'GET', orderPath('five-hundred'))).status, 404, 'nothing was created');
  });

  it('adds fixed latency and latency spikes', async () => {
    sim.configure({ faults: { latencyMs: 120 } });
    let start = performance.now();
    await call(sim, 'GET', '/catalogs');
    assert.ok(performance.now() - start >= 110, 'fixed latency');
    sim.configure({ faults: { latencyMs: 0, latencySpikeRate: 1, latencySpikeMs: 150 } });
    start = performance.now();
    await call(sim, 'GET', '/catalogs');
    assert.ok(performance.now() - start >= 140, 'spike latency');
    sim.configure({ faults: { latencySpikeRate: 0 } });
    start = performance.now();
    await call(sim, 'GET', '/catalogs');
    assert.ok(performance.now() - start < 100, 'back to fast');
  });

  it('drops connections before applying anything', async () => {
    sim.configure({ faults: { dropConnectionRate: 1 } });
    try {
      await assert.rejects(call(sim, 'POST', '/asyncOrders', orderBody('dropped', [lineItem('a')])));
    } finally {
      sim.configure({ faults: { dropConnectionRate: 0 } });
    }
    assert.equal((await call(sim, 'GET', orderPath('dropped'))).status, 404);
    assert.equal(sim.stats().requests['POST /raas/v2/asyncOrders']?.['dropped'], 1);
  });

  it('applies a POST and then loses its response; the repeat finds the order (200)', async () => {
    sim.configure({ faults: { responseLostRate: 1 } });
    try {
      await assert.rejects(call(sim, 'POST', '/asyncOrders', orderBody('lost', [lineItem('a')])));
      // GET is not state-changing, so the fault leaves it alone.
      assert.equal((await call(sim, 'GET', orderPath('lost'))).status, 200);
    } finally {
      sim.configure({ faults: { responseLostRate: 0 } });
    }
    const repeat = await call(sim, 'POST', '/asyncOrders', orderBody('lost', [lineItem('a')]));
    assert.equal(repeat.status, 200);
    await sim.whenIdle();
    assert.equal(sim.ledger.entries().filter((entry) => entry.externalRefID === 'lost').length, 1);
    assert.equal(sim.stats().faults.responsesLost, 1);
  });

  it('runs scripted one-shot faults against matching requests only', async () => {
    sim.configure({
      faults: {
        script: [
          { kind: 'serverError503', method: 'POST', path: '/asyncOrders', times: 2 },
          { kind: 'rateLimit', path: '/catalogs' },
          { kind: 'responseLost', method: 'PATCH' },
        ],
      },
    });
    assert.equal((await call(sim, 'GET', '/accounts/sim-account-1')).status, 200, 'not matched');
    assert.equal(
      (await call(sim, 'POST', '/asyncOrders', orderBody('scripted', [lineItem('a')]))).status,
      503,
    );
    assert.equal(
      (await call(sim, 'POST', '/asyncOrders', orderBody('scripted', [lineItem('a')]))).status,
      503,
    );
    assert.equal(
      (await call(sim, 'POST', '/asyncOrders', orderBody('scripted', [lineItem('a')]))).status,
      201,
    );
    assert.equal((await call(sim, 'GET', '/catalogs')).status, 429);
    assert.equal((await call(sim, 'GET', '/catalogs')).status, 200);
    await assert.rejects(call(sim, 'PATCH', orderPath('scripted'), { notes: 'applied' }));
    assert.equal((await call(sim, 'GET', orderPath('scripted'))).json.notes, 'applied');
  });

  it('is reconfigured over POST /_admin/config, refusing bad or start-only knobs', async () => {
    const ok = await call(sim, 'POST', '/_admin/config', { faults: { rateLimitTps: 1 }, throughput: 5 });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.faults.rateLimitTps, 1);
    assert.equal(ok.json.faults.retryAfterSeconds, 3, 'other fault knobs kept');
    assert.equal(sim.options.throughput, 5);
    const bad = await call(sim, 'POST', '/_admin/config', { faults: { serverErrorRate: 2 } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /faults\.serverErrorRate/);
    const fixed = await call(sim, 'POST', '/_admin/config', { port: 1 });
    assert.equal(fixed.status, 400);
    assert.match(fixed.json.message, /only be set at start/);
    await call(sim, 'POST', '/_admin/config', { faults: { rateLimitTps: 0 }, throughput: 0 });
    assert.equal((await call(sim, 'GET', '/_admin/config')).json.faults.rateLimitTps, 0);
  });

  it('counts requests by endpoint and outcome', async () => {
    const stats = (await call(sim, 'GET', '/_admin/stats')).json;
    assert.ok(stats.requests['GET /raas/v2/catalogs']['200'] >= 5);
    assert.equal(stats.requests['GET /raas/v2/catalogs']['429'], 3);
    assert.equal(stats.requests['POST /raas/v2/asyncOrders']['response-lost'], 1);
    assert.ok(stats.requests['POST /raas/v2/asyncOrders']['503'] >= 2);
    assert.ok(stats.totalRequests > 30);
    assert.ok(stats.faults.rateLimited >= 3);
  });
});
