// A scripted Tango + store for order workflow tests: typed fake activities that answer from a script
// and log what the workflow asked, with the workflow clock of each call.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { createActivities } from '../../src/activities/index.ts';
import type { OperatorAction, SettleResult } from '../../src/activities/orders.ts';
import { type ItemCounts, emptyCounts } from '../../src/workflows/types.ts';

export type Activities = ReturnType<typeof createActivities>;
export type OrderActivities = Pick<
  Activities,
  | 'submitOrderRound'
  | 'getOrderStatus'
  | 'settleOrderRound'
  | 'settleOrderStep'
  | 'recheckOrderItems'
  | 'applyOrderInput'
  | 'sealOrderBook'
  | 'getAccountBalance'
>;
export type Step = 'submit' | 'status' | 'settle' | 'recheck' | 'balance';

export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

export const counts = (patch: Partial<ItemCounts>): ItemCounts => ({ ...emptyCounts(), total: 10, ...patch });
const noFailures = { transient: 0, 'needs-correction': 0, 'needs-funds': 0, permanent: 0 };
export const settled = (patch: Partial<ItemCounts>, extra: Partial<SettleResult> = {}): SettleResult => ({
  bookKey: 'k',
  counts: counts(patch),
  failuresThisRound: noFailures,
  pages: 1,
  lookups: 0,
  pending: 0,
  ...extra,
});
export const failure = (type: string) => () =>
  ApplicationFailure.create({ type, message: `${type} (scripted)`, nonRetryable: true });

/** The workflow clock when the current activity attempt was scheduled (the test server's clock). */
const workflowNow = () => Context.current().info.currentAttemptScheduledTimestampMs;

/**
 * A scripted Tango + store. Settle and recheck answers are taken in order (then "all delivered");
 * a step in `failing` throws that failure, at most `failAtMost` times (so that a busy loop ends).
 */
export class ScriptedOrder implements OrderActivities {
  calls: { what: string; at: number }[] = [];
  actions: OperatorAction[] = [];
  attempts: Record<Step, number> = { submit: 0, status: 0, settle: 0, recheck: 0, balance: 0 };
  failing: Partial<Record<Step, () => Error>> = {};
  failAtMost = 200;
  settleResults: (SettleResult | ((at: number) => SettleResult))[] = [];
  recheckResults: SettleResult[] = [];
  applyCounts: Partial<Record<OperatorAction['kind'], ItemCounts>> = {};
  /** How many items of an action the book did not take (e.g. corrections of items that moved on). */
  applyIgnored: Partial<Record<OperatorAction['kind'], number>> = {};
  balance = 0;
  /** getOrderStatus answers "final" from this call on (1-based). */
  finalFromCall = 1;
  /** Awaited before a call runs (by its label, e.g. "submit r0"). */
  before?: (what: string) => Promise<void>;

  private async enter(step: Step, what: string): Promise<number> {
    const at = workflowNow();
    this.calls.push({ what, at });
    this.attempts[step] += 1;
    await this.before?.(what);
    const fail = this.failing[step];
    if (fail && this.attempts[step] <= this.failAtMost) throw fail();
    return at;
  }

  labels(): string[] {
    return this.calls.map((call) => call.what);
  }

  submitOrderRound: OrderActivities['submitOrderRound'] = async (input) => {
    await this.enter('submit', `submit r${input.round} ${input.externalRefID}`);
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
    await this.enter('status', `status ${input.externalRefID}`);
    const final = this.attempts.status >= this.finalFromCall;
    return { orderStatus: final ? 'COMPLETE' : 'PROCESSING', final };
  };
  settleOrderRound: OrderActivities['settleOrderRound'] = async (input) => {
    const at = await this.enter('settle', `settle r${input.round}`);
    const next = this.settleResults.shift() ?? settled({ delivered: 10 });
    return typeof next === 'function' ? next(at) : next;
  };
  /** One step stands for the status GET it replaced and, once the order is final, the settle. */
  settleOrderStep: OrderActivities['settleOrderStep'] = async (input) => {
    await this.enter('status', `status ${input.externalRefID}`);
    if (this.attempts.status < this.finalFromCall) return { settled: false, final: false };
    return { settled: true, ...(await this.settleOrderRound(input)) };
  };
  recheckOrderItems: OrderActivities['recheckOrderItems'] = async () => {
    await this.enter('recheck', 'recheck');
    return this.recheckResults.shift() ?? settled({ delivered: 10 }, { pages: 0 });
  };
  applyOrderInput: OrderActivities['applyOrderInput'] = async (input) => {
    this.actions.push(input.action);
    this.calls.push({ what: `apply ${input.action.kind}`, at: workflowNow() });
    const result = this.applyCounts[input.action.kind];
    if (!result) throw new Error(`unexpected action ${input.action.kind}`);
    return { bookKey: 'k', counts: result, changed: 0, ignored: this.applyIgnored[input.action.kind] ?? 0 };
  };
  sealOrderBook: OrderActivities['sealOrderBook'] = async () => 'final';
  getAccountBalance: OrderActivities['getAccountBalance'] = async () => {
    await this.enter('balance', `balance ${this.balance}`);
    return { currentBalance: this.balance, status: 'ACTIVE' };
  };
}
