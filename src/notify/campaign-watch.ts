// Which notifications a running campaign owes, from what it last told and what it looks like now:
// each status that needs a person once per entry, correction and funds counts once per change at most
// every `throttleMs`, each blocked or overdue order once. Pure and sandbox-safe (the campaign
// workflow runs it on every change; its memory goes along with continue-as-new).
import type { NotificationEvent } from './events.ts';

export interface WatchSnapshot {
  campaignId: string;
  status: string;
  statusReason?: string;
  totalAmount: number;
  awaitingCorrection: number;
  awaitingFunds: number;
  awaitingFundsAmount: number;
  orders: { chunk: number; externalRefID: string; blockedReason?: string; overdue: boolean }[];
}

export interface WatchMemory {
  status?: string;
  /** The correction count last told, and when (workflow time, ms). */
  corrections: number;
  correctionsAt?: number;
  /** `<items>:<amount>` of the items waiting for funds last told, and when. */
  funds: string;
  fundsAt?: number;
  /** Keys of the orders told blocked or overdue, still so. */
  flagged: string[];
}

export const emptyWatchMemory = (): WatchMemory => ({ corrections: 0, funds: '', flagged: [] });

export interface WatchResult {
  events: NotificationEvent[];
  memory: WatchMemory;
  /** Whether the memory moved (events, or a state that needs no event): store `memory` then. */
  changed: boolean;
  /** When a throttled change falls due (ms), if one is waiting. */
  wakeAt?: number;
}

export function dueNotifications(
  memory: WatchMemory,
  now: WatchSnapshot,
  at: number,
  throttleMs: number,
): WatchResult {
  const occurredAt = new Date(at).toISOString();
  const base = { campaignId: now.campaignId, occurredAt, status: now.status };
  const reason = now.statusReason ? { reason: now.statusReason.slice(0, 2000) } : {};
  const events: NotificationEvent[] = [];
  const next: WatchMemory = { ...memory, flagged: [...memory.flagged] };
  let wakeAt: number | undefined;

  if (now.status !== memory.status) {
    next.status = now.status;
    if (now.status === 'awaiting-approval')
      events.push({ ...base, ...reason, kind: 'awaiting-approval', totalAmount: now.totalAmount });
    if (now.status === 'awaiting-funds')
      events.push({
        ...base,
        ...reason,
        kind: 'awaiting-funds',
        totalAmount: now.totalAmount,
        amount: now.totalAmount,
      });
  }

  // A count that changed is told at once unless one was told within the throttle; then when it ends.
  const throttled = (lastAt: number | undefined) => lastAt !== undefined && at - lastAt < throttleMs;
  if (now.awaitingCorrection !== memory.corrections) {
    if (now.awaitingCorrection === 0) next.corrections = 0;
    else if (throttled(memory.correctionsAt)) wakeAt = memory.correctionsAt! + throttleMs;
    else {
      next.corrections = now.awaitingCorrection;
      next.correctionsAt = at;
      events.push({ ...base, kind: 'awaiting-correction', items: now.awaitingCorrection });
    }
  }
  const funds = now.awaitingFunds > 0 ? `${now.awaitingFunds}:${now.awaitingFundsAmount}` : '';
  if (funds !== memory.funds) {
    if (funds === '') next.funds = '';
    else if (throttled(memory.fundsAt)) wakeAt = Math.min(wakeAt ?? Infinity, memory.fundsAt! + throttleMs);
    else {
      next.funds = funds;
      next.fundsAt = at;
      events.push({
        ...base,
        kind: 'awaiting-funds',
        items: now.awaitingFunds,
        amount: now.awaitingFundsAmount,
        reason: 'items failed for insufficient funds',
      });
    }
  }

  const current: string[] = [];
  for (const order of now.orders) {
    const ref = { chunk: order.chunk, externalRefID: order.externalRefID };
    if (order.blockedReason !== undefined) {
      const key = `blocked:${order.chunk}:${order.externalRefID}:${order.blockedReason}`;
      current.push(key);
      if (!memory.flagged.includes(key))
        events.push({
          ...base,
          kind: 'order-blocked',
          order: ref,
          reason: order.blockedReason.slice(0, 2000),
        });
    }
    if (order.overdue) {
      const key = `overdue:${order.chunk}:${order.externalRefID}`;
      current.push(key);
      if (!memory.flagged.includes(key)) events.push({ ...base, kind: 'order-overdue', order: ref });
    }
  }
  next.flagged = current;
  const changed = events.length > 0 || JSON.stringify(next) !== JSON.stringify(memory);
  return { events, memory: next, changed, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}
