// zod schemas for every body that crosses the Tango boundary: strict for what we send (every
// documented limit), lenient for what Tango sends back (both documented shapes, nulls, extra fields).
// Pure module: it also runs inside Temporal workflow code (update validators), so no Node imports
// and no environment access; Date.now() is the workflow's deterministic clock there.
// Why so long: one schema per documented body of the four API pages, each with its limits.
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;

/** Tango: "deliveryDate ... must be at least 7 days in the future". */
export const MIN_DELIVERY_LEAD_DAYS = 7;

const nonBlank = (what: string) => z.string().regex(/\S/, `${what} must not be blank`);

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Returns why `value` is not an acceptable deliveryDate at `nowMs`, or undefined when it is.
 * A calendar date counts whole days (today + 7 or later, UTC); a date-time must be at least
 * 7 x 24 h ahead. Exported so that callers can pre-check without building a whole line item.
 */
export function deliveryDateProblem(value: string, nowMs: number = Date.now()): string | undefined {
  const dateOnly = DATE_ONLY.exec(value);
  if (dateOnly) {
    const day = Date.UTC(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3]));
    if (Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== value) {
      return `deliveryDate "${value}" is not a real calendar date`;
    }
    const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
    if (day < today + MIN_DELIVERY_LEAD_DAYS * DAY_MS) {
      return `deliveryDate ${value} must be at least ${MIN_DELIVERY_LEAD_DAYS} days after today (UTC)`;
    }
    return undefined;
  }
  if (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    return `deliveryDate "${value}" must be an ISO 8601 date (YYYY-MM-DD) or date-time with a time zone`;
  }
  if (Date.parse(value) < nowMs + MIN_DELIVERY_LEAD_DAYS * DAY_MS) {
    return `deliveryDate ${value} must be at least ${MIN_DELIVERY_LEAD_DAYS} days in the future`;
  }
  return undefined;
}

/** A response field that may be absent or null; null is turned into undefined. */
function optionalField<T extends z.ZodType>(schema: T) {
  return schema
    .nullish()
    .transform((value) => value ?? undefined)
    .optional();
}

/** A response list that may be absent or null; both become []. */
function listField<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .nullish()
    .transform((value) => value ?? []);
}

/** Tango sends some counts as numbers and some as numeric strings ("totalLineItems": "2"). */
const numberLike = z.union([
  z.number(),
  z
    .string()
    .regex(/^\s*-?\d+(\.\d+)?\s*$/, 'expected a number or a numeric string')
    .transform(Number),
]);

// ---------------------------------------------------------------------------------------------
// Status helpers: Tango's status values are free strings ("pending", "COMPLETE"), so schemas keep
// them as sent and callers compare through these, case-insensitively. Unknown values are not final.
// ---------------------------------------------------------------------------------------------

/** Trimmed upper-case form of a Tango status, or undefined when absent/blank. */
export function normalizeStatus(status: string | null | undefined): string | undefined {
  const normalized = status?.trim().toUpperCase();
  return normalized ? normalized : undefined;
}

// COMPLETED appears in the PATCH page's prose ("pending, queued, completed, failed").
const FINAL_ORDER_STATUSES = new Set(['COMPLETE', 'COMPLETED', 'PARTIAL', 'FAILED']);
const FINAL_LINE_ITEM_STATUSES = new Set(['COMPLETE', 'COMPLETED', 'FAILED']);
const FINAL_WEBHOOK_STATUSES = new Set(['SUCCESSFUL', 'PARTIALFAILED', 'FAILED']);

/** True for COMPLETE / PARTIAL / FAILED in any case; PENDING, PROCESSING and unknown values are not final. */
export function isFinalOrderStatus(status: string | null | undefined): boolean {
  return FINAL_ORDER_STATUSES.has(normalizeStatus(status) ?? '');
}

/** True for COMPLETE / FAILED line items in any case. */
export function isFinalLineItemStatus(status: string | null | undefined): boolean {
  return FINAL_LINE_ITEM_STATUSES.has(normalizeStatus(status) ?? '');
}

