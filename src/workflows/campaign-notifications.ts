// The campaign's notifications (when it needs a person, and when it ends): a background loop that
// watches the campaign's state and starts a notificationWorkflow per event, never waiting for the
// receiver. Off unless the worker has NOTIFY_URL; campaigns begun before it existed replay without it
// (patch `campaign-notifications`).
import { TemporalFailure, condition, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import {
  type WatchMemory,
  type WatchSnapshot,
  dueNotifications,
  emptyWatchMemory,
} from '../notify/campaign-watch.ts';
import type { NotificationEvent } from '../notify/events.ts';
import { STORE_STEP } from './activity-options.ts';
import { notificationWorkflowId, startNotification } from './notification-workflow.ts';
import type { ItemCounts } from './types.ts';

type Activities = ReturnType<typeof createActivities>;
const { notificationSettings } = proxyActivities<Activities>(STORE_STEP);

/** What a campaign run carries into the next one. */
export interface NotificationsCarry {
  enabled: boolean;
  throttleMs: number;
  sequence: number;
  memory: WatchMemory;
}

export class CampaignNotifications {
  private state: NotificationsCarry | undefined;
  private closed = false;
  private sending = 0;

  constructor(
    private readonly campaignId: string,
    carried: NotificationsCarry | undefined,
  ) {
    this.state = carried;
  }

  /** Reads once whether the worker sends notifications (a continued run already knows). */
  async begin(): Promise<void> {
    if (this.state || !patched('campaign-notifications')) return;
    const settings = await notificationSettings();
    this.state = { ...settings, sequence: 0, memory: emptyWatchMemory() };
  }

  /** No notification is being started (continue-as-new waits for it, so that none is lost). */
  get idle(): boolean {
    return this.sending === 0;
  }

  carry(): NotificationsCarry | undefined {
    return this.state;
  }

  /** Runs until the campaign finishes: each change that needs a person, as it happens. */
  async watch(snapshot: () => WatchSnapshot): Promise<void> {
    const state = this.state;
    if (!state?.enabled) return;
    for (;;) {
      if (this.closed) return;
      const at = Date.now();
      const due = dueNotifications(state.memory, snapshot(), at, state.throttleMs);
      if (due.changed) {
        state.memory = due.memory;
        for (const event of due.events) await this.send(event);
        continue;
      }
      await condition(
        () => this.closed || dueNotifications(state.memory, snapshot(), Date.now(), state.throttleMs).changed,
        due.wakeAt !== undefined ? Math.max(1, due.wakeAt - at) : undefined,
      );
    }
  }

  /** The campaign ended with its report: told once, started before the campaign returns. */
  async finished(result: {
    status: string;
    statusReason?: string;
    totalAmount: number;
    counts: Pick<ItemCounts, 'total' | 'delivered' | 'scheduled' | 'givenUp' | 'cancelled'>;
    report: { csv: string; json: string };
  }): Promise<void> {
    this.closed = true;
    if (!this.state?.enabled) return;
    const { total, delivered, scheduled = 0, givenUp, cancelled } = result.counts;
    await this.send({
      kind: 'campaign-finished',
      campaignId: this.campaignId,
      occurredAt: new Date().toISOString(),
      status: result.status,
      ...(result.statusReason ? { reason: result.statusReason.slice(0, 2000) } : {}),
      totalAmount: result.totalAmount,
      counts: { total, delivered, scheduled, givenUp, cancelled },
      report: result.report,
    });
  }

  /** The campaign is failing (an ApplicationFailure or an activity that gave up): told once. */
  async failed(error: unknown): Promise<void> {
    this.closed = true;
    if (!this.state?.enabled || !(error instanceof TemporalFailure)) return;
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    await this.send({
      kind: 'campaign-finished',
      campaignId: this.campaignId,
      occurredAt: new Date().toISOString(),
      status: 'failed',
      reason: `${error.message}${cause}`.slice(0, 2000),
    });
  }

  private async send(event: NotificationEvent): Promise<void> {
    const state = this.state!;
    state.sequence += 1;
    this.sending += 1;
    try {
      // The first run's id keeps event ids unique even for a start refused under a used campaign id.
      const run = workflowInfo().firstExecutionRunId.slice(0, 8);
      await startNotification(event, notificationWorkflowId(this.campaignId, `${run}-${state.sequence}`));
    } finally {
      this.sending -= 1;
    }
  }
}
