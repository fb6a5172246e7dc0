// orderWorkflow: one Tango async order (one chunk of a campaign) and its correction rounds.
// submit -> await webhook or poll -> settle item by item against Tango's record -> corrections /
// funds / transient retries -> resubmit as <ref>-<chunk>-r<round> -> ... until every item is
// delivered, given up or cancelled; items Tango holds for a later delivery date are re-read until
// they turn. Items live in the store (the order book); this workflow sees keys and counts only.
// Why so long: the round loop and its waits (webhook or poll, funds, corrections, scheduled items,
// blocks) share one closure's state, and old command sequences stay under patched() markers for the
// histories in flight; splitting it into step functions needs new replay histories first.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  ActivityFailure,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { createActivities } from '../activities/index.ts';
import { orderExternalRefId } from '../campaign/ids.ts';
import { operatorInputKey, orderBookKey } from '../store/keys.ts';
import {
  cancelOrderSignal,
  fundsAddedSignal,
  operatorInputSignal,
  orderProgressQuery,
  orderProgressSignal,
  orderStatusSignal,
  pauseSignal,
  resumeSignal,
  searchAttributes,
} from '../definitions.ts';
import { isFinalWebhookStatus } from '../tango/schemas.ts';
import { STORE_STEP, TANGO_REQUEST, TANGO_SETTLE, onTangoQueue } from './activity-options.ts';
import { parseWorkflowInput, validSignal } from './boundary.ts';
import { durationMs } from './duration.ts';
import {
  type CampaignOptions,
  type ItemCounts,
  type OperatorInput,
  type OrderPhase,
  type OrderProgress,
  type OrderStatusNotice,
  campaignOptionsSchema,
  emptyCounts,
  fundsAddedSchema,
  operatorInputSchema,
  optionalReasonSchema,
  orderStatusNoticeSchema,
  reasonSchema,
} from './types.ts';

type Activities = ReturnType<typeof createActivities>;

/** How often a blocked order tries its step again on its own. */
const BLOCKED_RETRY = '15 minutes';
/** After a scheduled delivery date, how long Tango gets before the item is read again. */
const SCHEDULED_MARGIN_MS = 60 * 60_000;

// Patch markers: behaviour that changed while orders were running (docs/architecture.md).
const FRESH_REF_AFTER_FUNDS = 'fresh-external-ref-after-402';
const CONTINUE_WHILE_WAITING = 'continue-as-new-while-waiting';
const BLOCKED_ATTRIBUTE = 'order-blocked-search-attribute';
/** Settling one Tango request per activity (no status GET), instead of one activity per round. */
const SETTLE_BY_STEPS = 'settle-one-request-per-activity';

const storeActivities = proxyActivities<Activities>(STORE_STEP);

// The campaign passes all of its options; the order reads these.
const orderOptionsSchema = campaignOptionsSchema.loose().pick({
  maxRounds: true,
  correctionWindow: true,
  pollInitial: true,
  pollMax: true,
  overdueAfter: true,
  resubmitDelay: true,
  fundsCheckInterval: true,
});
export type OrderOptions = Pick<
  CampaignOptions,
  | 'maxRounds'
  | 'correctionWindow'
  | 'pollInitial'
  | 'pollMax'
  | 'overdueAfter'
  | 'resubmitDelay'
  | 'fundsCheckInterval'
>;

const orderInputSchema = z.object({
  campaignId: z.string().min(1).max(80),
  campaignRef: z.string().min(1).max(60),
  chunk: z.number().int().nonnegative(),
  items: z.number().int().positive(),
  customerIdentifier: z.string().min(1).max(100),
  accountIdentifier: z.string().min(5).max(100),
  options: orderOptionsSchema,
  parentWorkflowId: z.string().min(1).max(1000).optional(),
  useSearchAttributes: z.boolean().optional(),
  paused: z.boolean().optional(),
  // Written by this workflow itself when it continues as new.
  resume: z.record(z.string(), z.unknown()).optional(),
});

export interface OrderInput {
  campaignId: string;
  campaignRef: string;
  chunk: number;
  /** Items staged in the order's first book. */
  items: number;
  customerIdentifier: string;
  accountIdentifier: string;
  options: OrderOptions;
  /** Workflow ID of the campaign to report progress to (none when run on its own). */
  parentWorkflowId?: string;
  /** False on servers without our search attributes registered. */
  useSearchAttributes?: boolean;
  paused?: boolean;
  /** Carried across continue-as-new. */
  resume?: OrderState;
}