/** True for SUCCESSFUL / PARTIALFAILED / FAILED webhook statuses; RETRYING means Tango is still working. */
export function isFinalWebhookStatus(status: string | null | undefined): boolean {
  return FINAL_WEBHOOK_STATUSES.has(normalizeStatus(status) ?? '');
}

// ---------------------------------------------------------------------------------------------
// Requests (what we send): strict, every documented limit
// ---------------------------------------------------------------------------------------------

export const deliveryMethodSchema = z.enum([
  'NONE',
  'EMAIL',
  'PHONE',
  'ADDRESS',
  'EMBEDDED',
  'EMBEDDED_COMPONENT',
  'WHATSAPP',
]);
export type DeliveryMethod = z.infer<typeof deliveryMethodSchema>;

export const addressSchema = z.object({
  companyName: z.string().optional(),
  streetLine1: nonBlank('address.streetLine1'),
  streetLine2: z.string().optional(),
  city: nonBlank('address.city'),
  stateOrProvince: nonBlank('address.stateOrProvince'),
  postalCode: nonBlank('address.postalCode'),
  country: nonBlank('address.country'),
});
export type Address = z.infer<typeof addressSchema>;

// Contact fields are optional here; which ones are required depends on the line item's
// deliveryMethod and is checked by lineItemRequestSchema. The email's format is left to Tango on
// purpose: a malformed address comes back as one failed line item (INVALID_EMAIL) instead of
// failing the whole order, and Tango's notion of "well-formed" is the one that counts.
export const recipientSchema = z.object({
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  email: z.string().optional(),
  mobileNumber: z.string().optional(),
  address: addressSchema.optional(),
});
export type Recipient = z.infer<typeof recipientSchema>;

// Unlike a recipient's, a malformed sender email fails the whole order (422.134 at request level),
// so it is checked here.
export const senderSchema = z.object({
  firstName: z.string().max(100).optional(),
  lastName: z.string().max(100).optional(),
  email: z.email('sender.email must be a well-formed email address').optional(),
});
export type Sender = z.infer<typeof senderSchema>;

const isBlank = (value: string | undefined) => value === undefined || value.trim() === '';

export const lineItemRequestSchema = z
  .object({
    externalRefLineItemID: nonBlank('externalRefLineItemID').max(150),
    recipient: recipientSchema.optional(),
    utid: nonBlank('utid'),
    amount: z.number().positive().finite(),
    deliveryMethod: deliveryMethodSchema,
    deliveryDate: z.string().optional(),
    etid: z.string().optional(),
    ptid: z.string().optional(),
    expirationDate: z.string().optional(),
    emailSubject: z.string().optional(),
    message: z.string().max(1024).optional(),
    lineItemNote: z.string().max(150).optional(),
  })
  .superRefine((item, ctx) => {
    const need = (field: keyof Recipient, why: string) => {
      const value = item.recipient?.[field];
      const missing = field === 'address' ? value === undefined : isBlank(value as string | undefined);
      if (missing) {
        ctx.addIssue({
          code: 'custom',
          path: ['recipient', field],
          message: `recipient.${field} is missing: deliveryMethod ${item.deliveryMethod} needs it (${why})`,
        });
      }
    };
    switch (item.deliveryMethod) {
      case 'EMAIL':
        need('email', 'the reward is emailed');
        need('firstName', 'Tango requires the recipient name for email delivery');
        need('lastName', 'Tango requires the recipient name for email delivery');
        break;
      case 'PHONE':
      case 'WHATSAPP':
        need('mobileNumber', 'the reward is sent to a phone');
        break;
      case 'ADDRESS':
        need('address', 'the reward is mailed');
        break;
      default:
        break;
    }
    if (item.deliveryDate !== undefined) {
      const problem = deliveryDateProblem(item.deliveryDate);
      if (problem) ctx.addIssue({ code: 'custom', path: ['deliveryDate'], message: problem });
    }
  });
export type LineItemRequest = z.infer<typeof lineItemRequestSchema>;

