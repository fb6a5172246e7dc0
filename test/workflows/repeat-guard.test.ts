// The repeat-recipient guard and the spend limits across campaigns, on the dev server with a real
// worker against the simulator: a campaign repeating recipients of a finished one is refused with
// nothing sent (the simulator's ledger holds no order of it) unless it allows repeats, and a campaign
// whose total would cross the account's spend limit waits for approve.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CampaignClient, RepeatRecipientsError } from '../../src/client/index.ts';
import { main } from '../../src/cli/main.ts';
import { campaignRef } from '../../src/campaign/ids.ts';
import { campaignWorkflowId, pauseSignal, progressQuery, resumeSignal } from '../../src/definitions.ts';
import { DEV_DELIVERIES_INDEX_KEY } from '../../src/deliveries/key.ts';
import { DEFAULT_ACCOUNTS } from '../../src/simulator/defaults.ts';
import { readRegistryEntry } from '../../src/store/campaign-registry.ts';
import { campaignWorkflow, scheduledCampaignWorkflow } from '../../src/workflows/index.ts';
import {
  type CampaignStack,
  assertCampaignInvariants,
  lineItem,
  startCampaignStack,
  waitForProgress,
} from '../helpers/campaign-stack.ts';

const fastOptions = { pollInitial: '300ms', pollMax: '1s', resubmitDelay: '100ms', chunkSize: 25 };
// The key the CLI and the client use against the simulator (TANGO_BASE_URL on loopback).
const key = Buffer.from(DEV_DELIVERIES_INDEX_KEY);
const LIMITED = 'sim-account-limited';
const RECHECKED = 'sim-account-rechecked';

