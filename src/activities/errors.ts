// Maps the Tango layer's typed errors to Temporal failures, once, so that every activity retries
// (or refuses to) the same way (docs/architecture.md, "Activities, timeouts and retries").
import { ApplicationFailure } from '@temporalio/common';
import {
  TangoError,
  TangoHttpError,
  TangoNetworkError,
  TangoRequestValidationError,
  TangoResponseValidationError,
} from '../tango/errors.ts';

/** Failure type names the workflows react to. */
export const failureTypes = {
  insufficientFunds: 'TangoInsufficientFunds',
  rejected: 'TangoRequestRejected',
  notFound: 'TangoNotFound',
  unauthorized: 'TangoUnauthorized',
  rateLimited: 'TangoRateLimited',
  conflict: 'TangoConflict',
  unavailable: 'TangoUnavailable',
  network: 'TangoNetworkError',
  badResponse: 'TangoBadResponse',
  invalidInput: 'InvalidCampaignInput',
  /** An order under our externalRefID that we did not create: stop, infer nothing. */
  collision: 'OrderCollision',
  /** A 404 for an order we POSTed, within the visibility grace (retried). */
  notVisibleYet: 'OrderNotVisibleYet',
  /** Tango acknowledged the order but still does not show it after the grace. */
  orderMissing: 'OrderMissing',
  /** The order is not final yet (retried shortly). */
  notSettled: 'OrderNotSettled',
  /** The campaign id belongs to an earlier campaign (src/store/campaign-registry.ts). */
  campaignIdInUse: 'CampaignIdInUse',
} as const;

// A conflict "still processing" (409.002) clears by itself; Tango asks to wait at least 2 s.
const STILL_PROCESSING_DELAY_MS = 2000;
const RATE_LIMIT_FALLBACK_DELAY_MS = 1000;

/** Converts any error thrown by the Tango layer into the ApplicationFailure Temporal should see. */
export function toTemporalFailure(error: unknown): unknown {
  if (!(error instanceof TangoError)) return error;
  if (error instanceof TangoHttpError) {
    const details = [
      { status: error.status, i18nKey: error.i18nKey, requestId: error.requestId, body: error.body },
    ];
    const message = error.message;
    if (error.status === 402) {
      return ApplicationFailure.create({
        type: failureTypes.insufficientFunds,
        message,
        details,
        nonRetryable: true,
      });
    }
    if (error.status === 401 || error.status === 403) {
      return ApplicationFailure.create({
        type: failureTypes.unauthorized,
        message: `${message}. Check the TANGO_* credentials; a person must fix this.`,
        details,
        nonRetryable: true,
      });
    }
    if (error.status === 429) {
      return ApplicationFailure.create({
        type: failureTypes.rateLimited,
        message,
        details,
        nextRetryDelay: error.retryAfterMs ?? RATE_LIMIT_FALLBACK_DELAY_MS,
      });
    }
    if (error.status === 409) {
      const stillProcessing = error.i18nKey === '409.002';
      return ApplicationFailure.create({
        type: failureTypes.conflict,
        message,
        details,
        nonRetryable: !stillProcessing,
        ...(stillProcessing
          ? { nextRetryDelay: Math.max(error.retryAfterMs ?? 0, STILL_PROCESSING_DELAY_MS) }
          : {}),
      });
    }
    if (error.status === 404) {
      return ApplicationFailure.create({ type: failureTypes.notFound, message, details, nonRetryable: true });
    }
    if (error.status >= 400 && error.status < 500) {
      return ApplicationFailure.create({ type: failureTypes.rejected, message, details, nonRetryable: true });
    }
    return ApplicationFailure.create({
      type: failureTypes.unavailable,
      message,
      details,
      ...(error.retryAfterMs !== undefined ? { nextRetryDelay: error.retryAfterMs } : {}),
    });
  }
  if (error instanceof TangoNetworkError) {
    return ApplicationFailure.create({ type: failureTypes.network, message: error.message });
  }
  if (error instanceof TangoResponseValidationError) {
    // Retryable: a truncated or odd response may not repeat; the history shows each attempt.
    return ApplicationFailure.create({ type: failureTypes.badResponse, message: error.message });
  }
  if (error instanceof TangoRequestValidationError) {
    return ApplicationFailure.create({
      type: failureTypes.invalidInput,
      message: error.message,
      nonRetryable: true,
    });
  }
  return error;
}

/** Runs a Tango call and rethrows its failure in Temporal's terms. */
export async function tangoCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toTemporalFailure(error);
  }
}
