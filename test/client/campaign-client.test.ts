// The client library against a real stack (dev server, simulator, worker, filesystem store): starting
// with staged items, refusing a second start of the same id, paging failures out of the order books,
// corrections, skips, operator controls, errors that name what to fix, and weekly schedules.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import {
  CampaignAlreadyExistsError,
  CampaignClient,
  CampaignClientError,
  CampaignClosedError,
  CampaignNotFoundError,
  CampaignRejectedError,
  InvalidInputError,
  MAX_INLINE_ITEMS,
  ScheduleMissingError,
  TemporalUnavailableError,
  loadCampaignClientConfig,
} from '../../src/client/index.ts';
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
  chunkSize: 20,
  maxConcurrentOrders: 4,
};

const minimalCsv = path.resolve('test/fixtures/inputs/good/minimal.csv');

const base = {
  customerIdentifier: 'sim-customer',
  accountIdentifier: 'sim-account-1',
  campaign: 'Client test',
  options: fastOptions,
};

describe('CampaignClient on the dev server', () => {
  let stack: CampaignStack;
  let client: CampaignClient;
  before(async () => {
    stack = await startCampaignStack({ taskQueue: 'client-test' });
    await stack.startWorker();
    client = new CampaignClient({ client: stack.env.client, taskQueue: stack.taskQueue, store: stack.store });
  });
  after(async () => {
    await stack?.close();
  });

  it('stages a large item list in the store, runs it to the end, and never runs an id twice', async () => {
    const items = Array.from({ length: MAX_INLINE_ITEMS + 20 }, () => lineItem('ok'));
    const started = await client.startCampaign({ ...base, campaignId: 'client-large' }, { items });
    assert.equal(started.items, items.length);
    assert.ok(started.itemsKey?.startsWith('campaigns/client-large/input/'), started.itemsKey);
    assert.ok(await stack.store.exists(started.itemsKey!));

    await assert.rejects(
      client.startCampaign({ ...base, campaignId: 'client-large' }, { items: [lineItem('ok')] }),
      (error: unknown) =>
        error instanceof CampaignAlreadyExistsError && /never run twice/.test(error.message),
    );

    const result = await client.waitForCompletion('client-large');
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.delivered, items.length);
    assert.equal(stack.simulator.ledger.duplicates().lineItems.length, 0);

    const report = await client.getReport('client-large');
    assert.equal(report.items.length, items.length);
    assert.ok(report.items.every((row) => row.state === 'delivered'));
    const csv: Buffer[] = [];
    for await (const chunk of await client.reportStream('client-large', 'csv')) csv.push(chunk);
    assert.equal(Buffer.concat(csv).toString('utf8').trim().split('\n').length, items.length + 1);

    // Closed: operator actions say so; a finished campaign is still refused a second start.
    await assert.rejects(client.pauseCampaign('client-large'), CampaignClosedError);
    await assert.rejects(client.skipItems('client-large', ['x'], 'r'), CampaignClosedError);
    await assert.rejects(
      client.startCampaign({ ...base, campaignId: 'client-large' }, { items: [lineItem('ok')] }),
      CampaignAlreadyExistsError,
    );
  });

  it('refuses invalid input with field paths and writes nothing', async () => {
    await assert.rejects(
      client.startCampaign({ ...base, campaignId: 'bad id!' }, { items: [lineItem('ok')] }),
      (error: unknown) =>
        error instanceof InvalidInputError && error.issues.some((issue) => issue.path === 'campaignId'),
    );
    // Tango refuses a malformed sender email for the whole order: refused here, before anything starts.
    await assert.rejects(
      client.startCampaign(
        { ...base, campaignId: 'client-bad-sender', sender: { email: 'not-an-email' } },
        { items: [lineItem('ok')] },
      ),
      (error: unknown) =>
        error instanceof InvalidInputError &&
        error.issues.some(
          (issue) => issue.path === 'sender.email' && /not an email address/.test(issue.message),
        ),
    );
    await assert.rejects(client.describeCampaign('client-bad-sender'), CampaignNotFoundError);
    const good = Array.from({ length: MAX_INLINE_ITEMS + 5 }, () => lineItem('ok'));
    const broken = { ...lineItem('ok'), recipient: { email: 'nobody', firstName: 'A' } };
    const duplicate = { ...good[0]! };
    await assert.rejects(
      client.startCampaign(
        { ...base, campaignId: 'client-invalid' },
        { items: [...good, broken, duplicate] },
      ),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        const paths = error.issues.map((issue) => issue.path);
        assert.ok(
          paths.some((path) => path.startsWith(`items.${good.length}.recipient`)),
          paths.join(', '),
        );
        assert.ok(paths.includes(`items.${good.length + 1}.externalRefLineItemID`), paths.join(', '));
        return true;
      },
    );
    const left: string[] = [];
    for await (const key of stack.store.list('campaigns/client-invalid/')) left.push(key);
    assert.deepEqual(left, [], 'a refused start leaves nothing in the store');
    await assert.rejects(client.describeCampaign('client-invalid'), CampaignNotFoundError);

    // A source that breaks halfway (a malformed file) leaves nothing half-staged behind.
    async function* breaking() {
      for (const item of good)
        yield { ...item, externalRefLineItemID: `brk-${String(item.externalRefLineItemID)}` };
      throw new Error('row 107: unterminated quote');
    }
    await assert.rejects(
      client.startCampaign({ ...base, campaignId: 'client-broken-source' }, { items: breaking() }),
      /unterminated quote/,
    );
    for await (const key of stack.store.list('campaigns/client-broken-source/'))
      assert.fail(`left behind: ${key}`);

    // Options are checked by the workflow's own schema.
    await assert.rejects(
      client.startCampaign(
        { ...base, campaignId: 'client-invalid', options: { chunkSize: 0 } },
        { items: [lineItem('ok')] },
      ),
      (error: unknown) =>
        error instanceof InvalidInputError &&
        error.issues.some((issue) => issue.path === 'options.chunkSize'),
    );

    // Large lists need a store.
    const storeless = new CampaignClient({ client: stack.env.client, taskQueue: stack.taskQueue });
    await assert.rejects(
      storeless.startCampaign({ ...base, campaignId: 'client-storeless' }, { items: good }),
      (error: unknown) => error instanceof CampaignClientError && error.code === 'store-required',
    );
  });

  it('lists failures page by page, takes corrections and skips, and ends with every item settled', async () => {
    const items = [
      ...Array.from({ length: 10 }, () => lineItem('ok')),
      ...Array.from({ length: 5 }, () => lineItem('amount-too-high')),
    ];
    await client.startCampaign({ ...base, campaignId: 'client-failures', items: { inline: items } });
    await waitForProgress(
      () => client.getProgress('client-failures'),
      (progress) => progress.counts.awaitingCorrection === 5 && progress.counts.submitted === 0,
    );

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listFailures('client-failures', { limit: 2, ...(cursor ? { cursor } : {}) });
      assert.ok(page.items.length <= 2);
      assert.equal(page.totals.awaitingCorrection, 5);
      for (const failed of page.items) {
        assert.equal(failed.state, 'awaiting-correction');
        assert.equal(failed.failureClass, 'needs-correction');
        assert.ok(
          failed.errors.some((error) => error.code === 'AMOUNT_OUT_OF_RANGE'),
          JSON.stringify(failed),
        );
        assert.equal(failed.item.amount, 600);
        seen.push(failed.externalRefLineItemID);
      }
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(new Set(seen).size, 5);
    await client.pauseCampaign('client-failures', 'checking the list');
    await waitForProgress(
      () => client.getProgress('client-failures'),
      (progress) => progress.status === 'paused' && progress.statusReason === 'checking the list',
    );
    await client.resumeCampaign('client-failures');
    await waitForProgress(
      () => client.getProgress('client-failures'),
      (progress) => progress.status === 'running',
    );
    const onlyFunds = await client.listFailures('client-failures', { states: ['awaiting-funds'] });
    assert.equal(onlyFunds.items.length, 0);

    // Malformed corrections never reach the workflow; ones the workflow refuses say why.
    await assert.rejects(
      client.submitCorrections('client-failures', [
        { externalRefLineItemID: seen[0]!, amount: 50 },
        { externalRefLineItemID: seen[0]!, amount: 60 },
      ]),
      (error: unknown) =>
        error instanceof InvalidInputError && /1\.externalRefLineItemID/.test(error.message),
    );
    await assert.rejects(
      client.submitCorrections('client-failures', [{ externalRefLineItemID: 'no-such-item', amount: 5 }]),
      (error: unknown) => error instanceof CampaignRejectedError && /no-such-item/.test(error.message),
    );

    const corrected = await client.submitCorrections(
      'client-failures',
      seen.slice(0, 4).map((id) => ({ externalRefLineItemID: id, amount: 40 })),
    );
    assert.equal(corrected.accepted, 4);
    const skipped = await client.skipItems('client-failures', [seen[4]!], 'recipient left the company');
    assert.equal(skipped.accepted, 1);

    const result = await client.waitForCompletion('client-failures');
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.delivered, 14);
    assert.equal(result.counts.givenUp, 1);

    // After the end, failures come from the report.
    const closed = await client.listFailures('client-failures');
    assert.deepEqual(
      closed.items.map((failed) => failed.externalRefLineItemID),
      [seen[4]],
    );
    assert.match(closed.items[0]!.reason ?? '', /skipped by operator/);
  });

  it('lists given-up items of orders that already finished while others still wait', async () => {
    const items = [
      ...Array.from({ length: 4 }, () => lineItem('ok')),
      lineItem('blocked'),
      ...Array.from({ length: 4 }, () => lineItem('ok')),
      lineItem('amount-too-high'),
    ];
    await client.startCampaign({
      ...base,
      campaignId: 'client-mixed-orders',
      items: { inline: items },
      options: { ...fastOptions, chunkSize: 5 },
    });
    await waitForProgress(
      () => client.getProgress('client-mixed-orders'),
      (progress) => progress.orders.finished === 1 && progress.counts.awaitingCorrection === 1,
    );
    const listing = await client.listFailures('client-mixed-orders');
    const byId = new Map(listing.items.map((failed) => [failed.externalRefLineItemID, failed]));
    const blocked = byId.get(String(items[4]!.externalRefLineItemID));
    assert.equal(blocked?.state, 'given-up');
    assert.equal(blocked?.failureClass, 'permanent');
    assert.equal(blocked?.chunk, 0);
    assert.equal(byId.get(String(items[9]!.externalRefLineItemID))?.state, 'awaiting-correction');
    assert.equal(listing.items.length, 2);
    assert.equal(listing.totals.givenUp, 1);
    const waiting = await client.listFailures('client-mixed-orders', { states: ['awaiting-correction'] });
    assert.deepEqual(
      waiting.items.map((failed) => failed.externalRefLineItemID),
      [items[9]!.externalRefLineItemID],
    );
    await client.skipItems('client-mixed-orders', [String(items[9]!.externalRefLineItemID)], 'no budget');
    assert.equal((await client.waitForCompletion('client-mixed-orders')).counts.givenUp, 2);
  });

  it('pauses, resumes, approves, updates metadata, sets thresholds, and cancels', async () => {
    const items = Array.from({ length: 4 }, () => lineItem('ok'));
    await client.startCampaign({
      ...base,
      campaignId: 'client-approval',
      items: { inline: items },
      options: { ...fastOptions, approvalThreshold: 50 },
    });
    await waitForProgress(
      () => client.getProgress('client-approval'),
      (progress) => progress.status === 'awaiting-approval',
    );
    await assert.rejects(
      client.approveCampaign('client-approval', '  '),
      (error: unknown) => error instanceof InvalidInputError,
    );
    const threshold = await client.setFailureThreshold('client-approval', { percent: 50 });
    assert.deepEqual(threshold, { percent: 50 });
    await assert.rejects(
      client.setFailureThreshold('client-approval', { percent: 150 }),
      (error: unknown) => error instanceof InvalidInputError && /percent/.test(error.message),
    );
    const patched = await client.updateMetadata('client-approval', {
      notes: 'approved in the Tuesday meeting',
    });
    assert.equal(patched.ordersPatched, 0);
    assert.deepEqual(await client.approveCampaign('client-approval', 'Dana'), { approvedBy: 'Dana' });
    const result = await client.waitForCompletion('client-approval');
    assert.equal(result.status, 'completed');
    assert.equal(result.approvedBy, 'Dana');

    // Rejected: nothing is sent.
    await client.startCampaign({
      ...base,
      campaignId: 'client-rejected',
      items: { inline: items.map((item, index) => ({ ...item, externalRefLineItemID: `rej-${index}` })) },
      options: { ...fastOptions, approvalThreshold: 50 },
    });
    await waitForProgress(
      () => client.getProgress('client-rejected'),
      (progress) => progress.status === 'awaiting-approval',
    );
    await assert.rejects(
      client.rejectCampaign('client-rejected', 'Dana', ''),
      (error: unknown) => error instanceof InvalidInputError && /reason/.test(error.message),
    );
    await client.rejectCampaign('client-rejected', 'Dana', 'budget moved to Q3');
    const rejected = await client.waitForCompletion('client-rejected');
    assert.equal(rejected.status, 'rejected');
    assert.equal(rejected.counts.cancelled, 4);

    // Cancelled while waiting for approval: it writes its report and ends cancelled.
    await client.startCampaign({
      ...base,
      campaignId: 'client-cancelled',
      items: { inline: items.map((item, index) => ({ ...item, externalRefLineItemID: `can-${index}` })) },
      options: { ...fastOptions, approvalThreshold: 50 },
    });
    await waitForProgress(
      () => client.getProgress('client-cancelled'),
      (progress) => progress.status === 'awaiting-approval',
    );
    await client.cancelCampaign('client-cancelled');
    const cancelled = await client.waitForCompletion('client-cancelled');
    assert.equal(cancelled.status, 'cancelled');
    assert.equal((await client.getReport('client-cancelled')).items.length, 4);
  });

  it('says which campaign or schedule is unknown', async () => {
    await assert.rejects(client.getProgress('nobody-here'), CampaignNotFoundError);
    await assert.rejects(client.pauseCampaign('nobody-here'), CampaignNotFoundError);
    await assert.rejects(
      client.submitCorrections('nobody-here', [{ externalRefLineItemID: 'a', amount: 1 }]),
      CampaignNotFoundError,
    );
    await assert.rejects(client.describeSchedule('no-schedule'), ScheduleMissingError);
    await assert.rejects(client.triggerSchedule('no-schedule'), ScheduleMissingError);
  });

  it('manages weekly schedules that start scheduledCampaignWorkflow', async () => {
    await assert.rejects(
      client.createWeeklySchedule({
        scheduleId: 'weekly wellness',
        dayOfWeek: 'FUNDAY' as never,
        source: { location: '' },
        campaign: {
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
          sender: { email: 'call-me' },
        },
      }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        const paths = error.issues.map((issue) => issue.path);
        for (const path of ['dayOfWeek', 'scheduleId', 'source.location', 'campaign.sender.email'])
          assert.ok(paths.includes(path), `${path} missing from ${paths.join(', ')}`);
        return true;
      },
    );
    await client.createWeeklySchedule({
      scheduleId: 'weekly-wellness',
      dayOfWeek: 'MONDAY',
      hour: 8,
      minute: 30,
      timezone: 'Europe/Paris',
      paused: true,
      note: 'wellness payout',
      source: { location: minimalCsv },
      campaign: {
        customerIdentifier: 'sim-customer',
        accountIdentifier: 'sim-account-1',
        campaign: 'Wellness',
      },
    });
    await assert.rejects(
      client.createWeeklySchedule({
        scheduleId: 'weekly-wellness',
        dayOfWeek: 'MONDAY',
        source: { location: '/data/wellness.csv' },
        campaign: { customerIdentifier: 'sim-customer', accountIdentifier: 'sim-account-1' },
      }),
      (error: unknown) => error instanceof CampaignClientError && error.code === 'already-exists',
    );
    const described = await client.describeSchedule('weekly-wellness');
    assert.equal(described.paused, true);
    assert.equal(described.workflowType, 'scheduledCampaignWorkflow');
    assert.equal(described.timezone, 'Europe/Paris');
    assert.deepEqual((described.input as { source: unknown }).source, { location: minimalCsv });
    // A slot that fires while the previous campaign still waits (corrections, funds) runs after it.
    const policies = (await stack.env.client.schedule.getHandle('weekly-wellness').describe()).policies;
    assert.equal(policies.overlap, ScheduleOverlapPolicy.BUFFER_ONE);

    await client.unpauseSchedule('weekly-wellness');
    const next = (await client.describeSchedule('weekly-wellness')).nextActionTimes[0];
    assert.ok(next, 'an unpaused schedule has a next run');
    assert.equal(next.getUTCDay() === 1 || next.getUTCDay() === 0, true, next.toISOString());
    await client.pauseSchedule('weekly-wellness');
    assert.equal((await client.describeSchedule('weekly-wellness')).paused, true);

    await client.triggerSchedule('weekly-wellness');
    const deadline = Date.now() + 15_000;
    let runs = 0;
    while (Date.now() < deadline && runs === 0) {
      runs = (await client.describeSchedule('weekly-wellness')).recentActions.length;
      if (runs === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(runs, 1, 'trigger started one run');

    // Eventually consistent listing (visibility).
    let listed = false;
    for (let attempt = 0; attempt < 50 && !listed; attempt += 1) {
      listed = (await client.listSchedules()).some((schedule) => schedule.scheduleId === 'weekly-wellness');
      if (!listed) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(listed, 'the schedule is listed');
    await client.deleteSchedule('weekly-wellness');
    await assert.rejects(client.describeSchedule('weekly-wellness'), ScheduleMissingError);
  });

  it('encrypts what it sends when CODEC_KEYS is set (recipients are personal data)', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const connected = await CampaignClient.connect({
      TEMPORAL_ADDRESS: stack.env.address,
      // No worker listens here: the test is about what the client puts into history.
      TEMPORAL_TASK_QUEUE: 'client-codec-nobody',
      CAMPAIGN_STORE: `file://${stack.storeDir}`,
      CODEC_KEYS: `k1:${key}`,
    });
    try {
      const item = {
        ...lineItem('ok'),
        recipient: { firstName: 'Secret', email: 'secret.person@example.test' },
      };
      await connected.startCampaign({ ...base, campaignId: 'client-codec', items: { inline: [item] } });
      const history = await stack.env.client.workflow.getHandle('campaign-client-codec').fetchHistory();
      const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      assert.ok(payload?.data, 'the start event has an input payload');
      assert.equal(Buffer.from(payload.metadata!.encoding!).toString(), 'binary/encrypted');
      assert.ok(
        !Buffer.from(payload.data).toString('latin1').includes('secret.person'),
        'no plaintext email',
      );
      await stack.env.client.workflow.getHandle('campaign-client-codec').terminate('codec test done');
    } finally {
      await connected.close();
    }
  });

  it('reports an unreachable Temporal as such', async () => {
    const config = loadCampaignClientConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(config.connection.address, '127.0.0.1:1');
    assert.equal(config.taskQueue, 'tango-campaigns');
    await assert.rejects(
      CampaignClient.connect({ TEMPORAL_ADDRESS: '127.0.0.1:1' }),
      (error: unknown) => error instanceof TemporalUnavailableError && /127\.0\.0\.1:1/.test(error.message),
    );
  });
});
