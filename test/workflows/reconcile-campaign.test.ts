// `reconcile` end to end on the dev server with a real worker against the simulator: a clean campaign
// of several rounds agrees with Tango (exit 0); a delivered item Tango reverses after the campaign
// ended is named (exit 1); a report that says given up for an item Tango delivered is caught; Tango
// is only read, on the Tango task queue, and nothing is ever sent again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { CampaignClient, CampaignNotFoundError } from '../../src/client/index.ts';
import { tangoTaskQueue } from '../../src/definitions.ts';
import { getJson, putJson } from '../../src/store/json.ts';
import { reportJsonKey } from '../../src/store/keys.ts';
import type { CampaignReconciliation } from '../../src/client/reconcile.ts';
import {
  type CampaignStack,
  assertCampaignInvariants,
  startCampaignStack,
} from '../helpers/campaign-stack.ts';

const fastOptions = {
  pollInitial: '300ms',
  pollMax: '1s',
  resubmitDelay: '100ms',
  correctionWindow: '1h',
  chunkSize: 4,
  maxConcurrentOrders: 4,
};

/** Items of their own (`<prefix>-<n>`); every third fails once (transient) and is sent in round 1. */
function items(prefix: string, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => {
    const id = `${prefix}-${index}`;
    const transient = index % 3 === 2;
    return {
      externalRefLineItemID: id,
      recipient: {
        firstName: 'Audit',
        lastName: `Recipient ${index}`,
        email: `${id}@${transient ? 'transient.test' : 'example.test'}`,
      },
      utid: 'U000001',
      amount: 10,
      deliveryMethod: 'EMAIL',
    };
  });
}

interface ReportFile {
  items: { externalRefLineItemID: string; state: string; externalRefID: string; reason: string }[];
}

