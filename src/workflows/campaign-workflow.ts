// campaignWorkflow: one reward campaign. Stages and validates the items, passes the money controls
// (approval, balance), runs one orderWorkflow per chunk in a sliding window, lets operators steer
// (pause, corrections, skips, metadata, thresholds, cancel), and writes the final report.
// Why so long: every handler, money control and the order window share one closure's state, and
// each change of its commands must stay behind a patched() marker for the campaigns running; a split
// into one state record with step functions comes with new replay histories, not piecemeal.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import { campaignRef, orderExternalRefId } from '../campaign/ids.ts';
import { type AppliedPolicy, effectiveApprovalThreshold, sameIdentity } from '../campaign/policy.ts';
import {
  approveUpdate,
  cancelOrderSignal,
  failuresQuery,
  fundsAddedSignal,
  operatorInputSignal,
  orderProgressSignal,
  orderWorkflowId,
  pauseSignal,
  progressQuery,
  rejectUpdate,
  resumeSignal,
  searchAttributes,
  setFailureThresholdUpdate,
  skipItemsUpdate,
  submitCorrectionsUpdate,
  updateMetadataUpdate,
} from '../definitions.ts';
import { durationMs } from './duration.ts';
import { orderWorkflow } from './order-workflow.ts';
import { CampaignNotifications, type NotificationsCarry } from './campaign-notifications.ts';
import {
  type CampaignInput,
  type CampaignProgress,
  type CampaignResult,
  type CampaignStartInput,
  type CampaignStatus,
  type FailureThreshold,
  type ItemCounts,
  type OrderProgress,
  campaignInputSchema,
  emptyCounts,
  failureThresholdSchema,
  fundsAddedSchema,
  optionalReasonSchema,
  orderProgressSchema,
  metadataPatchSchema,
  skipItemsSchema,
} from './types.ts';
import { correctionsInputSchema } from './corrections-input.ts';
import { parseWorkflowInput, validSignal } from './boundary.ts';
import {
  STAGING,
  STORE_LONG,
  STORE_STEP,
  TANGO_LONG,
  TANGO_REQUEST,
  onTangoQueue,
} from './activity-options.ts';

type Activities = ReturnType<typeof createActivities>;

/** Blocked orders named in the progress and failures queries (the count covers all). */
const MAX_BLOCKED_LISTED = 20;

const stagingActivities = proxyActivities<Activities>(STAGING);
const storeActivities = proxyActivities<Activities>(STORE_STEP);
const longStoreActivities = proxyActivities<Activities>(STORE_LONG);

/** What a campaign run carries into the next one when it continues as new. */
export interface CampaignCarry {
  status: CampaignStatus;
  statusReason?: string;
  staged: { items: number; chunks: number; totalAmount: number };
  nextChunk: number;
  inFlight: Record<number, OrderProgress>;
  finished: { orders: number; counts: ItemCounts; rounds: number; inputIgnored?: number };
  approvedBy?: string;
  /** Money controls: the worker's policy as staging read it, and the total the approval covered. */
  policy?: AppliedPolicy;
  approvedTotal?: number;
  /** Spend limits: whether the account has any, and who approved crossing one. */
  spendLimited?: boolean;
  spendApprovedBy?: string;
  operatorSequence: number;
  failureThreshold?: FailureThreshold;
  thresholdAcknowledgedAt?: number;
  paused: boolean;
  cancelReason?: string;
  ordersCancelled?: boolean;
  notifications?: NotificationsCarry;
}

export interface CampaignWorkflowInput extends CampaignStartInput {
  /** Set by continue-as-new only. */
  carry?: CampaignCarry;
  /** False on servers without our search attributes registered (e.g. the time-skipping server). */
  useSearchAttributes?: boolean;
}

