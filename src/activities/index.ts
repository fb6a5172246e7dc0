// All activities, built once per worker from their dependencies. Workflows import this module as
// a type only (`ReturnType<typeof createActivities>`).
import { createAccountActivities } from './accounts.ts';
import { createDeliveriesActivities } from './deliveries.ts';
import type { ActivityDeps } from './deps.ts';
import { createNotifyActivities } from './notify.ts';
import { createOperatorActivities } from './operator.ts';
import { createOrderActivities } from './orders.ts';
import { createPolicyActivities } from './policy.ts';
import { createRegistryActivities } from './registry.ts';
import { createReconcileActivities } from './reconcile.ts';
import { createReportActivities } from './report.ts';
import { createSourceActivities } from './sources.ts';
import { createStagingActivities } from './staging.ts';
import { createWebhookSubscriptionActivities } from './webhook-subscriptions.ts';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createRegistryActivities(deps.store),
    ...createStagingActivities(deps.store),
    ...createOrderActivities(deps),
    ...createAccountActivities(deps),
    ...createOperatorActivities(deps.store),
    ...createReportActivities(deps.store),
    ...createReconcileActivities(deps),
    ...createWebhookSubscriptionActivities(deps.webhookSubscriptions),
    ...createSourceActivities(deps.store, deps.sources),
    ...createPolicyActivities(deps.policy),
    ...createNotifyActivities(deps.notify),
    ...createDeliveriesActivities(deps.store, { ...deps.deliveries, ...(deps.now ? { now: deps.now } : {}) }),
  };
}

export type { ActivityDeps } from './deps.ts';
