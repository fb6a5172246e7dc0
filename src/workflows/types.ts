// Inputs, results and operator-facing shapes of the campaign and order workflows. The zod schemas
// here validate what crosses into a workflow (start input, updates); pure code, sandbox-safe.
import { z } from 'zod';
import { FAILURE_CLASSES, type FailureClass } from '../campaign/classification.ts';
import type { ItemCounts } from '../campaign/counts.ts';
import { isDuration } from './duration.ts';

const duration = z
  .union([z.string(), z.number().nonnegative()])
  .refine(isDuration, { message: 'a duration such as 30s, 15m, 72h or 2d' });

export const failureThresholdSchema = z
  .object({
    /** Pause new submissions once given-up items exceed this share of all items (0-100). */
    percent: z.number().min(0).max(100).optional(),
    /** ... or this many items. */
    count: z.number().int().nonnegative().optional(),
  })
  .strict();
export type FailureThreshold = z.infer<typeof failureThresholdSchema>;

export const campaignOptionsSchema = z
  .object({
    /** Line items per Tango order. */
    chunkSize: z.number().int().min(1).max(10_000).default(500),
    /** Orders in flight at once (sliding window of order workflows). */
    maxConcurrentOrders: z.number().int().min(1).max(1000).default(8),
    /** Submission rounds per order, the first included. */
    maxRounds: z.number().int().min(1).max(50).default(5),
    /** How long failed items wait for corrections (or funds) before they are given up. */
    correctionWindow: duration.default('72h'),
    /** First poll of an order's status when no webhook arrives; doubles up to pollMax. */
    pollInitial: duration.default('30s'),
    pollMax: duration.default('15m'),
    /** An order not settled after this long is marked overdue (it keeps polling). */
    overdueAfter: duration.default('2h'),
    /** Wait before resubmitting transient failures (round 1; doubles with every round after it). */
    resubmitDelay: duration.default('2s'),
    /** How often orders waiting for funds check the account balance. */
    fundsCheckInterval: duration.default('1h'),
    /** Apply the safe automatic fixes (docs/architecture.md) to items that need correction. */
    autoCorrect: z.boolean().default(true),
    /** utid replacements for rewards that are inactive or not valid for the delivery method. */
    utidFallbacks: z.record(z.string(), z.string()).default({}),
    /** Campaigns whose total amount exceeds this wait for an `approve` update. */
    approvalThreshold: z.number().positive().optional(),
    failureThreshold: failureThresholdSchema.optional(),
    /** Validate everything and write the report without ordering. */
    dryRun: z.boolean().default(false),
    /** Check the account balance covers the campaign before the first order. */
    preflightBalanceCheck: z.boolean().default(true),
    /** Send even to recipients an earlier campaign rewarded with the same reward and amount. */
    allowRepeats: z.boolean().optional(),
    /** How far back the repeat-recipient guard looks (default 30d). */
    repeatWindow: duration.optional(),
  })
  .strict();
export type CampaignOptions = z.output<typeof campaignOptionsSchema>;
export type CampaignOptionsInput = z.input<typeof campaignOptionsSchema>;

export const senderSchema = z
  .object({
    firstName: z.string().max(100).optional(),
    lastName: z.string().max(100).optional(),
    email: z.string().optional(),
  })
  .strict();

export const campaignIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,80}$/, 'campaign id: 1-80 characters of A-Z a-z 0-9 _ . -');

export const campaignInputSchema = z
  .object({
    campaignId: campaignIdSchema,
    customerIdentifier: z.string().min(1).max(100),
    accountIdentifier: z.string().min(5).max(100),
    /** Tango's `campaign` field on every order. */
    campaign: z.string().max(1024).optional(),
    purchaseOrderNumber: z.string().max(100).optional(),
    notes: z.string().max(150).optional(),
    sender: senderSchema.optional(),
    /** Line items: a key in the claim-check store (JSON Lines), or inline for small campaigns. */
    items: z.union([
      z.object({ storeKey: z.string().min(1) }).strict(),
      z.object({ inline: z.array(z.unknown()).min(1).max(5000) }).strict(),
    ]),
    options: campaignOptionsSchema.default(campaignOptionsSchema.parse({})),
    requestedBy: z.string().max(200).optional(),
    /**
     * The registry claim that owns the campaign id, set by the client or the scheduled workflow when
     * they claimed the id themselves; otherwise the campaign claims it as `workflow:<first run id>`.
     */
    registryClaim: z.string().max(200).optional(),
  })
  .strict();
export type CampaignInput = z.output<typeof campaignInputSchema>;
export type CampaignStartInput = z.input<typeof campaignInputSchema>;

export const metadataPatchSchema = campaignInputSchema
  .pick({ campaign: true, purchaseOrderNumber: true, notes: true })
  .strict()
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), {
    message: 'name at least one of campaign, purchaseOrderNumber, notes',
  });
export type MetadataPatch = z.infer<typeof metadataPatchSchema>;

export const skipItemsSchema = z
  .object({
    externalRefLineItemIDs: z.array(z.string().min(1).max(100)).min(1).max(10_000),
    reason: z.string().min(1).max(500),
  })
  .strict();
export type SkipItemsInput = z.infer<typeof skipItemsSchema>;

const count = z.number().int().nonnegative().max(1e9);

// Counts live with the domain (the order book computes them); re-exported for workflow code.
export { type ItemCounts, emptyCounts } from '../campaign/counts.ts';
export type FailureClassName = FailureClass;

