// webhookSubscriptionWorkflow: keeps one Tango webhook subscription alive. It sleeps until a margin
// before the subscription expires, renews it, and registers the URL again (same URL and headers,
// the worker's verification settings) when Tango answers 404 for the renewal; every few renewals it
// continues as new, so its history stays short however long the deployment lives.
import {
  continueAsNew,
  defineQuery,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { createActivities } from '../activities/index.ts';
import { WEBHOOK_REQUEST, onTangoQueue } from './activity-options.ts';
import { parseWorkflowInput } from './boundary.ts';

type Activities = ReturnType<typeof createActivities>;

export const DEFAULT_RENEW_MARGIN_MS = 6 * 3_600_000;
/** How often to renew when Tango gives no expiry. */
export const DEFAULT_RENEW_INTERVAL_MS = 24 * 3_600_000;
export const DEFAULT_RENEWALS_PER_RUN = 50;

export const webhookSubscriptionInputSchema = z.object({
  webhookId: z.string().min(1),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.array(z.object({ name: z.string().min(1), value: z.string() })).optional(),
  /** When the subscription expires (ISO); absent when Tango gave none. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  /** Renew this long before expiresAt (default 6 h; at most half the time left). */
  renewMarginMs: z.number().int().positive().optional(),
  /** Renew this often when there is no expiresAt (default 24 h). */
  renewIntervalMs: z.number().int().positive().optional(),
  /** Continue as new after this many renewals (default 50). */
  renewalsPerRun: z.number().int().positive().optional(),
});
export type WebhookSubscriptionInput = z.input<typeof webhookSubscriptionInputSchema>;

export interface WebhookSubscriptionState {
  webhookId: string;
  url: string;
  expiresAt?: string;
  nextRenewalAt: string;
  renewals: number;
  reRegistrations: number;
}

export const webhookSubscriptionQuery = defineQuery<WebhookSubscriptionState>('webhookSubscription');

export async function webhookSubscriptionWorkflow(raw: WebhookSubscriptionInput): Promise<never> {
  const input = parseWorkflowInput(webhookSubscriptionInputSchema, raw, 'webhookSubscriptionWorkflow');
  const { renewWebhookSubscription, registerWebhookSubscription } = proxyActivities<Activities>(
    onTangoQueue(WEBHOOK_REQUEST),
  );
  const margin = input.renewMarginMs ?? DEFAULT_RENEW_MARGIN_MS;
  const interval = input.renewIntervalMs ?? DEFAULT_RENEW_INTERVAL_MS;
  const perRun = input.renewalsPerRun ?? DEFAULT_RENEWALS_PER_RUN;
  const state: WebhookSubscriptionState = {
    webhookId: input.webhookId,
    url: input.url,
    ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
    nextRenewalAt: '',
    renewals: 0,
    reRegistrations: 0,
  };
  setHandler(webhookSubscriptionQuery, () => state);

  for (let run = 0; run < perRun; run += 1) {
    const now = Date.now();
    let due = now + interval;
    if (state.expiresAt) {
      const expiresAt = Date.parse(state.expiresAt);
      // A short-lived subscription is renewed half-way through what is left, not after it lapsed.
      due = expiresAt - Math.min(margin, Math.max(0, (expiresAt - now) / 2));
    }
    state.nextRenewalAt = new Date(Math.max(now, due)).toISOString();
    if (due > now) await sleep(due - now);

    const renewed = await renewWebhookSubscription({ webhookId: state.webhookId });
    if (renewed.found) {
      state.renewals += 1;
      if (renewed.expiresAt) state.expiresAt = renewed.expiresAt;
      else delete state.expiresAt;
      continue;
    }
    log.warn('webhook subscription unknown to Tango; registering the URL again', {
      webhookId: state.webhookId,
      url: state.url,
    });
    const registered = await registerWebhookSubscription({
      url: state.url,
      ...(input.headers ? { headers: input.headers } : {}),
    });
    state.reRegistrations += 1;
    state.webhookId = registered.webhookId;
    if (registered.expiresAt) state.expiresAt = registered.expiresAt;
    else delete state.expiresAt;
  }
  log.info('webhook subscription renewal continues as new', {
    webhookId: state.webhookId,
    workflowId: workflowInfo().workflowId,
  });
  const { expiresAt: _started, ...settings } = input;
  return continueAsNew<typeof webhookSubscriptionWorkflow>({
    ...settings,
    webhookId: state.webhookId,
    ...(state.expiresAt ? { expiresAt: state.expiresAt } : {}),
  });
}
