// Notifications when a campaign needs a person, end to end on the dev server with the simulator and a
// receiver on loopback that checks every signature: awaiting approval, items awaiting correction
// (once per change), awaiting funds (amount), the campaign finished (counts, report key), a refusal
// from the client; and a receiver that is down never holds a campaign back, then gets its retries.
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { CampaignClient } from '../../src/client/index.ts';
import { sendRefusalNotification } from '../../src/client/notify.ts';
import { DEFAULT_SIGNATURE_HEADER, type NotifyConfig } from '../../src/notify/config.ts';
import { verifyNotificationSignature } from '../../src/notify/sender.ts';
import { DEFAULT_ACCOUNTS } from '../../src/simulator/defaults.ts';
import { reportCsvKey, reportJsonKey } from '../../src/store/keys.ts';
import { campaignWorkflowId } from '../../src/definitions.ts';
import {
  type CampaignStack,
  lineItem,
  startCampaignStack,
  workflowBundle,
} from '../helpers/campaign-stack.ts';

const SECRET = 'notify-test-secret-0123456789';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  verified: boolean;
  event: Record<string, unknown> & { kind: string; campaignId: string; eventId: string; text: string };
}

/** A notification receiver: records every request, checks its signature, answers `status`. */
async function startReceiver() {
  const received: Received[] = [];
  const refused: Received[] = [];
  const state = { status: 200 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = request.headers[DEFAULT_SIGNATURE_HEADER.toLowerCase()];
      const entry: Received = {
        headers: request.headers,
        body,
        verified: verifyNotificationSignature(body, SECRET, typeof header === 'string' ? header : undefined),
        event: JSON.parse(body) as Received['event'],
      };
      (state.status === 200 ? received : refused).push(entry);
      response.writeHead(state.status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tango`;
  return {
    url,
    received,
    refused,
    state,
    /** The events of one campaign, as accepted (status 200). */
    of: (campaignId: string) => received.filter((entry) => entry.event.campaignId === campaignId),
    async waitFor(predicate: (entry: Received) => boolean, timeoutMs = 60_000): Promise<Received> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(predicate);
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(
            `no such notification; got ${received.map((entry) => entry.event.kind).join(', ')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const fast = {
  pollInitial: '300ms',
  pollMax: '1s',
  resubmitDelay: '100ms',
  correctionWindow: '1h',
  chunkSize: 10,
};

describe('notifications when a campaign needs a person', () => {
  let stack: CampaignStack;
  let client: CampaignClient;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    receiver = await startReceiver();
    stack = await startCampaignStack({
      taskQueue: 'notify-test',
      simulator: {
        accounts: [
          ...DEFAULT_ACCOUNTS,
          { customerIdentifier: 'sim-customer', accountIdentifier: 'sim-account-poor', balance: 10 },
        ],
      },
    });
    const notify: NotifyConfig = {
      url: receiver.url,
      signingSecret: SECRET,
      signatureHeader: DEFAULT_SIGNATURE_HEADER,
      timeoutMs: 2000,
      throttleMs: 60_000,
    };
    await stack.startWorker({ notify });
    client = new CampaignClient({ client: stack.env.client, taskQueue: stack.taskQueue, store: stack.store });
  });
  after(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('tells awaiting approval, items awaiting correction once, and the end with counts and report key', async () => {
    const id = 'notify-approval';
    const high = [lineItem('amount-too-high'), lineItem('amount-too-high')];
    await client.startCampaign(
      {
        campaignId: id,
        customerIdentifier: 'sim-customer',
        accountIdentifier: 'sim-account-1',
        options: { ...fast, approvalThreshold: 100 },
      },
      { items: [lineItem('ok'), lineItem('ok'), lineItem('ok'), ...high] },
    );
    const approval = await receiver.waitFor(
      (entry) => entry.event.campaignId === id && entry.event.kind === 'awaiting-approval',
    );
    assert.equal(approval.verified, true, 'signed with the secret');
    assert.equal(approval.headers['x-tango-campaigns-event'], 'awaiting-approval');
    assert.equal(approval.headers['x-tango-campaigns-delivery'], approval.event.eventId);
    assert.equal(approval.event.totalAmount, 3 * 25 + 2 * 600);
    assert.match(
      approval.event.text,
      /^Campaign notify-approval waits for approval \(total 1275\): total 1275 exceeds the approval threshold 100/,
    );

    await client.approveCampaign(id, 'approver-1');
    const corrections = await receiver.waitFor(
      (entry) => entry.event.campaignId === id && entry.event.kind === 'awaiting-correction',
    );
    assert.equal(corrections.event.items, 2);
    assert.equal(corrections.verified, true);

    await client.skipItems(
      id,
      high.map((item) => String(item.externalRefLineItemID)),
      'amount above the reward maximum',
    );
    await client.waitForCompletion(id);
    const finished = await receiver.waitFor(
      (entry) => entry.event.campaignId === id && entry.event.kind === 'campaign-finished',
    );
    assert.equal(finished.verified, true);
    assert.equal(finished.event.status, 'completed');
    assert.deepEqual(finished.event.counts, {
      total: 5,
      delivered: 3,
      scheduled: 0,
      givenUp: 2,
      cancelled: 0,
    });
    assert.deepEqual(finished.event.report, { csv: reportCsvKey(id), json: reportJsonKey(id) });
    assert.match(finished.event.text, /completed\. 3 delivered, 0 scheduled, 2 given up, 0 cancelled of 5/);

    // Each event once, in the order it happened, each with its own id.
    const kinds = receiver.of(id).map((entry) => entry.event.kind);
    assert.deepEqual(kinds, ['awaiting-approval', 'awaiting-correction', 'campaign-finished']);
    assert.equal(new Set(receiver.of(id).map((entry) => entry.event.eventId)).size, 3);
    assert.ok(receiver.received.every((entry) => entry.verified));

    // The campaign's history with notifications on replays deterministically.
    const history = await stack.env.client.workflow.getHandle(campaignWorkflowId(id)).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, id);
  });

  it('tells a refusal from the client, and awaiting funds with the amount', async () => {
    const queued = await sendRefusalNotification(client, 'notify-refused', {
      rule: 'repeat-recipients',
      items: 50,
      details: '50 recipients were rewarded by campaign week-1',
    });
    assert.equal(queued.queued, true);
    const refusal = await receiver.waitFor((entry) => entry.event.campaignId === 'notify-refused');
    assert.equal(refusal.event.kind, 'campaign-refused');
    assert.deepEqual(refusal.event.refusal, {
      rule: 'repeat-recipients',
      items: 50,
      details: '50 recipients were rewarded by campaign week-1',
    });
    assert.match(refusal.event.text, /was refused \(repeat-recipients\): 50 recipients .* Nothing was sent/);

    const id = 'notify-funds';
    await client.startCampaign(
      {
        campaignId: id,
        customerIdentifier: 'sim-customer',
        accountIdentifier: 'sim-account-poor',
        options: fast,
      },
      { items: [lineItem('ok'), lineItem('ok')] },
    );
    const funds = await receiver.waitFor(
      (entry) => entry.event.campaignId === id && entry.event.kind === 'awaiting-funds',
    );
    assert.equal(funds.event.amount, 50);
    assert.match(String(funds.event.reason), /balance 10 does not cover the campaign total 50/);
    await client.cancelCampaign(id);
    const finished = await receiver.waitFor(
      (entry) => entry.event.campaignId === id && entry.event.kind === 'campaign-finished',
    );
    assert.equal(finished.event.status, 'cancelled');
    assert.equal((finished.event.counts as { cancelled: number }).cancelled, 2);
  });

  // Bounded: were the campaign to wait for its notifications, it would wait here for a day.
  it(
    'a receiver that is down never holds a campaign back; the notification is retried until it answers',
    { timeout: 120_000 },
    async () => {
      receiver.state.status = 503;
      const id = 'notify-down';
      await client.startCampaign(
        {
          campaignId: id,
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
          options: fast,
        },
        { items: [lineItem('ok'), lineItem('ok')] },
      );
      const result = await client.waitForCompletion(id);
      assert.equal(result.status, 'completed');
      // The campaign is closed; its notification keeps trying.
      const deadline = Date.now() + 30_000;
      while (!receiver.refused.some((entry) => entry.event.campaignId === id)) {
        assert.ok(Date.now() < deadline, 'the receiver was asked');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(receiver.of(id).length, 0);
      receiver.state.status = 200;
      const finished = await receiver.waitFor(
        (entry) => entry.event.campaignId === id && entry.event.kind === 'campaign-finished',
      );
      assert.equal(finished.verified, true);
      assert.equal(finished.event.status, 'completed');
      const refusedIds = receiver.refused.filter((entry) => entry.event.campaignId === id);
      assert.ok(
        refusedIds.every((entry) => entry.event.eventId === finished.event.eventId),
        'the same event, retried',
      );
    },
  );
});
