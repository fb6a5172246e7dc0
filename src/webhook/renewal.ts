// Starts webhookSubscriptionWorkflow for a subscription just registered, so that it is renewed
// before it expires (and registered again if Tango loses it). One workflow per subscription id:
// starting it twice for the same id leaves the running one alone.
import { type Client, WorkflowIdReusePolicy } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { webhookSubscriptionWorkflowId } from '../definitions.ts';
import type { WebhookSubscriptionInput } from '../workflows/webhook-subscription-workflow.ts';

export interface WebhookRenewalStart {
  workflowId: string;
  /** false: a renewal workflow for this subscription id was already running. */
  started: boolean;
}

export async function startWebhookRenewal(
  client: Client,
  taskQueue: string,
  input: WebhookSubscriptionInput,
): Promise<WebhookRenewalStart> {
  const workflowId = webhookSubscriptionWorkflowId(input.webhookId);
  try {
    await client.workflow.start('webhookSubscriptionWorkflow', {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    });
    return { workflowId, started: true };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw error;
  }
}
