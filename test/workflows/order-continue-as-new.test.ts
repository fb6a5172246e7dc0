// The order workflow across continue-as-new, on a dev server told to suggest it after 20 events, with
// scripted fakes: progress sequences keep increasing for the campaign, and an order that waits (for
// Tango, for funds, for items Tango holds open) continues as new and picks up where it was.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { OrderInput } from '../../src/workflows/order-workflow.ts';
import { ScriptedOrder, counts, settled } from '../helpers/scripted-order.ts';
import { createLocalEnv, runWithTangoQueue } from '../helpers/temporal.ts';
import { orderWorkflow, progressRecorderWorkflow } from './progress-recorder.ts';

const workflowsPath = fileURLToPath(new URL('./progress-recorder.ts', import.meta.url));

const baseInput: OrderInput = {
  campaignId: 'can',
  campaignRef: 'can',
  chunk: 0,
  items: 10,
  customerIdentifier: 'c',
  accountIdentifier: 'account-1',
  useSearchAttributes: false,
  options: {
    maxRounds: 5,
    correctionWindow: '1h',
    pollInitial: '20ms',
    pollMax: '40ms',
    overdueAfter: '1h',
    resubmitDelay: '20ms',
    fundsCheckInterval: '20ms',
  },
};

interface Run {
  /** Activity types in the order they were scheduled. */
  activities: string[];
  continuedAsNew: boolean;
}

/** Every run of a workflow, first to last, following its continue-as-new chain. */
async function runsOf(client: Client, workflowId: string, firstRunId: string): Promise<Run[]> {
  const runs: Run[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>> =
      await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const activities = events.flatMap((event) => {
      const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
      return name ? [name] : [];
    });
    const continued: (typeof events)[number] | undefined = events.find(
      (event) => event.workflowExecutionContinuedAsNewEventAttributes,
    );
    runs.push({ activities, continuedAsNew: continued !== undefined });
    runId = continued?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

describe('order workflow across continue-as-new (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let chunk = 0;
  let bundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
  before(async () => {
    bundle = await bundleWorkflowCode({ workflowsPath, logger: quiet });
    env = await createLocalEnv({
      extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=20'],
    });
  });
  after(async () => {
    await env?.teardown();
  });

  async function run<T>(fake: ScriptedOrder, body: () => Promise<T>): Promise<T> {
    return runWithTangoQueue(
      { connection: env.nativeConnection, taskQueue: 'orders-can', workflowBundle: bundle, activities: fake },
      body,
    );
  }

  async function runOrder(fake: ScriptedOrder, patch: Partial<OrderInput> = {}) {
    chunk += 1;
    const workflowId = `can-${chunk}`;
    const result = await run(fake, async () => {
      const handle = await env.client.workflow.start(orderWorkflow, {
        taskQueue: 'orders-can',
        workflowId,
        args: [{ ...baseInput, chunk, ...patch }],
        workflowExecutionTimeout: '2 minutes',
      });
      return { result: await handle.result(), firstRunId: handle.firstExecutionRunId };
    });
    return { ...result, runs: await runsOf(env.client, workflowId, result.firstRunId) };
  }

  it("keeps the order's progress sequence increasing across continue-as-new", async () => {
    const fake = new ScriptedOrder();
    fake.settleResults = [settled({ delivered: 7, queued: 3 })];
    chunk += 1;
    const reports = await run(fake, async () => {
      const parent = await env.client.workflow.start(progressRecorderWorkflow, {
        taskQueue: 'orders-can',
        workflowId: `can-parent-${chunk}`,
        args: ['1 minute'],
      });
      const order = await env.client.workflow.start(orderWorkflow, {
        taskQueue: 'orders-can',
        workflowId: `can-${chunk}`,
        args: [{ ...baseInput, chunk, parentWorkflowId: parent.workflowId }],
        workflowExecutionTimeout: '2 minutes',
      });
      assert.equal((await order.result()).counts.delivered, 10);
      const runs = await runsOf(env.client, order.workflowId, order.firstExecutionRunId);
      assert.ok(runs.length > 1, `the order continued as new (${runs.length} run(s))`);
      return parent.result();
    });
    const sequences = reports.map((report) => report.sequence ?? 0);
    assert.ok(
      sequences.every((sequence, i) => i === 0 || sequence > sequences[i - 1]!),
      `sequences received: ${sequences.join(', ')}`,
    );
    assert.equal(reports.at(-1)?.done, true);
  });

  it('continues as new while awaiting Tango, then settles the same round (no second POST)', async () => {
    const fake = new ScriptedOrder();
    fake.finalFromCall = 15;
    const { result, runs } = await runOrder(fake);
    assert.equal(result.counts.delivered, 10);
    assert.equal(fake.attempts.submit, 1, 'one POST');
    assert.equal(fake.attempts.settle, 1, 'settled once');
    // A poll is a settle step that finds the order still processing; the last one settles it.
    const waited = runs.find(
      (run) => run.continuedAsNew && run.activities.length > 0 && run.activities.at(-1) === 'settleOrderStep',
    );
    assert.ok(waited, `a run continued as new while polling: ${JSON.stringify(runs)}`);
    const last = runs.at(-1)!;
    assert.ok(!last.activities.includes('submitOrderRound') && last.activities.includes('settleOrderStep'));
  });

  it('continues as new while waiting for funds, then releases them and resubmits once', async () => {
    const fake = new ScriptedOrder();
    fake.settleResults = [settled({ delivered: 8, awaitingFunds: 2, awaitingFundsAmount: 50 })];
    fake.applyCounts['funds-released'] = counts({ delivered: 8, queued: 2 });
    fake.before = async (what) => {
      if (what.startsWith('balance') && fake.attempts.balance >= 12) fake.balance = 100;
    };
    const { result, runs } = await runOrder(fake);
    assert.equal(result.counts.delivered, 10);
    assert.deepEqual(
      fake.actions.map((action) => action.kind),
      ['funds-released'],
    );
    assert.equal(fake.attempts.submit, 2, 'round 0 and the released items once');
    const waited = runs.find(
      (run) =>
        run.continuedAsNew &&
        run.activities.at(-1) === 'getAccountBalance' &&
        !run.activities.includes('applyOrderInput'),
    );
    assert.ok(waited, `a run continued as new while waiting for funds: ${JSON.stringify(runs)}`);
  });

  it('continues as new while reading pending items again, then settles them', async () => {
    const fake = new ScriptedOrder();
    const pending = settled({ delivered: 7, submitted: 3 }, { pending: 3 });
    fake.settleResults = [pending];
    fake.recheckResults = Array.from({ length: 10 }, () => pending);
    const { result, runs } = await runOrder(fake);
    assert.equal(result.counts.delivered, 10);
    assert.equal(fake.attempts.recheck, 11);
    assert.equal(fake.attempts.submit, 1, 'one POST');
    const waited = runs.find(
      (run) =>
        run.continuedAsNew &&
        run.activities.at(-1) === 'recheckOrderItems' &&
        !run.activities.includes('submitOrderRound'),
    );
    assert.ok(waited, `a run continued as new while reading pending items: ${JSON.stringify(runs)}`);
  });
});

const quiet = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string) {
    console.error(message);
  },
  log() {},
};
