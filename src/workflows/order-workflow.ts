// orderWorkflow: one Tango async order (one chunk of a campaign) and its correction rounds.
// submit -> await webhook or poll -> settle (failed pages, reconcile, classify) -> corrections /
// funds / transient retries -> resubmit as <ref>-<chunk>-r<round> -> ... until nothing is left.
// Items live in the store (the order book); this workflow sees keys and counts only.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  ActivityFailure,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import { orderExternalRefId } from '../campaign/ids.ts';
import { orderBookKey } from '../campaign/book-keys.ts';
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
import { durationMs } from './duration.ts';
import {
  type CampaignOptions,
  type ItemCounts,
  type OperatorInput,
  type OrderPhase,
  type OrderProgress,
  type OrderStatusNotice,
  emptyCounts,
} from './types.ts';

type Activities = ReturnType<typeof createActivities>;

/** How often a blocked order tries its step again on its own. */
const BLOCKED_RETRY = '15 minutes';

// Short timeouts: a worker killed mid-activity costs the order this long before the retry starts.
// A Tango call is bounded by TANGO_TIMEOUT_MS (30 s) plus the rate limiter's wait.
const tangoActivities = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
const settleActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
const storeActivities = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
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
}

export interface OrderResult {
  chunk: number;
  rounds: number;
  counts: ItemCounts;
  finalBookKey: string;
}