export async function campaignWorkflow(rawInput: CampaignWorkflowInput): Promise<CampaignResult> {
  const { carry: carried, useSearchAttributes = true, ...startInput } = rawInput;
  // A bad input (e.g. from `temporal workflow start`) fails the campaign at once, naming the fields.
  const input: CampaignInput = parseWorkflowInput(campaignInputSchema, startInput, 'campaignWorkflow');
  // Tango calls on the Tango task queue, whose rate limit is the request budget.
  const tangoActivities = proxyActivities<Activities>(onTangoQueue(TANGO_REQUEST));
  const longTangoActivities = proxyActivities<Activities>(onTangoQueue(TANGO_LONG));
  const { campaignId, options } = input;
  const ref = campaignRef(campaignId);

  let status: CampaignStatus = carried?.status ?? 'staging';
  let statusReason = carried?.statusReason;
  let staged = carried?.staged;
  let nextChunk = carried?.nextChunk ?? 0;
  const inFlight = new Map<number, OrderProgress>(
    Object.entries(carried?.inFlight ?? {}).map(([chunk, progress]) => [Number(chunk), progress]),
  );
  const finished = carried?.finished ?? { orders: 0, counts: emptyCounts(), rounds: 0 };
  let approvedBy = carried?.approvedBy;
  let rejectedBy: string | undefined;
  /** Whether this run waited for a person to approve (a balance read before that is stale). */
  let waitedForApproval = false;
  // Money controls (the worker's policy, read once at staging; the total an approval covered).
  let policy = carried?.policy;
  let approvedTotal = carried?.approvedTotal;
  // Spend limits across campaigns (the account's limits per period, counted from the deliveries index).
  let spendLimited = carried?.spendLimited ?? false;
  let spendApprovedBy = carried?.spendApprovedBy;
  let awaitingSpendApproval = false;
  let spendRejected: { by: string; reason: string } | undefined;
  let operatorSequence = carried?.operatorSequence ?? 0;
  let failureThreshold = carried?.failureThreshold ?? options.failureThreshold;
  let thresholdAcknowledgedAt = carried?.thresholdAcknowledgedAt;
  let paused = carried?.paused ?? false;
  /** What the orders in flight were last told (new orders start with `paused`). */
  let ordersPaused = paused;
  let cancelReason = carried?.cancelReason;
  /** Whether the orders in flight were told to stop (new ones are never started after a cancel). */
  let ordersCancelled = carried?.ordersCancelled ?? false;
  let fundsSignalled = false;
  let lastSearchUpsert = 0;
  let changed = 0;
  // Notifications when the campaign needs a person (NOTIFY_URL on the worker), never waited for.
  const notifications = new CampaignNotifications(campaignId, carried?.notifications);

  // ----- Aggregation -----
  const totals = (): ItemCounts => {
    const counts = addCounts(emptyCounts(), finished.counts);
    for (const progress of inFlight.values()) addCounts(counts, progress.counts);
    if (staged) {
      const startedItems = counts.total;
      const notStarted = Math.max(0, staged.items - startedItems);
      counts.total += notStarted;
      counts.queued += notStarted;
    }
    return counts;
  };
  const ignoredInput = () =>
    [...inFlight.values()].reduce(
      (sum, order) => sum + (order.inputIgnored ?? 0),
      finished.inputIgnored ?? 0,
    );
  const progress = (): CampaignProgress => ({
    campaignId,
    status,
    ...(statusReason ? { statusReason } : {}),
    counts: totals(),
    orders: {
      total: staged?.chunks ?? 0,
      started: nextChunk,
      finished: finished.orders,
      inFlight: inFlight.size,
      overdue: [...inFlight.values()].filter((order) => order.overdue).length,
      blocked: [...inFlight.values()].filter((order) => order.phase === 'blocked').length,
    },
    ...(ignoredInput() > 0 ? { inputIgnored: ignoredInput() } : {}),
    blockedOrders: [...inFlight.values()]
      .filter((order) => order.phase === 'blocked')
      .slice(0, MAX_BLOCKED_LISTED)
      .map((order) => ({
        chunk: order.chunk,
        externalRefID: order.externalRefID,
        reason: order.blockedReason ?? 'blocked',
      })),
    rounds: Math.max(finished.rounds, ...[...inFlight.values()].map((order) => order.round)),
    totalAmount: staged?.totalAmount ?? 0,
    ...(approvedBy ? { approvedBy } : {}),
  });

  const setStatus = (next: CampaignStatus, reason?: string) => {
    status = next;
    statusReason = reason;
    publish(true);
  };

  function publish(force = false) {
    const snapshot = progress();
    setCurrentDetails(campaignDetails(snapshot));
    if (!useSearchAttributes) return;
    const now = Date.now();
    if (!force && now - lastSearchUpsert < 30_000) return;
    lastSearchUpsert = now;
    upsertSearchAttributes([
      { key: searchAttributes.campaignStatus, value: snapshot.status },
      { key: searchAttributes.itemsDelivered, value: snapshot.counts.delivered },
      {
        key: searchAttributes.itemsFailed,
        value: snapshot.counts.awaitingCorrection + snapshot.counts.awaitingFunds,
      },
      { key: searchAttributes.itemsGivenUp, value: snapshot.counts.givenUp },
    ]);
  }

  const orderHandle = (chunk: number) =>
    getExternalWorkflowHandle(orderWorkflowId(orderExternalRefId(ref, chunk, 0)));
  const broadcast = async (send: (chunk: number) => Promise<void>) => {
    await Promise.all(
      [...inFlight.keys()].map((chunk) =>
        send(chunk).catch((error: unknown) =>
          log.warn('order did not take the signal', { chunk, error: String(error) }),
        ),
      ),
    );
  };

  // ----- Operator surface -----
  setHandler(progressQuery, progress);
  setHandler(failuresQuery, (query) => {
    const orders = [...inFlight.values()]
      .filter(
        (order) => order.counts.awaitingCorrection + order.counts.awaitingFunds + order.counts.givenUp > 0,
      )
      .filter((order) => (query?.failureClass ? (order.counts.failures[query.failureClass] ?? 0) > 0 : true))
      .map((order) => ({
        chunk: order.chunk,
        bookKey: order.bookKey,
        awaitingCorrection: order.counts.awaitingCorrection,
        awaitingFunds: order.counts.awaitingFunds,
        givenUp: order.counts.givenUp,
      }));
    const counts = totals();
    return {
      campaignId,
      orders,
      blocked: progress().blockedOrders ?? [],
      totals: {
        awaitingCorrection: counts.awaitingCorrection,
        awaitingFunds: counts.awaitingFunds,
        givenUp: counts.givenUp,
        failures: counts.failures,
      },
    };
  });

  setHandler(orderProgressSignal, validSignal('orderProgress', orderProgressSchema, onOrderProgress));
  function onOrderProgress(update: OrderProgress) {
    changed += 1;
    if (update.done) {
      if (!inFlight.has(update.chunk)) return; // duplicate "done"
      inFlight.delete(update.chunk);
      finished.orders += 1;
      addCounts(finished.counts, update.counts);
      finished.inputIgnored = (finished.inputIgnored ?? 0) + (update.inputIgnored ?? 0);
      finished.rounds = Math.max(finished.rounds, update.round);
    } else {
      const known = inFlight.get(update.chunk);
      if (known && (update.sequence ?? 0) >= (known.sequence ?? 0)) inFlight.set(update.chunk, update);
    }
    publish();
  }

  setHandler(pauseSignal, validSignal('pause', optionalReasonSchema, onPause));
  function onPause(request: { reason?: string } | undefined) {
    if (paused) return;
    paused = true;
    changed += 1;
    // Paused while staging or waiting for approval or funds: it goes back to that wait on resume and
    // holds its first order until then.
    if (status !== 'staging' && status !== 'awaiting-approval' && status !== 'awaiting-funds') {
      setStatus('paused', request?.reason ?? 'paused by operator');
    }
  }
  setHandler(resumeSignal, () => {
    paused = false;
    changed += 1;
    if (status === 'threshold-exceeded') thresholdAcknowledgedAt = totals().givenUp;
    if (status === 'paused' || status === 'threshold-exceeded') setStatus('running');
  });
  setHandler(
    fundsAddedSignal,
    validSignal('fundsAdded', fundsAddedSchema, (request) => {
      fundsSignalled = true;
      changed += 1;
      void broadcast((chunk) => orderHandle(chunk).signal(fundsAddedSignal, request));
    }),
  );

  // A Temporal cancel (UI, client, CLI) stops new orders and lets those with Tango settle: the
  // campaign's own work, its orders included, runs in a non-cancellable scope, and the request only
  // sets the cancel reason, which every wait below watches.
  CancellationScope.current().cancelRequested.catch(() => {
    if (cancelReason !== undefined) return;
    cancelReason = 'cancelled by operator';
    changed += 1;
  });

  const activeOrdersWithFailures = () =>
    [...inFlight.values()]
      .filter(
        (order) => order.counts.awaitingCorrection + order.counts.awaitingFunds + order.counts.queued > 0,
      )
      .map((order) => ({ chunk: order.chunk, bookKey: order.bookKey }));

  const stageAndSend = async (
    kind: 'corrections' | 'skip',
    payload: Parameters<Activities['stageOperatorInput']>[0]['payload'],
  ) => {
    operatorSequence += 1;
    let result;
    try {
      result = await longStoreActivities.stageOperatorInput.executeWithOptions(
        { summary: kind === 'corrections' ? 'validate operator corrections' : 'validate items to skip' },
        [{ campaignId, sequence: operatorSequence, kind, payload, orders: activeOrdersWithFailures() }],
      );
    } catch (error) {
      // The operator sees the activity's own message ("correction 2 (id): ...") as the update's failure.
      const cause = error instanceof ActivityFailure ? error.cause : undefined;
      if (cause instanceof ApplicationFailure) {
        throw ApplicationFailure.create({
          type: cause.type ?? 'InvalidOperatorInput',
          message: cause.message,
          details: cause.details as unknown[],
          nonRetryable: true,
        });
      }
      throw error;
    }
    // Money controls on corrections: refused before any order hears of them.
    if (result.money && patched('correction-money-controls')) await correctionMoneyControls(result.money);
    for (const target of result.orders) {
      await orderHandle(target.chunk).signal(operatorInputSignal, {
        kind,
        key: target.key,
        count: target.count,
      });
    }
    changed += 1;
    return { accepted: result.accepted, orders: result.orders.length };
  };

  /**
   * Corrections that raise an amount or change a reward pass the money controls again: the total after
   * them must stay within the approval threshold (or the total already approved), and the balance
   * must cover the items they change. Otherwise they are refused, nothing changed.
   */
  async function correctionMoneyControls(money: {
    amountDelta: number;
    raisesSpend: boolean;
    raisedItemsAmount: number;
  }) {
    if (!staged) return;
    const total = Math.round((staged.totalAmount + money.amountDelta) * 100) / 100;
    if (money.raisesSpend) {
      const threshold = effectiveApprovalThreshold(options.approvalThreshold, policy);
      const limit = threshold === undefined ? undefined : Math.max(threshold, approvedTotal ?? 0);
      if (limit !== undefined && total > limit)
        throw ApplicationFailure.create({
          type: 'CorrectionsNeedApproval',
          message:
            `these corrections would raise the campaign's total to ${total}, above ` +
            (approvedTotal !== undefined && approvedTotal >= (threshold ?? 0)
              ? `the approved total ${limit}`
              : `the approval threshold ${limit}`) +
            ': refused, nothing was changed. Correct within the limit, or send the rest as a new campaign (which is approved on its own)',
          nonRetryable: true,
        });
      if (options.preflightBalanceCheck) {
        const balance = await tangoActivities.getAccountBalance.executeWithOptions(
          { summary: 'balance check for corrections' },
          [{ customerIdentifier: input.customerIdentifier, accountIdentifier: input.accountIdentifier }],
        );
        if (balance.currentBalance < money.raisedItemsAmount)
          throw ApplicationFailure.create({
            type: 'InsufficientFundsForCorrections',
            message: `balance ${balance.currentBalance} does not cover the corrected items (${money.raisedItemsAmount}): refused, nothing was changed; add funds and send the corrections again`,
            nonRetryable: true,
          });
      }
    }
    staged.totalAmount = total;
  }

  setHandler(
    submitCorrectionsUpdate,
    (corrections) => stageAndSend('corrections', { kind: 'corrections', corrections }),
    {
      validator: (corrections) => {
        const parsed = correctionsInputSchema.safeParse(corrections);
        if (!parsed.success)
          throw new Error(`corrections: ${parsed.error.issues.map(formatIssue).join('; ')}`);
        if (isClosed(status)) throw new Error(`the campaign is ${status}: it takes no corrections`);
      },
    },
  );
  setHandler(skipItemsUpdate, (request) => stageAndSend('skip', { kind: 'skip', ...request }), {
    validator: (request) => {
      const parsed = skipItemsSchema.safeParse(request);
      if (!parsed.success) throw new Error(`skipItems: ${parsed.error.issues.map(formatIssue).join('; ')}`);
      if (isClosed(status)) throw new Error(`the campaign is ${status}: nothing to skip`);
    },
  });
  setHandler(
    updateMetadataUpdate,
    async (patch) => {
      await storeActivities.saveCampaignMetadata.executeWithOptions({ summary: 'save new order metadata' }, [
        { campaignId, patch },
      ]);
      const patched = await longTangoActivities.patchSubmittedOrders.executeWithOptions(
        { summary: 'PATCH every submitted order' },
        [{ campaignId, patch }],
      );
      return { ordersPatched: patched };
    },
    {
      validator: (patch) => {
        const parsed = metadataPatchSchema.safeParse(patch);
        if (!parsed.success)
          throw new Error(`updateMetadata: ${parsed.error.issues.map(formatIssue).join('; ')}`);
        if (status === 'staging')
          throw new Error('the campaign is still staging its items; try again shortly');
      },
    },
  );
  setHandler(
    approveUpdate,
    ({ approver }) => {
      changed += 1;
      if (awaitingSpendApproval) {
        spendApprovedBy = approver;
        approvedBy ??= approver;
        return { approvedBy: approver };
      }
      approvedBy = approver;
      approvedTotal = staged?.totalAmount;
      return { approvedBy: approver };
    },
    {
      validator: ({ approver }) => {
        if (status !== 'awaiting-approval')
          throw new Error(`the campaign is ${status}, not awaiting approval`);
        if (!awaitingSpendApproval && (approvedBy !== undefined || rejectedBy !== undefined))
          throw new Error('the campaign has already been approved or rejected');
        if (!approver?.trim()) throw new Error('approve: name the approver');
        // The worker's policy: whoever started the campaign does not approve it (identities as the
        // clients state them: docs/operations.md says what this is worth and how to restrict access).
        if (policy?.requireDistinctApprover) {
          if (!input.requestedBy?.trim())
            throw new Error(
              "approve: the worker's policy requires an approver other than the starter, and this campaign was started without requestedBy: reject it and start it again with requestedBy set",
            );
          if (sameIdentity(approver, input.requestedBy))
            throw new Error(
              `approve: ${approver.trim()} started this campaign (requestedBy); the worker's policy requires someone else to approve it`,
            );
        }
      },
    },
  );
  setHandler(
    rejectUpdate,
    ({ approver, reason }) => {
      changed += 1;
      if (awaitingSpendApproval) {
        spendRejected = { by: approver, reason };
        return { rejectedBy: approver };
      }
      rejectedBy = approver;
      statusReason = reason;
      return { rejectedBy: approver };
    },
    {
      validator: ({ approver, reason }) => {
        if (status !== 'awaiting-approval')
          throw new Error(`the campaign is ${status}, not awaiting approval`);
        if (!awaitingSpendApproval && (approvedBy !== undefined || rejectedBy !== undefined))
          throw new Error('the campaign has already been approved or rejected');
        if (!approver?.trim() || !reason?.trim()) throw new Error('reject: name the approver and the reason');
      },
    },
  );
  setHandler(
    setFailureThresholdUpdate,
    (threshold) => {
      failureThreshold = threshold;
      changed += 1;
      if (status === 'threshold-exceeded' && !thresholdExceeded()) {
        paused = false;
        setStatus('running');
      }
      return threshold;
    },
    {
      validator: (threshold) => {
        const parsed = failureThresholdSchema.safeParse(threshold);
        if (!parsed.success)
          throw new Error(`setFailureThreshold: ${parsed.error.issues.map(formatIssue).join('; ')}`);
      },
    },
  );

  function thresholdExceeded(): boolean {
    if (!failureThreshold || !staged) return false;
    const givenUp = totals().givenUp;
    if (thresholdAcknowledgedAt !== undefined && givenUp <= thresholdAcknowledgedAt) return false;
    const overCount = failureThreshold.count !== undefined && givenUp > failureThreshold.count;
    const overPercent =
      failureThreshold.percent !== undefined && (givenUp / staged.items) * 100 > failureThreshold.percent;
    return overCount || overPercent;
  }

  // ----- The campaign -----
  return await CancellationScope.nonCancellable(async () => {
    await notifications.begin();
    void notifications.watch(notificationSnapshot);
    if (!staged) {
      // Campaign ids are unique forever: claimed in the store's registry before anything is staged or
      // sent (campaigns that began before the registry existed replay without the claim).
      if (patched('campaign-id-registry')) {
        const { firstExecutionRunId, workflowId, runId } = workflowInfo();
        const claim = input.registryClaim ?? `workflow:${firstExecutionRunId}`;
        const startedBy = input.requestedBy ? { startedBy: input.requestedBy } : {};
        await stagingActivities.claimCampaignId.executeWithOptions({ summary: `claim campaign id` }, [
          { campaignId, claim, workflowId, runId, ...startedBy },
        ]);
      }
      // The pre-flight balance is read while the items are staged: Tango's budget is the campaign's
      // pace, and this request needs nothing staging computes. Compared once the total is known; read
      // again if a person had to approve first (time passed).
      const balanceWhileStaging =
        options.preflightBalanceCheck && !options.dryRun && patched('balance-read-while-staging')
          ? readBalance().then(
              (balance) => ({ balance }),
              () => undefined,
            )
          : undefined;
      setStatus('staging');
      const result = await stagingActivities.stageCampaign.executeWithOptions(
        { summary: 'validate and stage the line items' },
        [
          {
            definition: {
              campaignId,
              customerIdentifier: input.customerIdentifier,
              accountIdentifier: input.accountIdentifier,
              ...(input.campaign ? { campaign: input.campaign } : {}),
              ...(input.purchaseOrderNumber ? { purchaseOrderNumber: input.purchaseOrderNumber } : {}),
              ...(input.notes ? { notes: input.notes } : {}),
              ...(input.sender ? { sender: input.sender } : {}),
              autoCorrect: options.autoCorrect,
              utidFallbacks: options.utidFallbacks,
            },
            items: input.items,
            chunkSize: options.chunkSize,
          },
        ],
      );
      staged = { items: result.items, chunks: result.chunks, totalAmount: result.totalAmount };
      // Money controls: the worker's policy for this account, read once (its result is in history).
      if (patched('campaign-policy'))
        policy = await stagingActivities.campaignPolicy.executeWithOptions(
          { summary: 'read the spending policy' },
          [{ accountIdentifier: input.accountIdentifier }],
        );
      if (useSearchAttributes) {
        upsertSearchAttributes([
          { key: searchAttributes.campaignId, value: campaignId },
          { key: searchAttributes.customerIdentifier, value: input.customerIdentifier },
          { key: searchAttributes.accountIdentifier, value: input.accountIdentifier },
        ]);
      }

      if (options.dryRun) {
        const preflight = await longTangoActivities.preflightCampaign.executeWithOptions(
          { summary: 'dry run: check catalog and balance' },
          [{ campaignId, totalAmount: staged.totalAmount, checkCatalog: true }],
        );
        setStatus('dry-run-complete', preflight.summary);
        return await finish();
      }

      // Recipients an earlier campaign of this account rewarded with the same reward and amount:
      // refused before anything is sent, unless the campaign allows repeats.
      if (patched('repeat-guard') && !options.allowRepeats) {
        const repeats = await longStoreActivities.checkRepeatRecipients.executeWithOptions(
          { summary: 'look for recipients rewarded by earlier campaigns' },
          [{ campaignId, accountIdentifier: input.accountIdentifier, repeatWindow: options.repeatWindow }],
        );
        if (repeats.total > 0) {
          const first = repeats.first[0]!;
          setStatus(
            'refused',
            `${repeats.total} recipient(s) already rewarded with the same reward and amount within ${repeats.window} ` +
              `(first: ${first.externalRefLineItemID}, by ${first.earlierCampaignId} on ${first.deliveredAt.slice(0, 10)}; ` +
              `all in ${repeats.listKey}): nothing was sent; start again with allowRepeats if they are meant`,
          );
          return await finish();
        }
      }

      // The lower of the campaign's threshold and the policy's floor: a campaign cannot raise or remove it.
      const approvalThreshold = effectiveApprovalThreshold(options.approvalThreshold, policy);
      if (approvalThreshold !== undefined && staged.totalAmount > approvalThreshold) {
        setStatus(
          'awaiting-approval',
          `total ${staged.totalAmount} exceeds the approval threshold ${approvalThreshold}` +
            (approvalThreshold !== options.approvalThreshold
              ? ` (the worker's policy, ${policy?.source})`
              : ''),
        );
        waitedForApproval = true;
        await condition(
          () => approvedBy !== undefined || rejectedBy !== undefined || cancelReason !== undefined,
        );
        if (cancelReason !== undefined && approvedBy === undefined && rejectedBy === undefined) {
          setStatus('cancelled', cancelReason);
          return await finish();
        }
        if (rejectedBy !== undefined) {
          setStatus('rejected', `rejected by ${rejectedBy}: ${statusReason ?? ''}`);
          return await finish();
        }
      }

      if (patched('spend-limits') && !(await passSpendLimits())) return await finish();
      if (options.preflightBalanceCheck && cancelReason === undefined)
        await awaitBalance(
          staged.totalAmount,
          waitedForApproval ? undefined : (await balanceWhileStaging)?.balance,
        );
      if (cancelReason === undefined)
        setStatus(paused ? 'paused' : 'running', paused ? 'paused by operator' : undefined);
    }

    // Sliding window of order workflows.
    while ((cancelReason === undefined && nextChunk < staged.chunks) || inFlight.size > 0) {
      if (cancelReason !== undefined && !ordersCancelled) {
        // Stop sending, let the orders in flight settle (their items end as Tango holds them), report.
        setStatus('cancelling', cancelReason);
        const reason = cancelReason;
        await broadcast((chunk) => orderHandle(chunk).signal(cancelOrderSignal, { reason }));
        ordersCancelled = true;
        continue;
      }
      if (thresholdExceeded() && status !== 'threshold-exceeded') {
        paused = true;
        setStatus('threshold-exceeded', 'tolerated failures exceeded: resume or raise the threshold');
        // The loop below tells the orders in flight.
      }
      // Bring the orders in flight to the campaign's pause state. Pause and resume may both arrive
      // while a broadcast is under way, so compare with what the orders were last told, not with
      // the previous state.
      while (ordersPaused !== paused) {
        const target = paused;
        await broadcast((chunk) =>
          target
            ? orderHandle(chunk).signal(pauseSignal, { reason: statusReason ?? 'paused' })
            : orderHandle(chunk).signal(resumeSignal),
        );
        ordersPaused = target;
      }
      const canStart = !paused && cancelReason === undefined && nextChunk < staged.chunks;
      if (canStart && inFlight.size < options.maxConcurrentOrders) {
        // Spend limits again before each order: other campaigns may have spent since the last check
        // (while this one waited for funds or was paused, or between its orders).
        if (spendLimited && spendApprovedBy === undefined && !(await passSpendLimits())) continue;
        // A pause or a cancel may have come while the limits were counted: look again.
        if (paused || cancelReason !== undefined) continue;
        await startOrder(nextChunk);
        nextChunk += 1;
        continue;
      }
      if (workflowInfo().continueAsNewSuggested) {
        await condition(() => allHandlersFinished() && notifications.idle);
        await continueAsNew<typeof campaignWorkflow>({ ...rawInput, carry: carry() });
      }
      const seen = changed;
      await condition(() => changed !== seen || ordersPaused !== paused);
    }
    setStatus(cancelReason !== undefined ? 'cancelled' : 'completed', cancelReason);
    return await finish();
  }).catch(async (error: unknown) => {
    // A failing campaign tells a person too (a continue-as-new is no failure).
    await CancellationScope.nonCancellable(() => notifications.failed(error));
    throw error;
  });

  function notificationSnapshot() {
    const counts = totals();
    return {
      campaignId,
      status,
      ...(statusReason ? { statusReason } : {}),
      totalAmount: staged?.totalAmount ?? 0,
      awaitingCorrection: counts.awaitingCorrection,
      awaitingFunds: counts.awaitingFunds,
      awaitingFundsAmount: counts.awaitingFundsAmount,
      orders: [...inFlight.values()]
        .filter((order) => order.phase === 'blocked' || order.overdue)
        .map((order) => ({
          chunk: order.chunk,
          externalRefID: order.externalRefID,
          overdue: order.overdue,
          ...(order.phase === 'blocked' ? { blockedReason: order.blockedReason ?? 'blocked' } : {}),
        })),
    };
  }

  async function startOrder(chunk: number) {
    const roundZero = orderExternalRefId(ref, chunk, 0);
    const items = Math.min(options.chunkSize, staged!.items - chunk * options.chunkSize);
    const placeholder: OrderProgress = {
      chunk,
      phase: 'queued',
      round: 0,
      externalRefID: roundZero,
      bookKey: '',
      counts: { ...emptyCounts(), total: items, queued: items },
      overdue: false,
      done: false,
    };
    inFlight.set(chunk, placeholder);
    const child = await startChild(orderWorkflow, {
      workflowId: orderWorkflowId(roundZero),
      args: [
        {
          campaignId,
          campaignRef: ref,
          chunk,
          items,
          customerIdentifier: input.customerIdentifier,
          accountIdentifier: input.accountIdentifier,
          options,
          parentWorkflowId: workflowInfo().workflowId,
          useSearchAttributes,
          paused,
        },
      ],
      // Orders outlive a continue-as-new of the campaign; they report back by signal.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Tango order ${roundZero}: ${items} items`,
      ...(useSearchAttributes
        ? {
            typedSearchAttributes: [
              { key: searchAttributes.campaignId, value: campaignId },
              { key: searchAttributes.externalRefId, value: roundZero },
            ],
          }
        : {}),
    });
    // Orders report "done" by signal (which also works across continue-as-new). An order that fails
    // outright never will: count it finished with what it last reported; the report reads its latest
    // book and flags any item whose fate is unknown.
    child.result().catch((error: unknown) => {
      log.error('order workflow failed', { chunk, error: String(error) });
      const last = inFlight.get(chunk);
      if (!last) return;
      inFlight.delete(chunk);
      finished.orders += 1;
      addCounts(finished.counts, last.counts);
      changed += 1;
    });
    publish();
  }

  /**
   * True when the campaign may send: its total stays within the account's spend limits, or an
   * operator approved crossing them. Waits for `approve` otherwise; false when it was rejected or
   * cancelled meanwhile (before the first order: ends the campaign; later: cancels the rest).
   */
  async function passSpendLimits(): Promise<boolean> {
    const check = await storeActivities.checkSpendLimit.executeWithOptions(
      { summary: 'count the spend limits' },
      [{ campaignId, accountIdentifier: input.accountIdentifier, totalAmount: staged!.totalAmount }],
    );
    spendLimited = check.configured;
    if (!check.exceeded || spendApprovedBy !== undefined) return true;
    const before = status;
    const beforeReason = statusReason;
    awaitingSpendApproval = true;
    waitedForApproval = true;
    setStatus('awaiting-approval', `spend limit: ${check.summary}: approve to go on, or reject`);
    await condition(
      () => spendApprovedBy !== undefined || spendRejected !== undefined || cancelReason !== undefined,
    );
    awaitingSpendApproval = false;
    if (spendApprovedBy !== undefined) {
      setStatus(before === 'awaiting-approval' ? 'running' : before, beforeReason);
      return true;
    }
    const why = spendRejected
      ? `spend limit: rejected by ${spendRejected.by}: ${spendRejected.reason}`
      : (cancelReason ?? 'cancelled');
    if (nextChunk === 0) {
      setStatus(spendRejected ? 'rejected' : 'cancelled', why);
    } else {
      cancelReason ??= why;
      changed += 1;
    }
    return false;
  }

  function readBalance() {
    return tangoActivities.getAccountBalance.executeWithOptions({ summary: 'pre-flight balance check' }, [
      { customerIdentifier: input.customerIdentifier, accountIdentifier: input.accountIdentifier },
    ]);
  }

  /** Waits until the account holds `needed`; `alreadyRead` is a balance read moments ago. */
  async function awaitBalance(needed: number, alreadyRead?: Awaited<ReturnType<typeof readBalance>>) {
    for (let read = alreadyRead; ; read = undefined) {
      const balance = read ?? (await readBalance());
      if (balance.status && !/^active$/i.test(balance.status)) {
        throw ApplicationFailure.create({
          type: 'AccountNotActive',
          message: `Tango account ${input.accountIdentifier} is ${balance.status}: nothing was sent`,
          nonRetryable: true,
        });
      }
      if (balance.currentBalance >= needed) return;
      setStatus(
        'awaiting-funds',
        `balance ${balance.currentBalance} does not cover the campaign total ${needed}: add funds (signal fundsAdded)`,
      );
      fundsSignalled = false;
      await condition(
        () => fundsSignalled || cancelReason !== undefined,
        durationMs(options.fundsCheckInterval),
      );
      if (cancelReason !== undefined) return;
    }
  }

  async function finish(): Promise<CampaignResult> {
    const report = await longStoreActivities.writeCampaignReport.executeWithOptions(
      { summary: 'write the final report' },
      [
        {
          campaignId,
          chunks: staged?.chunks ?? 0,
          startedChunks: nextChunk,
          notSentReason:
            status === 'dry-run-complete'
              ? 'dry run: not sent'
              : status === 'rejected' || status === 'refused'
                ? `campaign ${status}${statusReason ? `: ${statusReason}` : ''}`
                : `campaign ${status}${cancelReason ? `: ${cancelReason}` : ''}`,
          approvedBy,
        },
      ],
    );
    // The deliveries index learns what Tango delivered (repeat guard and spend limits of later campaigns).
    if (nextChunk > 0 && patched('deliveries-index'))
      await longStoreActivities.recordCampaignDeliveries.executeWithOptions(
        { summary: 'record the deliveries in the index' },
        [{ campaignId, accountIdentifier: input.accountIdentifier, startedChunks: nextChunk }],
      );
    publish(true);
    const counts = totals();
    await notifications.finished({
      status,
      ...(statusReason ? { statusReason } : {}),
      totalAmount: staged?.totalAmount ?? 0,
      counts: report.counts,
      report: { csv: report.csvKey, json: report.jsonKey },
    });
    return {
      campaignId,
      status,
      ...(statusReason ? { statusReason } : {}),
      // Terminal states as the report counted them item by item; failures by class from the orders.
      counts: {
        ...counts,
        total: report.counts.total,
        delivered: report.counts.delivered,
        scheduled: report.counts.scheduled,
        givenUp: report.counts.givenUp,
        cancelled: report.counts.cancelled,
        queued: 0,
        submitted: 0,
        awaitingCorrection: 0,
        awaitingFunds: 0,
        awaitingFundsAmount: 0,
      },
      orders: staged?.chunks ?? 0,
      rounds: progress().rounds,
      totalAmount: staged?.totalAmount ?? 0,
      ...(approvedBy ? { approvedBy } : {}),
      report: { csv: report.csvKey, json: report.jsonKey, rows: report.rows },
    };
  }

  function carry(): CampaignCarry {
    return {
      status,
      ...(statusReason ? { statusReason } : {}),
      staged: staged!,
      nextChunk,
      inFlight: Object.fromEntries(inFlight),
      finished,
      ...(approvedBy ? { approvedBy } : {}),
      ...(policy ? { policy } : {}),
      ...(approvedTotal !== undefined ? { approvedTotal } : {}),
      ...(spendLimited ? { spendLimited } : {}),
      ...(spendApprovedBy ? { spendApprovedBy } : {}),
      operatorSequence,
      ...(failureThreshold ? { failureThreshold } : {}),
      ...(thresholdAcknowledgedAt !== undefined ? { thresholdAcknowledgedAt } : {}),
      paused,
      ...(cancelReason ? { cancelReason } : {}),
      ...(ordersCancelled ? { ordersCancelled } : {}),
      ...(notifications.carry() ? { notifications: notifications.carry() } : {}),
    };
  }
}