describe('reconcile a campaign against Tango', () => {
  let stack: CampaignStack;
  let client: CampaignClient;
  let env: Record<string, string>;

  const cli = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env,
      cwd: process.cwd(),
    });
    return { code, stdout, stderr };
  };

  async function runCampaign(campaignId: string, count: number): Promise<ReportFile> {
    const list = items(campaignId, count);
    await client.startCampaign(
      {
        campaignId,
        customerIdentifier: 'sim-customer',
        accountIdentifier: 'sim-account-1',
        campaign: 'Audit',
        options: fastOptions,
      },
      { items: list },
    );
    const result = await client.waitForCompletion(campaignId);
    assert.equal(result.status, 'completed');
    await assertCampaignInvariants(
      stack,
      campaignId,
      list.map((item) => String(item.externalRefLineItemID)),
    );
    return (await getJson(stack.store, reportJsonKey(campaignId))) as ReportFile;
  }

  before(async () => {
    stack = await startCampaignStack({ taskQueue: 'reconcile-test' });
    await stack.startWorker();
    client = new CampaignClient({ client: stack.env.client, taskQueue: stack.taskQueue, store: stack.store });
    env = {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      CAMPAIGN_STORE: `file://${stack.storeDir}`,
    };
  });
  after(async () => {
    await stack?.close();
  });

  it('a clean campaign agrees (exit 0); a reversal after it ended is named (exit 1); nothing is sent', async () => {
    const report = await runCampaign('audit-clean', 10);
    const rounds = new Set(report.items.map((row) => row.externalRefID));
    assert.ok(
      [...rounds].some((ref) => /-r1$/.test(ref)),
      `a round 1 order exists: ${[...rounds].join(', ')}`,
    );

    const clean = await cli(['reconcile', 'audit-clean']);
    assert.equal(clean.code, 0, clean.stderr + clean.stdout);
    assert.match(clean.stdout, /10 item\(s\), 6 order\(s\)/);
    assert.match(clean.stdout, /All items agree with Tango/);

    // Tango turns a delivered item of a round 1 order FAILED after the campaign ended.
    const victim = report.items.find((row) => row.state === 'delivered' && /-r1$/.test(row.externalRefID))!;
    const ledgerBefore = stack.simulator.ledger.size;
    const posts = () =>
      Object.entries(stack.simulator.stats().requests)
        .filter(([route]) => route.startsWith('POST') || route.startsWith('PATCH'))
        .reduce((sum, [, outcomes]) => sum + Object.values(outcomes).reduce((a, b) => a + b, 0), 0);
    const postsBefore = posts();
    const ordersBefore = stack.simulator.stats().orders.count;
    stack.simulator.reverseLineItem({
      externalRefID: victim.externalRefID,
      externalRefLineItemID: victim.externalRefLineItemID,
    });

    const reversed = await cli(['reconcile', 'audit-clean']);
    assert.equal(reversed.code, 1, reversed.stderr + reversed.stdout);
    assert.match(
      reversed.stdout,
      new RegExp(
        `${victim.externalRefLineItemID}: report delivered, Tango FAILED \\(REVERSED: reward reversed after delivery\\) in order ${victim.externalRefID}`,
      ),
    );
    assert.match(reversed.stdout, /1 disagreement\(s\)/);

    const listed = await cli(['reconcile', 'audit-clean', '--json']);
    assert.equal(listed.code, 1);
    const outcome = JSON.parse(listed.stdout) as CampaignReconciliation & { ok: boolean };
    assert.equal(outcome.ok, false);
    assert.deepEqual(
      outcome.disagreements.map((item) => [
        item.kind,
        item.externalRefLineItemID,
        item.reportState,
        item.tangoStatus,
      ]),
      [['not-delivered', victim.externalRefLineItemID, 'delivered', 'FAILED']],
    );

    // Reads only: the ledger did not grow, no order was created, no POST or PATCH was made.
    assert.equal(stack.simulator.ledger.size, ledgerBefore);
    assert.equal(stack.simulator.stats().orders.count, ordersBefore);
    assert.equal(posts(), postsBefore);

    // Every Tango read ran on the Tango task queue (the request budget), one page per activity.
    const history = await stack.env.client.workflow
      .getHandle(`reconcile-audit-clean-${outcome.reconcileId}`)
      .fetchHistory();
    const reads = (history.events ?? []).filter(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'readReconcilePage',
    );
    assert.equal(reads.length, outcome.pages);
    assert.equal(outcome.pages, 6);
    for (const event of reads)
      assert.equal(
        event.activityTaskScheduledEventAttributes?.taskQueue?.name,
        tangoTaskQueue(stack.taskQueue),
      );
  });

  it('finds items reported given up or cancelled that Tango holds COMPLETE, and unknown campaigns', async () => {
    const report = await runCampaign('audit-report', 4);
    // A report that lost track: it says given up and cancelled where Tango delivered.
    const [first, second] = report.items;
    const tampered = {
      ...report,
      items: report.items.map((row) =>
        row === first
          ? { ...row, state: 'given-up', reason: 'fate unknown' }
          : row === second
            ? { ...row, state: 'cancelled', reason: 'never sent', rounds: 0 }
            : row,
      ),
    };
    await putJson(stack.store, reportJsonKey('audit-report'), tampered);

    const outcome = await client.reconcileCampaign('audit-report');
    assert.equal(outcome.agreed, false);
    assert.deepEqual(
      outcome.disagreements
        .map((item) => [item.externalRefLineItemID, item.kind, item.reportState, item.tangoStatus])
        .sort(),
      [
        [first!.externalRefLineItemID, 'delivered-by-tango', 'given-up', 'COMPLETE'],
        [second!.externalRefLineItemID, 'delivered-by-tango', 'cancelled', 'COMPLETE'],
      ].sort(),
    );

    await assert.rejects(client.reconcileCampaign('no-such-campaign'), CampaignNotFoundError);
    const missing = await cli(['reconcile', 'no-such-campaign']);
    assert.equal(missing.code, 3, missing.stderr);
  });
});
