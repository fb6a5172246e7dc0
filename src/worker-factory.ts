// Builds a campaign worker from its parts: connection, task queue, store, Tango client and failure
// classification. Used by the `worker` command and by the integration tests, so both run the same
// worker.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.ts';
import type { SourceLimits } from './activities/sources.ts';
import type { CampaignDefinition } from './activities/staging.ts';
import { classifyErrors, type ErrorClassOverrides } from './campaign/classification.ts';
import { automaticFixes } from './campaign/corrections.ts';
import type { CampaignPolicy } from './campaign/policy.ts';
import type { NotifyConfig } from './notify/config.ts';
import type { DeliveriesDeps } from './activities/deliveries.ts';
import type { AutoFixer } from './campaign/order-book.ts';
import { DEFAULT_TASK_QUEUE, TANGO_ACTIVITIES, tangoTaskQueue } from './definitions.ts';
import type { CampaignStore } from './store/store.ts';
import type { TangoApi } from './activities/deps.ts';
import type { WebhookSubscriptionDeps } from './activities/webhook-subscriptions.ts';

export const workflowsPath = fileURLToPath(
  new URL(`./workflows/index${path.extname(import.meta.url)}`, import.meta.url),
);

export interface CampaignWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  store: CampaignStore;
  tango: TangoApi;
  errorClassOverrides?: ErrorClassOverrides;
  /**
   * Tango calls this process runs at once (TANGO_MAX_CONCURRENT_REQUESTS); the backlog waits in the
   * Tango task queue. The pace itself is the TangoClient's request gate.
   */
  tangoConcurrency?: number;
  /** TANGO_VISIBILITY_GRACE_SECONDS in ms (default 10 minutes). */
  visibilityGraceMs?: number;
  /** Renewing webhook subscriptions (webhookSubscriptionWorkflow); the worker command passes it. */
  webhookSubscriptions?: WebhookSubscriptionDeps;
  /** CAMPAIGN_SOURCE_*: what scheduled campaigns' sources may name (default: nothing). */
  sourceLimits?: SourceLimits;
  /** The spending policy (CAMPAIGN_POLICY_FILE, APPROVAL_THRESHOLD_FLOOR). */
  policy?: CampaignPolicy;
  /** NOTIFY_*: the notification webhook for campaigns that need a person. */
  notify?: NotifyConfig;
  /** DELIVERIES_INDEX_KEY and the spend limits; absent: no deliveries index (no repeat guard). */
  deliveries?: DeliveriesDeps;
  /**
   * Any other worker option: tuning (concurrency, cache), the payload codec's data converter,
   * interceptors, shutdown grace time, identity.
   */
  workerOptions?: Omit<
    Partial<WorkerOptions>,
    'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowsPath' | 'workflowBundle'
  >;
  /** Prebuilt workflow bundle (tests share one across workers). */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export function autoFixerFor(definition: CampaignDefinition): AutoFixer | undefined {
  if (!definition.autoCorrect) return undefined;
  return (entry) =>
    automaticFixes(entry.item, entry.errors ?? [], { utidFallbacks: definition.utidFallbacks });
}

/**
 * The two Temporal workers of one worker process: workflows and store work on the task queue, and
 * the activities that call Tango on its Tango task queue (each makes one request). The budget is the
 * TangoClient's request gate, shared through the store by every process (src/store/request-gate.ts);
 * the Tango worker runs only a few calls at once, so the backlog waits in the task queue, in order,
 * for whichever worker is free. Not `maxTaskQueueActivitiesPerSecond`: the server applies it per
 * queue partition, and at 1/s it left gaps of 2-3 s between calls (docs/benchmarks.md).
 */
export interface CampaignWorker {
  /** Polls both queues until shutdown; resolves once both have drained. */
  run(): Promise<void>;
  shutdown(): void;
  getState(): ReturnType<Worker['getState']>;
  readonly workers: { campaign: Worker; tango: Worker };
}

export async function createCampaignWorker(options: CampaignWorkerOptions): Promise<CampaignWorker> {
  const overrides = options.errorClassOverrides ?? {};
  const activities = createActivities({
    store: options.store,
    tango: options.tango,
    classify: (errors) => classifyErrors(errors, overrides),
    autoFixerFor,
    ...(options.visibilityGraceMs !== undefined ? { visibilityGraceMs: options.visibilityGraceMs } : {}),
    ...(options.webhookSubscriptions ? { webhookSubscriptions: options.webhookSubscriptions } : {}),
    ...(options.sourceLimits ? { sources: options.sourceLimits } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.notify ? { notify: options.notify } : {}),
    ...(options.deliveries ? { deliveries: options.deliveries } : {}),
  });
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const calls = new Set<string>(TANGO_ACTIVITIES);
  const tangoCalls = Object.fromEntries(Object.entries(activities).filter(([name]) => calls.has(name)));
  const campaign = await Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    // Every activity, Tango calls included: tasks that orders started before the Tango task queue
    // existed scheduled here still run (through the same request gate); new ones go to the Tango queue.
    activities,
    ...options.workerOptions,
  });
  const { dataConverter, interceptors, identity, shutdownGraceTime, maxConcurrentActivityTaskExecutions } =
    options.workerOptions ?? {};
  const tangoConcurrency = options.tangoConcurrency ?? maxConcurrentActivityTaskExecutions;
  const tango = await Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: tangoTaskQueue(taskQueue),
    activities: tangoCalls,
    ...(dataConverter ? { dataConverter } : {}),
    ...(interceptors?.activity ? { interceptors: { activity: interceptors.activity } } : {}),
    ...(identity ? { identity } : {}),
    ...(shutdownGraceTime !== undefined ? { shutdownGraceTime } : {}),
    ...(tangoConcurrency ? { maxConcurrentActivityTaskExecutions: tangoConcurrency } : {}),
  });
  return {
    workers: { campaign, tango },
    async run() {
      const both = [campaign.run(), tango.run()];
      // One stopping (a fatal error, or shutdown) stops the other, so the process never half-runs.
      await Promise.race(both).finally(() => {
        for (const worker of [campaign, tango]) if (worker.getState() === 'RUNNING') worker.shutdown();
      });
      await Promise.all(both);
    },
    shutdown() {
      for (const worker of [campaign, tango]) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
    getState: () => campaign.getState(),
  };
}
