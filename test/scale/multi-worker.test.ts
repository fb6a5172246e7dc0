// Scale-out: two worker processes in separate working directories share only the Temporal server
// and the S3 store (moto); one is SIGKILLed part way through a campaign, the other finishes it, and
// the simulator's ledger shows nothing fulfilled twice and nothing lost.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { CampaignClient } from '../../src/client/index.ts';
import { allSearchAttributes, campaignWorkflowId, progressQuery } from '../../src/definitions.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import type { S3Store } from '../../src/store/s3-store.ts';
import { lineItem } from '../helpers/campaign-stack.ts';
import { createBucketStore, type RunningS3Server, startS3Server, uniqueBucketName } from '../helpers/s3.ts';
import { createLocalEnv } from '../helpers/temporal.ts';
import { spawnWorkerProcess, waitForLog, type WorkerProcess } from './worker-processes.ts';

const ITEMS = 3000;
const TRANSIENT_EVERY = 20; // 150 items fail PROCESSING_ERROR once and succeed when resubmitted

describe('two worker processes sharing Temporal and an S3 store', () => {
  let env: TestWorkflowEnvironment;
  let simulator: RunningSimulator;
  let s3: RunningS3Server;
  let store: S3Store;
  const workers: WorkerProcess[] = [];
  const taskQueue = 'multi-worker-test';
  const bucket = uniqueBucketName('scale');
  const prefix = 'campaigns';

  before(async () => {
    [s3, simulator, env] = await Promise.all([
      startS3Server(),
      startSimulator({ processingDelayMs: 2 }),
      createLocalEnv({ searchAttributes: allSearchAttributes }),
    ]);
    store = await createBucketStore(s3, { bucket, prefix });
  });

  after(async () => {
    await Promise.allSettled(workers.map((worker) => worker.stop('SIGKILL')));
    store?.client.destroy();
    await env?.teardown();
    await simulator?.close();
    await s3?.stop();
  });

  // Usually about a minute; one more when the killed worker had just been handed an activity task
  // (not yet logged as started): Temporal gives it to the survivor only after its 1-minute
  // start-to-close or heartbeat timeout.
  it(
    'finishes a campaign on the surviving worker after the other is SIGKILLed',
    { timeout: 300_000 },
    async () => {
      const workerEnv = {
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: taskQueue,
        CAMPAIGN_STORE: `s3://${bucket}/${prefix}`,
        ...s3.env,
        TANGO_BASE_URL: simulator.baseUrl,
        TANGO_TPS: '500',
        WORKER_SHUTDOWN_GRACE_SECONDS: '2',
      };
      workers.push(spawnWorkerProcess('worker-a', workerEnv), spawnWorkerProcess('worker-b', workerEnv));
      await Promise.all(workers.map((worker) => waitForLog(worker, /"msg":"worker started"/, 60_000)));
      const [workerA, workerB] = workers as [WorkerProcess, WorkerProcess];
      // Both poll the one task queue: that is all it takes to share the work.
      const pollers = await env.client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: 2, // activity
      });
      assert.ok(pollers.pollers.length >= 2, `expected both workers polling, got ${pollers.pollers.length}`);

      const campaigns = new CampaignClient({ client: env.client, taskQueue, store });
      const items = Array.from({ length: ITEMS }, (_, index) =>
        lineItem(index % TRANSIENT_EVERY === 3 ? 'transient' : 'ok'),
      );
      const campaignId = `multi-worker-${Date.now()}`;
      const started = await campaigns.startCampaign(
        {
          campaignId,
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
          campaign: 'Two workers',
          options: {
            chunkSize: 100,
            maxConcurrentOrders: 4,
            pollInitial: '300ms',
            pollMax: '1s',
            resubmitDelay: '200ms',
            correctionWindow: '10s',
            preflightBalanceCheck: false,
          },
        },
        { items },
      );
      assert.ok(started.itemsKey, 'a list this large is staged in the store, not inline');
      assert.ok(await store.exists(started.itemsKey));

      // Part way: both workers have run activities, some items are delivered, orders remain.
      const handle = env.client.workflow.getHandle(campaignWorkflowId(campaignId));
      const deadline = Date.now() + 60_000;
      for (;;) {
        const progress = await handle.query(progressQuery);
        const bothWorked = workerA.activitiesFinished() > 0 && workerB.activitiesFinished() > 0;
        if (bothWorked && progress.counts.delivered >= ITEMS / 5) {
          assert.ok(progress.counts.delivered < ITEMS * 0.8, 'killed too late to prove anything');
          break;
        }
        assert.ok(
          Date.now() < deadline,
          `never part way with both workers busy: A ${workerA.activitiesFinished()}, ` +
            `B ${workerB.activitiesFinished()} activities, ${JSON.stringify(progress.counts)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Prefer a moment when A holds no activity: one it holds is only retried elsewhere after its
      // start-to-close or heartbeat timeout (1 minute), which makes the test slow without proving more.
      const quietBy = Date.now() + 5_000;
      while (workerA.activitiesInFlight() > 0 && Date.now() < quietBy)
        await new Promise((resolve) => setTimeout(resolve, 5));
      const strandedActivities = workerA.activitiesInFlight();
      const finishedByA = workerA.activitiesFinished();
      await workerA.stop('SIGKILL');
      const finishedByBBefore = workerB.activitiesFinished();

      const result = await campaigns.waitForCompletion(campaignId);
      assert.equal(result.status, 'completed');
      assert.equal(result.counts.total, ITEMS);
      assert.equal(result.counts.delivered, ITEMS);
      assert.ok(result.counts.failures.transient >= ITEMS / TRANSIENT_EVERY);
      assert.ok(workerB.activitiesFinished() > finishedByBBefore, 'the survivor carried on');

      // The ledger: nobody rewarded twice, nothing lost.
      assert.deepEqual(simulator.ledger.duplicates().lineItems, []);
      assert.deepEqual(simulator.ledger.duplicates().recipients, []);
      const fulfilled = new Set(
        simulator.ledger
          .entries()
          .filter((entry) => entry.state === 'fulfilled')
          .map((entry) => entry.externalRefLineItemID),
      );
      assert.equal(simulator.ledger.size, fulfilled.size);

      // The report, read back from S3: every input item exactly once, delivered = fulfilled.
      const report = await campaigns.getReport(campaignId);
      const reported = report.items.map((row) => row.externalRefLineItemID);
      assert.equal(reported.length, ITEMS);
      assert.deepEqual(new Set(reported), new Set(items.map((item) => item.externalRefLineItemID as string)));
      const delivered = new Set(
        report.items.filter((row) => row.state === 'delivered').map((row) => row.externalRefLineItemID),
      );
      assert.deepEqual(delivered, fulfilled);

      // Shared nothing but Temporal and S3: neither worker wrote a local store.
      for (const worker of workers) {
        assert.equal(
          existsSync(worker.cwd) ? readdirSync(worker.cwd).length : 0,
          0,
          `${worker.name} wrote to disk`,
        );
      }
      console.log(
        `${ITEMS} items: worker A ran ${finishedByA} activities before SIGKILL (${strandedActivities} in flight), ` +
          `worker B ran ${workerB.activitiesFinished()}; Tango requests ${simulator.stats().totalRequests}`,
      );
    },
  );
});
