// Measures campaign throughput with 1, 2, ... worker processes on this machine: one Temporal dev
// server, the simulator (no processing delay), a local S3 server (moto) as the shared store, and N
// `tango-campaigns worker` children each in its own empty directory. Prints items/s per fleet size.
//
//   node --import tsx scripts/multi-worker-demo.ts [--items 20000] [--workers 1,2] [--chunk 500]
//                                                  [--orders 8] [--tps 1000]
//
// Each fleet runs its own campaign on its own task queue; workers start before the campaign so the
// figure is the campaign's own time (staging into S3 through the report), not process start-up.
import { parseArgs } from 'node:util';
import { CampaignClient } from '../src/client/index.ts';
import { allSearchAttributes } from '../src/definitions.ts';
import { startSimulator } from '../src/simulator/index.ts';
import { lineItem } from '../test/helpers/campaign-stack.ts';
import { createBucketStore, startS3Server, uniqueBucketName } from '../test/helpers/s3.ts';
import { createLocalEnv } from '../test/helpers/temporal.ts';
import { spawnWorkerProcess, waitForLog, type WorkerProcess } from '../test/scale/worker-processes.ts';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '20000' },
    workers: { type: 'string', default: '1,2' },
    chunk: { type: 'string', default: '500' },
    orders: { type: 'string', default: '8' },
    tps: { type: 'string', default: '1000' },
  },
});
const positive = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a whole number of at least 1 (got "${text}")`);
    process.exit(2);
  }
  return value;
};
const itemCount = positive('items', values.items);
const fleets = values.workers.split(',').map((text) => positive('workers', text.trim()));
const chunkSize = positive('chunk', values.chunk);
const maxConcurrentOrders = positive('orders', values.orders);
const tps = positive('tps', values.tps);

const bucket = uniqueBucketName('demo');
const [s3, simulator, env] = await Promise.all([
  startS3Server(),
  startSimulator({ processingDelayMs: 0 }),
  createLocalEnv({ searchAttributes: allSearchAttributes }),
]);
const store = await createBucketStore(s3, { bucket, prefix: 'campaigns' });
simulator.addFunds('sim-account-1', itemCount * 25 * fleets.length);
const workers: WorkerProcess[] = [];
const results: {
  workers: number;
  seconds: number;
  stagingSeconds: number;
  itemsPerSecond: number;
  tangoRequests: number;
}[] = [];

try {
  for (const [run, fleetSize] of fleets.entries()) {
    const taskQueue = `demo-${run}-${fleetSize}w`;
    const fleet = Array.from({ length: fleetSize }, (_, index) =>
      spawnWorkerProcess(`${taskQueue}-${index}`, {
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: taskQueue,
        CAMPAIGN_STORE: `s3://${bucket}/campaigns`,
        ...s3.env,
        TANGO_BASE_URL: simulator.baseUrl,
        TANGO_TPS: String(tps),
        LOG_LEVEL: 'info',
      }),
    );
    workers.push(...fleet);
    await Promise.all(fleet.map((worker) => waitForLog(worker, /"msg":"worker started"/, 120_000)));

    const campaigns = new CampaignClient({ client: env.client, taskQueue, store });
    const campaignId = `demo-${run}-${fleetSize}w-${Date.now()}`;
    const requestsBefore = simulator.stats().totalRequests;
    const started = Date.now();
    await campaigns.startCampaign(
      {
        campaignId,
        customerIdentifier: 'sim-customer',
        accountIdentifier: 'sim-account-1',
        options: {
          chunkSize,
          maxConcurrentOrders,
          // No webhook receiver here: orders learn their outcome by polling, so poll briskly.
          pollInitial: '300ms',
          pollMax: '1s',
          resubmitDelay: '200ms',
          preflightBalanceCheck: false,
        },
      },
      { items: Array.from({ length: itemCount }, (_, index) => lineItem('ok', run * itemCount + index)) },
    );
    const stagedSeconds = (Date.now() - started) / 1000;
    const result = await campaigns.waitForCompletion(campaignId);
    const seconds = (Date.now() - started) / 1000;
    if (result.status !== 'completed' || result.counts.delivered !== itemCount)
      throw new Error(`campaign ${campaignId} ended ${result.status}: ${JSON.stringify(result.counts)}`);
    const row = {
      workers: fleetSize,
      seconds: Number(seconds.toFixed(1)),
      stagingSeconds: Number(stagedSeconds.toFixed(1)),
      itemsPerSecond: Math.round(itemCount / seconds),
      tangoRequests: simulator.stats().totalRequests - requestsBefore,
    };
    results.push(row);
    console.log(
      `${fleetSize} worker(s): ${itemCount} items in ${row.seconds} s = ${row.itemsPerSecond} items/s ` +
        `(staging ${row.stagingSeconds} s, ${row.tangoRequests} Tango requests, chunk ${chunkSize}, ${maxConcurrentOrders} orders at once)`,
    );
    await Promise.all(fleet.map((worker) => worker.stop('SIGTERM')));
  }
  const duplicates = simulator.ledger.duplicates().lineItems.length;
  console.log(JSON.stringify({ items: itemCount, chunkSize, maxConcurrentOrders, tps, results, duplicates }));
  if (duplicates > 0) process.exitCode = 1;
} finally {
  await Promise.allSettled(workers.map((worker) => worker.stop('SIGKILL')));
  store.client.destroy();
  await env.teardown();
  await simulator.close();
  await s3.stop();
}