describe('repeat-recipient guard and spend limits', () => {
  let stack: CampaignStack;
  let client: CampaignClient;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'repeat-guard-'));
    stack = await startCampaignStack({
      taskQueue: 'repeat-guard',
      simulator: {
        accounts: [
          ...DEFAULT_ACCOUNTS,
          { customerIdentifier: 'sim-customer', accountIdentifier: LIMITED, balance: 1_000_000 },
          { customerIdentifier: 'sim-customer', accountIdentifier: RECHECKED, balance: 1_000_000 },
        ],
      },
    });
    await stack.startWorker({
      deliveries: {
        key,
        spendLimits: { accounts: { [LIMITED]: { week: 2000 }, [RECHECKED]: { month: 1000 } } },
      },
    });
    client = new CampaignClient({
      client: stack.env.client,
      taskQueue: stack.taskQueue,
      store: stack.store,
      deliveriesIndexKey: key,
    });
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = (accountIdentifier = 'sim-account-1') => ({
    customerIdentifier: 'sim-customer',
    accountIdentifier,
    requestedBy: 'alice',
    options: fastOptions,
  });
  const ordersOf = (campaignId: string) =>
    stack.simulator.ledger
      .entries()
      .filter((entry) => entry.externalRefID.startsWith(`${campaignRef(campaignId)}-`));
  /** The same recipients, reward and amount under new line-item ids (another export of the same list). */
  const again = (items: Record<string, unknown>[], prefix: string): Record<string, unknown>[] =>
    items.map((item, i) => ({
      ...item,
      recipient: { ...(item.recipient as object) },
      externalRefLineItemID: `${prefix}-${i}`,
    }));

  it('refuses a campaign that repeats 50 recipients of a finished one, sending nothing, and runs it with allowRepeats', async () => {
    const first = Array.from({ length: 60 }, () => lineItem('ok'));
    await client.startCampaign({ ...base(), campaignId: 'repeat-first' }, { items: first });
    const done = await client.waitForCompletion('repeat-first');
    assert.equal(done.status, 'completed');
    assert.equal(done.counts.delivered, 60);

    // 50 of them again, one with its email written differently, plus 10 new recipients.
    const repeated = again(first.slice(0, 50), 'second');
    const shouted = repeated[7]!.recipient as { email: string };
    shouted.email = `  ${shouted.email.toUpperCase()} `;
    const second = [...Array.from({ length: 10 }, () => lineItem('ok')), ...repeated];
    const postsBefore = stack.simulator.ledger.size;
    await assert.rejects(
      client.startCampaign({ ...base(), campaignId: 'repeat-second' }, { items: second }),
      (error: unknown) => {
        assert.ok(error instanceof RepeatRecipientsError, String(error));
        assert.equal(error.total, 50);
        assert.deepEqual(
          error.repeats.map((repeat) => repeat.position),
          Array.from({ length: 50 }, (_, i) => i + 10),
        );
        assert.deepEqual(
          new Set(error.repeats.map((repeat) => repeat.earlierCampaignId)),
          new Set(['repeat-first']),
        );
        assert.equal(error.repeats[0]!.externalRefLineItemID, 'second-0');
        return true;
      },
    );
    assert.deepEqual(ordersOf('repeat-second'), [], 'nothing sent');
    assert.equal(stack.simulator.ledger.size, postsBefore);
    assert.equal(await readRegistryEntry(stack.store, 'repeat-second'), undefined, 'the id is free again');
    await assert.rejects(client.describeCampaign('repeat-second'), /not found|no campaign/i);

    // The same campaign started past the client (e.g. `temporal workflow start`): the workflow refuses it.
    const direct = await stack.env.client.workflow.start(campaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: campaignWorkflowId('repeat-direct'),
      args: [{ ...base(), campaignId: 'repeat-direct', items: { inline: again(second, 'direct') } }],
    });
    const refused = await direct.result();
    assert.equal(refused.status, 'refused');
    assert.match(
      refused.statusReason ?? '',
      /^50 recipient\(s\) already rewarded .* within 30d .*repeat-first/,
    );
    assert.equal(refused.counts.cancelled, 60);
    assert.deepEqual(ordersOf('repeat-direct'), [], 'nothing sent');

    // A window shorter than the time since the first campaign: no repeats.
    await client.startCampaign(
      { ...base(), campaignId: 'repeat-window', options: { ...fastOptions, repeatWindow: '1ms' } },
      { items: again(first.slice(50), 'window') },
    );
    assert.equal((await client.waitForCompletion('repeat-window')).status, 'completed');

    // Allowed: it runs, and every one of the 60 is delivered once more, as asked.
    await client.startCampaign(
      { ...base(), campaignId: 'repeat-allowed', options: { ...fastOptions, allowRepeats: true } },
      { items: second },
    );
    const allowed = await client.waitForCompletion('repeat-allowed');
    assert.equal(allowed.status, 'completed');
    assert.equal(allowed.counts.delivered, 60);
    assert.equal(ordersOf('repeat-allowed').length, 60);
    await assertCampaignInvariants(
      stack,
      'repeat-allowed',
      second.map((item) => String(item.externalRefLineItemID)),
    );
  });

  it('start refuses repeats from the CLI by file and row (exit 1), validate warns of them, --allow-repeats runs it', async () => {
    const items = Array.from({ length: 3 }, () => lineItem('ok'));
    const csv = (rows: Record<string, unknown>[]) =>
      [
        'externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod',
        ...rows.map((item) => {
          const recipient = item.recipient as { firstName: string; lastName: string; email: string };
          return [
            item.externalRefLineItemID,
            recipient.firstName,
            recipient.lastName,
            recipient.email,
            item.utid,
            item.amount,
            item.deliveryMethod,
          ].join(',');
        }),
      ].join('\n') + '\n';
    const firstFile = path.join(dir, 'first.csv');
    writeFileSync(firstFile, csv(items));
    writeFileSync(path.join(dir, 'options.json'), JSON.stringify(fastOptions));
    const env = {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      CAMPAIGN_STORE: `file://${stack.storeDir}`,
      TANGO_BASE_URL: stack.simulator.baseUrl,
    };
    const run = async (argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await main(argv, {
        stdout: { write: (text: string) => (stdout += text), isTTY: false },
        stderr: { write: (text: string) => (stderr += text) },
        env,
        cwd: dir,
      });
      return { code, stdout, stderr };
    };
    const common = ['--customer', 'sim-customer', '--account', 'sim-account-1', '--options', 'options.json'];
    const first = await run([
      'start',
      'first.csv',
      ...common,
      '--campaign',
      'CLI first',
      '--id',
      'cli-first',
      '--wait',
    ]);
    assert.equal(first.code, 0, first.stderr);

    // The second export: a new recipient on row 2, the first file's second recipient on row 3.
    const secondFile = path.join(dir, 'second.csv');
    writeFileSync(secondFile, csv([lineItem('ok'), ...again([items[1]!], 'cli-again')]));
    const validate = await run(['validate', 'second.csv', '--account', 'sim-account-1']);
    assert.equal(validate.code, 0, 'repeats are warnings for validate');
    assert.match(
      validate.stdout,
      /WARNING: .*second\.csv, row 3 \(cli-again-0\): rewarded by campaign cli-first on \d{4}-\d\d-\d\d/,
    );
    assert.match(validate.stdout, /^OK: 2 line item/m);

    const refused = await run([
      'start',
      'second.csv',
      ...common,
      '--campaign',
      'CLI second',
      '--id',
      'cli-second',
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /second\.csv, row 3 \(cli-again-0\): rewarded by campaign cli-first on /);
    assert.match(refused.stderr, /REFUSED: 1 recipient\(s\) .*Nothing was sent.*--allow-repeats/);
    assert.deepEqual(ordersOf('cli-second'), []);
    assert.equal((await run(['status', 'cli-second'])).code, 3, 'nothing was started');

    const allowed = await run([
      'start',
      'second.csv',
      ...common,
      '--campaign',
      'CLI second',
      '--id',
      'cli-second',
      '--allow-repeats',
      '--wait',
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(ordersOf('cli-second').length, 2);
  });

  it('holds a campaign that would cross the account’s weekly spend limit until approved, saying how much is used', async () => {
    // 60 x 25 = 1500 of the 2000 a week: within the limit, it runs at once.
    const first = Array.from({ length: 60 }, () => lineItem('ok'));
    await client.startCampaign({ ...base(LIMITED), campaignId: 'spend-first' }, { items: first });
    assert.equal((await client.waitForCompletion('spend-first')).status, 'completed');

    // 40 x 25 = 1000 more would make 2500: it waits for approve, with nothing sent.
    const second = Array.from({ length: 40 }, () => lineItem('ok'));
    await client.startCampaign({ ...base(LIMITED), campaignId: 'spend-second' }, { items: second });
    const handle = stack.env.client.workflow.getHandle(campaignWorkflowId('spend-second'));
    const waiting = await waitForProgress(
      () => handle.query(progressQuery),
      (progress) => progress.status === 'awaiting-approval',
    );
    assert.match(
      waiting.statusReason ?? '',
      /^spend limit: used 1500 of the week limit 2000 \(75%\); this campaign's 1000 would make 2500: approve/,
    );
    assert.deepEqual(ordersOf('spend-second'), [], 'nothing sent while it waits');
    await client.approveCampaign('spend-second', 'bob');
    const result = await client.waitForCompletion('spend-second');
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.delivered, 40);
    assert.equal(ordersOf('spend-second').length, 40);
  });

  it('checks the limit again before an order: spending by another campaign meanwhile makes it wait', async () => {
    // 20 x 25 = 500 of 1000 a month passes the first check; it is paused before its order.
    const paused = await stack.env.client.workflow.signalWithStart(campaignWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: campaignWorkflowId('recheck-paused'),
      args: [
        {
          ...base(RECHECKED),
          campaignId: 'recheck-paused',
          items: { inline: Array.from({ length: 20 }, () => lineItem('ok')) },
        },
      ],
      signal: pauseSignal,
      signalArgs: [{ reason: 'held' }],
    });
    await waitForProgress(
      () => paused.query(progressQuery),
      (progress) => progress.status === 'paused',
    );
    // Meanwhile another campaign spends 750 (500 + 750 = 1250 would cross).
    await client.startCampaign(
      { ...base(RECHECKED), campaignId: 'recheck-other' },
      { items: Array.from({ length: 30 }, () => lineItem('ok')) },
    );
    assert.equal((await client.waitForCompletion('recheck-other')).status, 'completed');
    await paused.signal(resumeSignal);
    const waiting = await waitForProgress(
      () => paused.query(progressQuery),
      (progress) => progress.status === 'awaiting-approval',
    );
    assert.match(
      waiting.statusReason ?? '',
      /^spend limit: used 750 of the month limit 1000 \(75%\); this campaign's 500 would make 1250/,
    );
    assert.deepEqual(ordersOf('recheck-paused'), [], 'its order waits');
    await client.approveCampaign('recheck-paused', 'bob');
    const result = await paused.result();
    assert.equal(result.status, 'completed');
    assert.equal(ordersOf('recheck-paused').length, 20);
  });

  it('refuses a scheduled run that repeats the previous run, unless the schedule allows repeats', async () => {
    const source = path.join(dir, 'weekly.csv');
    const rows = Array.from(
      { length: 5 },
      (_, i) => `weekly-${i},Pat,Lee ${i},weekly${i}@example.test,U000001,10,EMAIL`,
    );
    writeFileSync(
      source,
      ['externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod', ...rows].join('\n'),
    );
    const campaign = {
      customerIdentifier: 'sim-customer',
      accountIdentifier: 'sim-account-1',
      options: fastOptions,
    };
    const runSlot = (slot: string, options: Record<string, unknown> = fastOptions) =>
      stack.env.client.workflow.execute(scheduledCampaignWorkflow, {
        taskQueue: stack.taskQueue,
        workflowId: `weekly-run-${slot}`,
        args: [
          { scheduleId: 'weekly', source: { location: source }, campaign: { ...campaign, options }, slot },
        ],
      });
    const first = await runSlot('2026-11-16T09:00:00Z');
    assert.equal(first.outcome === 'ran' && first.result.status, 'completed');
    const second = await runSlot('2026-11-23T09:00:00Z');
    assert.equal(second.outcome === 'ran' && second.result.status, 'refused');
    assert.deepEqual(ordersOf(second.campaignId), [], 'nothing sent');
    const third = await runSlot('2026-11-30T09:00:00Z', { ...fastOptions, allowRepeats: true });
    assert.equal(third.outcome === 'ran' && third.result.status, 'completed');
    assert.equal(ordersOf(third.campaignId).length, 5);
  });
});
