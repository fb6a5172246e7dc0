// One product run of the rate-limited benchmark: a fresh simulator at 1 request/s behind the
// counting proxy, the webhook receiver registered with it through POST /webhooks, N worker processes
// started the way a deployment starts them (`tango-campaigns worker`, configured by environment:
// TANGO_TPS=1, OAuth, one shared store) on one dev server, and a campaign started through
// CampaignClient and awaited.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { CampaignClient } from '../src/client/index.ts';
import { campaignWorkflowId } from '../src/definitions.ts';
import { startSimulator, type SimulatorOptionsPatch } from '../src/simulator/index.ts';
import { FileSystemStore } from '../src/store/filesystem.ts';
import { TangoClient } from '../src/tango/client.ts';
import { loadTangoConfig } from '../src/tango/config.ts';
import { registerWebhook } from '../src/webhook/registration.ts';
import { startWebhookReceiver } from '../src/webhook/receiver.ts';
import type { LineItemRequest } from '../src/tango/schemas.ts';
import { startCountingProxy, type CountedRequest } from './tango-proxy.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

export interface RateLimitedProductOptions {
  temporalAddress: string;
  client: Client;
  runTag: string;
  workers: number;
  items: LineItemRequest[];
  chunkSize: number;
  concurrency: number;
  resubmitDelayMs: number;
  maxRounds: number;
  customerIdentifier: string;
  accountIdentifier: string;
  simulator: SimulatorOptionsPatch;
  /** Where the worker logs go (kept when the run fails). */
  logDir: string;
  /** Stop waiting after this long and report the run as timed out. */
  timeoutMs: number;
}

export interface RateLimitedProductOutcome {
  wallMs: number;
  status: string;
  delivered: number;
  givenUp: number;
  orders: number;
  rounds: number;
  duplicatesInLedger: number;
  workers: number;
  /** From spawning the worker processes to the last one polling (not part of the wall time). */
  workerStartMs: number;
  webhooks: { published: number; signalled: number; duplicates: number };
  entries: CountedRequest[];
  /** The campaign workflow's history: ms after the start call, event type, activity (if any). */
  campaignEvents: { atMs: number; event: string; activity?: string }[];
  /** From the start call to the first Tango request of the campaign (its OAuth token included). */
  firstRequestMs: number;
}

interface RunningWorker {
  child: ChildProcess;
  started: Promise<void>;
}

