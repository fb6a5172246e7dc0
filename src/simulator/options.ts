// The simulator's knobs: one zod schema with every default, parsed at start and again on each
// runtime reconfiguration (configure() or POST /_admin/config), so a bad knob fails loudly.
import { z } from 'zod';

const rate = z.number().min(0).max(1);
const nonNegative = z.number().min(0);

export const deliveryMethods = [
  'NONE',
  'EMAIL',
  'PHONE',
  'ADDRESS',
  'EMBEDDED',
  'EMBEDDED_COMPONENT',
  'WHATSAPP',
] as const;
export type DeliveryMethod = (typeof deliveryMethods)[number];

export const catalogItemOptionSchema = z.object({
  utid: z.string().min(1),
  brandName: z.string().min(1),
  rewardName: z.string().min(1),
  rewardType: z.string().default('gift card'),
  valueType: z.enum(['VARIABLE_VALUE', 'FIXED_VALUE']),
  minValue: z.number().optional(),
  maxValue: z.number().optional(),
  faceValue: z.number().optional(),
  currencyCode: z.string().length(3).default('USD'),
  status: z.enum(['active', 'inactive']).default('active'),
  countries: z.array(z.string()).default(['US']),
  deliveryMethods: z.array(z.enum(deliveryMethods)).min(1),
});
export type CatalogItemOption = z.input<typeof catalogItemOptionSchema>;
export type CatalogItem = z.output<typeof catalogItemOptionSchema>;

export const accountOptionSchema = z.object({
  customerIdentifier: z.string().min(1),
  accountIdentifier: z.string().min(5).max(100),
  displayName: z.string().default('Simulator account'),
  currencyCode: z.string().length(3).default('USD'),
  balance: nonNegative,
  status: z.enum(['ACTIVE', 'INACTIVE', 'DISABLED', 'FROZEN', 'DELETED']).default('ACTIVE'),
  contactEmail: z.string().default('finance@example.test'),
});
export type AccountOption = z.input<typeof accountOptionSchema>;
export type AccountSeed = z.output<typeof accountOptionSchema>;

export const scriptedFaultSchema = z.object({
  kind: z.enum(['rateLimit', 'serverError500', 'serverError503', 'dropConnection', 'responseLost']),
  /** HTTP method to match (any when absent). */
  method: z.string().optional(),
  /** Substring of the request path to match (any /raas/v2 path when absent). */
  path: z.string().optional(),
  /** How many matching requests the fault hits before it is used up. */
  times: z.number().int().min(1).default(1),
});
export type ScriptedFault = z.input<typeof scriptedFaultSchema>;

export const webhookSubscriptionOptionSchema = z.object({
  url: z.string().url(),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
  payloadVerificationMethod: z.enum(['HMAC', 'X509', 'NONE']).default('HMAC'),
  hmacSharedSecretKey: z.string().optional(),
  signingCertificate: z.string().optional(),
});

