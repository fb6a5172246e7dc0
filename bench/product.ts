// One product run of the benchmark: a fresh simulator (processing delay 0), the webhook receiver
// registered with it, a campaign worker in a child process, and a campaign started through
// CampaignClient and awaited; then the figures Temporal and the simulator hold about it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Timestamp } from '@temporalio/common';
import { CampaignClient } from '../src/client/index.ts';
import { campaignRef, orderExternalRefId } from '../src/campaign/ids.ts';
import { campaignWorkflowId, orderWorkflowId } from '../src/definitions.ts';
import { startSimulator } from '../src/simulator/index.ts';
import { FileSystemStore } from '../src/store/filesystem.ts';
import { TangoClient } from '../src/tango/client.ts';
import { loadTangoConfig } from '../src/tango/config.ts';
import { registerWebhook } from '../src/webhook/registration.ts';
import { startWebhookReceiver } from '../src/webhook/receiver.ts';
import type { OrderStatusNotice } from '../src/workflows/types.ts';
import { benchItems } from './items.ts';
import { cpuSeconds, peakRssBytes, rssBytes } from './proc.ts';
import type { WorkerSettings } from './worker-process.ts';

export interface ProductEnvironment {
  temporalAddress: string;
  temporalPid: number;
  client: Client;
  bundlePath: string;
  /** Where the worker writes a V8 CPU profile (node --cpu-prof), when profiling. */
  cpuProfileDir?: string;
}

export interface ProductRunOptions {
  runTag: string;
  items: number;
  chunkSize: number;
  concurrency: number;
  resubmitDelayMs: number;
  maxRounds: number;
  customerIdentifier: string;
  accountIdentifier: string;
}

export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface HistoryFigures {
  workflows: number;
  runs: number;
  events: number;
  bytes: number;
  campaignEvents: number;
  campaignBytes: number;
  orderEvents: number;
  orderBytes: number;
}

export interface ProductOutcome {
  wallMs: number;
  status: string;
  delivered: number;
  givenUp: number;
  orders: number;
  rounds: number;
  duplicatesInLedger: number;
  workerPeakRssBytes: number | null;
  /** Worker RSS about once a second from its start (the peak alone cannot tell a climb from a spike). */
  workerRssTimeline: { atMs: number; rssBytes: number }[];
  workerCpuSeconds: number | null;
  benchProcessCpuSeconds: number;
  temporalServerCpuSeconds: number | null;
  history: HistoryFigures;
  /** Simulator publish (eventOccurredAt) -> WorkflowExecutionSignaled in the order's history. */
  webhookToSignal: LatencySummary;
  /** Simulator publish -> the order's next workflow task started (its code runs again). */
  webhookToWake: LatencySummary;
  tangoRequests: { total: number; byRoute: Record<string, number> };
  /** Summed over the order workflows: where their time went (a profile from history). */
  orderSteps: Record<string, StepTiming>;
  webhooks: { published: number; signalled: number; duplicates: number };
}

function tsToMs(ts: Timestamp | null | undefined): number {
  if (!ts) return Number.NaN;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : Number(ts.seconds?.toString() ?? 0);
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
}

export function summarize(values: number[]): LatencySummary {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length === 0
      ? null
      : sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
  return { count: sorted.length, p50Ms: at(50), p99Ms: at(99), maxMs: sorted.at(-1) ?? null };
}

/** Starts the worker child and resolves once it polls; rejects with its stderr if it dies first. */
async function startWorkerProcess(settings: WorkerSettings, cpuProfileDir?: string): Promise<ChildProcess> {
  const script = path.join(import.meta.dirname, 'worker-process.ts');
  const args = [
    ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []),
    '--import',
    'tsx',
    script,
    JSON.stringify(settings),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.trim() === 'ready') resolve();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`the bench worker exited before it was ready (${signal ?? code}):\n${stderr}`)),
    );
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) console.error(`bench worker exited with ${code}:\n${stderr}`);
  });
  return child;
}

async function stopWorkerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** Runs `work` over `items` with at most `limit` at once. */
async function pooled<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next]!;
        next += 1;
        await work(item);
      }
    }),
  );
}

/** Where an order's time goes, from its history: per activity type, and workflow tasks. */
export interface StepTiming {
  count: number;
  /** Scheduled -> started: waiting in the task queue for a worker slot. */
  queuedMs: number;
  /** Started -> completed: the activity (or workflow task) itself running. */
  runningMs: number;
}

interface WorkflowHistoryFigures {
  runs: number;
  events: number;
  bytes: number;
  signalToWake: { signal: number[]; wake: number[] };
  steps: Record<string, StepTiming>;
}

