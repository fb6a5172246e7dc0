// Scheduled campaigns: a Temporal Schedule starts scheduledCampaignWorkflow, which loads the items
// from a CSV file and runs the campaign for its slot; running the same slot again sends nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { sourceItemsKey } from '../../src/activities/sources.ts';
import { approveUpdate, campaignWorkflowId, progressQuery } from '../../src/definitions.ts';
import {
  scheduledCampaignId,
  scheduledCampaignWorkflow,
} from '../../src/workflows/scheduled-campaign-workflow.ts';
import { type CampaignStack, startCampaignStack, waitForProgress } from '../helpers/campaign-stack.ts';

const campaign = {
  customerIdentifier: 'sim-customer',
  accountIdentifier: 'sim-account-1',
  campaign: 'Weekly wellness',
  options: { pollInitial: '200ms', pollMax: '1s', chunkSize: 10 },
};

describe('scheduled campaigns', () => {
  let stack: CampaignStack;
  let dir: string;
  let csv: string;
  before(async () => {
    stack = await startCampaignStack({ taskQueue: 'scheduled' });
    await stack.startWorker();
    dir = mkdtempSync(path.join(tmpdir(), 'scheduled-'));
    csv = path.join(dir, 'wellness.csv');
    const rows = Array.from(
      { length: 25 },
      (_, index) => `wellness-${index},Pat,Lee ${index},pat${index}@example.test,U000001,10,EMAIL`,
    );
    writeFileSync(
      csv,
      ['externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod', ...rows].join('\n'),
    );
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a slot once: a re-run of the same slot finds the campaign and sends nothing', async () => {
    const input = {
      scheduleId: 'wellness',
      source: { location: csv },
      campaign,
      slot: '2026-11-23T09:00:00Z',
    };
    const first = await stack.env.client.workflow.execute(scheduledCampaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: 'scheduled-wellness-run-1',
      args: [input],
    });
    assert.equal(first.outcome, 'ran');
    assert.equal(first.campaignId, 'wellness-20261123T0900Z');
    const second = await stack.env.client.workflow.execute(scheduledCampaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: 'scheduled-wellness-run-2',
      args: [input],
    });
    assert.deepEqual(second, { campaignId: 'wellness-20261123T0900Z', outcome: 'already-ran' });
    assert.equal(stack.simulator.ledger.size, 25);
    assert.deepEqual(stack.simulator.ledger.duplicates().lineItems, []);
  });

  it('a hand re-run of a slot whose campaign still runs neither overwrites its items nor sends', async () => {
    const slot = '2026-11-30T09:00:00Z';
    const campaignId = scheduledCampaignId('held', new Date(slot));
    const held = path.join(dir, 'held.csv');
    writeFileSync(
      held,
      [
        'externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod',
        ...Array.from({ length: 25 }, (_, i) => `held-${i},Pat,Lee,pat${i}@example.test,U000001,10,EMAIL`),
      ].join('\n'),
    );
    const input = {
      scheduleId: 'held',
      source: { location: held },
      // Held at the approval gate, so the campaign is still running when the slot is re-run.
      campaign: { ...campaign, options: { ...campaign.options, approvalThreshold: 1 } },
      slot,
    };
    const first = await stack.env.client.workflow.start(scheduledCampaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: 'scheduled-held-run-1',
      args: [input],
    });
    const child = stack.env.client.workflow.getHandle(campaignWorkflowId(campaignId));
    await waitForProgress(
      async () => {
        try {
          return await child.query(progressQuery);
        } catch {
          return { status: 'not started' } as never;
        }
      },
      (progress) => progress.status === 'awaiting-approval',
    );
    const sourceBefore = (await stack.store.get(sourceItemsKey(campaignId))).toString();
    const ledgerBefore = stack.simulator.ledger.size;
    const postsBefore = JSON.stringify(stack.simulator.stats().requests['POST /raas/v2/asyncOrders']);

    // The re-run reads another file for the same slot: nothing of it may reach the store or Tango.
    const other = path.join(dir, 'other.csv');
    writeFileSync(
      other,
      [
        'externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod',
        ...Array.from({ length: 25 }, (_, i) => `other-${i},Sam,Roe,sam${i}@example.test,U000001,10,EMAIL`),
      ].join('\n'),
    );
    const rerun = await stack.env.client.workflow.execute(scheduledCampaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: 'scheduled-held-run-2',
      args: [{ ...input, source: { location: other } }],
    });
    assert.deepEqual(rerun, { campaignId, outcome: 'already-ran' });
    assert.equal((await stack.store.get(sourceItemsKey(campaignId))).toString(), sourceBefore);
    assert.equal(stack.simulator.ledger.size, ledgerBefore);
    assert.equal(JSON.stringify(stack.simulator.stats().requests['POST /raas/v2/asyncOrders']), postsBefore);

    await child.executeUpdate(approveUpdate, { args: [{ approver: 'test' }] });
    const result = await first.result();
    assert.equal(result.outcome, 'ran');
    const delivered = stack.simulator.ledger
      .entries()
      .filter((entry) => entry.externalRefLineItemID.startsWith('other-'));
    assert.deepEqual(delivered, [], "the re-run's items were never sent");
    assert.deepEqual(stack.simulator.ledger.duplicates().lineItems, []);
  });

  it('derives the campaign id from the slot a real Schedule gives it', async () => {
    const handle = await stack.env.client.schedule.create({
      scheduleId: 'weekly-test',
      spec: { calendars: [{ dayOfWeek: 'MONDAY', hour: 9 }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      action: {
        type: 'startWorkflow',
        workflowType: scheduledCampaignWorkflow,
        workflowId: 'scheduled-campaign-weekly-test',
        taskQueue: stack.taskQueue,
        args: [{ scheduleId: 'weekly-test', source: { location: csv }, campaign }],
      },
    });
    try {
      await handle.trigger();
      let workflowId: string | undefined;
      for (let attempt = 0; attempt < 50 && !workflowId; attempt += 1) {
        workflowId = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!workflowId) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(workflowId, 'the schedule started a workflow');
      const result = (await stack.env.client.workflow.getHandle(workflowId).result()) as {
        campaignId: string;
        outcome: string;
      };
      assert.equal(result.outcome, 'ran');
      assert.match(result.campaignId, /^weekly-test-\d{8}T\d{4}Z$/);
    } finally {
      await handle.delete();
    }
  });

  it('names campaigns by schedule and slot, to the minute', () => {
    assert.equal(
      scheduledCampaignId('payout', new Date('2026-03-02T09:00:59.999Z')),
      'payout-20260302T0900Z',
    );
  });
});