function spawnWorker(name: string, env: Record<string, string>, logFile: string): RunningWorker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`worker ${name} did not start within 240 s; see ${logFile}`)),
      240_000,
    );
    const onData = (chunk: Buffer) => {
      appendFileSync(logFile, chunk);
      if (seen.length < 200_000) {
        seen += chunk.toString('utf8');
        if (seen.includes('"worker started"')) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker ${name} exited (${code ?? signal}); see ${logFile}`));
    });
  });
  started.catch(() => undefined);
  return { child, started };
}

async function stopWorker(worker: RunningWorker): Promise<void> {
  const { child } = worker;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Two deliverable items for the warm-up campaign (ids of their own, never transient). */
function warmUpItems(runTag: string): LineItemRequest[] {
  return [0, 1].map(
    (index) =>
      ({
        externalRefLineItemID: `${runTag}-warm-up-${index}`,
        recipient: {
          firstName: 'Bench',
          lastName: `Warm-up ${index}`,
          email: `warm-up-${index}@example.test`,
        },
        utid: 'U000001',
        amount: 5,
        deliveryMethod: 'EMAIL',
      }) as LineItemRequest,
  );
}

/** What the campaign workflow did when, for reading where its time went (not a figure of its own). */
async function campaignHistory(
  client: Client,
  campaignId: string,
  startedEpochMs: number,
): Promise<RateLimitedProductOutcome['campaignEvents']> {
  try {
    const history = await client.workflow.getHandle(campaignWorkflowId(campaignId)).fetchHistory();
    const scheduled = new Map<string, string>();
    return (history.events ?? []).map((event) => {
      const seconds = Number(event.eventTime?.seconds ?? 0);
      const atMs = seconds * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6) - startedEpochMs;
      const type = proto.temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType);
      const name = event.activityTaskScheduledEventAttributes?.activityType?.name ?? undefined;
      if (name) scheduled.set(String(event.eventId), name);
      const scheduledId =
        event.activityTaskStartedEventAttributes?.scheduledEventId ??
        event.activityTaskCompletedEventAttributes?.scheduledEventId;
      const activity = name ?? (scheduledId ? scheduled.get(String(scheduledId)) : undefined);
      return { atMs, event: type, ...(activity ? { activity } : {}) };
    });
  } catch {
    return [];
  }
}

/** Waits until no request has reached the proxy for `quietMs` (the simulator's 1 s window is empty). */
async function quiet(entries: () => CountedRequest[], quietMs: number): Promise<void> {
  for (;;) {
    const last = entries().reduce((latest, entry) => Math.max(latest, entry.doneAt), 0);
    const wait = last + quietMs - Date.now();
    if (wait <= 0) return;
    await sleep(wait);
  }
}

export async function runRateLimitedProduct(
  options: RateLimitedProductOptions,
): Promise<RateLimitedProductOutcome> {
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const simulator = await startSimulator(options.simulator);
    cleanups.push(() => simulator.close());
    const proxy = await startCountingProxy(simulator.baseUrl);
    cleanups.unshift(() => proxy.close());
    const tangoEnv = { TANGO_BASE_URL: proxy.baseUrl, TANGO_AUTH: 'oauth', TANGO_TIMEOUT_MS: '30000' };
    const tangoConfig = loadTangoConfig(tangoEnv);
    const receiver = await startWebhookReceiver({
      port: 0,
      client: options.client,
      verification: tangoConfig.webhook,
      logger: { info() {}, warn() {}, error: (message, fields) => console.error(message, fields) },
    });
    cleanups.unshift(() => receiver.close());
    // As an operator would, once: `tango-campaigns register-webhook` (counted as the webhooks route).
    await registerWebhook(new TangoClient(tangoConfig), receiver.url, tangoConfig.webhook);

    const storeDir = mkdtempSync(path.join(tmpdir(), 'tango-bench-rl-store-'));
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const taskQueue = `bench-${options.runTag}`;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      CAMPAIGN_STORE: `file://${storeDir}`,
      ...tangoEnv,
      TANGO_TPS: '1',
      LOG_LEVEL: 'info',
      WORKER_SHUTDOWN_GRACE_SECONDS: '5',
    };
    const spawning = performance.now();
    const workers = Array.from({ length: options.workers }, (_, index) =>
      spawnWorker(
        `${index + 1}`,
        env,
        path.join(options.logDir, `${options.runTag}-worker-${index + 1}.log`),
      ),
    );
    cleanups.unshift(async () => {
      await Promise.all(workers.map((worker) => stopWorker(worker)));
    });
    await Promise.all(workers.map((worker) => worker.started));
    const workerStartMs = performance.now() - spawning;
    // The registration's second must be over, so that the campaign's first request is its own.
    await quiet(proxy.entries, 1500);

    const campaigns = new CampaignClient({
      client: options.client,
      taskQueue,
      store: new FileSystemStore(storeDir),
      address: options.temporalAddress,
    });
    const campaignId = `bench-${options.runTag}`;
    // Workers in a deployment have run campaigns before: a two-item campaign first takes each
    // process's one-time costs (the workflow sandbox's first start, the OAuth token, the store's
    // first writes) out of the measured run. Its requests are left out of the figures.
    const warmUpFrom = Date.now();
    await campaigns.startCampaign(
      {
        campaignId: `${campaignId}-warm-up`,
        customerIdentifier: options.customerIdentifier,
        accountIdentifier: options.accountIdentifier,
        campaign: 'rate-limited benchmark warm-up',
      },
      { items: warmUpItems(options.runTag) },
    );
    await campaigns.waitForCompletion(`${campaignId}-warm-up`);
    await quiet(proxy.entries, 1500);
    const warmUpTo = Date.now();
    const measured = () => proxy.entries().filter((entry) => entry.at < warmUpFrom || entry.at >= warmUpTo);
    const started = performance.now();
    const startedEpochMs = Date.now();
    await campaigns.startCampaign(
      {
        campaignId,
        customerIdentifier: options.customerIdentifier,
        accountIdentifier: options.accountIdentifier,
        campaign: `rate-limited benchmark ${options.items.length} items`,
        options: {
          chunkSize: options.chunkSize,
          maxConcurrentOrders: options.concurrency,
          maxRounds: options.maxRounds,
          resubmitDelay: `${options.resubmitDelayMs}ms`,
        },
      },
      { items: options.items },
    );
    // A run that fails or hangs is reported with what it did, not thrown away.
    let timer: NodeJS.Timeout | undefined;
    const ending = await Promise.race([
      campaigns.waitForCompletion(campaignId).then(
        (result) => ({ result }),
        (error: unknown) => ({
          failure: `failed: ${error instanceof Error ? error.message : String(error)}`,
        }),
      ),
      new Promise<{ failure: string }>((resolve) => {
        timer = setTimeout(
          () => resolve({ failure: `timed out after ${Math.round(options.timeoutMs / 1000)} s` }),
          options.timeoutMs,
        );
      }),
    ]);
    clearTimeout(timer);
    const wallMs = performance.now() - started;
    const result =
      'result' in ending
        ? ending.result
        : { status: ending.failure, counts: { delivered: 0, givenUp: 0 }, orders: 0, rounds: 0 };
    await Promise.all(workers.map((worker) => stopWorker(worker)));
    const campaignEvents = await campaignHistory(options.client, campaignId, startedEpochMs);
    const firstRequest = measured().find((entry) => entry.at >= startedEpochMs);
    const stats = simulator.stats();
    const receiverStats = receiver.stats();
    return {
      wallMs,
      status: result.status,
      delivered: result.counts.delivered,
      givenUp: result.counts.givenUp,
      orders: result.orders,
      rounds: result.rounds,
      duplicatesInLedger: simulator.ledger.duplicates().lineItems.length,
      workers: options.workers,
      workerStartMs,
      webhooks: {
        published: stats.webhooks.eventsPublished,
        signalled: receiverStats.signalled,
        duplicates: receiverStats.duplicate,
      },
      entries: measured(),
      campaignEvents,
      firstRequestMs: firstRequest ? firstRequest.at - startedEpochMs : Number.NaN,
    };
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}
