// The order workflow's waits, on the time-skipping server: webhook wake-up, polling with overdue
// marking, a correction window that closes after 72 h, and funds that arrive two days later.
// Activities are typed fakes here: these tests are about orchestration and time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import type { createActivities } from '../../src/activities/index.ts';
import type { OperatorAction } from '../../src/activities/orders.ts';
import { fundsAddedSignal, orderProgressQuery, orderStatusSignal } from '../../src/definitions.ts';
import { orderWorkflow, type OrderInput } from '../../src/workflows/order-workflow.ts';
import { type ItemCounts, emptyCounts } from '../../src/workflows/types.ts';
import { workflowBundle } from '../helpers/campaign-stack.ts';
import { createTimeSkippingEnv, runWithTangoQueue } from '../helpers/temporal.ts';

type Activities = ReturnType<typeof createActivities>;
type OrderActivities = Pick<
  Activities,
  | 'submitOrderRound'
  | 'getOrderStatus'
  | 'settleOrderRound'
  | 'settleOrderStep'
  | 'applyOrderInput'
  | 'sealOrderBook'
  | 'getAccountBalance'
>;

const counts = (patch: Partial<ItemCounts>): ItemCounts => ({ ...emptyCounts(), total: 10, ...patch });

/** A scripted Tango + store: what each activity returns, and a log of what the workflow asked. */
class FakeOrder implements OrderActivities {
  calls: string[] = [];
  statusCalls = 0;
  /** getOrderStatus answers "final" from this call number on (1-based). */
  finalFromCall = 1;
  settleCounts = counts({ delivered: 10 });
  balance = 0;
  actions: OperatorAction[] = [];
  holdStatusCall?: { call: number; reached: () => void; release: Promise<void> };

  submitOrderRound: OrderActivities['submitOrderRound'] = async (input) => {
    this.calls.push(`submit r${input.round} ${input.externalRefID}`);
    return {
      httpStatus: 201,
      created: true,
      submitted: 10,
      rejected: 0,
      duplicates: 0,
      bookKey: 'k',
      counts: counts({ submitted: 10 }),
    };
  };
  getOrderStatus: OrderActivities['getOrderStatus'] = async (input) => {
    this.statusCalls += 1;
    this.calls.push(`status ${input.externalRefID}`);
    if (this.holdStatusCall?.call === this.statusCalls) {
      this.holdStatusCall.reached();
      await this.holdStatusCall.release;
    }
    const final = this.statusCalls >= this.finalFromCall;
    return { orderStatus: final ? 'COMPLETE' : 'PROCESSING', final };
  };
  settleOrderRound: OrderActivities['settleOrderRound'] = async (input) => {
    this.calls.push(`settle r${input.round}`);
    const result = {
      bookKey: 'k',
      counts: this.settleCounts,
      failuresThisRound: { transient: 0, 'needs-correction': 0, 'needs-funds': 0, permanent: 0 },
      pages: 1,
      lookups: 0,
      pending: 0,
    };
    this.settleCounts = counts({ delivered: 10 });
    return result;
  };
  /** One step stands for the status GET it replaced and, once the order is final, the settle. */
  settleOrderStep: OrderActivities['settleOrderStep'] = async (input) => {
    const status = await this.getOrderStatus({
      campaignId: input.campaignId,
      externalRefID: input.externalRefID,
    });
    if (!status.final) return { settled: false, final: false };
    return { settled: true, ...(await this.settleOrderRound(input)) };
  };
  applyOrderInput: OrderActivities['applyOrderInput'] = async (input) => {
    this.actions.push(input.action);
    this.calls.push(`apply ${input.action.kind}`);
    if (input.action.kind === 'give-up-waiting')
      return { bookKey: 'k', counts: counts({ delivered: 7, givenUp: 3 }), changed: 3, ignored: 0 };
    if (input.action.kind === 'funds-released')
      return { bookKey: 'k', counts: counts({ delivered: 8, queued: 2 }), changed: 2, ignored: 0 };
    throw new Error(`unexpected action ${input.action.kind}`);
  };
  sealOrderBook: OrderActivities['sealOrderBook'] = async () => 'final';
  getAccountBalance: OrderActivities['getAccountBalance'] = async () => {
    this.calls.push(`balance ${this.balance}`);
    return { currentBalance: this.balance, status: 'ACTIVE' };
  };
}

