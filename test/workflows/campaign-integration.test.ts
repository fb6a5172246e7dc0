// Campaigns end to end on the dev server with a real worker against the Tango simulator: mixed
// failures, automatic and operator corrections, and the ledger proving nobody was rewarded twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  campaignWorkflowId,
  progressQuery,
  skipItemsUpdate,
  submitCorrectionsUpdate,
} from '../../src/definitions.ts';
import { campaignWorkflow } from '../../src/workflows/index.ts';
import {
  type CampaignStack,
  assertCampaignInvariants,
  lineItem,
  startCampaignStack,
  waitForProgress,
} from '../helpers/campaign-stack.ts';

const fastOptions = {
  pollInitial: '300ms',
  pollMax: '1s',
  resubmitDelay: '100ms',
  correctionWindow: '1h',
  chunkSize: 20,
  maxConcurrentOrders: 2,
};

describe('campaign on the dev server against the simulator', () => {
  let stack: CampaignStack;
  before(async () => {
    stack = await startCampaignStack();
    await stack.startWorker();
  });
  after(async () => {
    await stack?.close();
  });

  it('ends with every item delivered or given up, none rewarded twice', async () => {
    const items = [
      ...Array.from({ length: 40 }, () => lineItem('ok')),
      ...Array.from({ length: 5 }, () => lineItem('transient')),
      ...Array.from({ length: 5 }, () => lineItem('blocked')),
      ...Array.from({ length: 5 }, () => lineItem('amount-too-high')),
      ...Array.from({ length: 5 }, () => lineItem('wrong-method')),
    ];
    const campaignId = 'mixed-failures';
    const handle = await stack.env.client.workflow.start(campaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: campaignWorkflowId(campaignId),
      args: [
        {
          campaignId,
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
          campaign: 'Integration test',
          items: { inline: items },
          options: { ...fastOptions, utidFallbacks: { U000002: 'U000001' } },
        },
      ],
    });

    // The five over-range amounts wait for an operator.
    await waitForProgress(
      () => handle.query(progressQuery),
      (progress) => progress.counts.awaitingCorrection === 5 && progress.counts.submitted === 0,
    );

    // A correction naming a delivered item is refused, and nothing changes.
    await assert.rejects(
      handle.executeUpdate(submitCorrectionsUpdate, {
        args: [[{ externalRefLineItemID: 'item-ok-0', amount: 30 }]],
      }),
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError &&
        /item-ok-0\): no failed line item/.test(String(error.cause?.message)),
    );
    // So is a correction that breaks Tango's rules.
    const tooHigh = items.filter((item) => String(item.externalRefLineItemID).startsWith('item-amount'));
    await assert.rejects(
      handle.executeUpdate(submitCorrectionsUpdate, {
        args: [
          [{ externalRefLineItemID: String(tooHigh[0]!.externalRefLineItemID), deliveryMethod: 'PHONE' }],
        ],
      }),
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError && /mobileNumber/.test(String(error.cause?.message)),
    );

    // Four are corrected, one is skipped.
    const corrected = await handle.executeUpdate(submitCorrectionsUpdate, {
      args: [
        tooHigh
          .slice(0, 4)
          .map((item) => ({ externalRefLineItemID: String(item.externalRefLineItemID), amount: 50 })),
      ],
    });
    assert.equal(corrected.accepted, 4);
    const skipped = await handle.executeUpdate(skipItemsUpdate, {
      args: [
        { externalRefLineItemIDs: [String(tooHigh[4]!.externalRefLineItemID)], reason: 'recipient left' },
      ],
    });
    assert.equal(skipped.accepted, 1);

    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.total, 60);
    // 40 ok + 5 transient (second round) + 5 auto-fixed + 4 corrected
    assert.equal(result.counts.delivered, 54);
    assert.equal(result.counts.givenUp, 6);

    assert.deepEqual(stack.simulator.ledger.duplicates().recipients, []);
    assert.equal(stack.simulator.ledger.size, 54);
    const byId = await assertCampaignInvariants(
      stack,
      campaignId,
      items.map((item) => String(item.externalRefLineItemID)),
    );
    assert.equal(byId.get('item-blocked-45')?.failureClass, 'permanent');
    assert.match(byId.get(String(tooHigh[4]!.externalRefLineItemID))?.reason ?? '', /skipped by operator/);
  });
});