export const createAsyncOrderRequestSchema = z.object({
  // Tango says "alphanumeric", but our own ids (`<campaignRef>-<chunk>-r<round>`) use hyphens and
  // are accepted; only the length is enforced.
  externalRefID: nonBlank('externalRefID').max(100),
  customerIdentifier: nonBlank('customerIdentifier'),
  accountIdentifier: z.string().min(5).max(100),
  sender: senderSchema.optional(),
  campaign: z.string().max(1024).optional(),
  purchaseOrderNumber: z.string().max(100).optional(),
  notes: z.string().max(150).optional(),
  lineItems: z.array(lineItemRequestSchema).min(1, 'an async order needs at least one line item'),
});
export type CreateAsyncOrderRequest = z.infer<typeof createAsyncOrderRequestSchema>;

export const updateAsyncOrderRequestSchema = z
  .object({
    campaign: z.string().max(1024).optional(),
    purchaseOrderNumber: z.string().max(100).optional(),
    notes: z.string().max(150).optional(),
  })
  .refine(
    (patch) =>
      patch.campaign !== undefined || patch.purchaseOrderNumber !== undefined || patch.notes !== undefined,
    { message: 'a PATCH needs at least one of campaign, purchaseOrderNumber, notes' },
  );
export type UpdateAsyncOrderRequest = z.infer<typeof updateAsyncOrderRequestSchema>;

export const webhookVerificationMethodSchema = z.enum(['HMAC', 'X509', 'NONE']);
export type WebhookVerificationMethod = z.infer<typeof webhookVerificationMethodSchema>;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export const webhookRegistrationRequestSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    // Shape of custom headers is [unconfirmed] beyond "headers[]": name/value pairs.
    headers: z.array(z.object({ name: nonBlank('header name'), value: z.string() })).optional(),
    categories: z.array(z.string()).optional(),
    eventTypes: z.array(z.string()).optional(),
    payloadVerificationMethod: webhookVerificationMethodSchema,
    // Single-line base64 DER, no PEM header, as Tango asks.
    signingCertificate: z.string().regex(BASE64, 'signingCertificate must be single-line base64').optional(),
    hmacSharedSecretKey: z.string().regex(BASE64, 'hmacSharedSecretKey must be base64').optional(),
  })
  .superRefine((reg, ctx) => {
    if (reg.payloadVerificationMethod === 'HMAC' && !reg.hmacSharedSecretKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['hmacSharedSecretKey'],
        message: 'hmacSharedSecretKey is required when payloadVerificationMethod is HMAC',
      });
    }
    if (reg.payloadVerificationMethod === 'X509' && !reg.signingCertificate) {
      ctx.addIssue({
        code: 'custom',
        path: ['signingCertificate'],
        message: 'signingCertificate is required when payloadVerificationMethod is X509',
      });
    }
  });
export type WebhookRegistrationRequest = z.infer<typeof webhookRegistrationRequestSchema>;

// ---------------------------------------------------------------------------------------------
// Responses (what Tango sends): lenient, normalized, unknown fields kept
// ---------------------------------------------------------------------------------------------

export const tangoErrorDetailSchema = z.looseObject({
  path: optionalField(z.string()),
  i18nKey: optionalField(z.string()),
  message: optionalField(z.string()),
  invalidValue: z.unknown().optional(),
  constraint: optionalField(z.string()),
});

export const tangoErrorBodySchema = z.looseObject({
  timestamp: optionalField(z.string()),
  requestId: optionalField(z.string()),
  path: optionalField(z.string()),
  httpCode: optionalField(numberLike),
  httpPhrase: optionalField(z.string()),
  i18nKey: optionalField(z.string()),
  message: optionalField(z.string()),
  errors: listField(tangoErrorDetailSchema),
});
export type TangoErrorBody = z.output<typeof tangoErrorBodySchema>;

export const failedLineItemErrorSchema = z.looseObject({
  field: optionalField(z.string()),
  errorCodeValue: optionalField(numberLike),
  errorCodeName: optionalField(z.string()),
  message: optionalField(z.string()),
});

export const failedLineItemSchema = z.looseObject({
  lineItemId: optionalField(z.string()),
  externalRefLineItemID: z.string(),
  utid: optionalField(z.string()),
  errors: listField(failedLineItemErrorSchema),
});
export type FailedLineItem = z.output<typeof failedLineItemSchema>;

