// What the activities need from the outside world, injected once by the worker (and by tests).
import type { AutoFixer, Classifier } from '../campaign/order-book.ts';
import type { CampaignPolicy } from '../campaign/policy.ts';
import type { NotifyConfig } from '../notify/config.ts';
import type { CampaignStore } from '../store/store.ts';
import type { TangoClient } from '../tango/client.ts';
import type { DeliveriesDeps } from './deliveries.ts';
import type { SourceLimits } from './sources.ts';
import type { CampaignDefinition } from './staging.ts';
import type { WebhookSubscriptionDeps } from './webhook-subscriptions.ts';

export interface OrderRef {
  customerIdentifier: string;
  accountIdentifier: string;
  externalRefID: string;
}

/** The Tango calls the activities make: TangoClient, or anything with the same shape. */
export type TangoApi = Pick<
  TangoClient,
  | 'createAsyncOrder'
  | 'getAsyncOrder'
  | 'updateAsyncOrder'
  | 'lineItemPages'
  | 'lookupLineItems'
  | 'getCatalog'
  | 'getAccount'
>;

export interface ActivityDeps {
  store: CampaignStore;
  tango: TangoApi;
  /** Failure class of a failed item's errors (built-in table + TANGO_ERROR_CLASSES). */
  classify: Classifier;
  /** The safe automatic fixes for a campaign, or undefined when it turned them off. */
  autoFixerFor: (definition: CampaignDefinition) => AutoFixer | undefined;
  /** How long a 404 for an order we POSTed means "not visible yet" (default 10 minutes). */
  visibilityGraceMs?: number;
  /** What scheduled campaigns' sources may name (CAMPAIGN_SOURCE_*); default: nothing. */
  sources?: SourceLimits;
  /** The spending policy (CAMPAIGN_POLICY_FILE, APPROVAL_THRESHOLD_FLOOR); default: no floor. */
  policy?: CampaignPolicy;
  /** NOTIFY_*: the notification webhook (absent or without a URL: nothing is sent). */
  notify?: NotifyConfig;
  /** The deliveries index (repeat guard, spend limits); default: none kept. */
  deliveries?: DeliveriesDeps;
  /** The clock (tests move it). */
  now?: () => number;
  /** For webhookSubscriptionWorkflow's renew / re-register activities (absent: they fail). */
  webhookSubscriptions?: WebhookSubscriptionDeps;
}
