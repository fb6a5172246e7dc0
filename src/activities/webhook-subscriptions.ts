// Keeping the webhook subscription alive: renew it (POST /webhooks/{id}/renew) and, when Tango no
// longer knows it, register the URL again with the verification the receiver checks. One Tango
// request per activity; the secret or certificate comes from the worker's TANGO_WEBHOOK_* settings,
// never from workflow history.
import { ApplicationFailure } from '@temporalio/activity';
import type { TangoClient } from '../tango/client.ts';
import type { TangoWebhookConfig } from '../tango/config.ts';
import { TangoHttpError } from '../tango/errors.ts';
import { webhookRegistrationFor } from '../webhook/registration.ts';
import { tangoCall } from './errors.ts';

export interface WebhookSubscriptionDeps {
  tango: Pick<TangoClient, 'renewWebhook' | 'registerWebhook'>;
  /** TANGO_WEBHOOK_*: how events are signed (the receiver verifies the same way). */
  verification: TangoWebhookConfig;
}

export type RenewWebhookResult =
  | { found: true; expiresAt?: string }
  /** Tango answered 404: the subscription is gone and must be registered again. */
  | { found: false };

export interface RegisteredWebhook {
  webhookId: string;
  expiresAt?: string;
}

export function createWebhookSubscriptionActivities(deps: WebhookSubscriptionDeps | undefined) {
  const need = (): WebhookSubscriptionDeps => {
    if (deps) return deps;
    throw ApplicationFailure.create({
      type: 'WebhookRenewalNotConfigured',
      message: 'this worker was built without the webhook subscription dependencies',
      nonRetryable: true,
    });
  };
  return {
    async renewWebhookSubscription(input: { webhookId: string }): Promise<RenewWebhookResult> {
      const { tango } = need();
      try {
        const renewed = await tango.renewWebhook(input.webhookId);
        return { found: true, ...(renewed.expiresAt ? { expiresAt: renewed.expiresAt } : {}) };
      } catch (error) {
        if (error instanceof TangoHttpError && error.status === 404) return { found: false };
        return tangoCall(() => Promise.reject(error));
      }
    },

    async registerWebhookSubscription(input: {
      url: string;
      headers?: { name: string; value: string }[];
    }): Promise<RegisteredWebhook> {
      const { tango, verification } = need();
      const request = {
        ...webhookRegistrationFor(input.url, verification),
        ...(input.headers && input.headers.length > 0 ? { headers: input.headers } : {}),
      };
      const response = await tangoCall(() => tango.registerWebhook(request));
      if (response.id === undefined) {
        throw ApplicationFailure.create({
          type: 'WebhookRegistrationWithoutId',
          message: `Tango registered ${input.url} but returned no subscription id, so it cannot be renewed`,
          nonRetryable: true,
        });
      }
      return {
        webhookId: String(response.id),
        ...(response.expiresAt ? { expiresAt: response.expiresAt } : {}),
      };
    },
  };
}