function addStep(steps: Record<string, StepTiming>, name: string, queuedMs: number, runningMs: number): void {
  const step = (steps[name] ??= { count: 0, queuedMs: 0, runningMs: 0 });
  step.count += 1;
  step.queuedMs += queuedMs;
  step.runningMs += runningMs;
}

/** Activity and workflow-task timings of one history. */
function stepTimings(
  events: NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>,
  steps: Record<string, StepTiming>,
): void {
  const byId = new Map(events.map((event) => [String(event.eventId), event]));
  for (const event of events) {
    const completedActivity = event.activityTaskCompletedEventAttributes;
    if (completedActivity) {
      const scheduled = byId.get(String(completedActivity.scheduledEventId));
      const started = byId.get(String(completedActivity.startedEventId));
      const name = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
      addStep(
        steps,
        `activity ${name}`,
        tsToMs(started?.eventTime) - tsToMs(scheduled?.eventTime),
        tsToMs(event.eventTime) - tsToMs(started?.eventTime),
      );
    }
    const completedTask = event.workflowTaskCompletedEventAttributes;
    if (completedTask) {
      const scheduled = byId.get(String(completedTask.scheduledEventId));
      const started = byId.get(String(completedTask.startedEventId));
      addStep(
        steps,
        'workflow task',
        tsToMs(started?.eventTime) - tsToMs(scheduled?.eventTime),
        tsToMs(event.eventTime) - tsToMs(started?.eventTime),
      );
    }
    const timer = event.timerFiredEventAttributes;
    if (timer) {
      const started = byId.get(String(timer.startedEventId));
      addStep(steps, 'timer', 0, tsToMs(event.eventTime) - tsToMs(started?.eventTime));
    }
  }
}

/** Events and bytes of every run of one workflow (following continue-as-new back), and its wake-ups. */
async function workflowFigures(client: Client, workflowId: string): Promise<WorkflowHistoryFigures> {
  const figures: WorkflowHistoryFigures = {
    runs: 0,
    events: 0,
    bytes: 0,
    signalToWake: { signal: [], wake: [] },
    steps: {},
  };
  let runId: string | undefined;
  for (;;) {
    const handle = client.workflow.getHandle(workflowId, runId);
    const description = await handle.describe();
    figures.runs += 1;
    figures.events += description.historyLength;
    figures.bytes += description.historySize ?? 0;
    const events = (await handle.fetchHistory()).events ?? [];
    stepTimings(events, figures.steps);
    events.forEach((event, index) => {
      const signalled = event.workflowExecutionSignaledEventAttributes;
      if (signalled?.signalName !== 'orderStatus') return;
      const payload = signalled.input?.payloads?.[0];
      if (!payload) return;
      const notice = defaultPayloadConverter.fromPayload<OrderStatusNotice>(payload);
      if (!notice.eventOccurredAt) return;
      const published = Date.parse(notice.eventOccurredAt);
      figures.signalToWake.signal.push(tsToMs(event.eventTime) - published);
      const woke = events.slice(index + 1).find((later) => later.workflowTaskStartedEventAttributes);
      if (woke) figures.signalToWake.wake.push(tsToMs(woke.eventTime) - published);
    });
    const previous = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) return figures;
    runId = previous;
  }
}

