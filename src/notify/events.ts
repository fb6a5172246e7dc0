// What a campaign tells a person through the notification webhook (NOTIFY_URL): the events, their
// structured fields and the one-line `text` a Slack incoming webhook shows. Pure and sandbox-safe:
// workflows build events, the activity sends them.
import { z } from 'zod';

export const NOTIFICATION_KINDS = [
  /** Waits for `approve` / `reject` (approval threshold, or a spend limit). */
  'awaiting-approval',
  /** Items wait for corrections (the count changed; throttled). */
  'awaiting-correction',
  /** The campaign (pre-flight balance) or some of its items wait for funds. */
  'awaiting-funds',
  /** An order is blocked (a collision, credentials, an order Tango lost): a person must look. */
  'order-blocked',
  /** An order is past `overdueAfter` without Tango's final word. */
  'order-overdue',
  /** A start was refused by a guard (repeat recipients, spend limit); nothing was sent. */
  'campaign-refused',
  /** The campaign ended: completed, cancelled, rejected, dry run, or failed. */
  'campaign-finished',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

const text = (max: number) => z.string().max(max);

export const notificationEventSchema = z.object({
  kind: z.enum(NOTIFICATION_KINDS),
  campaignId: text(200),
  /** When it happened (workflow time, ISO). */
  occurredAt: text(40),
  status: text(40).optional(),
  reason: text(2000).optional(),
  /** The campaign's total amount. */
  totalAmount: z.number().optional(),
  /** Items concerned (awaiting correction, awaiting funds). */
  items: z.number().int().nonnegative().optional(),
  /** The amount concerned (awaiting funds: what the campaign or its waiting items need). */
  amount: z.number().optional(),
  order: z.object({ chunk: z.number().int().nonnegative(), externalRefID: text(120) }).optional(),
  /** campaign-refused: which guard, and what it found. */
  refusal: z
    .object({
      rule: z.enum(['repeat-recipients', 'spend-limit']),
      items: z.number().int().nonnegative().optional(),
      amount: z.number().optional(),
      details: text(2000).optional(),
    })
    .optional(),
  /** campaign-finished: the report's counts and keys. */
  counts: z
    .object({
      total: z.number().int().nonnegative(),
      delivered: z.number().int().nonnegative(),
      scheduled: z.number().int().nonnegative(),
      givenUp: z.number().int().nonnegative(),
      cancelled: z.number().int().nonnegative(),
    })
    .optional(),
  report: z.object({ csv: text(400), json: text(400) }).optional(),
});
export type NotificationEvent = z.infer<typeof notificationEventSchema>;

const money = (value: number | undefined) => (value === undefined ? '?' : String(value));

/** The one line a person reads (Slack shows it as the message). */
export function notificationText(event: NotificationEvent): string {
  const campaign = `Campaign ${event.campaignId}`;
  const why = event.reason ? `: ${event.reason}` : '';
  switch (event.kind) {
    case 'awaiting-approval':
      return `${campaign} waits for approval (total ${money(event.totalAmount)})${why}. Approve or reject: tango-campaigns approve|reject ${event.campaignId}`;
    case 'awaiting-correction':
      return `${campaign}: ${event.items ?? 0} item(s) wait for corrections. List them: tango-campaigns failures ${event.campaignId}`;
    case 'awaiting-funds':
      return `${campaign} waits for funds: ${event.items !== undefined ? `${event.items} item(s), ` : ''}amount ${money(event.amount)}${why}. Add funds, then: tango-campaigns funds-added ${event.campaignId}`;
    case 'order-blocked':
      return `${campaign}: order ${event.order?.externalRefID ?? '?'} is blocked${why}. Nothing is resent until a person looks (docs/operations.md).`;
    case 'order-overdue':
      return `${campaign}: order ${event.order?.externalRefID ?? '?'} is overdue (no final status from Tango yet)${why}.`;
    case 'campaign-refused':
      return `${campaign} was refused (${event.refusal?.rule ?? 'guard'})${event.refusal?.details ? `: ${event.refusal.details}` : why}. Nothing was sent.`;
    case 'campaign-finished': {
      const counts = event.counts;
      const tally = counts
        ? ` ${counts.delivered} delivered, ${counts.scheduled} scheduled, ${counts.givenUp} given up, ${counts.cancelled} cancelled of ${counts.total}.`
        : '';
      const report = event.report ? ` Report: ${event.report.csv}` : '';
      return `${campaign} ${event.status ?? 'finished'}${why}.${tally}${report}`;
    }
  }
}
