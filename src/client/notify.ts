// Notifications from the client side: a start that a guard refused (repeat recipients, spend limit)
// never reaches a campaign workflow, so the client starts the notificationWorkflow itself; the
// workers deliver it with their retries (and send nothing when they have no NOTIFY_URL).
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NotificationEvent } from '../notify/events.ts';
import { notificationWorkflowId } from '../definitions.ts';
import type { notificationWorkflow } from '../workflows/notification-workflow.ts';

/**
 * Tells a person that the start of `campaignId` was refused and nothing was sent. Resolves once the
 * notification is queued (it does not wait for the receiver); an error starting it is returned, not
 * thrown, so that the refusal itself is what the caller reports.
 */
export async function sendRefusalNotification(
  context: { client: Client; taskQueue: string },
  campaignId: string,
  refusal: NonNullable<NotificationEvent['refusal']>,
  reason?: string,
): Promise<{ queued: boolean; error?: unknown }> {
  const event: NotificationEvent = {
    kind: 'campaign-refused',
    campaignId,
    occurredAt: new Date().toISOString(),
    refusal,
    ...(reason ? { reason } : {}),
  };
  try {
    await context.client.workflow.start<typeof notificationWorkflow>('notificationWorkflow', {
      taskQueue: context.taskQueue,
      workflowId: notificationWorkflowId(campaignId, `refused-${randomUUID()}`),
      args: [{ event }],
    });
    return { queued: true };
  } catch (error) {
    return { queued: false, error };
  }
}