export const simulatorOptionsSchema = z.object({
  host: z.string().default('127.0.0.1'),
  /**
   * Bearer token the /_admin endpoints require. Unset, they answer only when the simulator listens
   * on loopback (they hand out the ledger, the configuration and its credentials).
   */
  adminToken: z.string().min(16, 'adminToken must be at least 16 characters').optional(),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(0),
  /** Seeds every random choice (failure rates, faults), so a run can be repeated exactly. */
  seed: z.number().int().default(1),
  /** Time between an order's creation (PENDING) and the start of its processing (PROCESSING). */
  processingDelayMs: nonNegative.default(50),
  /** Line items processed per second across all orders; 0 processes an order in one go. */
  throughput: nonNegative.default(0),
  credentials: z
    .object({
      platformName: z.string().min(1),
      platformKey: z.string().min(1),
      oauthClientId: z.string().min(1),
      oauthClientSecret: z.string().min(1),
      oauthUsername: z.string().min(1),
      oauthPassword: z.string().min(1),
      tokenExpiresInSeconds: z.number().int().min(1).default(86_400),
    })
    .optional(),
  accounts: z.array(accountOptionSchema).optional(),
  catalog: z.array(catalogItemOptionSchema).optional(),
  responses: z
    .object({
      /** Which documented POST response shape a new order gets; 'alternate' switches on each order. */
      createShape: z.enum(['summary', 'order', 'alternate']).default('summary'),
      /** lineItems of an empty failedOnly page: Tango says 'NONE' or null. */
      emptyFailedPage: z.enum(['null', 'NONE']).default('null'),
      /** Whether items rejected in the POST response also show up (as FAILED) in GET. */
      rejectedItemsInGet: z.boolean().default(false),
      /** 'line-items': items fail INSUFFICIENT_FUNDS when the balance runs out during processing;
       *  '402': a POST whose accepted items cost more than the balance is refused with 402. */
      insufficientFunds: z.enum(['line-items', '402']).default('line-items'),
      /** A repeated POST while the order is still PENDING/PROCESSING: return its status, or 409.002. */
      repeatWhileProcessing: z.enum(['status', '409']).default('status'),
    })
    .default({
      createShape: 'summary',
      emptyFailedPage: 'null',
      rejectedItemsInGet: false,
      insufficientFunds: 'line-items',
      repeatWhileProcessing: 'status',
    }),
  failures: z
    .object({
      /** Emails at this domain fail PROCESSING_ERROR the first time their line item id is processed. */
      transientEmailDomain: z.string().default('transient.test'),
      /** Emails at this domain fail RECIPIENT_BLOCKED (permanent) at processing. */
      blockedEmailDomain: z.string().default('blocked.test'),
      /** Emails at this domain are well formed but bounce: INVALID_EMAIL at processing. */
      bounceEmailDomain: z.string().default('bounce.test'),
      /** Seeded random failure rates applied at processing to items that no rule failed. */
      rates: z
        .object({
          transient: rate.default(0),
          badContact: rate.default(0),
          permanent: rate.default(0),
        })
        .default({ transient: 0, badContact: 0, permanent: 0 }),
    })
    .default({
      transientEmailDomain: 'transient.test',
      blockedEmailDomain: 'blocked.test',
      bounceEmailDomain: 'bounce.test',
      rates: { transient: 0, badContact: 0, permanent: 0 },
    }),
  webhooks: z
    .object({
      signatureHeader: z.string().default('X-Signed-Payload'),
      /** PEM private key used to sign events for X509 subscriptions (none: X509 registration refused). */
      x509PrivateKeyPem: z.string().optional(),
      maxAttempts: z.number().int().min(1).default(5),
      initialBackoffMs: nonNegative.default(200),
      backoffMultiplier: z.number().min(1).default(2),
      maxBackoffMs: nonNegative.default(10_000),
      attemptTimeoutMs: z.number().min(1).default(5_000),
      /** Send a RETRYING event when an order starts processing, before its final event. */
      retryingEvents: z.boolean().default(false),
      /** Subscriptions present from the start (as if registered through POST /webhooks). */
      subscriptions: z.array(webhookSubscriptionOptionSchema).default([]),
      /** Send another AsyncOrderStatus event (next revision, re-derived status) when a final order's
       *  item is reversed. Tango documents no such event. */
      reversalEvents: z.boolean().default(false),
      /** How long a subscription lasts unless renewed (POST /webhooks/{id}/renew), on the simulator
       *  clock; 0 = it never expires (no expiresAt). An expired subscription gets no events. */
      subscriptionLifetimeSeconds: nonNegative.default(0),
    })
    .default({
      signatureHeader: 'X-Signed-Payload',
      maxAttempts: 5,
      initialBackoffMs: 200,
      backoffMultiplier: 2,
      maxBackoffMs: 10_000,
      attemptTimeoutMs: 5_000,
      retryingEvents: false,
      subscriptions: [],
      reversalEvents: false,
      subscriptionLifetimeSeconds: 0,
    }),
  faults: z
    .object({
      /** Requests per second accepted on /raas/v2 before 429 (0 = no limit). Tango documents 1. */
      rateLimitTps: nonNegative.default(0),
      /** Retry-After (seconds) sent with a 429. */
      retryAfterSeconds: z.number().int().min(0).default(1),
      /** Share of /raas/v2 requests answered 500 or 503 (half each) without being applied. */
      serverErrorRate: rate.default(0),
      latencyMs: nonNegative.default(0),
      latencySpikeRate: rate.default(0),
      latencySpikeMs: nonNegative.default(0),
      /** Share of /raas/v2 requests whose socket is destroyed before anything is applied. */
      dropConnectionRate: rate.default(0),
      /** Share of POST/PATCH requests that are applied, then their socket destroyed. */
      responseLostRate: rate.default(0),
      /** One-shot faults consumed, in order, by the first matching requests. */
      script: z.array(scriptedFaultSchema).default([]),
      /** GET of an order answers 404 (as for an unknown order) until this long after its creation
       *  (on the simulator's clock; 0 = visible at once). */
      getLagMs: nonNegative.default(0),
      /** Share of new orders the GET lag applies to (seeded; only used when getLagMs > 0). */
      getLagRate: rate.default(1),
      /** Share of delivered line items Tango later turns FAILED (seeded; 0 = never). */
      reversalRate: rate.default(0),
      /** How long after its delivery a reversalRate item is reversed (wall-clock ms). */
      reversalAfterMs: nonNegative.default(500),
      webhook: z
        .object({
          dropRate: rate.default(0),
          duplicateRate: rate.default(0),
          delayMs: nonNegative.default(0),
          /** Hold events for this long and send each held batch newest first (0 = off). */
          reorderWindowMs: nonNegative.default(0),
        })
        .default({ dropRate: 0, duplicateRate: 0, delayMs: 0, reorderWindowMs: 0 }),
    })
    .default({
      rateLimitTps: 0,
      retryAfterSeconds: 1,
      serverErrorRate: 0,
      latencyMs: 0,
      latencySpikeRate: 0,
      latencySpikeMs: 0,
      dropConnectionRate: 0,
      responseLostRate: 0,
      script: [],
      getLagMs: 0,
      getLagRate: 1,
      reversalRate: 0,
      reversalAfterMs: 500,
      webhook: { dropRate: 0, duplicateRate: 0, delayMs: 0, reorderWindowMs: 0 },
    }),
});

export type SimulatorOptions = z.output<typeof simulatorOptionsSchema>;
export type SimulatorOptionsInput = z.input<typeof simulatorOptionsSchema>;

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;
/** What configure() and POST /_admin/config accept: any subset of the options, nested objects merged. */
export type SimulatorOptionsPatch = DeepPartial<SimulatorOptionsInput>;

export class SimulatorConfigError extends Error {
  constructor(where: string, issues: string) {
    super(`Invalid simulator options (${where}): ${issues}`);
    this.name = 'SimulatorConfigError';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges a patch into options: nested objects merge key by key, arrays and scalars replace. */
export function mergeOptions(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    merged[key] = mergeOptions(base[key], value);
  }
  return merged;
}

export function parseOptions(input: unknown, where: string): SimulatorOptions {
  const result = simulatorOptionsSchema.safeParse(input ?? {});
  if (!result.success) {
    const issues = result.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new SimulatorConfigError(where, issues);
  }
  return result.data;
}