const orderSummarySchema = z.looseObject({
  externalRefID: optionalField(z.string()),
  status: optionalField(z.string()),
  totalLineItems: optionalField(numberLike),
  createdAt: optionalField(z.string()),
  created_at: optionalField(z.string()),
  failedLineItems: optionalField(z.array(failedLineItemSchema)),
  duplicateLineItemRefIds: optionalField(z.record(z.string(), numberLike)),
});

const NORMALIZED_CREATE_KEYS = new Set([
  'externalRefID',
  'status',
  'totalLineItems',
  'createdAt',
  'created_at',
  'failedLineItems',
  'duplicateLineItemRefIds',
]);

function unknownKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([key]) => !NORMALIZED_CREATE_KEYS.has(key)));
}

/**
 * POST /asyncOrders response. Tango documents two shapes: the summary
 * `{externalRefID, status, totalLineItems, createdAt, failedLineItems, duplicateLineItemRefIds}` and
 * `{externalRefID, order: {externalRefID, status, totalLineItems: "2", created_at}}`; both become
 * one normalized object, with any field we do not know kept under `extra`.
 */
export const createAsyncOrderResponseSchema = z
  .looseObject({
    externalRefID: z.string(),
    status: optionalField(z.string()),
    totalLineItems: optionalField(numberLike),
    createdAt: optionalField(z.string()),
    created_at: optionalField(z.string()),
    failedLineItems: optionalField(z.array(failedLineItemSchema)),
    duplicateLineItemRefIds: optionalField(z.record(z.string(), numberLike)),
    order: optionalField(orderSummarySchema),
  })
  .transform((raw) => {
    const order = raw.order;
    const { order: _order, ...top } = raw;
    const extra: Record<string, unknown> = unknownKeys(top);
    if (order) {
      const orderExtra = unknownKeys(order);
      if (Object.keys(orderExtra).length > 0) extra.order = orderExtra;
    }
    return {
      externalRefID: raw.externalRefID,
      status: raw.status ?? order?.status,
      totalLineItems: raw.totalLineItems ?? order?.totalLineItems,
      createdAt: raw.createdAt ?? raw.created_at ?? order?.createdAt ?? order?.created_at,
      failedLineItems: raw.failedLineItems ?? order?.failedLineItems ?? [],
      duplicateLineItemRefIds: raw.duplicateLineItemRefIds ?? order?.duplicateLineItemRefIds ?? {},
      extra,
    };
  });
export type CreateAsyncOrderResponse = z.output<typeof createAsyncOrderResponseSchema>;

export const responseAddressSchema = z.looseObject({
  companyName: optionalField(z.string()),
  streetLine1: optionalField(z.string()),
  streetLine2: optionalField(z.string()),
  city: optionalField(z.string()),
  stateOrProvince: optionalField(z.string()),
  postalCode: optionalField(z.string()),
  country: optionalField(z.string()),
});

export const responseRecipientSchema = z.looseObject({
  firstName: optionalField(z.string()),
  lastName: optionalField(z.string()),
  email: optionalField(z.string()),
  mobileNumber: optionalField(z.string()),
  address: optionalField(responseAddressSchema),
});

export const amountChargedSchema = z.looseObject({
  currencyCode: optionalField(z.string()),
  value: optionalField(numberLike),
  exchangeRate: optionalField(numberLike),
  fee: optionalField(numberLike),
  total: optionalField(numberLike),
});

export const lineItemErrorSchema = z.looseObject({
  errorCode: optionalField(z.union([z.string(), z.number().transform(String)])),
  errorMessage: optionalField(z.string()),
});
export type LineItemError = z.output<typeof lineItemErrorSchema>;

export const lineItemDetailSchema = z.looseObject({
  referenceLineItemId: optionalField(z.string()),
  externalRefLineItemID: z.string(),
  lineItemStatus: optionalField(z.string()),
  deliveryStatus: optionalField(z.string()),
  recipient: optionalField(responseRecipientSchema),
  // A free string here: the detail view also shows BULKSHIPMENT, QRCODE, BULKDIGITAL.
  deliveryMethod: optionalField(z.string()),
  utid: optionalField(z.string()),
  rewardName: optionalField(z.string()),
  amount: optionalField(numberLike),
  amountCharged: optionalField(amountChargedSchema),
  scheduledDeliveryDate: optionalField(z.string()),
  lineItemErrors: listField(lineItemErrorSchema),
});
export type LineItemDetail = z.output<typeof lineItemDetailSchema>;

