// Sends one notification: a JSON body with Slack's `text` and the event's structured fields, signed
// `sha256=<hex HMAC-SHA256(secret, raw body)>` in the signature header. One attempt, no retries of
// its own: the activity's retry policy is the one retry loop.
import { createHmac, timingSafeEqual } from 'node:crypto';
import got from 'got';
import type { NotifyConfig } from './config.ts';
import { type NotificationEvent, notificationText } from './events.ts';

/** The body: `text` for Slack incoming webhooks, `eventId` for receivers to drop repeats, the fields. */
export function notificationBody(event: NotificationEvent, eventId: string): string {
  return JSON.stringify({ text: notificationText(event), eventId, ...event });
}

export function signNotification(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers: the signature header's value checked against the raw body, in constant time. */
export function verifyNotificationSignature(
  body: string | Buffer,
  secret: string,
  header: string | undefined,
): boolean {
  if (!header) return false;
  const expected = Buffer.from(signNotification(body, secret));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export class NotificationHttpError extends Error {
  override readonly name = 'NotificationHttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** POSTs the notification; resolves with the receiver's status, throws on anything but 2xx. */
export async function postNotification(
  config: NotifyConfig,
  event: NotificationEvent,
  eventId: string,
): Promise<number> {
  if (!config.url || !config.signingSecret) throw new Error('notifications are off (NOTIFY_URL unset)');
  const body = notificationBody(event, eventId);
  const response = await got.post(config.url, {
    body,
    headers: {
      'content-type': 'application/json',
      [config.signatureHeader.toLowerCase()]: signNotification(body, config.signingSecret),
      'x-tango-campaigns-event': event.kind,
      'x-tango-campaigns-delivery': eventId,
    },
    timeout: { request: config.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
  });
  if (response.statusCode < 200 || response.statusCode >= 300)
    throw new NotificationHttpError(
      response.statusCode,
      `the notification receiver answered ${response.statusCode} to ${event.kind} of ${event.campaignId}`,
    );
  return response.statusCode;
}
