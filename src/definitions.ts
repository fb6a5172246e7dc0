// Names shared by the client, the worker, the webhook receiver and the workflows: task queue,
// workflow IDs, signals, queries, updates and search attributes. Sandbox-safe: pure code only.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type {
  CampaignProgress,
  CorrectionsResult,
  FailuresPage,
  FailuresQueryInput,
  FailureThreshold,
  MetadataPatch,
  OperatorInput,
  OrderProgress,
  OrderStatusNotice,
  SkipItemsInput,
} from './workflows/types.ts';
import type { LineItemCorrection } from './workflows/corrections-input.ts';

export const DEFAULT_TASK_QUEUE = 'tango-campaigns';

/**
 * The task queue of the activities that call Tango, beside the workflows' own: each of them makes one
 * Tango request, spaced by the request gate every worker shares (TANGO_TPS), and the backlog waits
 * here for any worker (docs/operations.md, "The request budget").
 */
export function tangoTaskQueue(taskQueue: string): string {
  return `${taskQueue}-tango`;
}

/** The activities that call Tango, and only they, run on the Tango task queue. */
export const TANGO_ACTIVITIES = [
  'submitOrderRound',
  'getOrderStatus',
  'settleOrderRound',
  'settleOrderStep',
  'recheckOrderItems',
  'getAccountBalance',
  'preflightCampaign',
  'patchSubmittedOrders',
  'renewWebhookSubscription',
  'registerWebhookSubscription',
  'readReconcilePage',
] as const;

/** `campaign-<campaignId>`: one campaign workflow per business campaign id. */
export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

/** `reconcile-<campaignId>-<reconcileId>`: one audit run of a campaign against Tango. */
export function reconcileWorkflowId(campaignId: string, reconcileId: string): string {
  return `reconcile-${campaignId}-${reconcileId}`;
}

/** `notify-<campaignId>-<suffix>`: one notification workflow per event of a campaign. */
export function notificationWorkflowId(campaignId: string, sequence: number | string): string {
  return `notify-${campaignId}-${sequence}`;
}

/** `webhook-subscription-<Tango subscription id>`: one renewal workflow per registered subscription. */
export function webhookSubscriptionWorkflowId(webhookId: string): string {
  return `webhook-subscription-${webhookId}`;
}

/** `tango-order-<externalRefID of round 0>`: one order workflow per chunk, across all its rounds. */
export function orderWorkflowId(roundZeroExternalRefId: string): string {
  return `tango-order-${roundZeroExternalRefId}`;
}

const ROUND_SUFFIX = /^(.*-\d+)-r\d+$/;

/**
 * The order workflow that owns an externalRefID of any round: `<ref>-<chunk>-r<round>` belongs to
 * the workflow of `<ref>-<chunk>`. Used by the webhook receiver, which only sees the externalRefID.
 */
export function orderWorkflowIdForExternalRefId(externalRefID: string): string {
  const match = ROUND_SUFFIX.exec(externalRefID);
  return orderWorkflowId(match?.[1] ?? externalRefID);
}

// Signals
/** Sent by the webhook receiver for every verified AsyncOrderStatus event. */
export const orderStatusSignal = defineSignal<[OrderStatusNotice]>('orderStatus');
/** Funds were added to the account: orders waiting for funds check the balance now. */
export const fundsAddedSignal = defineSignal<[{ amount?: number; note?: string }?]>('fundsAdded');
/** Stop new submissions (orders in flight settle normally). */
export const pauseSignal = defineSignal<[{ reason?: string }?]>('pause');
export const resumeSignal = defineSignal<[]>('resume');
/** Campaign -> order: operator input (corrections, skips) staged in the store. */
export const operatorInputSignal = defineSignal<[OperatorInput]>('operatorInput');
/** Campaign -> order: stop submitting, settle what is in flight, give up the rest. */
export const cancelOrderSignal = defineSignal<[{ reason: string }]>('cancelOrder');
/** Order -> campaign: the order's counts changed (after each step). */
export const orderProgressSignal = defineSignal<[OrderProgress]>('orderProgress');

// Queries
export const progressQuery = defineQuery<CampaignProgress>('progress');
export const failuresQuery = defineQuery<FailuresPage, [FailuresQueryInput?]>('failures');
export const orderProgressQuery = defineQuery<OrderProgress>('orderProgress');

// Updates
export const submitCorrectionsUpdate = defineUpdate<CorrectionsResult, [LineItemCorrection[]]>(
  'submitCorrections',
);
export const skipItemsUpdate = defineUpdate<CorrectionsResult, [SkipItemsInput]>('skipItems');
export const updateMetadataUpdate = defineUpdate<{ ordersPatched: number }, [MetadataPatch]>(
  'updateMetadata',
);
export const approveUpdate = defineUpdate<{ approvedBy: string }, [{ approver: string; note?: string }]>(
  'approve',
);
export const rejectUpdate = defineUpdate<{ rejectedBy: string }, [{ approver: string; reason: string }]>(
  'reject',
);
export const setFailureThresholdUpdate = defineUpdate<FailureThreshold, [FailureThreshold]>(
  'setFailureThreshold',
);

// Search attributes (registered by `tango-campaigns setup` and by the dev stack). The dev server's
// SQLite visibility store takes at most 3 Int attributes per namespace, hence these three.
export const searchAttributes = {
  campaignId: defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD),
  customerIdentifier: defineSearchAttributeKey('TangoCustomer', SearchAttributeType.KEYWORD),
  accountIdentifier: defineSearchAttributeKey('TangoAccount', SearchAttributeType.KEYWORD),
  campaignStatus: defineSearchAttributeKey('CampaignStatus', SearchAttributeType.KEYWORD),
  itemsDelivered: defineSearchAttributeKey('ItemsDelivered', SearchAttributeType.INT),
  itemsFailed: defineSearchAttributeKey('ItemsFailed', SearchAttributeType.INT),
  itemsGivenUp: defineSearchAttributeKey('ItemsGivenUp', SearchAttributeType.INT),
  orderOverdue: defineSearchAttributeKey('OrderOverdue', SearchAttributeType.BOOL),
  /** The failure type while an order is blocked (e.g. OrderCollision, TangoUnauthorized); empty otherwise. */
  orderBlocked: defineSearchAttributeKey('OrderBlocked', SearchAttributeType.KEYWORD),
  externalRefId: defineSearchAttributeKey('TangoExternalRefId', SearchAttributeType.KEYWORD),
} as const;

export const allSearchAttributes = Object.values(searchAttributes);
