// The size limits the receiver holds every AsyncOrderStatus event to before it signals anything:
// what a genuine Tango event fits in many times over, and no more. The order workflow drops
// notices outside orderStatusNoticeSchema; this is at least as strict, so an out-of-bounds event
// gets 400 here instead of becoming a signal the workflow throws away (and a history event).
import { z } from 'zod';

export const WEBHOOK_EVENT_LIMITS = {
  /** Tango's eventId is a UUID; 200 is what the order workflow accepts. */
  eventId: 200,
  /** The seeds: "a maximum of 100 alphanumeric characters". */
  externalRefID: 100,
  /** SUCCESSFUL, RETRYING, FAILED, PARTIALFAILED; 40 leaves room for new ones. */
  status: 40,
  eventType: 100,
  category: 100,
  eventOccurredAt: 64,
  /** referenceOrderId, accountIdentifier, customerIdentifier. */
  identifier: 100,
  /** Line-item counts. */
  count: 1e9,
} as const;

// Printable ASCII without spaces: externalRefIDs and eventIds are identifiers, not prose.
const identifier = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[\x21-\x7E]+$/, 'must be printable ASCII without spaces');
const bounded = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const wholeNumber = (max: number) =>
  z.union([
    z.number().int('must be a whole number').nonnegative('must not be negative').max(max),
    z
      .string()
      .regex(/^\s*\d{1,15}\s*$/, 'must be a whole number')
      .refine((value) => Number(value) <= max, `must be at most ${max}`),
  ]);

/** Checked on the parsed JSON before the event schema reads it; unknown fields are left alone. */
export const webhookEventBoundsSchema = z.looseObject({
  eventId: identifier(WEBHOOK_EVENT_LIMITS.eventId),
  revision: wholeNumber(Number.MAX_SAFE_INTEGER).nullish(),
  category: z
    .union([
      bounded(WEBHOOK_EVENT_LIMITS.category),
      z.array(bounded(WEBHOOK_EVENT_LIMITS.category)).max(10, 'must list at most 10 categories'),
    ])
    .nullish(),
  eventType: bounded(WEBHOOK_EVENT_LIMITS.eventType),
  eventOccurredAt: bounded(WEBHOOK_EVENT_LIMITS.eventOccurredAt).nullish(),
  eventData: z.looseObject({
    externalRefID: identifier(WEBHOOK_EVENT_LIMITS.externalRefID),
    status: z
      .string()
      .max(WEBHOOK_EVENT_LIMITS.status, `must be at most ${WEBHOOK_EVENT_LIMITS.status} characters`)
      .regex(/\S/, 'must not be blank'),
    totalLineItems: wholeNumber(WEBHOOK_EVENT_LIMITS.count).nullish(),
    failedLineItems: wholeNumber(WEBHOOK_EVENT_LIMITS.count).nullish(),
    successfulLineItems: wholeNumber(WEBHOOK_EVENT_LIMITS.count).nullish(),
    referenceOrderId: bounded(WEBHOOK_EVENT_LIMITS.identifier).nullish(),
    referenceOrderID: bounded(WEBHOOK_EVENT_LIMITS.identifier).nullish(),
    accountIdentifier: bounded(WEBHOOK_EVENT_LIMITS.identifier).nullish(),
    customerIdentifier: bounded(WEBHOOK_EVENT_LIMITS.identifier).nullish(),
  }),
});