interface OrderState {
  step: number;
  round: number;
  counts: ItemCounts;
  /** Epoch ms after which waiting items are given up. */
  waitDeadline?: number;
  pendingInput: OperatorInput[];
  fundsSignalled: boolean;
  cancelReason?: string;
  /** The last progress sequence sent to the campaign (it ignores older ones). */
  reportSequence?: number;
  /** A round POSTed and not settled yet (a continue-as-new resumes waiting for it). */
  awaiting?: { round: number; externalRefID: string; notice?: OrderStatusNotice };
  /** The round in which exhausted rounds last gave up queued items. */
  exhaustedRound?: number;
  /** Items Tango holds undecided or scheduled: when to read them again. */
  watch?: { nextScheduled?: string; delayMs: number };
  /** Corrections and skips the book did not take: their item had moved on since they were checked. */
  inputIgnored?: number;
}

export interface OrderResult {
  chunk: number;
  rounds: number;
  counts: ItemCounts;
  finalBookKey: string;
}

/** What untilUnblocked returns when a cancel ends a blocked step the order may give up on. */
const ABANDONED = Symbol('abandoned');

export async function orderWorkflow(rawInput: OrderInput): Promise<OrderResult> {
  const input = parseWorkflowInput(orderInputSchema, rawInput, 'orderWorkflow') as OrderInput;
  const { campaignId, chunk, options } = input;
  // Tango calls on the Tango task queue, whose rate limit is the request budget.
  const tangoActivities = proxyActivities<Activities>(onTangoQueue(TANGO_REQUEST));
  const settleActivities = proxyActivities<Activities>(onTangoQueue(TANGO_SETTLE));
  const state: OrderState = input.resume ?? {
    step: 0,
    round: 0,
    counts: { ...emptyCounts(), total: input.items, queued: input.items },
    pendingInput: [],
    fundsSignalled: false,
  };
  let phase: OrderPhase = 'queued';
  let paused = input.paused ?? false;
  let overdue = false;
  let blockedReason: string | undefined;
  const notices = new Map<string, OrderStatusNotice>();
  if (state.awaiting?.notice) notices.set(state.awaiting.externalRefID, state.awaiting.notice);
  const externalRefID = () => orderExternalRefId(input.campaignRef, chunk, state.round);
  const operatorPrefix = operatorInputKey(campaignId, 0, 0).replace(/\d+\/\d+\.jsonl$/, '');

  const progress = (done = false): OrderProgress => ({
    chunk,
    phase: done ? 'done' : phase,
    round: state.round,
    externalRefID: externalRefID(),
    bookKey: orderBookKey(campaignId, chunk, state.step),
    counts: state.counts,
    overdue,
    done,
    ...(blockedReason ? { blockedReason } : {}),
    ...(state.inputIgnored ? { inputIgnored: state.inputIgnored } : {}),
  });

  setHandler(
    orderStatusSignal,
    validSignal('orderStatus', orderStatusNoticeSchema, (notice) => {
      // Webhooks may be duplicated, reordered, for another round, or early: keep the newest per order.
      const known = notices.get(notice.externalRefID);
      if (known && (known.revision ?? -1) > (notice.revision ?? -1) && isFinalWebhookStatus(known.status))
        return;
      notices.set(notice.externalRefID, notice);
    }),
  );
  setHandler(
    operatorInputSignal,
    validSignal('operatorInput', operatorInputSchema, (operatorInput) => {
      // Only the order's own campaign stages input, under its own prefix.
      if (!operatorInput.key.startsWith(operatorPrefix)) {
        log.warn('operator input outside this campaign dropped', { key: operatorInput.key.slice(0, 100) });
        return;
      }
      state.pendingInput.push(operatorInput);
    }),
  );
  setHandler(
    fundsAddedSignal,
    validSignal('fundsAdded', fundsAddedSchema, () => {
      state.fundsSignalled = true;
    }),
  );
  setHandler(
    pauseSignal,
    validSignal('pause', optionalReasonSchema, () => {
      paused = true;
    }),
  );
  setHandler(resumeSignal, () => {
    paused = false;
  });
  setHandler(
    cancelOrderSignal,
    validSignal('cancelOrder', reasonSchema, ({ reason }) => {
      state.cancelReason ??= reason;
    }),
  );
  setHandler(orderProgressQuery, () => progress());

  // A Temporal cancel (of this order, or of a campaign run before cancels stopped reaching its
  // orders) is a request to stop submitting, not to abandon what Tango holds: the order's own work
  // runs in a non-cancellable scope and the request only sets the cancel reason.
  CancellationScope.current().cancelRequested.catch(() => {
    state.cancelReason ??= 'order workflow cancelled';
  });

  let lastReported = '';
  const report = async (done = false) => {
    const current = progress(done);
    setCurrentDetails(orderDetails(current));
    // Unchanged progress is not worth a signal (and two history events in each workflow).
    const serialized = JSON.stringify(current);
    if (!input.parentWorkflowId || serialized === lastReported) return;
    lastReported = serialized;
    // Carried across continue-as-new: the campaign drops any report older than the last it saw.
    state.reportSequence = (state.reportSequence ?? 0) + 1;
    const sent = getExternalWorkflowHandle(input.parentWorkflowId)
      .signal(orderProgressSignal, { ...current, sequence: state.reportSequence })
      .catch((error: unknown) => {
        // The campaign may have ended (cancelled, terminated); the order still finishes its own work.
        log.warn('could not report progress to the campaign', { error: String(error) });
      });
    // Progress goes out with the next command instead of costing a round trip of its own; the
    // campaign orders updates by `sequence`. The last one ("done") is awaited.
    if (done) await sent;
  };

  const apply = async (action: Parameters<Activities['applyOrderInput']>[0]['action'], summary: string) => {
    const result = await storeActivities.applyOrderInput.executeWithOptions({ summary }, [
      { campaignId, chunk, step: state.step, action },
    ]);
    state.step += 1;
    absorb(result.counts);
    return result;
  };

  return await CancellationScope.nonCancellable(async () => {
    for (;;) {
      // Operator input first: it can only move waiting items, never items in flight.
      while (state.pendingInput.length > 0) {
        const next = state.pendingInput.shift()!;
        const applied = await apply(
          { kind: next.kind, key: next.key },
          next.kind === 'corrections'
            ? `apply ${next.count} operator correction(s)`
            : `skip ${next.count} item(s)`,
        );
        if (applied.ignored > 0) {
          // Said where operators look (status, progress), not only in a log line.
          state.inputIgnored = (state.inputIgnored ?? 0) + applied.ignored;
          log.warn('operator input not applied: its items had moved on', { ignored: applied.ignored });
        }
        await report();
      }

      if (state.awaiting) {
        await settleAwaited();
        continue;
      }

      if (state.cancelReason !== undefined && (state.counts.queued > 0 || waiting(state.counts) > 0)) {
        await apply(
          { kind: 'give-up-queued', reason: `campaign cancelled: ${state.cancelReason}` },
          'cancel the rest',
        );
        await report();
        continue;
      }

      if (state.counts.queued > 0) {
        if (state.round >= options.maxRounds && state.exhaustedRound !== state.round) {
          // Items an operator just corrected still get their round; items waiting keep their window.
          state.exhaustedRound = state.round;
          await apply(
            { kind: 'give-up-exhausted', reason: `still failing after ${options.maxRounds} round(s)` },
            'give up: rounds exhausted',
          );
          await report();
          continue;
        }
        if (paused) {
          phase = 'paused';
          await report();
          await condition(() => !paused || state.cancelReason !== undefined);
          continue;
        }
        await submitAndSettle();
        if (workflowInfo().continueAsNewSuggested) await continueWithState();
        continue;
      }

      if (waiting(state.counts) > 0) {
        await awaitOperatorOrFunds();
        continue;
      }

      if (state.counts.submitted > 0 || (state.counts.scheduled > 0 && state.cancelReason === undefined)) {
        // Tango holds items undecided, or for a later delivery date: read them again when it is time.
        // A cancel leaves scheduled items with Tango (reported as scheduled), never abandons pending ones.
        await watchOpenItems();
        continue;
      }
      break;
    }

    const finalBookKey = await storeActivities.sealOrderBook.executeWithOptions(
      { summary: 'seal the order book' },
      [{ campaignId, chunk, step: state.step }],
    );
    phase = 'done';
    await report(true);
    return { chunk, rounds: state.round, counts: state.counts, finalBookKey };
  });

  async function submitAndSettle(): Promise<void> {
    const refId = externalRefID();
    const round = state.round;
    // resubmitDelay before round 1, doubling with every round after it.
    const pause = durationMs(options.resubmitDelay) * 2 ** Math.max(0, round - 1);
    if (round > 0 && state.counts.queued > 0 && pause > 0) {
      // A cancel during the pause means the round is never sent.
      await condition(() => state.cancelReason !== undefined, pause, {
        summary: `wait ${Math.round(pause / 100) / 10} s before round ${round}`,
      });
      if (state.cancelReason !== undefined) return;
    }
    phase = 'submitting';
    let submit;
    try {
      submit = await untilUnblocked(
        `POST ${refId}`,
        () =>
          tangoActivities.submitOrderRound.executeWithOptions(
            { summary: `POST order ${refId} (${state.counts.queued} items)` },
            [{ campaignId, chunk, round, step: state.step, externalRefID: refId }],
          ),
        'abandon',
      );
    } catch (error) {
      if (isFailureType(error, 'TangoInsufficientFunds')) {
        // Not created (the activity checked): wait for money, then send under a fresh externalRefID,
        // so that skips or corrections made meanwhile never reuse one with another item set.
        await waitForFunds(`order ${refId} refused for insufficient funds`);
        if (patched(FRESH_REF_AFTER_FUNDS)) state.round += 1;
        return;
      }
      throw error;
    }
    if (submit === ABANDONED) {
      await apply(
        {
          kind: 'give-up-unsent',
          round,
          externalRefID: refId,
          reason: `campaign cancelled while the POST was blocked: ${blockedReason ?? 'see the order'}`,
        },
        'cancel: give up the blocked POST',
      );
      unblock();
      await report();
      return;
    }
    state.step += 1;
    absorb(submit.counts, submit.failuresThisRound);
    if (submit.requestRejected || submit.submitted === 0) {
      // Tango refused the whole request (the book already holds what it said per item), or there was
      // nothing to send: no order exists for this externalRefID, so there is nothing to wait for.
      state.round += 1;
      noteNewWaiting();
      await report();
      return;
    }
    await report();
    state.awaiting = { round, externalRefID: refId };
    await settleAwaited();
  }

  /** Waits for the awaited round's order to be final, then settles it item by item. */
  async function settleAwaited(): Promise<void> {
    const { round, externalRefID: refId } = state.awaiting!;
    const settled = patched(SETTLE_BY_STEPS)
      ? await settleBySteps(refId, round)
      : await settleInOneActivity(refId, round);
    if (settled === ABANDONED) {
      await apply(
        {
          kind: 'give-up-unsent',
          round,
          externalRefID: refId,
          reason: `campaign cancelled while the order was blocked: ${blockedReason ?? 'see the order'}`,
        },
        'cancel: give up the blocked order',
      );
      unblock();
    } else {
      state.step += 1;
      absorb(settled.counts, settled.failuresThisRound);
      state.watch = { ...watchAfter(settled), delayMs: durationMs(options.pollInitial) };
    }
    state.round += 1;
    state.awaiting = undefined;
    noteNewWaiting();
    if (overdue) {
      overdue = false;
      markOverdue(false);
    }
    await report();
  }

  /**
   * Waits for the webhook (or the next poll), then settles the round one Tango request per activity:
   * the first page read tells whether Tango is done (no separate status GET); while it is still
   * processing the order, the order waits again, the poll backing off.
   */
  async function settleBySteps(refId: string, round: number) {
    const started = Date.now();
    let delay = durationMs(options.pollInitial);
    const maxDelay = durationMs(options.pollMax);
    const overdueAt = started + durationMs(options.overdueAfter);
    for (;;) {
      phase = 'awaiting-tango';
      const woke = await condition(() => isFinalWebhookStatus(notices.get(refId)?.status), delay, {
        summary: `await webhook for ${refId} or read it in ${Math.round(delay / 1000)} s`,
      });
      // The first read is the poll; once Tango says the order is final, the order is settling.
      for (let request = 1; ; request += 1) {
        const step = await untilUnblocked(
          `settle ${refId}`,
          () =>
            settleActivities.settleOrderStep.executeWithOptions(
              { summary: `read ${refId} (request ${request}) and reconcile` },
              [{ campaignId, chunk, round, step: state.step, externalRefID: refId }],
            ),
          'abandon-collision',
        );
        if (step === ABANDONED || step.settled) return step;
        if (!step.final) break;
        phase = 'settling';
      }
      // Tango is still processing the order: wait again (a webhook that said final is dropped).
      if (woke) {
        notices.delete(refId);
        delay = durationMs(options.pollInitial);
      } else {
        delay = Math.min(delay * 2, maxDelay);
      }
      if (!overdue && Date.now() >= overdueAt) {
        overdue = true;
        markOverdue(true);
        log.warn('order overdue: Tango has not settled it; still polling', { externalRefID: refId });
        await report();
      }
      if (workflowInfo().continueAsNewSuggested) {
        const notice = notices.get(refId);
        state.awaiting = { round, externalRefID: refId, ...(notice ? { notice } : {}) };
        await continueWithState();
      }
    }
  }

  /** How orders that started before settling by steps settle: a status GET, then one activity. */
  async function settleInOneActivity(refId: string, round: number) {
    phase = 'awaiting-tango';
    await awaitSettled(refId, round);
    phase = 'settling';
    return untilUnblocked(
      `settle ${refId}`,
      () =>
        settleActivities.settleOrderRound.executeWithOptions(
          { summary: `read the line items of ${refId} and reconcile` },
          [{ campaignId, chunk, round, step: state.step, externalRefID: refId }],
        ),
      'abandon-collision',
    );
  }

  async function awaitSettled(refId: string, round: number): Promise<void> {
    const started = Date.now();
    let delay = durationMs(options.pollInitial);
    const maxDelay = durationMs(options.pollMax);
    const overdueAt = started + durationMs(options.overdueAfter);
    for (;;) {
      const woke = await condition(() => isFinalWebhookStatus(notices.get(refId)?.status), delay, {
        summary: `await webhook for ${refId} or poll in ${Math.round(delay / 1000)} s`,
      });
      const status = await untilUnblocked(
        `GET ${refId}`,
        () =>
          tangoActivities.getOrderStatus.executeWithOptions(
            { summary: woke ? `confirm ${refId} settled (webhook)` : `poll ${refId}` },
            [{ campaignId, externalRefID: refId, chunk, round }],
          ),
        'keep-trying',
      );
      if (status.final) return;
      if (woke) {
        // The webhook said final but GET does not agree yet: drop it and poll again soon.
        notices.delete(refId);
        delay = durationMs(options.pollInitial);
      } else {
        delay = Math.min(delay * 2, maxDelay);
      }
      if (!overdue && Date.now() >= overdueAt) {
        overdue = true;
        markOverdue(true);
        log.warn('order overdue: Tango has not settled it; still polling', { externalRefID: refId });
        await report();
      }
      if (workflowInfo().continueAsNewSuggested && patched(CONTINUE_WHILE_WAITING)) {
        const notice = notices.get(refId);
        state.awaiting = { round, externalRefID: refId, ...(notice ? { notice } : {}) };
        await continueWithState();
      }
    }
  }

  /** Items Tango holds undecided (PENDING) or scheduled: sleep until it is time, then read them by id. */
  async function watchOpenItems(): Promise<void> {
    phase = 'awaiting-tango';
    const watch = state.watch ?? { delayMs: durationMs(options.pollInitial) };
    const untilScheduled = watch.nextScheduled
      ? Math.max(0, Date.parse(watch.nextScheduled) - Date.now()) + SCHEDULED_MARGIN_MS
      : Infinity;
    const wait = state.counts.submitted > 0 ? Math.min(watch.delayMs, untilScheduled) : untilScheduled;
    await report();
    await condition(
      () =>
        state.pendingInput.length > 0 || (state.cancelReason !== undefined && state.counts.submitted === 0),
      Number.isFinite(wait) ? wait : durationMs(options.pollMax),
      {
        summary:
          state.counts.submitted > 0
            ? `read ${state.counts.submitted} undecided item(s) again in ${Math.round(wait / 1000)} s`
            : `${state.counts.scheduled} item(s) scheduled: read them again after ${watch.nextScheduled ?? '?'}`,
      },
    );
    if (state.pendingInput.length > 0 || (state.cancelReason !== undefined && state.counts.submitted === 0))
      return;
    // One lookup (one Tango request) per activity, up to 50 items each, until every due item was read.
    let rechecked;
    let after: number | undefined;
    do {
      const from = after;
      rechecked = await untilUnblocked(
        'read undecided items',
        () =>
          settleActivities.recheckOrderItems.executeWithOptions(
            { summary: `read ${state.counts.submitted + state.counts.scheduled} open item(s) by id` },
            [{ campaignId, chunk, step: state.step, ...(from !== undefined ? { after: from } : {}) }],
          ),
        'keep-trying',
      );
      state.step += 1;
      absorb(rechecked.counts, rechecked.failuresThisRound);
      after = rechecked.next;
    } while (after !== undefined);
    state.watch = {
      ...watchAfter(rechecked),
      delayMs:
        rechecked.pending > 0 ? Math.min(watch.delayMs * 2, durationMs(options.pollMax)) : watch.delayMs,
    };
    noteNewWaiting();
    await report();
    if (workflowInfo().continueAsNewSuggested) await continueWithState();
  }

  async function awaitOperatorOrFunds(): Promise<void> {
    phase = 'awaiting-operator';
    await report();
    const deadline = state.waitDeadline ?? Date.now() + durationMs(options.correctionWindow);
    state.waitDeadline = deadline;
    const checkEvery = durationMs(options.fundsCheckInterval);
    const fundsWaiting = state.counts.awaitingFunds > 0;
    // A fundsAdded signal means something only to an order with items waiting for funds.
    if (!fundsWaiting) state.fundsSignalled = false;
    const timeout = Math.max(0, Math.min(deadline - Date.now(), fundsWaiting ? checkEvery : Infinity));
    const woke = await condition(
      () =>
        state.pendingInput.length > 0 ||
        (fundsWaiting && state.fundsSignalled) ||
        state.cancelReason !== undefined,
      timeout,
      {
        summary: fundsWaiting ? 'await corrections, funds or a balance check' : 'await operator corrections',
      },
    );
    if (woke && (state.pendingInput.length > 0 || state.cancelReason !== undefined)) return;
    if (state.counts.awaitingFunds > 0 && (state.fundsSignalled || Date.now() < deadline)) {
      state.fundsSignalled = false;
      const balance = await checkBalance();
      if (balance.currentBalance >= state.counts.awaitingFundsAmount) {
        await apply({ kind: 'funds-released' }, `funds cover ${state.counts.awaitingFunds} item(s)`);
        await report();
        return;
      }
      if (Date.now() < deadline) {
        if (workflowInfo().continueAsNewSuggested && patched(CONTINUE_WHILE_WAITING))
          await continueWithState();
        return;
      }
    }
    if (Date.now() >= deadline) {
      await apply(
        { kind: 'give-up-waiting', reason: `no correction within ${String(options.correctionWindow)}` },
        'correction window closed',
      );
      state.waitDeadline = undefined;
      await report();
    }
  }

  async function waitForFunds(reason: string): Promise<void> {
    phase = 'awaiting-operator';
    log.warn(reason);
    const deadline = Date.now() + durationMs(options.correctionWindow);
    for (;;) {
      await condition(
        () => state.fundsSignalled || state.cancelReason !== undefined,
        Math.max(0, Math.min(durationMs(options.fundsCheckInterval), deadline - Date.now())),
        { summary: 'await funds for the whole order' },
      );
      state.fundsSignalled = false;
      if (state.cancelReason !== undefined) return;
      if (Date.now() >= deadline) {
        await apply(
          {
            kind: 'give-up-queued',
            reason: `${reason}; no funds within ${String(options.correctionWindow)}`,
          },
          'give up: no funds',
        );
        return;
      }
      const balance = await checkBalance();
      if (balance.currentBalance > 0) return;
    }
  }

  /** The account balance; revoked credentials block the order like any other Tango step. */
  async function checkBalance() {
    return untilUnblocked(
      'balance check',
      () =>
        tangoActivities.getAccountBalance.executeWithOptions({ summary: 'check the balance' }, [
          { customerIdentifier: input.customerIdentifier, accountIdentifier: input.accountIdentifier },
        ]),
      'keep-trying',
    );
  }

  /**
   * Runs a Tango step; a failure that retrying can't fix (credentials revoked, an order that is not
   * ours) blocks the order instead of failing it: it says why, waits for `resume` or BLOCKED_RETRY,
   * and tries the same step again. Failing would leave its items' fate unreported. A cancel ends the
   * block only where the order may give up (`abandon`: a POST; `abandon-collision`: a collision);
   * elsewhere Tango holds items whose fate the order must still learn, and it keeps trying.
   */
  async function untilUnblocked<T>(what: string, step: () => Promise<T>, onCancel: 'keep-trying'): Promise<T>;
  async function untilUnblocked<T>(
    what: string,
    step: () => Promise<T>,
    onCancel: 'abandon' | 'abandon-collision',
  ): Promise<T | typeof ABANDONED>;
  async function untilUnblocked<T>(
    what: string,
    step: () => Promise<T>,
    onCancel: 'abandon' | 'abandon-collision' | 'keep-trying',
  ): Promise<T | typeof ABANDONED> {
    for (;;) {
      try {
        const result = await step();
        unblock();
        return result;
      } catch (error) {
        const cause = error instanceof ActivityFailure ? error.cause : undefined;
        if (!(cause instanceof ApplicationFailure) || cause.type === 'TangoInsufficientFunds') throw error;
        const abandonable =
          onCancel === 'abandon' || (onCancel === 'abandon-collision' && cause.type === 'OrderCollision');
        const previous = phase === 'blocked' ? 'queued' : phase;
        phase = 'blocked';
        blockedReason = `${what}: ${cause.message}`;
        log.error('order blocked: a person must fix the cause; retrying periodically', {
          reason: blockedReason,
        });
        markBlocked(cause.type ?? 'error');
        await report();
        if (abandonable && state.cancelReason !== undefined) return ABANDONED;
        const resumed = paused;
        await condition(
          () => (abandonable && state.cancelReason !== undefined) || (resumed && !paused),
          BLOCKED_RETRY,
          { summary: `blocked (${cause.type ?? 'error'}): retry in ${BLOCKED_RETRY}` },
        );
        if (abandonable && state.cancelReason !== undefined) return ABANDONED;
        phase = previous;
      }
    }
  }

  function unblock() {
    if (blockedReason === undefined) return;
    blockedReason = undefined;
    markBlocked(undefined);
  }

  async function continueWithState(): Promise<never> {
    return continueAsNew<typeof orderWorkflow>({ ...input, paused, resume: state });
  }

  /** New counts from the book; failures accumulate across steps (the book holds only the latest). */
  function absorb(counts: ItemCounts, failuresThisStep?: ItemCounts['failures']) {
    const failures = { ...state.counts.failures };
    for (const [key, value] of Object.entries(failuresThisStep ?? {})) {
      failures[key as keyof typeof failures] += value;
    }
    state.counts = { ...counts, scheduled: counts.scheduled ?? 0, failures };
  }

  function noteNewWaiting() {
    if (waiting(state.counts) > 0) {
      // Each new batch of failures gets the full window from now.
      state.waitDeadline = Date.now() + durationMs(options.correctionWindow);
    } else {
      state.waitDeadline = undefined;
    }
  }

  function markOverdue(value: boolean) {
    if (input.useSearchAttributes === false) return;
    upsertSearchAttributes([{ key: searchAttributes.orderOverdue, value }]);
  }

  /** OrderBlocked = the failure type while the order is blocked (operators search for it). */
  function markBlocked(type: string | undefined) {
    if (input.useSearchAttributes === false || !patched(BLOCKED_ATTRIBUTE)) return;
    upsertSearchAttributes([{ key: searchAttributes.orderBlocked, value: type ?? '' }]);
  }
}

function watchAfter(result: { nextScheduled?: string }): { nextScheduled?: string } {
  return result.nextScheduled ? { nextScheduled: result.nextScheduled } : {};
}

function waiting(counts: ItemCounts): number {
  return counts.awaitingCorrection + counts.awaitingFunds;
}

function isFailureType(error: unknown, type: string): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === type;
}

function orderDetails(progress: OrderProgress): string {
  const { counts } = progress;
  return [
    `**Order ${progress.externalRefID}** (chunk ${progress.chunk}, round ${progress.round}): ${progress.phase}` +
      (progress.overdue ? ' — **overdue**' : '') +
      (progress.blockedReason ? `\n\n**Blocked:** ${progress.blockedReason}` : ''),
    '',
    '| total | delivered | scheduled | queued | in flight | awaiting correction | awaiting funds | given up | cancelled |',
    '|---|---|---|---|---|---|---|---|---|',
    `| ${counts.total} | ${counts.delivered} | ${counts.scheduled ?? 0} | ${counts.queued} | ${counts.submitted} | ${counts.awaitingCorrection} | ${counts.awaitingFunds} | ${counts.givenUp} | ${counts.cancelled} |`,
  ].join('\n');
}
