// Scheduled campaigns: a Temporal Schedule starts scheduledCampaignWorkflow, which loads the items
// from a CSV file and runs the campaign for its slot; running the same slot again sends nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import {
  scheduledCampaignId,
  scheduledCampaignWorkflow,
} from '../../src/workflows/scheduled-campaign-workflow.ts';
import { type CampaignStack, startCampaignStack } from '../helpers/campaign-stack.ts';

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
