// The Temporal CLI, a client nobody here wrote, drives a campaign by its documented names: the
// `progress` query, the `submitCorrections` update, and `temporal schedule trigger`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { campaignWorkflowId } from '../../src/definitions.ts';
import { putJsonLines } from '../../src/store/json.ts';
import { campaignWorkflow, scheduledCampaignWorkflow } from '../../src/workflows/index.ts';
import type { CampaignProgress } from '../../src/workflows/types.ts';
import { type CampaignStack, lineItem, startCampaignStack } from '../helpers/campaign-stack.ts';
import { temporalServerPaths } from '../helpers/temporal.ts';

const execFileAsync = promisify(execFile);

describe('the temporal CLI drives a campaign', () => {
  let stack: CampaignStack;
  let dir: string;
  const temporal = async (...args: string[]) => {
    const { stdout } = await execFileAsync(
      temporalServerPaths().cli,
      [...args, '--address', stack.env.address],
      {
        timeout: 30_000,
      },
    );
    return stdout;
  };
  before(async () => {
    stack = await startCampaignStack({ taskQueue: 'temporal-cli' });
    await stack.startWorker();
    dir = mkdtempSync(path.join(tmpdir(), 'temporal-cli-'));
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queries progress and submits corrections with `temporal workflow`', async () => {
    const items = [...Array.from({ length: 8 }, () => lineItem('ok')), lineItem('amount-too-high')];
    const fix = String(items[8]!.externalRefLineItemID);
    await putJsonLines(stack.store, 'inputs/cli.jsonl', items);
    const handle = await stack.env.client.workflow.start(campaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: campaignWorkflowId('cli-driven'),
      args: [
        {
          campaignId: 'cli-driven',
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
          items: { storeKey: 'inputs/cli.jsonl' },
          options: { pollInitial: '200ms', pollMax: '1s', resubmitDelay: '100ms' },
        },
      ],
    });
    let progress: CampaignProgress | undefined;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const out = await temporal(
        'workflow',
        'query',
        '--workflow-id',
        handle.workflowId,
        '--type',
        'progress',
        '-o',
        'json',
      );
      progress = (JSON.parse(out) as { queryResult: CampaignProgress[] }).queryResult[0];
      if (progress?.counts.awaitingCorrection === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(progress?.counts.awaitingCorrection, 1, JSON.stringify(progress));

    const out = await temporal(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      handle.workflowId,
      '--name',
      'submitCorrections',
      '--input',
      JSON.stringify([{ externalRefLineItemID: fix, amount: 45 }]),
      '-o',
      'json',
    );
    assert.match(out, /"accepted":\s*1/);
    const result = await handle.result();
    assert.equal(result.counts.delivered, 9);
    assert.equal(stack.simulator.ledger.size, 9);
  });

  it('triggers a schedule with `temporal schedule trigger`', async () => {
    const csv = path.join(dir, 'weekly.csv');
    writeFileSync(
      csv,
      'externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod\n' +
        'weekly-1,Ann,Lee,ann@example.test,U000001,5,EMAIL\nweekly-2,Bo,Lee,bo@example.test,U000001,5,EMAIL\n',
    );
    const schedule = await stack.env.client.schedule.create({
      scheduleId: 'cli-weekly',
      spec: { calendars: [{ dayOfWeek: 'FRIDAY', hour: 17 }] },
      action: {
        type: 'startWorkflow',
        workflowType: scheduledCampaignWorkflow,
        workflowId: 'scheduled-campaign-cli-weekly',
        taskQueue: stack.taskQueue,
        args: [
          {
            scheduleId: 'cli-weekly',
            source: { location: csv },
            campaign: {
              customerIdentifier: 'sim-customer',
              accountIdentifier: 'sim-account-1',
              options: { pollInitial: '200ms' },
            },
          },
        ],
      },
    });
    try {
      await temporal('schedule', 'trigger', '--schedule-id', 'cli-weekly');
      let workflowId: string | undefined;
      for (let attempt = 0; attempt < 50 && !workflowId; attempt += 1) {
        workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!workflowId) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(workflowId);
      const result = (await stack.env.client.workflow.getHandle(workflowId).result()) as { outcome: string };
      assert.equal(result.outcome, 'ran');
    } finally {
      await schedule.delete();
    }
  });
});
