// A whole campaign whose orders would only be polled once an hour finishes in seconds because the
// simulator's signed AsyncOrderStatus webhooks, through the receiver, wake each order workflow.
// Prints the webhook-to-workflow latency (not asserted: it depends on the machine).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter, type Timestamp } from '@temporalio/common';
import { campaignWorkflowId } from '../../src/definitions.ts';
import { loadTangoConfig } from '../../src/tango/config.ts';
import { startWebhookReceiver, type RunningWebhookReceiver } from '../../src/webhook/receiver.ts';
import { registerWebhook } from '../../src/webhook/registration.ts';
import { campaignWorkflow } from '../../src/workflows/index.ts';
import type { OrderStatusNotice } from '../../src/workflows/types.ts';
import { type CampaignStack, lineItem, startCampaignStack } from '../helpers/campaign-stack.ts';

/** History event time (protobuf Timestamp, seconds may be a Long) in epoch milliseconds. */
function tsToMs(ts: Timestamp | null | undefined): number {
  if (!ts) return Number.NaN;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : Number(ts.seconds?.toString() ?? 0);
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function summary(name: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  return `${name.padEnd(44)} n=${sorted.length}  p50 ${fmt(percentile(sorted, 50))}  p99 ${fmt(percentile(sorted, 99))}  max ${fmt(sorted.at(-1) ?? Number.NaN)}`;
}

describe('campaign woken by webhooks instead of polls', () => {
  let stack: CampaignStack;
  let receiver: RunningWebhookReceiver;
  const events: Record<string, unknown>[] = [];

  before(async () => {
    stack = await startCampaignStack();
    await stack.startWorker();
    const verification = loadTangoConfig({ TANGO_BASE_URL: stack.simulator.baseUrl }).webhook;
    receiver = await startWebhookReceiver({
      port: 0,
      client: stack.env.client,
      verification,
      logger: {
        info: (_message, fields = {}) => void events.push(fields),
        warn: (_message, fields = {}) => void events.push(fields),
        error: (_message, fields = {}) => void events.push(fields),
      },
    });
    // Registered the way an operator does it: POST /webhooks through the Tango client.
    const registration = await registerWebhook(stack.tango, receiver.url, verification);
    assert.ok(registration.id);
  });
  after(async () => {
    await receiver?.close();
    await stack?.close();
  });

  it(
    'completes every order within seconds although polls are an hour apart',
    { timeout: 180_000 },
    async () => {
      const items = Array.from({ length: 200 }, (_, index) =>
        lineItem(index % 20 === 7 ? 'transient' : index % 20 === 13 ? 'blocked' : 'ok'),
      );
      // Tango may deliver an event twice: a third of them come twice, a few ms apart.
      stack.simulator.configure({ faults: { webhook: { duplicateRate: 0.3 } } });
      const campaignId = 'webhook-woken';
      const started = Date.now();
      const result = await stack.env.client.workflow.execute(campaignWorkflow, {
        taskQueue: stack.taskQueue,
        workflowId: campaignWorkflowId(campaignId),
        args: [
          {
            campaignId,
            customerIdentifier: 'sim-customer',
            accountIdentifier: 'sim-account-1',
            campaign: 'Webhook wake-up test',
            items: { inline: items },
            options: {
              chunkSize: 10,
              maxConcurrentOrders: 5,
              pollInitial: '1h',
              pollMax: '1h',
              resubmitDelay: '100ms',
            },
          },
        ],
      });
      const elapsedMs = Date.now() - started;

      assert.equal(result.status, 'completed');
      assert.equal(result.counts.total, 200);
      assert.equal(result.counts.delivered, 190, 'ok items plus transient items on their second round');
      assert.equal(result.counts.givenUp, 10, 'blocked recipients');
      assert.deepEqual(stack.simulator.ledger.duplicates().lineItems, []);
      // Without the webhooks the first order alone would wait an hour for its poll.
      assert.ok(elapsedMs < 170_000);

      const signalled = events.filter((event) => event['outcome'] === 'signalled');
      const refs = new Set(signalled.map((event) => String(event['externalRefID'])));
      // 20 orders in round 0 and 10 resubmissions (-r1) for the transient items, one per chunk.
      assert.equal(refs.size, 30, [...refs].join(' '));
      assert.equal([...refs].filter((ref) => /-r1$/.test(ref)).length, 10);
      assert.deepEqual(
        events.filter((event) => Number(event['httpStatus']) >= 300),
        [],
        'no webhook refused or failed',
      );

      // Latency: receiver got the POST -> Temporal recorded the signal -> the workflow acted on it.
      const byWorkflow = new Map<string, Record<string, unknown>[]>();
      for (const event of signalled) {
        const list = byWorkflow.get(String(event['workflowId'])) ?? [];
        list.push(event);
        byWorkflow.set(String(event['workflowId']), list);
      }
      const publishToSignal: number[] = [];
      const receiveToSignal: number[] = [];
      const signalToAction: number[] = [];
      for (const [workflowId, received] of byWorkflow) {
        const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
        const historyEvents = history.events ?? [];
        historyEvents.forEach((historyEvent, index) => {
          const attributes = historyEvent.workflowExecutionSignaledEventAttributes;
          if (attributes?.signalName !== 'orderStatus') return;
          const notice = defaultPayloadConverter.fromPayload<OrderStatusNotice>(
            attributes.input!.payloads![0]!,
          );
          const signalAt = tsToMs(historyEvent.eventTime);
          const delivery = received.find((event) => event['eventId'] === notice.eventId);
          assert.ok(delivery, `signal ${notice.eventId} in ${workflowId} came through the receiver`);
          receiveToSignal.push(signalAt - Date.parse(String(delivery['receivedAt'])));
          if (notice.eventOccurredAt) publishToSignal.push(signalAt - Date.parse(notice.eventOccurredAt));
          // The workflow woke: the next activity it scheduled (confirming the order's status).
          const next = historyEvents
            .slice(index + 1)
            .find(
              (later) =>
                later.activityTaskScheduledEventAttributes !== undefined &&
                later.activityTaskScheduledEventAttributes !== null,
            );
          if (next) signalToAction.push(tsToMs(next.eventTime) - signalAt);
        });
      }
      assert.equal(
        receiveToSignal.length,
        signalled.length,
        'every accepted webhook is one signal in history',
      );
      const duplicates = events.filter((event) => event['outcome'] === 'duplicate').length;
      assert.equal(
        duplicates,
        stack.simulator.stats().webhooks.duplicated,
        'each second copy answered, not signalled',
      );
      assert.ok(duplicates > 0);
      console.log(
        [
          `campaign of 200 items, 30 orders (pollInitial 1h) completed in ${(elapsedMs / 1000).toFixed(1)} s; ${duplicates} duplicate deliveries answered 200 without a signal`,
          summary('webhook received -> signal in history', receiveToSignal),
          summary('event published (eventOccurredAt) -> signal', publishToSignal),
          summary('signal -> next activity scheduled (woken)', signalToAction),
        ].join('\n'),
      );
    },
  );
});
