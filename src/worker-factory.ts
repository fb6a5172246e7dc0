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
import type { AutoFixer } from './campaign/order-book.ts';
import { DEFAULT_TASK_QUEUE } from './definitions.ts';
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
  /** Tango requests per second for the whole task queue (all workers together). */
  tangoTps?: number;
  /** TANGO_VISIBILITY_GRACE_SECONDS in ms (default 10 minutes). */
  visibilityGraceMs?: number;
  /** Renewing webhook subscriptions (webhookSubscriptionWorkflow); the worker command passes it. */
  webhookSubscriptions?: WebhookSubscriptionDeps;
  /** CAMPAIGN_SOURCE_*: what scheduled campaigns' sources may name (default: nothing). */
  sourceLimits?: SourceLimits;
  /** The spending policy (CAMPAIGN_POLICY_FILE, APPROVAL_THRESHOLD_FLOOR). */
  policy?: CampaignPolicy;
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

export async function createCampaignWorker(options: CampaignWorkerOptions): Promise<Worker> {
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
  });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities,
    ...(options.tangoTps ? { maxTaskQueueActivitiesPerSecond: options.tangoTps } : {}),
    ...options.workerOptions,
  });
}
