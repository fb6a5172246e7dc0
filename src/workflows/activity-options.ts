// Timeouts and retry policies of every activity the workflows run, named for what they protect, and
// the queue each runs on: Tango calls on the Tango task queue (its rate limit is the request budget),
// store work on the workflows' own queue. Timeouts are short on purpose: a worker killed in the middle
// of an activity costs the workflow that long before another worker retries it.
import { type ActivityOptions, workflowInfo } from '@temporalio/workflow';
import { tangoTaskQueue } from '../definitions.ts';

type RetryPolicy = NonNullable<ActivityOptions['retry']>;

/** Retries from 1 s, doubling, up to `maximumInterval` apart; never given up on by count. */
function doubling(maximumInterval: string, nonRetryableErrorTypes?: string[]): RetryPolicy {
  return {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval,
    ...(nonRetryableErrorTypes ? { nonRetryableErrorTypes } : {}),
  };
}

/** One Tango request (bounded by TANGO_TIMEOUT_MS, 30 s) plus the request gate's wait. */
export const TANGO_REQUEST: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: doubling('5 minutes'),
};

/** Settling a round: reads and writes pages in the store; heartbeats each page. */
export const TANGO_SETTLE: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: doubling('5 minutes'),
};

/** Campaign-wide Tango work (pre-flight catalog and balance, PATCH of every order). */
export const TANGO_LONG: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: doubling('5 minutes'),
};

/** A book step in the store (operator input, sealing). */
export const STORE_STEP: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: doubling('1 minute'),
};

/** Staging and loading input: bad input is final, the rest is retried. */
export const STAGING: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: doubling('1 minute', ['InvalidCampaignInput', 'CampaignIdInUse']),
};

/** Claiming a scheduled run's campaign id in the registry: an id taken is the answer, not an error. */
export const REGISTRY_CLAIM: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: doubling('1 minute', ['CampaignIdInUse']),
};

/** Loading a scheduled run's items from its source (a file or URL that may be briefly unreachable). */
export const SOURCE_LOAD: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { ...doubling('5 minutes', ['InvalidCampaignInput']), initialInterval: '5s' },
};

/** Webhook renewals and registrations: Tango requests (run them on the Tango task queue). */
export const WEBHOOK_REQUEST: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: {
    ...doubling('10 minutes', ['WebhookRenewalNotConfigured', 'WebhookRegistrationWithoutId']),
    initialInterval: '2s',
  },
};

/** Long store work (operator input validation against every book, the final report). */
export const STORE_LONG: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: doubling('5 minutes'),
};

/**
 * The same options on the Tango task queue of the queue this workflow runs on. Call it inside the
 * workflow (the queue is the workflow's own).
 */
export function onTangoQueue(options: ActivityOptions): ActivityOptions {
  return { ...options, taskQueue: tangoTaskQueue(workflowInfo().taskQueue) };
}

/**
 * One notification to NOTIFY_URL: a receiver that is down is retried with backoff for about a day,
 * in its own workflow, so that the campaign never waits for it.
 */
export const NOTIFY: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '24 hours',
  retry: { ...doubling('30 minutes', ['NotificationRefused']), initialInterval: '5s' },
};
