// Tango's request budget is one budget for every worker process: two `tango-campaigns worker`
// processes on one task queue and one store, each reaching the simulator through its own counting
// proxy, run a campaign against a simulator that allows 2 requests per second (TANGO_TPS 1.8). Both
// send requests, none is answered 429, and no two requests of either process reach Tango within half
// a second. Two gates that did not share the store's ticks would send up to 3.6 requests a second.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { startCountingProxy, type CountingProxy } from '../../bench/tango-proxy.ts';
import { allSearchAttributes, campaignWorkflowId } from '../../src/definitions.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { campaignWorkflow } from '../../src/workflows/index.ts';
import { lineItem } from '../helpers/campaign-stack.ts';
import { createLocalEnv } from '../helpers/temporal.ts';
import { spawnWorker, waitForOutput, type WorkerProcess } from '../helpers/worker-process.ts';

/** Tango's limit in the simulator, and the workers' TANGO_TPS a little under it (docs/operations.md). */
const TANGO_LIMIT_TPS = 2;
const TPS = 1.8;

describe('the request budget across two worker processes', () => {
  let env: TestWorkflowEnvironment;
  let simulator: RunningSimulator;
  let storeDir: string;
  const proxies: CountingProxy[] = [];
  const workers: WorkerProcess[] = [];
  const taskQueue = 'shared-budget-test';

  before(async () => {
    simulator = await startSimulator({ processingDelayMs: 200, faults: { rateLimitTps: TANGO_LIMIT_TPS } });
    env = await createLocalEnv({ searchAttributes: allSearchAttributes });
    storeDir = mkdtempSync(path.join(tmpdir(), 'tango-campaigns-budget-'));
    for (let i = 0; i < 2; i += 1) proxies.push(await startCountingProxy(simulator.baseUrl));
  });

  after(async () => {
    for (const worker of workers) {
      if (worker.child.exitCode === null) {
        worker.child.kill('SIGKILL');
        await worker.exited;
      }
    }
    await env?.teardown();
    for (const proxy of proxies) await proxy.close();
    await simulator?.close();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('shares one budget: both processes send, Tango answers no 429, requests stay 1/TPS apart', async () => {
    const hmac = randomBytes(32).toString('base64');
    for (const proxy of proxies) {
      workers.push(
        spawnWorker({
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_NAMESPACE: 'default',
          TEMPORAL_TASK_QUEUE: taskQueue,
          CAMPAIGN_STORE: `file://${storeDir}`,
          TANGO_BASE_URL: proxy.baseUrl,
          TANGO_WEBHOOK_HMAC_SECRET: hmac,
          TANGO_TPS: String(TPS),
          // One Tango call at a time per process, so that both take a share of the work.
          TANGO_MAX_CONCURRENT_REQUESTS: '1',
          LOG_LEVEL: 'info',
          WORKER_SHUTDOWN_GRACE_SECONDS: '5',
        }),
      );
    }
    for (const worker of workers) await waitForOutput(worker, /"msg":"worker started"/, 60_000);

    const items = Array.from({ length: 60 }, () => lineItem('ok'));
    const campaignId = `shared-budget-${Date.now()}`;
    const result = await env.client.workflow.execute(campaignWorkflow, {
      taskQueue,
      workflowId: campaignWorkflowId(campaignId),
      args: [
        {
          campaignId,
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
          items: { inline: items },
          options: { chunkSize: 10, maxConcurrentOrders: 6, pollInitial: '500ms', pollMax: '1s' },
        },
      ],
    });
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.delivered, 60);
    assert.deepEqual(simulator.ledger.duplicates().lineItems, []);

    const sent = proxies.map((proxy) => proxy.entries().filter((entry) => entry.route !== 'OAuth token'));
    for (const [index, requests] of sent.entries())
      assert.ok(requests.length > 0, `worker ${index + 1} sent no Tango request`);
    assert.equal(simulator.stats().faults.rateLimited, 0, 'the simulator answered 429');
    const all = sent.flat().sort((a, b) => a.at - b.at);
    // 6 orders: at least a POST and a page each, and the balance check.
    assert.ok(all.length >= 13, `only ${all.length} requests`);
    for (let i = 1; i < all.length; i += 1) {
      const gap = all[i]!.at - all[i - 1]!.at;
      assert.ok(gap >= 1000 / TANGO_LIMIT_TPS, `requests ${i - 1} and ${i} reached Tango ${gap} ms apart`);
    }
  });
});
