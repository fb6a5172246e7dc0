// Permission to spend is the worker's policy, not the starter's choice: the policy's floor caps a
// campaign's approval threshold, the starter cannot approve, and corrections that raise the total past
// the threshold are refused. On the dev server with a real worker against the simulator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  approveUpdate,
  campaignWorkflowId,
  fundsAddedSignal,
  progressQuery,
  submitCorrectionsUpdate,
} from '../../src/definitions.ts';
import { DEFAULT_ACCOUNTS } from '../../src/simulator/defaults.ts';
import { campaignWorkflow } from '../../src/workflows/index.ts';
import {
  type CampaignStack,
  lineItem,
  startCampaignStack,
  waitForProgress,
} from '../helpers/campaign-stack.ts';

const fastOptions = {
  pollInitial: '300ms',
  pollMax: '1s',
  resubmitDelay: '100ms',
  correctionWindow: '1h',
  chunkSize: 50,
};

describe('spending policy', () => {
  let stack: CampaignStack;
  before(async () => {
    stack = await startCampaignStack({
      taskQueue: 'policy',
      // A second account with little money, for the balance read again after an approval.
      simulator: {
        accounts: [
          ...DEFAULT_ACCOUNTS,
          { ...DEFAULT_ACCOUNTS[0]!, accountIdentifier: 'sim-account-low', balance: 3000 },
        ],
      },
    });
    await stack.startWorker({
      policy: { approvalThresholdFloor: 2000, accounts: {}, requireDistinctApprover: true },
    });
  });
  after(async () => {
    await stack?.close();
  });

  const start = (
    campaignId: string,
    items: unknown[],
    options: Record<string, unknown> = {},
    accountIdentifier = 'sim-account-1',
  ) =>
    stack.env.client.workflow.start(campaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: campaignWorkflowId(campaignId),
      args: [
        {
          campaignId,
          customerIdentifier: 'sim-customer',
          accountIdentifier,
          requestedBy: 'alice',
          items: { inline: items },
          options: { ...fastOptions, ...options },
        },
      ],
    });

  it('holds a campaign over the floor whatever threshold it asks for, and the starter cannot approve it', async () => {
    const items = Array.from({ length: 100 }, () => lineItem('ok'));
    const handle = await start('policy-floor', items, { approvalThreshold: 1_000_000 });
    const waiting = await waitForProgress(
      () => handle.query(progressQuery),
      (progress) => progress.status === 'awaiting-approval',
    );
    assert.match(
      waiting.statusReason ?? '',
      /exceeds the approval threshold 2000 \(the worker's policy, default\)/,
    );
    await assert.rejects(
      handle.executeUpdate(approveUpdate, { args: [{ approver: ' Alice ' }] }),
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError &&
        /Alice started this campaign \(requestedBy\); the worker's policy requires someone else/.test(
          String(error.cause?.message),
        ),
    );
    assert.deepEqual(await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] }), {
      approvedBy: 'bob',
    });
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(result.approvedBy, 'bob');
  });

  it('reads the balance again after an approval: money spent meanwhile holds the campaign, nothing sent', async () => {
    const posts = () => stack.simulator.stats().requests['POST /raas/v2/asyncOrders'] ?? {};
    const postsBefore = JSON.stringify(posts());
    // 100 items of 25 = 2,500: over the floor (2,000), within the account's 3,000 when started.
    const items = Array.from({ length: 100 }, () => lineItem('ok'));
    const handle = await start('policy-balance-after-approval', items, {}, 'sim-account-low');
    await waitForProgress(
      () => handle.query(progressQuery),
      (progress) => progress.status === 'awaiting-approval',
    );
    // While the campaign waits for a person, another client spends 1,000 of the account's money.
    stack.simulator.preloadOrder({
      customerIdentifier: 'sim-customer',
      accountIdentifier: 'sim-account-low',
      externalRefID: 'spent-elsewhere',
      lineItems: Array.from({ length: 40 }, () => lineItem('ok')),
    });
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] });
    const waiting = await waitForProgress(
      () => handle.query(progressQuery),
      (progress) => progress.status === 'awaiting-funds' || progress.status === 'running',
    );
    assert.equal(waiting.status, 'awaiting-funds');
    assert.match(waiting.statusReason ?? '', /balance 2000 does not cover the campaign total 2500/);
    assert.equal(JSON.stringify(posts()), postsBefore, 'an order was sent without the money for it');

    stack.simulator.addFunds('sim-account-low', 1000);
    await handle.signal(fundsAddedSignal, { amount: 1000 });
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.delivered, 100);
    assert.deepEqual(stack.simulator.ledger.duplicates().lineItems, []);
  });

  it('refuses corrections that raise the total past the threshold, and takes those within it', async () => {
    const high = [lineItem('amount-too-high'), lineItem('amount-too-high')];
    const items = [...high, ...Array.from({ length: 4 }, () => lineItem('ok'))];
    const handle = await start('policy-corrections', items);
    await waitForProgress(
      () => handle.query(progressQuery),
      (progress) => progress.counts.awaitingCorrection === 2 && progress.counts.submitted === 0,
    );
    const [x, y] = high.map((item) => String(item.externalRefLineItemID)) as [string, string];
    // 1300 - 600 + 1500 = 2200 > 2000: refused, nothing changed.
    await assert.rejects(
      handle.executeUpdate(submitCorrectionsUpdate, { args: [[{ externalRefLineItemID: x, amount: 1500 }]] }),
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError &&
        /raise the campaign's total to 2200, above the approval threshold 2000: refused, nothing was changed/.test(
          String(error.cause?.message),
        ),
    );
    assert.equal((await handle.query(progressQuery)).counts.awaitingCorrection, 2);
    // Lowered amounts pass.
    const accepted = await handle.executeUpdate(submitCorrectionsUpdate, {
      args: [
        [
          { externalRefLineItemID: x, amount: 400 },
          { externalRefLineItemID: y, amount: 450 },
        ],
      ],
    });
    assert.equal(accepted.accepted, 2);
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(result.totalAmount, 950);
    assert.equal(result.counts.delivered, 6);
  });
});