export async function orderWorkflow(input: OrderInput): Promise<OrderResult> {
  const { campaignId, chunk, options } = input;
  const state: OrderState = input.resume ?? {
    step: 0,
    round: 0,
    counts: emptyCounts(),
    pendingInput: [],
    fundsSignalled: false,
  };
  let phase: OrderPhase = 'queued';
  let paused = input.paused ?? false;
  let overdue = false;
  let blockedReason: string | undefined;
  const notices = new Map<string, OrderStatusNotice>();
  const externalRefID = () => orderExternalRefId(input.campaignRef, chunk, state.round);

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
  });

  setHandler(orderStatusSignal, (notice) => {
    // Webhooks may be duplicated, reordered, for another round, or early: keep the newest per order.
    const known = notices.get(notice.externalRefID);
    if (known && (known.revision ?? -1) > (notice.revision ?? -1) && isFinalWebhookStatus(known.status))
      return;
    notices.set(notice.externalRefID, notice);
  });
  setHandler(operatorInputSignal, (operatorInput) => {
    state.pendingInput.push(operatorInput);
  });
  setHandler(fundsAddedSignal, () => {
    state.fundsSignalled = true;
  });
  setHandler(pauseSignal, () => {
    paused = true;
  });
  setHandler(resumeSignal, () => {
    paused = false;
  });
  setHandler(cancelOrderSignal, ({ reason }) => {
    state.cancelReason ??= reason;
  });
  setHandler(orderProgressQuery, () => progress());

  let lastReported = '';
  let reportSequence = 0;
  const report = async (done = false) => {
    const current = progress(done);
    setCurrentDetails(orderDetails(current));
    // Unchanged progress is not worth a signal (and two history events in each workflow).
    const serialized = JSON.stringify(current);
    if (!input.parentWorkflowId || serialized === lastReported) return;
    lastReported = serialized;
    reportSequence += 1;
    const sent = getExternalWorkflowHandle(input.parentWorkflowId)
      .signal(orderProgressSignal, { ...current, sequence: reportSequence })
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
  };

  if (!input.resume) {
    state.counts = { ...emptyCounts(), total: input.items, queued: input.items };
  }

  for (;;) {
    // Operator input first: it can only move waiting items, never items in flight.
    while (state.pendingInput.length > 0) {
      const next = state.pendingInput.shift()!;
      await apply(
        { kind: next.kind, key: next.key },
        next.kind === 'corrections'
          ? `apply ${next.count} operator correction(s)`
          : `skip ${next.count} item(s)`,
      );
      await report();
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
      if (state.round >= options.maxRounds) {
        await apply(
          { kind: 'give-up-queued', reason: `still failing after ${options.maxRounds} round(s)` },
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
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof orderWorkflow>({ ...input, paused, resume: state });
      }
      continue;
    }

    if (waiting(state.counts) > 0) {
      await awaitOperatorOrFunds();
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

  async function submitAndSettle(): Promise<void> {
    const refId = externalRefID();
    const round = state.round;
    if (round > 0 && state.counts.queued > 0 && durationMs(options.resubmitDelay) > 0) {
      await sleep(options.resubmitDelay, {
        summary: `wait ${String(options.resubmitDelay)} before round ${round}`,
      });
    }
    phase = 'submitting';
    let submit;
    try {
      submit = await untilUnblocked(`POST ${refId}`, () =>
        tangoActivities.submitOrderRound.executeWithOptions(
          { summary: `POST order ${refId} (${state.counts.queued} items)` },
          [{ campaignId, chunk, round, step: state.step, externalRefID: refId }],
        ),
      );
    } catch (error) {
      if (isFailureType(error, 'TangoInsufficientFunds')) {
        // Not created: wait for money, then send the same externalRefID again.
        await waitForFunds(`order ${refId} refused for insufficient funds`);
        return;
      }
      throw error;
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

    phase = 'awaiting-tango';
    await awaitSettled(refId);

    phase = 'settling';
    const settled = await untilUnblocked(`settle ${refId}`, () =>
      settleActivities.settleOrderRound.executeWithOptions(
        { summary: `read failed items of ${refId} and reconcile` },
        [{ campaignId, chunk, round, step: state.step, externalRefID: refId }],
      ),
    );
    state.step += 1;
    absorb(settled.counts, settled.failuresThisRound);
    state.round += 1;
    noteNewWaiting();
    if (overdue) {
      overdue = false;
      markOverdue(false);
    }
    await report();
  }

  async function awaitSettled(refId: string): Promise<void> {
    const started = Date.now();
    let delay = durationMs(options.pollInitial);
    const maxDelay = durationMs(options.pollMax);
    const overdueAt = started + durationMs(options.overdueAfter);
    for (;;) {
      const woke = await condition(() => isFinalWebhookStatus(notices.get(refId)?.status), delay, {
        summary: `await webhook for ${refId} or poll in ${Math.round(delay / 1000)} s`,
      });
      const status = await untilUnblocked(`GET ${refId}`, () =>
        tangoActivities.getOrderStatus.executeWithOptions(
          { summary: woke ? `confirm ${refId} settled (webhook)` : `poll ${refId}` },
          [{ campaignId, externalRefID: refId }],
        ),
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
    }
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
      const balance = await tangoActivities.getAccountBalance.executeWithOptions(
        { summary: 'check the balance' },
        [{ customerIdentifier: input.customerIdentifier, accountIdentifier: input.accountIdentifier }],
      );
      if (balance.currentBalance >= state.counts.awaitingFundsAmount) {
        await apply({ kind: 'funds-released' }, `funds cover ${state.counts.awaitingFunds} item(s)`);
        await report();
        return;
      }
      if (Date.now() < deadline) return;
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
      const balance = await tangoActivities.getAccountBalance.executeWithOptions(
        { summary: 'check the balance' },
        [{ customerIdentifier: input.customerIdentifier, accountIdentifier: input.accountIdentifier }],
      );
      if (balance.currentBalance > 0) return;
    }
  }

  /**
   * Runs a Tango step; a failure that retrying can't fix (credentials revoked, an order Tango says it
   * doesn't know) blocks the order instead of failing it: it says why, waits for `resume` or
   * BLOCKED_RETRY, and tries the same step again. Failing would leave its items' fate unreported.
   */
  async function untilUnblocked<T>(what: string, step: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await step();
      } catch (error) {
        const cause = error instanceof ActivityFailure ? error.cause : undefined;
        if (!(cause instanceof ApplicationFailure) || cause.type === 'TangoInsufficientFunds') throw error;
        const previous = phase;
        phase = 'blocked';
        blockedReason = `${what}: ${cause.message}`;
        log.error('order blocked: a person must fix the cause; retrying periodically', {
          reason: blockedReason,
        });
        await report();
        const resumed = paused;
        await condition(() => state.cancelReason !== undefined || (resumed && !paused), BLOCKED_RETRY, {
          summary: `blocked (${cause.type ?? 'error'}): retry in ${BLOCKED_RETRY}`,
        });
        phase = previous;
        blockedReason = undefined;
      }
    }
  }

  /** New counts from the book; failures accumulate across steps (the book holds only the latest). */
  function absorb(counts: ItemCounts, failuresThisStep?: ItemCounts['failures']) {
    const failures = { ...state.counts.failures };
    for (const [key, value] of Object.entries(failuresThisStep ?? {})) {
      failures[key as keyof typeof failures] += value;
    }
    state.counts = { ...counts, failures };
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
      (progress.overdue ? ' — **overdue**' : ''),
    '',
    '| total | delivered | queued | in flight | awaiting correction | awaiting funds | given up | cancelled |',
    '|---|---|---|---|---|---|---|---|',
    `| ${counts.total} | ${counts.delivered} | ${counts.queued} | ${counts.submitted} | ${counts.awaitingCorrection} | ${counts.awaitingFunds} | ${counts.givenUp} | ${counts.cancelled} |`,
  ].join('\n');
}
