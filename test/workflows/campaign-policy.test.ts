// Permission to spend is the worker's policy, not the starter's choice: the policy's floor caps a
// campaign's approval threshold, the starter cannot approve, and corrections that raise the total past
// the threshold are refused. On the dev server with a real worker against the simulator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  approveUpdate,
  campaignWorkflowId,
  progressQuery,
  submitCorrectionsUpdate,
} from '../../src/definitions.ts';
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
    stack = await startCampaignStack({ taskQueue: 'policy' });
    await stack.startWorker({
      policy: { approvalThresholdFloor: 2000, accounts: {}, requireDistinctApprover: true },
    });
  });
  after(async () => {
    await stack?.close();
  });

  const start = (campaignId: string, items: unknown[], options: Record<string, unknown> = {}) =>
    stack.env.client.workflow.start(campaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: campaignWorkflowId(campaignId),
      args: [
        {
          campaignId,
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
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
