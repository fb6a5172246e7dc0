// The workflows the worker registers, by name.
export { campaignWorkflow } from './campaign-workflow.ts';
export { notificationWorkflow } from './notification-workflow.ts';
export { orderWorkflow } from './order-workflow.ts';
export { reconcileCampaignWorkflow } from './reconcile-workflow.ts';
export { scheduledCampaignWorkflow } from './scheduled-campaign-workflow.ts';
export { webhookSubscriptionWorkflow } from './webhook-subscription-workflow.ts';
