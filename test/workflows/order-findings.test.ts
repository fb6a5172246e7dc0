// The order workflow's answers to a code review, on the time-skipping server with scripted fakes:
// cancelling a blocked order, a balance check that blocks instead of failing the order, rounds
// exhausted without losing corrected or waiting items, scheduled and pending items read again on
// time, a cancel during the resubmit pause, and bad inputs or signals refused at the boundary.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { operatorInputKey } from '../../src/store/keys.ts';
import {
  cancelOrderSignal,
  operatorInputSignal,
  orderProgressQuery,
  orderStatusSignal,
} from '../../src/definitions.ts';
import { campaignWorkflow } from '../../src/workflows/campaign-workflow.ts';
import { orderWorkflow, type OrderInput } from '../../src/workflows/order-workflow.ts';
import type { OrderProgress } from '../../src/workflows/types.ts';
import { workflowBundle } from '../helpers/campaign-stack.ts';
import { DAY, HOUR, ScriptedOrder, counts, failure, settled } from '../helpers/scripted-order.ts';
import { createTimeSkippingEnv, runWithTangoQueue } from '../helpers/temporal.ts';

const baseInput: OrderInput = {
  campaignId: 'tsf',
  campaignRef: 'tsf',
  chunk: 0,
  items: 10,
  customerIdentifier: 'c',
  accountIdentifier: 'account-1',
  useSearchAttributes: false,
  options: {
    maxRounds: 5,
    correctionWindow: '72h',
    pollInitial: '30s',
    pollMax: '15m',
    overdueAfter: '2h',
    resubmitDelay: '30s',
    fundsCheckInterval: '1h',
  },
};

