// Notifications when a campaign needs a person: send one event to NOTIFY_URL (signed), and tell the
// campaign whether notifications are on. A receiver that is down is retried by the activity's retry
// policy (notificationWorkflow), never by the campaign, which does not wait for it.
import { ApplicationFailure } from '@temporalio/common';
import type { NotifyConfig } from '../notify/config.ts';
import { type NotificationEvent, notificationEventSchema } from '../notify/events.ts';
import { NotificationHttpError, postNotification } from '../notify/sender.ts';

export interface NotificationSettings {
  enabled: boolean;
  throttleMs: number;
}

export function createNotifyActivities(config: NotifyConfig | undefined) {
  async function notificationSettings(): Promise<NotificationSettings> {
    return { enabled: config?.url !== undefined, throttleMs: config?.throttleMs ?? 900_000 };
  }

  async function sendNotification(input: {
    event: NotificationEvent;
    eventId: string;
  }): Promise<{ sent: boolean; status?: number }> {
    if (!config?.url) return { sent: false };
    const event = notificationEventSchema.parse(input.event);
    try {
      return { sent: true, status: await postNotification(config, event, input.eventId) };
    } catch (error) {
      // A receiver that refuses the request (other than "too many" or "timeout") will refuse it again.
      if (error instanceof NotificationHttpError && error.status >= 400 && error.status < 500)
        if (error.status !== 408 && error.status !== 429)
          throw ApplicationFailure.create({
            type: 'NotificationRefused',
            message: `${error.message}: not retried (check NOTIFY_URL and the receiver)`,
            nonRetryable: true,
          });
      throw error;
    }
  }

  return { notificationSettings, sendNotification };
}
