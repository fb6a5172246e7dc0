// Typed errors of the Tango layer. Callers (activities) decide retry policy from these fields alone:
// HTTP status and Tango's i18nKey, network failure vs timeout, Retry-After, and bad responses.
import type { z } from 'zod';
import { tangoErrorBodySchema, type TangoErrorBody } from './schemas.ts';

export class TangoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Tango answered with a non-2xx status. */
export class TangoHttpError extends TangoError {
  readonly status: number;
  /** Tango's error key, e.g. "422.134" or "409.002", when the body carried one. */
  readonly i18nKey?: string;
  /** Tango's parsed error body, or the raw text when it was not Tango's JSON error shape. */
  readonly body: TangoErrorBody | string;
  readonly requestId?: string;
  /** Delay Tango asked for in Retry-After (seconds or HTTP date), in milliseconds. */
  readonly retryAfterMs?: number;
  readonly method: string;
  /** Request path without the query string, e.g. /raas/v2/asyncOrders. */
  readonly path: string;

  constructor(fields: {
    status: number;
    body: TangoErrorBody | string;
    requestId?: string;
    retryAfterMs?: number;
    method: string;
    path: string;
  }) {
    const body = fields.body;
    const i18nKey = typeof body === 'string' ? undefined : body.i18nKey;
    super(describeHttpError(fields, i18nKey));
    this.status = fields.status;
    this.i18nKey = i18nKey;
    this.body = body;
    this.requestId = fields.requestId;
    this.retryAfterMs = fields.retryAfterMs;
    this.method = fields.method;
    this.path = fields.path;
  }
}

function describeHttpError(
  fields: { status: number; body: TangoErrorBody | string; requestId?: string; method: string; path: string },
  i18nKey: string | undefined,
): string {
  const { body } = fields;
  let detail: string;
  if (typeof body === 'string') {
    detail = body.trim().slice(0, 300) || '(empty body)';
  } else {
    const fieldErrors = body.errors
      .map((error) => `${error.path ?? '?'}: ${error.message ?? error.i18nKey ?? 'invalid'}`)
      .join('; ');
    detail = [body.message, fieldErrors].filter(Boolean).join(' - ') || '(no message)';
  }
  const key = i18nKey ? ` ${i18nKey}` : '';
  const id = fields.requestId ? ` (request id ${fields.requestId})` : '';
  return `Tango ${fields.method} ${fields.path} returned HTTP ${fields.status}${key}: ${detail}${id}`;
}

/** Parses an error body: Tango's JSON error shape when it is one, the raw text otherwise. */
export function parseErrorBody(text: string): TangoErrorBody | string {
  try {
    const parsed = tangoErrorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : text;
  } catch {
    return text;
  }
}

/** No HTTP response at all: timeout, refused or reset connection, DNS failure. Always retryable. */
export class TangoNetworkError extends TangoError {
  /** Node / got error code: ETIMEDOUT, ECONNRESET, ECONNREFUSED, ENOTFOUND, ... */
  readonly code: string;
  readonly isTimeout: boolean;
  readonly method: string;
  readonly path: string;

  constructor(fields: { code: string; isTimeout: boolean; method: string; path: string; detail?: string }) {
    const what = fields.isTimeout ? 'timed out' : `failed without a response (${fields.code})`;
    const detail = fields.detail ? ` [${fields.detail}]` : '';
    super(
      `Tango ${fields.method} ${fields.path} ${what}${detail}; the request may or may not have reached ` +
        'Tango, so retry with the same externalRefID',
    );
    this.code = fields.code;
    this.isTimeout = fields.isTimeout;
    this.method = fields.method;
    this.path = fields.path;
  }
}

/** Tango answered 2xx but the body does not match what we rely on. */
export class TangoResponseValidationError extends TangoError {
  /** JSON path of the first problem, e.g. "lineItems[3].externalRefLineItemID" ("" for the root). */
  readonly path: string;
  readonly issues: z.core.$ZodIssue[];
  readonly requestId?: string;
  /** Method and request path, e.g. "GET /raas/v2/asyncOrders/...". */
  readonly endpoint: string;

  constructor(fields: { issues: z.core.$ZodIssue[]; requestId?: string; endpoint: string; status?: number }) {
    const first = fields.issues[0];
    const path = first ? formatJsonPath(first.path) : '';
    const id = fields.requestId ? ` (request id ${fields.requestId})` : '';
    super(
      `Tango ${fields.endpoint} returned a response we cannot read at ${path || '(root)'}: ` +
        `${first?.message ?? 'invalid'}${fields.issues.length > 1 ? ` (+${fields.issues.length - 1} more)` : ''}${id}`,
    );
    this.path = path;
    this.issues = fields.issues;
    this.requestId = fields.requestId;
    this.endpoint = fields.endpoint;
  }
}

/** A request we refuse to send because it breaks a documented Tango limit. Not retryable as is. */
export class TangoRequestValidationError extends TangoError {
  /** JSON path of the first problem in the request, e.g. "lineItems[0].recipient.email". */
  readonly path: string;
  readonly issues: z.core.$ZodIssue[];

  constructor(what: string, issues: z.core.$ZodIssue[]) {
    const first = issues[0];
    const path = first ? formatJsonPath(first.path) : '';
    const list = issues
      .slice(0, 5)
      .map((issue) => `${formatJsonPath(issue.path) || '(root)'}: ${issue.message}`)
      .join('; ');
    super(`${what} breaks Tango's documented limits: ${list}${issues.length > 5 ? ' ...' : ''}`);
    this.path = path;
    this.issues = issues;
  }
}

/** ["lineItems", 3, "amount"] -> "lineItems[3].amount" */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/**
 * Retry-After as milliseconds: delta-seconds ("2", "1.5") or an HTTP date. Undefined when absent or
 * unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  // All three HTTP date formats start with a day name; without this check Date.parse would read
  // "-1" as a year.
  if (!/^[A-Za-z]{3}/.test(raw)) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