export const paginationSchema = z.looseObject({
  prevCursor: optionalField(z.string()),
  nextCursor: optionalField(z.string()),
  prevPageAvailable: optionalField(z.boolean()),
  nextPageAvailable: optionalField(z.boolean()),
  maxResults: optionalField(numberLike),
  numberOfElements: optionalField(numberLike),
});
export type Pagination = z.output<typeof paginationSchema>;

// A failed-only page with nothing in it comes back as lineItems: null, "NONE" or "NULL".
const lineItemsField = z.preprocess(
  (value) =>
    value == null || (typeof value === 'string' && /^\s*(none|null)?\s*$/i.test(value)) ? [] : value,
  z.array(lineItemDetailSchema),
);

/** GET (and PATCH) /asyncOrders/customers/{c}/accounts/{a}/{externalRefID} response. */
export const asyncOrderDetailSchema = z
  .looseObject({
    referenceOrderID: optionalField(z.string()),
    externalRefID: z.string(),
    orderStatus: optionalField(z.string()),
    createdAt: optionalField(z.string()),
    created_at: optionalField(z.string()),
    completedAt: optionalField(z.string()),
    customerIdentifier: optionalField(z.string()),
    accountIdentifier: optionalField(z.string()),
    sender: optionalField(responseRecipientSchema),
    amountCharged: optionalField(amountChargedSchema),
    campaign: optionalField(z.string()),
    purchaseOrderNumber: optionalField(z.string()),
    notes: optionalField(z.string()),
    totalLineItems: optionalField(numberLike),
    pagination: optionalField(paginationSchema),
    orderErrors: listField(lineItemErrorSchema),
    lineItems: lineItemsField,
  })
  // The rest spread keeps unknown fields at runtime; the index signature keeps them in the type.
  .transform(({ created_at, ...order }): typeof order & { [key: string]: unknown } => ({
    ...order,
    createdAt: order.createdAt ?? created_at,
  }));
export type AsyncOrderDetail = z.output<typeof asyncOrderDetailSchema>;

/**
 * POST /webhooks response. Tango's field name for the subscription id is [unconfirmed]: `id`,
 * `webhookId` (what the simulator sends) and `subscriptionId` all become `id`; the rest is kept.
 */
const idLike = z.union([z.string(), z.number().transform(String)]);
export const webhookRegistrationResponseSchema = z
  .looseObject({
    id: optionalField(idLike),
    webhookId: optionalField(idLike),
    subscriptionId: optionalField(idLike),
    url: optionalField(z.string()),
    // When the subscription lapses unless renewed ([unconfirmed] name; the simulator sends it).
    expiresAt: optionalField(z.string()),
  })
  .transform((registration): typeof registration & { [key: string]: unknown } => ({
    ...registration,
    id: registration.id ?? registration.webhookId ?? registration.subscriptionId,
  }));
export type WebhookRegistrationResponse = z.output<typeof webhookRegistrationResponseSchema>;

const asyncOrderStatusEventDataSchema = z
  .looseObject({
    externalRefID: z.string(),
    status: z.string(),
    totalLineItems: optionalField(numberLike),
    failedLineItems: optionalField(numberLike),
    successfulLineItems: optionalField(numberLike),
    referenceOrderId: optionalField(z.string()),
    // Older docs spell it referenceOrderID.
    referenceOrderID: optionalField(z.string()),
    accountIdentifier: optionalField(z.string()),
    customerIdentifier: optionalField(z.string()),
  })
  .transform(({ referenceOrderID, ...data }): typeof data & { [key: string]: unknown } => ({
    ...data,
    referenceOrderId: data.referenceOrderId ?? referenceOrderID,
  }));