const baseInput: OrderInput = {
  campaignId: 'ts',
  campaignRef: 'ts',
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

describe('order workflow waits (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTimeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  async function run<T>(fake: FakeOrder, body: () => Promise<T>): Promise<T> {
    return runWithTangoQueue(
      {
        connection: env.nativeConnection,
        taskQueue: 'orders-ts',
        workflowBundle: await workflowBundle(),
        activities: fake,
      },
      body,
    );
  }

  it('wakes on the webhook at once instead of waiting for the poll', async () => {
    const fake = new FakeOrder();
    fake.finalFromCall = 1;
    const input = {
      ...baseInput,
      chunk: 1,
      options: { ...baseInput.options, pollInitial: '6h', pollMax: '6h' },
    };
    const result = await run(fake, async () => {
      const handle = await env.client.workflow.start(orderWorkflow, {
        taskQueue: 'orders-ts',
        workflowId: 'ts-webhook',
        args: [input],
      });
      // An early duplicate and a RETRYING event (not final) must not wake it; the final one does.
      await handle.signal(orderStatusSignal, { externalRefID: 'ts-1', status: 'RETRYING', revision: 1 });
      await handle.signal(orderStatusSignal, { externalRefID: 'ts-1', status: 'SUCCESSFUL', revision: 2 });
      await handle.signal(orderStatusSignal, { externalRefID: 'ts-1', status: 'SUCCESSFUL', revision: 2 });
      return handle.result();
    });
    assert.equal(result.counts.delivered, 10);
    assert.deepEqual(fake.calls, ['submit r0 ts-1', 'status ts-1', 'settle r0']);
    const { events } = await env.client.workflow.getHandle('ts-webhook').fetchHistory();
    assert.equal(events?.filter((event) => event.timerFiredEventAttributes).length, 0, 'no poll timer fired');
  });

  it('polls on a doubling schedule without a webhook, marks itself overdue, and keeps polling', async () => {
    const fake = new FakeOrder();
    fake.finalFromCall = 14;
    let reached!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    fake.holdStatusCall = { call: 13, reached, release: new Promise<void>((resolve) => (release = resolve)) };
    const result = await run(fake, async () => {
      const handle = await env.client.workflow.start(orderWorkflow, {
        taskQueue: 'orders-ts',
        workflowId: 'ts-poll',
        args: [{ ...baseInput, chunk: 2 }],
      });
      // Awaiting the result is what lets the test server skip time.
      const result = handle.result();
      await reachedPromise;
      // Polls at 30s, 1m30, 3m30, 7m30, 15m30, then every 15 min: the 12th, at 2h 0m 30s, is past the
      // 2 h deadline; the 13th is held here while we look.
      try {
        const progress = await handle.query(orderProgressQuery);
        assert.equal(progress.overdue, true);
        assert.equal(progress.phase, 'awaiting-tango');
      } finally {
        release();
      }
      return result;
    });
    assert.equal(result.counts.delivered, 10);
    assert.equal(fake.statusCalls, 14);
    assert.equal(fake.calls.filter((call) => call === 'settle r0').length, 1);
  });

  it('gives up uncorrected items when the 72 h correction window closes', async () => {
    const fake = new FakeOrder();
    fake.settleCounts = counts({ delivered: 7, awaitingCorrection: 3 });
    const result = await run(fake, async () =>
      env.client.workflow.execute(orderWorkflow, {
        taskQueue: 'orders-ts',
        workflowId: 'ts-window',
        args: [{ ...baseInput, chunk: 3 }],
      }),
    );
    assert.equal(result.counts.givenUp, 3);
    assert.equal(result.counts.delivered, 7);
    const closed = fake.actions.find((action) => action.kind === 'give-up-waiting');
    assert.ok(closed && 'reason' in closed && /72h/.test(closed.reason));
    const { events } = await env.client.workflow.getHandle('ts-window').fetchHistory();
    const windowTimers = (events ?? []).filter(
      (event) => Number(event.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0) === 72 * 3600,
    );
    assert.equal(windowTimers.length, 1, 'one 72 h window timer');
    assert.ok(
      events?.some(
        (event) =>
          event.timerFiredEventAttributes?.timerId === windowTimers[0]?.timerStartedEventAttributes?.timerId,
      ),
      'the window timer fired before the items were given up',
    );
    assert.ok(!fake.calls.some((call) => call.startsWith('submit r1')), 'nothing was resubmitted');
  });

  it('waits for funds that arrive two days later, then resubmits only those items', async () => {
    const fake = new FakeOrder();
    fake.settleCounts = counts({ delivered: 8, awaitingFunds: 2, awaitingFundsAmount: 50 });
    const result = await run(fake, async () => {
      const handle = await env.client.workflow.start(orderWorkflow, {
        taskQueue: 'orders-ts',
        workflowId: 'ts-funds',
        args: [{ ...baseInput, chunk: 4 }],
      });
      await env.sleep('2 days');
      assert.ok(!fake.calls.some((call) => call.startsWith('submit r1')), 'no resubmission before the funds');
      fake.balance = 100;
      await handle.signal(fundsAddedSignal, { amount: 100 });
      return handle.result();
    });
    assert.deepEqual(
      fake.actions.map((action) => action.kind),
      ['funds-released'],
    );
    assert.ok(fake.calls.includes('submit r1 ts-4-r1'), `resubmitted as round 1: ${fake.calls.join(', ')}`);
    assert.ok(
      fake.calls.filter((call) => call.startsWith('balance 0')).length >= 40,
      'checked the balance hourly',
    );
    assert.equal(result.rounds, 2);
  });
});