export type OrderPhase =
  | 'queued'
  | 'submitting'
  | 'awaiting-tango'
  | 'settling'
  | 'awaiting-operator'
  | 'paused'
  | 'blocked'
  | 'done';

/** Order -> campaign after every step; also the order's own query result. */
export interface OrderProgress {
  chunk: number;
  phase: OrderPhase;
  round: number;
  /** externalRefID of the current (or last) round. */
  externalRefID: string;
  /** Store key of the latest item book (which items are in which state). */
  bookKey: string;
  counts: ItemCounts;
  overdue: boolean;
  done: boolean;
  /** Increases with every report an order sends; older reports arriving late are ignored. */
  sequence?: number;
  /** Why the order is blocked (a failure retrying can't fix), while it is. */
  blockedReason?: string;
  /** Corrections and skips the order did not apply (their item had moved on). */
  inputIgnored?: number;
}

const countsSchema = z.object({
  total: count,
  queued: count,
  submitted: count,
  delivered: count,
  awaitingCorrection: count,
  awaitingFunds: count,
  givenUp: count,
  cancelled: count,
  corrected: count,
  autoFixed: count,
  awaitingFundsAmount: z.number().nonnegative(),
  // Orders started before scheduled deliveries were tracked do not send it.
  scheduled: count.default(0),
  failures: z.object(
    Object.fromEntries(FAILURE_CLASSES.map((name) => [name, count])) as Record<FailureClass, typeof count>,
  ),
});

/** Order -> campaign progress, checked for shape (it comes from the campaign's own orders). */
export const orderProgressSchema = z.object({
  chunk: z.number().int().nonnegative(),
  round: z.number().int().nonnegative(),
  externalRefID: z.string().max(100),
  bookKey: z.string().max(1024),
  counts: countsSchema,
  overdue: z.boolean(),
  done: z.boolean(),
  phase: z.enum([
    'queued',
    'submitting',
    'awaiting-tango',
    'settling',
    'awaiting-operator',
    'paused',
    'blocked',
    'done',
  ]),
  sequence: z.number().int().nonnegative().optional(),
  blockedReason: z.string().max(2000).optional(),
  inputIgnored: count.optional(),
});

/** The part of an AsyncOrderStatus event the order workflow acts on (sizes bounded: seeds' limits). */
export const orderStatusNoticeSchema = z.object({
  externalRefID: z.string().min(1).max(100),
  status: z.string().min(1).max(40),
  eventId: z.string().max(200).optional(),
  revision: z.number().int().nonnegative().optional(),
  eventOccurredAt: z.string().max(64).optional(),
  totalLineItems: count.optional(),
  failedLineItems: count.optional(),
  successfulLineItems: count.optional(),
});
export type OrderStatusNotice = z.infer<typeof orderStatusNoticeSchema>;

export const operatorInputSchema = z.object({
  kind: z.enum(['corrections', 'skip']),
  /** A store key under the order's own campaign (checked by the order). */
  key: z.string().min(1).max(1024),
  count: count,
});
export type OperatorInput = z.infer<typeof operatorInputSchema>;

export const reasonSchema = z.object({ reason: z.string().min(1).max(500) });
export const optionalReasonSchema = z.object({ reason: z.string().max(500).optional() }).optional();
export const fundsAddedSchema = z
  .object({ amount: z.number().nonnegative().optional(), note: z.string().max(500).optional() })
  .optional();

export interface CorrectionsResult {
  accepted: number;
  /** Orders (chunks) that received the input. */
  orders: number;
}

export interface FailuresQueryInput {
  /** Only failures of this class. */
  failureClass?: FailureClassName;
}

export interface BlockedOrder {
  chunk: number;
  externalRefID: string;
  reason: string;
}

/** Failures are listed from the store by the client; the query tells where to look. */
export interface FailuresPage {
  campaignId: string;
  orders: {
    chunk: number;
    bookKey: string;
    awaitingCorrection: number;
    awaitingFunds: number;
    givenUp: number;
  }[];
  totals: Pick<ItemCounts, 'awaitingCorrection' | 'awaitingFunds' | 'givenUp' | 'failures'>;
  /** Orders blocked (e.g. a collision): their items are with Tango or in doubt, not failed. */
  blocked?: BlockedOrder[];
}

export type CampaignStatus =
  | 'staging'
  | 'awaiting-approval'
  | 'awaiting-funds'
  | 'running'
  | 'paused'
  | 'threshold-exceeded'
  | 'cancelling'
  | 'completed'
  | 'cancelled'
  | 'rejected'
  /** Refused before anything was sent: recipients rewarded by an earlier campaign (allowRepeats). */
  | 'refused'
  | 'dry-run-complete';

export interface CampaignProgress {
  campaignId: string;
  status: CampaignStatus;
  statusReason?: string;
  counts: ItemCounts;
  orders: {
    total: number;
    started: number;
    finished: number;
    inFlight: number;
    overdue: number;
    /** Orders blocked on a failure retrying cannot fix (a collision, revoked credentials...). */
    blocked?: number;
  };
  /** The first blocked orders, with why. */
  blockedOrders?: BlockedOrder[];
  /** Corrections and skips accepted by an update that the orders did not apply (items moved on). */
  inputIgnored?: number;
  rounds: number;
  totalAmount: number;
  approvedBy?: string;
  reportKeys?: { csv: string; json: string };
}

export interface CampaignResult {
  campaignId: string;
  status: CampaignStatus;
  statusReason?: string;
  counts: ItemCounts;
  orders: number;
  rounds: number;
  totalAmount: number;
  approvedBy?: string;
  report: { csv: string; json: string; rows: number };
}
