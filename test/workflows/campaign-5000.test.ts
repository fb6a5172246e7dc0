// The acceptance run: a 5,000-item campaign with failures of every class (transient, needs-correction,
// needs-funds, permanent) runs to completion on the dev server against the simulator; the ledger shows
// nobody rewarded twice and the report accounts for every item. Prints history size per order/round.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { campaignRef, orderExternalRefId } from '../../src/campaign/ids.ts';
import {
  campaignWorkflowId,
  fundsAddedSignal,
  orderWorkflowId,
  progressQuery,
} from '../../src/definitions.ts';
import { putJsonLines } from '../../src/store/json.ts';
import { campaignWorkflow } from '../../src/workflows/index.ts';
import {
  type CampaignStack,
  assertCampaignInvariants,
  historySize,
  lineItem,
  startCampaignStack,
} from '../helpers/campaign-stack.ts';

const ITEMS = 5000;
const AMOUNT = 25;

describe('a 5,000-item campaign with every failure class', () => {
  let stack: CampaignStack;
  // The balance covers all but ~100 of the deliverable items: the last ones fail INSUFFICIENT_FUNDS.
  const balance = (ITEMS - 100) * AMOUNT - 150 * AMOUNT;
  before(async () => {
    stack = await startCampaignStack({
      taskQueue: 'campaign-5000',
      simulator: {
        processingDelayMs: 5,
        accounts: [{ customerIdentifier: 'sim-customer', accountIdentifier: 'sim-account-1', balance }],
      },
    });
    await stack.startWorker();
  });
  after(async () => {
    await stack?.close();
  });

  it('delivers or gives up every item exactly once', async () => {
    const kinds = [
      ...Array.from({ length: 50 }, () => 'transient' as const),
      ...Array.from({ length: 25 }, () => 'blocked' as const),
      ...Array.from({ length: 25 }, () => 'amount-too-high' as const),
      ...Array.from({ length: 25 }, () => 'wrong-method' as const),
      ...Array.from({ length: 25 }, () => 'discontinued' as const),
    ];
    const items = Array.from({ length: ITEMS }, (_, index) => {
      // Spread the failures over every order.
      const kind = index % 33 === 7 && kinds.length > 0 ? kinds.pop()! : 'ok';
      return lineItem(kind);
    });
    const campaignId = 'acceptance-5000';
    await putJsonLines(stack.store, `inputs/${campaignId}.jsonl`, items);
    const started = Date.now();
    const handle = await stack.env.client.workflow.start(campaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: campaignWorkflowId(campaignId),
      args: [
        {
          campaignId,
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
          campaign: 'Acceptance 5000',
          items: { storeKey: `inputs/${campaignId}.jsonl` },
          options: {
            chunkSize: 500,
            maxConcurrentOrders: 4,
            pollInitial: '300ms',
            pollMax: '2s',
            resubmitDelay: '200ms',
            correctionWindow: '8s',
            fundsCheckInterval: '1h',
            preflightBalanceCheck: false,
            utidFallbacks: { U000002: 'U000001', U000004: 'U000001' },
          },
        },
      ],
    });

    // Funds run out part way: once items wait for funds, top up the account and say so.
    for (;;) {
      const progress = await handle.query(progressQuery);
      if (progress.counts.awaitingFunds > 0) break;
      assert.ok(
        Date.now() - started < 180_000,
        `no item ever waited for funds: ${JSON.stringify(progress.counts)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    stack.simulator.addFunds('sim-account-1', 1_000_000);
    await handle.signal(fundsAddedSignal, { amount: 1_000_000 });

    const result = await handle.result();
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.total, ITEMS);
    // Given up: 25 blocked (permanent) + 25 over-range amounts nobody corrected (window closed).
    assert.equal(result.counts.givenUp, 50);
    assert.equal(result.counts.delivered, ITEMS - 50);
    assert.ok(result.counts.failures['needs-funds'] > 0, 'some items waited for funds');
    assert.ok(result.counts.failures.transient >= 50);

    assert.equal(stack.simulator.ledger.size, ITEMS - 50);
    await assertCampaignInvariants(
      stack,
      campaignId,
      items.map((item) => String(item.externalRefLineItemID)),
    );

    // History size: per order and per round, and the campaign's.
    const ref = campaignRef(campaignId);
    let orderEvents = 0;
    let orderBytes = 0;
    for (let chunk = 0; chunk < result.orders; chunk += 1) {
      const size = await historySize(stack.env, orderWorkflowId(orderExternalRefId(ref, chunk, 0)));
      orderEvents += size.events;
      orderBytes += size.bytes;
    }
    const campaign = await historySize(stack.env, campaignWorkflowId(campaignId));
    const roundsTotal = result.rounds;
    console.log(
      `5,000 items in ${seconds.toFixed(1)} s: ${result.orders} orders, up to ${roundsTotal} rounds; ` +
        `order histories ${(orderEvents / result.orders).toFixed(0)} events / ${(orderBytes / result.orders / 1024).toFixed(1)} KiB per order; ` +
        `campaign history ${campaign.events} events / ${(campaign.bytes / 1024).toFixed(1)} KiB; ` +
        `Tango requests ${stack.simulator.stats().totalRequests}`,
    );
  });
});
