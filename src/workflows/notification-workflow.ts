// notificationWorkflow: delivers one notification (src/notify/) with the activity's retries and
// backoff. Campaigns start it as an abandoned child and wait only for it to start, so a receiver that
// is down never holds a campaign back, and a notification outlives the campaign that sent it.
import {
  ParentClosePolicy,
  TemporalFailure,
  log,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { createActivities } from '../activities/index.ts';
import { type NotificationEvent, notificationEventSchema } from '../notify/events.ts';
import { notificationWorkflowId } from '../definitions.ts';
import { NOTIFY } from './activity-options.ts';
import { parseWorkflowInput } from './boundary.ts';

type Activities = ReturnType<typeof createActivities>;

const { sendNotification } = proxyActivities<Activities>(NOTIFY);

const notificationInputSchema = z.object({ event: notificationEventSchema });

export { notificationWorkflowId };

export async function notificationWorkflow(raw: {
  event: NotificationEvent;
}): Promise<{ sent: boolean; status?: number }> {
  const { event } = parseWorkflowInput(notificationInputSchema, raw, 'notificationWorkflow');
  // The workflow id is unique per event: receivers drop repeats by it.
  return await sendNotification({ event, eventId: workflowInfo().workflowId });
}

/**
 * Starts the notification from a workflow (an abandoned child: it outlives the caller) and returns
 * once it started. Never throws: a notification that cannot start is logged, the caller goes on.
 * Call it behind a patched() marker of your own where it adds commands to existing histories.
 */
export async function startNotification(event: NotificationEvent, workflowId: string): Promise<void> {
  try {
    await startChild(notificationWorkflow, {
      workflowId,
      args: [{ event }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `notify: ${event.kind} of ${event.campaignId}`,
    });
  } catch (error) {
    if (
      !(error instanceof TemporalFailure) &&
      !(error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError')
    )
      throw error;
    log.warn('notification not started', { kind: event.kind, workflowId, error: String(error) });
  }
}

/**
 * For the start guards (repeat recipients, spend limits): tells a person that a campaign was refused
 * and nothing was sent. From workflow code; the client has `sendRefusalNotification`.
 */
export async function notifyCampaignRefused(
  campaignId: string,
  refusal: NonNullable<NotificationEvent['refusal']>,
  reason?: string,
): Promise<void> {
  await startNotification(
    {
      kind: 'campaign-refused',
      campaignId,
      occurredAt: new Date().toISOString(),
      refusal,
      ...(reason ? { reason } : {}),
    },
    notificationWorkflowId(campaignId, `refused-${refusal.rule}`),
  );
}