/** The AsyncOrderStatus webhook body. Counts only: which items failed comes from GET failedOnly. */
export const asyncOrderStatusEventSchema = z.looseObject({
  eventId: nonBlank('eventId'),
  revision: optionalField(numberLike),
  // Older docs use arrays for category / eventTypes.
  category: optionalField(z.union([z.string(), z.array(z.string())])),
  eventType: z.string(),
  eventOccurredAt: optionalField(z.string()),
  eventData: asyncOrderStatusEventDataSchema,
});
export type AsyncOrderStatusEvent = z.output<typeof asyncOrderStatusEventSchema>;

export const catalogItemSchema = z.looseObject({
  utid: z.string(),
  rewardName: optionalField(z.string()),
  currencyCode: optionalField(z.string()),
  status: optionalField(z.string()),
  valueType: optionalField(z.string()),
  rewardType: optionalField(z.string()),
  minValue: optionalField(numberLike),
  maxValue: optionalField(numberLike),
  faceValue: optionalField(numberLike),
  countries: listField(z.string()),
  // Not in Tango's catalog docs; the simulator lists the delivery methods an item allows.
  deliveryMethods: optionalField(z.array(z.string())),
});
export type CatalogItem = z.output<typeof catalogItemSchema>;

export const catalogBrandSchema = z.looseObject({
  brandKey: optionalField(z.string()),
  brandName: optionalField(z.string()),
  status: optionalField(z.string()),
  items: listField(catalogItemSchema),
});
export type CatalogBrand = z.output<typeof catalogBrandSchema>;

export const catalogResponseSchema = z.looseObject({
  catalogName: optionalField(z.string()),
  brands: listField(catalogBrandSchema),
});
export type CatalogResponse = z.output<typeof catalogResponseSchema>;

export const accountResponseSchema = z.looseObject({
  accountIdentifier: z.string(),
  accountNumber: optionalField(z.string()),
  displayName: optionalField(z.string()),
  currencyCode: optionalField(z.string()),
  currentBalance: numberLike,
  status: optionalField(z.string()),
  contactEmail: optionalField(z.string()),
  createdAt: optionalField(z.string()),
});
export type AccountResponse = z.output<typeof accountResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Path and query parameters of the async order endpoints
// ---------------------------------------------------------------------------------------------

/** Identifies one async order: the path parameters of GET / PATCH. */
export const orderRefSchema = z.object({
  customerIdentifier: nonBlank('customerIdentifier'),
  accountIdentifier: z.string().min(5).max(100),
  externalRefID: nonBlank('externalRefID').max(100),
});
export type OrderRef = z.infer<typeof orderRefSchema>;

/** Documented limits of the line-item id filters: at most 50 ids, each 0-100 characters. */
export const MAX_IDS_PER_FILTER = 50;
export const MAX_RESULTS_PER_PAGE = 500;

const idFilterSchema = z
  .array(z.string().max(100, 'each id in a line-item filter may have at most 100 characters'))
  .max(MAX_IDS_PER_FILTER, `a line-item id filter may hold at most ${MAX_IDS_PER_FILTER} ids`);

/**
 * Query of GET /asyncOrders/customers/{c}/accounts/{a}/{externalRefID}. An empty id list counts as
 * no filter; Tango accepts one of the two id filters, never both.
 */
export const asyncOrderQuerySchema = z
  .object({
    failedOnly: z.boolean().optional(),
    maxResults: z.number().int().min(1).max(MAX_RESULTS_PER_PAGE).optional(),
    nextCursor: z.string().min(1).optional(),
    prevCursor: z.string().min(1).optional(),
    externalLineItemReferenceIds: idFilterSchema.optional(),
    referenceLineItemIds: idFilterSchema.optional(),
  })
  .refine(
    (query) =>
      !(
        (query.externalLineItemReferenceIds?.length ?? 0) > 0 && (query.referenceLineItemIds?.length ?? 0) > 0
      ),
    {
      path: ['referenceLineItemIds'],
      message: 'use either externalLineItemReferenceIds or referenceLineItemIds, not both',
    },
  );
export type AsyncOrderQuery = z.infer<typeof asyncOrderQuerySchema>;