function isClosed(status: CampaignStatus): boolean {
  return ['completed', 'cancelled', 'rejected', 'refused', 'dry-run-complete'].includes(status);
}

function formatIssue(issue: { path: PropertyKey[]; message: string }): string {
  return `${issue.path.map(String).join('.') || '(input)'}: ${issue.message}`;
}

function addCounts(into: ItemCounts, from: ItemCounts): ItemCounts {
  into.total += from.total;
  into.queued += from.queued;
  into.submitted += from.submitted;
  into.scheduled = (into.scheduled ?? 0) + (from.scheduled ?? 0);
  into.delivered += from.delivered;
  into.awaitingCorrection += from.awaitingCorrection;
  into.awaitingFunds += from.awaitingFunds;
  into.givenUp += from.givenUp;
  into.cancelled += from.cancelled;
  into.corrected += from.corrected;
  into.autoFixed += from.autoFixed;
  into.awaitingFundsAmount += from.awaitingFundsAmount;
  for (const key of Object.keys(into.failures) as (keyof ItemCounts['failures'])[]) {
    into.failures[key] += from.failures[key] ?? 0;
  }
  return into;
}

function campaignDetails(progress: CampaignProgress): string {
  const { counts, orders } = progress;
  const settled = counts.delivered + (counts.scheduled ?? 0) + counts.givenUp + counts.cancelled;
  const percent = counts.total > 0 ? Math.floor((settled / counts.total) * 100) : 0;
  return [
    `**Campaign ${progress.campaignId}**: ${progress.status}${progress.statusReason ? ` (${progress.statusReason})` : ''} — ${percent}% settled`,
    '',
    '| items | delivered | scheduled | in flight | queued | awaiting correction | awaiting funds | given up | cancelled |',
    '|---|---|---|---|---|---|---|---|---|',
    `| ${counts.total} | ${counts.delivered} | ${counts.scheduled ?? 0} | ${counts.submitted} | ${counts.queued} | ${counts.awaitingCorrection} | ${counts.awaitingFunds} | ${counts.givenUp} | ${counts.cancelled} |`,
    '',
    `Orders: ${orders.finished}/${orders.total} finished, ${orders.inFlight} in flight${orders.overdue ? `, **${orders.overdue} overdue**` : ''}${orders.blocked ? `, **${orders.blocked} blocked**` : ''}. ` +
      `Failures by class: transient ${counts.failures.transient}, needs correction ${counts.failures['needs-correction']}, ` +
      `needs funds ${counts.failures['needs-funds']}, permanent ${counts.failures.permanent}.`,
  ].join('\n');
}