export async function runProduct(
  env: ProductEnvironment,
  options: ProductRunOptions,
): Promise<ProductOutcome> {
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const simulator = await startSimulator({ processingDelayMs: 0 });
    cleanups.push(() => simulator.close());
    const tangoConfig = loadTangoConfig({ TANGO_BASE_URL: simulator.baseUrl });
    const receiver = await startWebhookReceiver({
      port: 0,
      client: env.client,
      verification: tangoConfig.webhook,
      logger: { info() {}, warn() {}, error: (message, fields) => console.error(message, fields) },
    });
    cleanups.unshift(() => receiver.close());
    await registerWebhook(new TangoClient(tangoConfig), receiver.url, tangoConfig.webhook);

    const storeDir = mkdtempSync(path.join(tmpdir(), 'tango-bench-store-'));
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const taskQueue = `bench-${options.runTag}`;
    const worker = await startWorkerProcess(
      {
        temporalAddress: env.temporalAddress,
        taskQueue,
        storeDir,
        tangoBaseUrl: simulator.baseUrl,
        bundlePath: env.bundlePath,
      },
      env.cpuProfileDir,
    );
    cleanups.unshift(() => stopWorkerProcess(worker));
    const workerPid = worker.pid!;
    // VmHWM is the kernel's own peak; sampling RSS as well covers systems where it is missing.
    let sampledPeak = 0;
    const rssTimeline: { atMs: number; rssBytes: number }[] = [];
    const samplingFrom = performance.now();
    const sampler = setInterval(() => {
      const rss = rssBytes(workerPid) ?? 0;
      sampledPeak = Math.max(sampledPeak, rss);
      // One point a second is enough to see whether memory climbs or levels off.
      const atMs = Math.round(performance.now() - samplingFrom);
      if (rss > 0 && (rssTimeline.length === 0 || atMs - rssTimeline.at(-1)!.atMs >= 1000))
        rssTimeline.push({ atMs, rssBytes: rss });
    }, 250);
    cleanups.unshift(() => clearInterval(sampler));

    const campaigns = new CampaignClient({
      client: env.client,
      taskQueue,
      store: new FileSystemStore(storeDir),
    });
    const campaignId = `bench-${options.runTag}`;
    const cpuBefore = process.cpuUsage();
    const serverCpuBefore = cpuSeconds(env.temporalPid);
    const workerCpuBefore = cpuSeconds(workerPid);
    const started = performance.now();
    await campaigns.startCampaign(
      {
        campaignId,
        customerIdentifier: options.customerIdentifier,
        accountIdentifier: options.accountIdentifier,
        campaign: `benchmark ${options.items} items`,
        options: {
          chunkSize: options.chunkSize,
          maxConcurrentOrders: options.concurrency,
          maxRounds: options.maxRounds,
          resubmitDelay: `${options.resubmitDelayMs}ms`,
        },
      },
      { items: benchItems(options.runTag, options.items) },
    );
    const result = await campaigns.waitForCompletion(campaignId);
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const serverCpuAfter = cpuSeconds(env.temporalPid);
    const workerCpuAfter = cpuSeconds(workerPid);
    const workerPeak = peakRssBytes(workerPid) ?? (sampledPeak || null);
    clearInterval(sampler);
    await stopWorkerProcess(worker);

    const ref = campaignRef(campaignId);
    const campaign = await workflowFigures(env.client, campaignWorkflowId(campaignId));
    const history: HistoryFigures = {
      workflows: 1 + result.orders,
      runs: campaign.runs,
      events: campaign.events,
      bytes: campaign.bytes,
      campaignEvents: campaign.events,
      campaignBytes: campaign.bytes,
      orderEvents: 0,
      orderBytes: 0,
    };
    const signal: number[] = [];
    const wake: number[] = [];
    const orderSteps: Record<string, StepTiming> = {};
    const chunks = Array.from({ length: result.orders }, (_, chunk) => chunk);
    await pooled(chunks, 8, async (chunk) => {
      const order = await workflowFigures(env.client, orderWorkflowId(orderExternalRefId(ref, chunk, 0)));
      history.runs += order.runs;
      history.events += order.events;
      history.bytes += order.bytes;
      history.orderEvents += order.events;
      history.orderBytes += order.bytes;
      signal.push(...order.signalToWake.signal);
      wake.push(...order.signalToWake.wake);
      for (const [name, step] of Object.entries(order.steps)) {
        const into = (orderSteps[name] ??= { count: 0, queuedMs: 0, runningMs: 0 });
        into.count += step.count;
        into.queuedMs += step.queuedMs;
        into.runningMs += step.runningMs;
      }
    });

    const stats = simulator.stats();
    const byRoute = Object.fromEntries(
      Object.entries(stats.requests)
        .filter(([route]) => route.includes('/raas/v2'))
        .map(([route, outcomes]) => [route, Object.values(outcomes).reduce((sum, value) => sum + value, 0)]),
    );
    const receiverStats = receiver.stats();
    return {
      wallMs,
      status: result.status,
      delivered: result.counts.delivered,
      givenUp: result.counts.givenUp,
      orders: result.orders,
      rounds: result.rounds,
      duplicatesInLedger: simulator.ledger.duplicates().lineItems.length,
      workerPeakRssBytes: workerPeak,
      workerRssTimeline: rssTimeline,
      workerCpuSeconds:
        workerCpuAfter !== null && workerCpuBefore !== null ? workerCpuAfter - workerCpuBefore : null,
      benchProcessCpuSeconds: (cpu.user + cpu.system) / 1e6,
      temporalServerCpuSeconds:
        serverCpuAfter !== null && serverCpuBefore !== null ? serverCpuAfter - serverCpuBefore : null,
      history,
      webhookToSignal: summarize(signal),
      webhookToWake: summarize(wake),
      tangoRequests: {
        total: Object.values(byRoute).reduce((sum, value) => sum + value, 0),
        byRoute,
      },
      orderSteps,
      webhooks: {
        published: stats.webhooks.eventsPublished,
        signalled: receiverStats.signalled,
        duplicates: receiverStats.duplicate,
      },
    };
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}