describe('order workflow review findings (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let chunk = 0;
  before(async () => {
    env = await createTimeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  async function run<T>(fake: ScriptedOrder, body: () => Promise<T>): Promise<T> {
    return runWithTangoQueue(
      {
        connection: env.nativeConnection,
        taskQueue: 'orders-tsf',
        workflowBundle: await workflowBundle(),
        activities: fake,
      },
      body,
    );
  }

  /** A fresh chunk (so a fresh workflow id and externalRefID) per test. */
  function start(patch: Partial<OrderInput> = {}, options: Partial<OrderInput['options']> = {}) {
    chunk += 1;
    const input = { ...baseInput, chunk, ...patch, options: { ...baseInput.options, ...options } };
    return env.client.workflow.start(orderWorkflow, {
      taskQueue: 'orders-tsf',
      workflowId: `tsf-${chunk}`,
      args: [input],
      // Old code could fail its workflow task forever: bound every run.
      workflowExecutionTimeout: '30 days',
    });
  }

  type Handle = Awaited<ReturnType<typeof start>>;

  /** Skips time in small steps until the order's progress satisfies `until` (fails if it closed). */
  async function skipUntil(handle: Handle, until: (progress: OrderProgress) => boolean, step = '1 minute') {
    for (let i = 0; i < 500; i += 1) {
      const { status } = await handle.describe();
      assert.equal(status.name, 'RUNNING', 'the order is still running');
      const progress = await handle.query(orderProgressQuery);
      if (until(progress)) return progress;
      await env.sleep(step);
    }
    throw new Error('the order never reached the expected state');
  }

  /** Skips time in 5 s steps until the history holds a timer of this many seconds. */
  async function waitForTimer(handle: Handle, seconds: number) {
    for (let i = 0; i < 200; i += 1) {
      const { events } = await handle.fetchHistory();
      if (
        events?.some(
          (event) => Number(event.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? -1) === seconds,
        )
      )
        return;
      await env.sleep('5 seconds');
    }
    throw new Error(`no ${seconds} s timer started`);
  }

  describe('cancelling a blocked order', () => {
    for (const step of ['settle', 'status'] as const) {
      it(`keeps retrying a blocked ${step === 'status' ? 'GET' : 'settle'} every 15 minutes after a cancel, then settles`, async () => {
        const fake = new ScriptedOrder();
        fake.failing[step] = failure('TangoUnauthorized');
        const result = await run(fake, async () => {
          const handle = await start();
          const blocked = await skipUntil(handle, (progress) => progress.phase === 'blocked');
          assert.match(blocked.blockedReason ?? '', /TangoUnauthorized/);
          await handle.signal(cancelOrderSignal, { reason: 'operator cancelled' });
          const before = fake.attempts[step];
          await env.sleep('2 hours');
          const retries = fake.attempts[step] - before;
          assert.ok(retries >= 6 && retries <= 10, `${retries} retries in 2 h (one per 15 minutes)`);
          delete fake.failing[step];
          return handle.result();
        });
        assert.equal(result.counts.delivered, 10);
        assert.equal(fake.actions.length, 0, 'nothing given up: Tango holds the items');
        assert.equal(fake.labels().filter((call) => call.startsWith('submit')).length, 1);
      });
    }

    it('abandons a blocked POST on cancel: its items are given up as unsent and the order ends', async () => {
      const fake = new ScriptedOrder();
      fake.failing.submit = failure('TangoUnauthorized');
      fake.applyCounts['give-up-unsent'] = counts({ cancelled: 10 });
      const result = await run(fake, async () => {
        const handle = await start();
        await skipUntil(handle, (progress) => progress.phase === 'blocked');
        await handle.signal(cancelOrderSignal, { reason: 'operator cancelled' });
        return handle.result();
      });
      assert.equal(result.counts.cancelled, 10);
      assert.equal(fake.attempts.submit, 1, 'the POST was not tried again after the cancel');
      assert.deepEqual(
        fake.actions.map((action) => action.kind),
        ['give-up-unsent'],
      );
      const [action] = fake.actions;
      assert.ok(action?.kind === 'give-up-unsent');
      assert.equal(action.round, 0);
      assert.equal(action.externalRefID, `tsf-${chunk}`);
    });

    it('abandons a settle blocked by an OrderCollision on cancel the same way', async () => {
      const fake = new ScriptedOrder();
      fake.failing.settle = failure('OrderCollision');
      fake.applyCounts['give-up-unsent'] = counts({ givenUp: 10 });
      const result = await run(fake, async () => {
        const handle = await start();
        await skipUntil(handle, (progress) => progress.phase === 'blocked');
        await handle.signal(cancelOrderSignal, { reason: 'operator cancelled' });
        return handle.result();
      });
      assert.equal(result.counts.givenUp, 10);
      assert.equal(fake.attempts.settle, 1, 'the settle was not tried again after the cancel');
      assert.deepEqual(
        fake.actions.map((action) => action.kind),
        ['give-up-unsent'],
      );
    });
  });

  it('blocks (and does not fail) when the balance check is refused, and completes once it recovers', async () => {
    const fake = new ScriptedOrder();
    fake.settleResults = [settled({ delivered: 8, awaitingFunds: 2, awaitingFundsAmount: 50 })];
    fake.failing.balance = failure('TangoUnauthorized');
    fake.applyCounts['funds-released'] = counts({ delivered: 8, queued: 2 });
    const result = await run(fake, async () => {
      const handle = await start();
      const blocked = await skipUntil(handle, (progress) => progress.phase === 'blocked', '10 minutes');
      assert.match(blocked.blockedReason ?? '', /^balance check: .*TangoUnauthorized/);
      delete fake.failing.balance;
      fake.balance = 100;
      return handle.result();
    });
    assert.equal(result.counts.delivered, 10);
    assert.deepEqual(
      fake.actions.map((action) => action.kind),
      ['funds-released'],
    );
    assert.ok(fake.labels().includes(`submit r1 tsf-${chunk}-r1`), fake.labels().join(', '));
  });

  it('at maxRounds keeps corrected items for one more send and waiting items for their window', async () => {
    const fake = new ScriptedOrder();
    fake.settleResults = [
      settled({ delivered: 5, queued: 2, awaitingCorrection: 3 }),
      settled({ delivered: 5, queued: 2, awaitingCorrection: 3 }),
      settled({ delivered: 7, awaitingCorrection: 1, givenUp: 2 }),
    ];
    fake.applyCounts = {
      corrections: counts({ delivered: 5, queued: 4, awaitingCorrection: 1, corrected: 2 }),
      // What the activity does at exhaustion: corrected items stay queued, waiting ones untouched.
      'give-up-exhausted': counts({ delivered: 5, queued: 2, awaitingCorrection: 1, givenUp: 2 }),
      // Previously: every queued and waiting item given up at once.
      'give-up-queued': counts({ delivered: 5, givenUp: 5 }),
      'give-up-waiting': counts({ delivered: 7, givenUp: 3 }),
    };
    let handle!: Handle;
    fake.before = async (what) => {
      // Corrections for two of the three waiting items arrive while the last round settles.
      if (what === 'settle r1')
        await handle.signal(operatorInputSignal, {
          kind: 'corrections',
          key: operatorInputKey('tsf', 1, chunk),
          count: 2,
        });
    };
    const result = await run(fake, async () => {
      handle = await start({}, { maxRounds: 2 });
      return handle.result();
    });
    assert.deepEqual(
      fake.actions.map((action) => action.kind),
      ['corrections', 'give-up-exhausted', 'give-up-waiting'],
    );
    const calls = fake.labels();
    assert.ok(
      calls.indexOf(`submit r2 tsf-${chunk}-r2`) > calls.indexOf('apply give-up-exhausted'),
      `the corrected items were sent once more after the exhaustion: ${calls.join(', ')}`,
    );
    assert.equal(calls.filter((call) => call.startsWith('submit')).length, 3);
    const exhaustedAt = fake.calls.find((call) => call.what === 'apply give-up-exhausted')!.at;
    const windowClosedAt = fake.calls.find((call) => call.what === 'apply give-up-waiting')!.at;
    assert.ok(windowClosedAt - exhaustedAt >= 72 * HOUR, 'the waiting item kept its 72 h window');
    assert.equal(result.counts.givenUp, 3);
    assert.equal(result.counts.delivered, 7);
  });

  describe('items Tango holds open', () => {
    it('sleeps until a scheduled delivery date (plus a margin), then reads the items again', async () => {
      const fake = new ScriptedOrder();
      let nextScheduled = 0;
      fake.settleResults = [
        (at) => {
          nextScheduled = at + 3 * DAY;
          return settled(
            { delivered: 5, scheduled: 5 },
            { nextScheduled: new Date(nextScheduled).toISOString() },
          );
        },
      ];
      const result = await run(fake, async () => (await start()).result());
      const rechecks = fake.calls.filter((call) => call.what === 'recheck');
      assert.equal(rechecks.length, 1, 'read once, when the date had come');
      const late = rechecks[0]!.at - nextScheduled;
      assert.ok(late >= HOUR && late < HOUR + 5 * 60_000, `read ${late / 60_000} min after the date`);
      assert.equal(result.counts.delivered, 10);
      assert.equal(result.counts.scheduled, 0);
    });

    it('ends on a cancel with the scheduled items left scheduled, without reading them', async () => {
      const fake = new ScriptedOrder();
      fake.settleResults = [
        (at) =>
          settled({ delivered: 5, scheduled: 5 }, { nextScheduled: new Date(at + 3 * DAY).toISOString() }),
      ];
      const result = await run(fake, async () => {
        const handle = await start();
        await skipUntil(handle, (progress) => progress.counts.scheduled === 5);
        await env.sleep('1 day');
        assert.equal((await handle.describe()).status.name, 'RUNNING', 'still waiting for the date');
        await handle.signal(cancelOrderSignal, { reason: 'operator cancelled' });
        return handle.result();
      });
      assert.equal(result.counts.scheduled, 5);
      assert.equal(result.counts.delivered, 5);
      assert.ok(!fake.labels().includes('recheck'), 'no recheck after the cancel');
      assert.equal(fake.actions.length, 0);
    });

    it('reads pending items again on a doubling backoff from pollInitial', async () => {
      const fake = new ScriptedOrder();
      const pending = settled({ delivered: 7, submitted: 3 }, { pending: 3 });
      fake.settleResults = [pending];
      fake.recheckResults = [pending, pending, pending];
      const result = await run(fake, async () => (await start()).result());
      const settledAt = fake.calls.find((call) => call.what === 'settle r0')!.at;
      const times = [settledAt, ...fake.calls.filter((call) => call.what === 'recheck').map((c) => c.at)];
      const gaps = times.slice(1).map((at, i) => Math.round((at - times[i]!) / 1000));
      assert.equal(gaps.length, 4);
      for (const [i, expected] of [30, 60, 120, 240].entries()) {
        assert.ok(Math.abs(gaps[i]! - expected) <= 3, `gaps ${gaps.join(', ')} s`);
      }
      assert.equal(result.counts.delivered, 10);
    });
  });

  it('never sends the next round when cancelled during the resubmit pause', async () => {
    const fake = new ScriptedOrder();
    fake.settleResults = [settled({ delivered: 8, queued: 2 })];
    fake.applyCounts['give-up-queued'] = counts({ delivered: 8, cancelled: 2 });
    const result = await run(fake, async () => {
      const handle = await start({}, { resubmitDelay: '1h' });
      await waitForTimer(handle, 3600);
      await handle.signal(cancelOrderSignal, { reason: 'operator cancelled' });
      return handle.result();
    });
    assert.deepEqual(
      fake.labels().filter((call) => call.startsWith('submit')),
      [`submit r0 tsf-${chunk}`],
    );
    assert.deepEqual(
      fake.actions.map((action) => action.kind),
      ['give-up-queued'],
    );
    assert.equal(result.counts.cancelled, 2);
  });

  describe('the boundary', () => {
    /** How the workflow failed; fails the test if it did not within 20 s (a task failing forever). */
    async function failureOf(start: () => Promise<WorkflowHandle>) {
      const handle = await start();
      const stillRunning = Symbol('still running');
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        handle.result().then(
          () => assert.fail('the workflow succeeded'),
          (error: unknown) => error,
        ),
        new Promise<typeof stillRunning>(
          (resolve) => (timer = setTimeout(() => resolve(stillRunning), 20_000)),
        ),
      ]);
      clearTimeout(timer);
      const { events } = await handle.fetchHistory();
      const taskFailures = events?.filter((event) => event.workflowTaskFailedEventAttributes).length ?? 0;
      if (outcome === stillRunning) await handle.terminate('the test gave up waiting for it to fail');
      assert.equal(taskFailures, 0, 'no workflow task failed');
      assert.ok(outcome instanceof WorkflowFailedError, String(outcome));
      return outcome.cause;
    }

    it('fails an order started with a bad input at once, naming the field', async () => {
      const fake = new ScriptedOrder();
      const cause = await run(fake, () => failureOf(() => start({}, { pollInitial: 'soon' })));
      assert.ok(cause instanceof ApplicationFailure, String(cause));
      assert.equal(cause.type, 'InvalidWorkflowInput');
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, /options\.pollInitial/);
      assert.equal(fake.calls.length, 0);
    });

    it('fails a campaign started with a bad input at once, naming the field', async () => {
      const fake = new ScriptedOrder();
      const cause = await run(fake, () =>
        failureOf(() =>
          env.client.workflow.start(campaignWorkflow, {
            taskQueue: 'orders-tsf',
            workflowId: 'tsf-bad-campaign',
            workflowExecutionTimeout: '30 days',
            args: [
              {
                campaignId: 'not a valid id',
                customerIdentifier: 'c',
                accountIdentifier: 'account-1',
                items: { inline: [{}] },
              },
            ],
          }),
        ),
      );
      assert.ok(cause instanceof ApplicationFailure, String(cause));
      assert.equal(cause.type, 'InvalidWorkflowInput');
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, /campaignId/);
    });

    it('drops an orderStatus notice with an oversized status (it cannot undo a final one)', async () => {
      const fake = new ScriptedOrder();
      let handle!: Handle;
      fake.before = async (what) => {
        if (!what.startsWith('submit')) return;
        const ref = `tsf-${chunk}`;
        await handle.signal(orderStatusSignal, { externalRefID: ref, status: 'SUCCESSFUL', revision: 1 });
        await handle.signal(orderStatusSignal, {
          externalRefID: ref,
          status: 'x'.repeat(10_000),
          revision: 2,
        });
      };
      const result = await run(fake, async () => {
        handle = await start({}, { pollInitial: '6h', pollMax: '6h' });
        return handle.result();
      });
      assert.equal(result.counts.delivered, 10);
      const { events } = await handle.fetchHistory();
      assert.equal(
        events?.filter((event) => event.timerFiredEventAttributes).length,
        0,
        'woke on the webhook',
      );
    });

    it("drops operator input whose key is outside the order's campaign", async () => {
      const fake = new ScriptedOrder();
      fake.settleResults = [settled({ delivered: 7, awaitingCorrection: 3 })];
      fake.applyCounts['give-up-waiting'] = counts({ delivered: 7, givenUp: 3 });
      fake.applyCounts.skip = counts({ delivered: 7, cancelled: 3 });
      const result = await run(fake, async () => {
        const handle = await start();
        await handle.signal(operatorInputSignal, {
          kind: 'skip',
          key: operatorInputKey('another-campaign', 1, chunk),
          count: 3,
        });
        return handle.result();
      });
      assert.deepEqual(
        fake.actions.map((action) => action.kind),
        ['give-up-waiting'],
      );
      assert.equal(result.counts.givenUp, 3);
    });
  });

  it('counts the corrections the order did not apply, where operators look', async () => {
    const fake = new ScriptedOrder();
    fake.settleResults = [settled({ delivered: 7, awaitingCorrection: 3 })];
    fake.applyCounts.corrections = counts({ delivered: 7, awaitingCorrection: 2, queued: 1 });
    fake.applyIgnored.corrections = 2;
    fake.applyCounts['give-up-waiting'] = counts({ delivered: 8, givenUp: 2 });
    const progress = await run(fake, async () => {
      const handle = await start();
      await handle.signal(operatorInputSignal, {
        kind: 'corrections',
        key: operatorInputKey('tsf', 1, chunk),
        count: 3,
      });
      await handle.result();
      return handle.query(orderProgressQuery);
    });
    assert.equal(progress.inputIgnored, 2, 'two of the three corrections were not applied');
  });
});
