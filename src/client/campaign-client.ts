// CampaignClient, the typed library other services use to run campaigns: start (staging the items),
// watch, steer (corrections, skips, metadata, pause, cancel, approval) and read results of campaign
// workflows, plus weekly schedules. Inputs are checked with the workflows' own zod schemas; errors
// name what to fix. Over 450 lines because it is the library's whole public surface, one short method
// per operation; staging, failure pages and schedules live beside it in src/client/.
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdReusePolicy,
  type WorkflowHandle,
} from '@temporalio/client';
import { z } from 'zod';
import { emailFormatProblem } from '../campaign/line-item.ts';
import { codecDataConverter } from '../codec/index.ts';
import {
  DEFAULT_TASK_QUEUE,
  approveUpdate,
  campaignWorkflowId,
  failuresQuery,
  fundsAddedSignal,
  pauseSignal,
  progressQuery,
  rejectUpdate,
  resumeSignal,
  setFailureThresholdUpdate,
  skipItemsUpdate,
  submitCorrectionsUpdate,
  updateMetadataUpdate,
} from '../definitions.ts';
import { claimCampaignIdIn, completeRegistryEntry, releaseCampaignId } from '../store/campaign-registry.ts';
import { openStore } from '../store/open.ts';
import type { CampaignStore } from '../store/store.ts';
import type { campaignWorkflow } from '../workflows/campaign-workflow.ts';
import {
  MAX_INLINE_CORRECTIONS,
  correctionsInputSchema,
  type LineItemCorrection,
} from '../workflows/corrections-input.ts';
import type { ScheduledCampaignInput } from '../workflows/scheduled-campaign-input.ts';
import {
  type CampaignProgress,
  type CampaignResult,
  type CampaignStartInput,
  type CorrectionsResult,
  type FailureThreshold,
  type MetadataPatch,
  campaignIdSchema,
  campaignInputSchema,
  failureThresholdSchema,
  metadataPatchSchema,
  skipItemsSchema,
} from '../workflows/types.ts';
import { loadCampaignClientConfig, withKey } from './config.ts';
import {
  CampaignAlreadyExistsError,
  CampaignClosedError,
  CampaignFailedError,
  CampaignIdInUseError,
  CampaignNotFoundError,
  type InputIssue,
  InvalidInputError,
  RepeatRecipientsError,
  campaignErrorOf,
  TemporalUnavailableError,
  issuesOf,
  requireStore,
} from './errors.ts';
import {
  type FailuresListing,
  type ListFailuresOptions,
  failuresFromBooks,
  failuresFromReport,
  failuresPageRequest,
} from './failures.ts';
import {
  type CampaignReconciliation,
  ReconcileCampaignNotFoundError,
  reconcileCampaign,
} from './reconcile.ts';
import { sendRefusalNotification } from './notify.ts';
import { findRepeatRecipients } from './repeats.ts';
import { type CampaignReport, readReport, streamReport } from './reports.ts';
import { CampaignSchedules, type ScheduleInfo, type WeeklyScheduleTiming } from './schedules.ts';
import { stageItems } from './stage-items.ts';

/** The workflow type campaigns run as (the worker registers `campaignWorkflow` by this name). */
export const CAMPAIGN_WORKFLOW = 'campaignWorkflow';

export interface CampaignClientOptions {
  client: Client;
  taskQueue?: string;
  /** Needed for large item lists, `listFailures` and reports: the store the workers use. */
  store?: CampaignStore;
  /** Shown in "cannot reach Temporal" errors. */
  address?: string;
  /**
   * The deliveries index key (DELIVERIES_INDEX_KEY, the workers' key). With it and a store, a start is
   * refused here (RepeatRecipientsError) when it repeats recipients; without, the workflow refuses it.
   */
  deliveriesIndexKey?: Buffer;
}

export interface StartCampaignOptions {
  /** Line items to stage (validated here); alternatively give `input.items`. */
  items?: Iterable<unknown> | AsyncIterable<unknown>;
  /** Overrides the client's store for this call. */
  store?: CampaignStore;
}

export interface StartedCampaign {
  campaignId: string;
  workflowId: string;
  runId: string;
  items: number | undefined;
  itemsKey?: string;
}

export interface CampaignDescription {
  campaignId: string;
  workflowId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  executionStatus: string;
  startTime: Date;
  closeTime?: Date;
}

const openStatuses: ReadonlySet<string> = new Set(['RUNNING', 'CONTINUED_AS_NEW']);

/** Whether a campaign with this execution status (CampaignDescription.executionStatus) still runs. */
export function isOpenExecution(executionStatus: string): boolean {
  return openStatuses.has(executionStatus);
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

export class CampaignClient {
  readonly client: Client;
  readonly taskQueue: string;
  readonly store: CampaignStore | undefined;
  private readonly address: string | undefined;
  private readonly schedules: CampaignSchedules;
  private readonly deliveriesIndexKey: Buffer | undefined;

  constructor(options: CampaignClientOptions) {
    this.deliveriesIndexKey = options.deliveriesIndexKey;
    this.client = options.client;
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    this.store = options.store;
    this.address = options.address;
    this.schedules = new CampaignSchedules(this.client, this.taskQueue, this.address);
  }

  /**
   * Connects with the standard Temporal environment settings (see loadCampaignClientConfig), the
   * payload codec when CODEC_KEYS is set and the store named by CAMPAIGN_STORE. Close it when done.
   */
  static async connect(env: Record<string, string | undefined>): Promise<ConnectedCampaignClient> {
    const config = loadCampaignClientConfig(env);
    let connection: Connection;
    try {
      connection = await Connection.connect(config.connection);
    } catch (error) {
      throw new TemporalUnavailableError(config.connection.address, error);
    }
    const client = new Client({
      connection,
      namespace: config.namespace,
      dataConverter: codecDataConverter(config.codec),
    });
    const store = await openStore(config.storeUrl);
    return new ConnectedCampaignClient(
      {
        client,
        taskQueue: config.taskQueue,
        store,
        address: config.connection.address,
        ...withKey(config.deliveriesIndexKey),
      },
      connection,
    );
  }

  private handle(campaignId: string): WorkflowHandle {
    return this.client.workflow.getHandle(campaignWorkflowId(campaignId));
  }

  /** Runs a Temporal call, turning its errors into ours. */
  private async call<T>(campaignId: string, action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw campaignErrorOf(error, campaignId, action, this.address);
    }
  }

  /** The execution behind a campaign id; CampaignNotFoundError when there is none. */
  async describeCampaign(campaignId: string): Promise<CampaignDescription> {
    return this.call(campaignId, 'describe', async () => {
      const description = await this.handle(campaignId).describe();
      return {
        campaignId,
        workflowId: description.workflowId,
        runId: description.runId,
        executionStatus: description.status.name,
        startTime: description.startTime,
        ...(description.closeTime ? { closeTime: description.closeTime } : {}),
      };
    });
  }

  private async requireOpen(campaignId: string, action: string): Promise<void> {
    const description = await this.describeCampaign(campaignId);
    if (!isOpenExecution(description.executionStatus))
      throw new CampaignClosedError(campaignId, description.executionStatus, action);
  }

  /**
   * Starts a campaign. Item lists larger than MAX_INLINE_ITEMS are written to the store as JSON Lines
   * and passed by key. A campaign id is never run twice: a second start with the same id fails with
   * CampaignAlreadyExistsError while its workflow exists (REJECT_DUPLICATE), and with its subclass
   * CampaignIdInUseError once the workflow is gone, because the id stays claimed in the store's
   * registry forever. With a store the id is claimed here, before anything is staged; without one the
   * workflow claims it as its first step (and fails at once when the id is taken).
   */
  async startCampaign(
    input: Omit<CampaignStartInput, 'items'> & { items?: CampaignStartInput['items'] },
    options: StartCampaignOptions = {},
  ): Promise<StartedCampaign> {
    const id = campaignIdSchema.safeParse(input.campaignId);
    if (!id.success) throw new InvalidInputError('the campaign input', issuesOf(id.error, 'campaignId'));
    const campaignId = id.data;
    // The starter as the approval gate compares it with the approver: the caller's name, else this
    // client's Temporal identity (what the server records as the start's identity too).
    if (!input.requestedBy?.trim()) input = { ...input, requestedBy: this.client.options?.identity };
    if ((input.items === undefined) === (options.items === undefined))
      throw new InvalidInputError('the campaign input', [
        {
          path: 'items',
          message: 'give the line items either as input.items or as options.items (one of them)',
        },
      ]);
    // Checked before anything is written: the store must never be touched for an existing campaign.
    const existing = await this.describeCampaign(campaignId).catch((error: unknown) => {
      if (error instanceof CampaignNotFoundError) return undefined;
      throw error;
    });
    if (existing) throw new CampaignAlreadyExistsError(campaignId, existing.runId);

    const store = options.store ?? this.store;
    const workflowId = campaignWorkflowId(campaignId);
    const registryClaim = store ? `client:${randomUUID()}` : undefined;
    if (store && registryClaim) {
      const claimed = await claimCampaignIdIn(store, {
        campaignId,
        claim: registryClaim,
        workflowId,
        ...(input.requestedBy ? { startedBy: input.requestedBy } : {}),
      });
      if (!claimed.owned) throw new CampaignIdInUseError(claimed.entry);
    }

    let itemsKey: string | undefined;
    let started = false;
    try {
      let items = input.items;
      let count: number | undefined;
      if (options.items !== undefined) {
        const staged = await stageItems(campaignId, options.items, store);
        items = staged.items;
        count = staged.count;
        itemsKey = staged.key;
      } else if (items && 'inline' in items) count = items.inline.length;

      const parsed = campaignInputSchema.safeParse({
        ...input,
        campaignId,
        items,
        ...(registryClaim ? { registryClaim } : {}),
      });
      if (!parsed.success) throw new InvalidInputError('the campaign input', issuesOf(parsed.error));
      // Refused before the workflow exists: nothing sent, the id released, the staged items removed.
      if (store && this.deliveriesIndexKey && !parsed.data.options.allowRepeats) {
        const found = await findRepeatRecipients({
          store,
          key: this.deliveriesIndexKey,
          campaignId,
          accountIdentifier: parsed.data.accountIdentifier,
          items: parsed.data.items,
          ...(parsed.data.options.repeatWindow !== undefined
            ? { repeatWindow: parsed.data.options.repeatWindow }
            : {}),
        });
        if (found.total > 0) {
          const refused = new RepeatRecipientsError(campaignId, found.total, found.repeats, found.window);
          // Someone should know (NOTIFY_URL on the workers); a failure to queue it never hides the refusal.
          await sendRefusalNotification({ client: this.client, taskQueue: this.taskQueue }, campaignId, {
            rule: 'repeat-recipients',
            items: found.total,
            details: refused.message.slice(0, 2000),
          });
          throw refused;
        }
      }
      const sender = emailFormatProblem('sender.email', parsed.data.sender?.email);
      if (sender)
        throw new InvalidInputError('the campaign input', [{ path: sender.field, message: sender.message }]);
      const result = await this.call(campaignId, 'start', async () => {
        try {
          const handle = await this.client.workflow.start<typeof campaignWorkflow>(CAMPAIGN_WORKFLOW, {
            taskQueue: this.taskQueue,
            workflowId,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            args: [parsed.data],
            staticSummary: `Campaign ${campaignId}${input.campaign ? `: ${input.campaign}` : ''}`,
          });
          started = true;
          return {
            campaignId,
            workflowId: handle.workflowId,
            runId: handle.firstExecutionRunId,
            items: count,
            ...(itemsKey ? { itemsKey } : {}),
          };
        } catch (error) {
          if (error instanceof WorkflowExecutionAlreadyStartedError) {
            // Perhaps our own start, retried after a lost answer: the claim and the input stay.
            started = true;
            throw new CampaignAlreadyExistsError(campaignId);
          }
          throw error;
        }
      });
      if (store && registryClaim)
        await completeRegistryEntry(store, campaignId, registryClaim, { runId: result.runId }).catch(
          () => undefined, // the entry already owns the id; the run id is for people reading it
        );
      return result;
    } catch (error) {
      // Nothing started: the id is free again and nothing staged stays behind.
      if (!started && store && registryClaim) {
        if (itemsKey) await store.delete(itemsKey).catch(() => undefined);
        await releaseCampaignId(store, campaignId, registryClaim).catch(() => undefined);
      }
      throw error;
    }
  }

  async getProgress(campaignId: string): Promise<CampaignProgress> {
    return this.call(campaignId, 'report progress', () => this.handle(campaignId).query(progressQuery));
  }

  /**
   * Failed items of a running campaign, page by page: the `failures` query names the order books
   * holding failures; the items are read from the store. A closed campaign lists its given-up items
   * from the final report.
   */
  async listFailures(campaignId: string, options: ListFailuresOptions = {}): Promise<FailuresListing> {
    const store = requireStore('listing failures', this.store);
    const request = failuresPageRequest(options);
    const description = await this.describeCampaign(campaignId);
    if (!isOpenExecution(description.executionStatus))
      return failuresFromReport(campaignId, await this.getReport(campaignId, { store }), request);
    const [page, progress] = await this.call(campaignId, 'list failures', () => {
      const handle = this.handle(campaignId);
      return Promise.all([
        handle.query(
          failuresQuery,
          request.failureClass ? { failureClass: request.failureClass } : undefined,
        ),
        handle.query(progressQuery),
      ]);
    });
    return failuresFromBooks(campaignId, store, request, page, progress);
  }

  /**
   * Sends operator corrections (each names a failed item by externalRefLineItemID and carries the
   * fields to change). Lists longer than one update takes are sent in batches, in order.
   */
  async submitCorrections(campaignId: string, corrections: LineItemCorrection[]): Promise<CorrectionsResult> {
    const all = z.array(z.unknown()).min(1, 'send at least one correction').safeParse(corrections);
    if (!all.success) throw new InvalidInputError('the corrections', issuesOf(all.error));
    const total: CorrectionsResult = { accepted: 0, orders: 0 };
    for (let start = 0; start < corrections.length; start += MAX_INLINE_CORRECTIONS) {
      const batch = corrections.slice(start, start + MAX_INLINE_CORRECTIONS);
      const parsed = correctionsInputSchema.safeParse(batch);
      if (!parsed.success)
        throw new InvalidInputError(
          'the corrections',
          parsed.error.issues.map((issue) => ({
            path: [
              typeof issue.path[0] === 'number' ? issue.path[0] + start : issue.path[0],
              ...issue.path.slice(1),
            ]
              .filter((part) => part !== undefined)
              .map(String)
              .join('.'),
            message: issue.message,
          })),
        );
      await this.requireOpen(campaignId, 'take corrections');
      try {
        const result = await this.call(campaignId, 'take the corrections', () =>
          this.handle(campaignId).executeUpdate(submitCorrectionsUpdate, { args: [parsed.data] }),
        );
        total.accepted += result.accepted;
        total.orders = Math.max(total.orders, result.orders);
      } catch (error) {
        if (start > 0 && error instanceof Error)
          error.message += ` (the first ${start} correction(s) were accepted; resubmit from correction ${start + 1})`;
        throw error;
      }
    }
    return total;
  }

  /** Gives up failed items on purpose (they are never sent again); the reason goes in the report. */
  async skipItems(
    campaignId: string,
    externalRefLineItemIDs: string[],
    reason: string,
  ): Promise<CorrectionsResult> {
    const parsed = skipItemsSchema.safeParse({ externalRefLineItemIDs, reason });
    if (!parsed.success) throw new InvalidInputError('the items to skip', issuesOf(parsed.error));
    await this.requireOpen(campaignId, 'skip items');
    return this.call(campaignId, 'skip the items', () =>
      this.handle(campaignId).executeUpdate(skipItemsUpdate, { args: [parsed.data] }),
    );
  }

  /** Changes campaign / purchaseOrderNumber / notes on every order (PATCH) and on the ones to come. */
  async updateMetadata(campaignId: string, patch: MetadataPatch): Promise<{ ordersPatched: number }> {
    const parsed = metadataPatchSchema.safeParse(patch);
    if (!parsed.success) throw new InvalidInputError('the metadata', issuesOf(parsed.error));
    await this.requireOpen(campaignId, 'update its metadata');
    return this.call(campaignId, 'update its metadata', () =>
      this.handle(campaignId).executeUpdate(updateMetadataUpdate, { args: [parsed.data] }),
    );
  }

  /** Stops new submissions; orders already with Tango settle normally. */
  async pauseCampaign(campaignId: string, reason?: string): Promise<void> {
    await this.requireOpen(campaignId, 'pause');
    await this.call(campaignId, 'pause', () =>
      this.handle(campaignId).signal(pauseSignal, reason ? { reason } : {}),
    );
  }

  async resumeCampaign(campaignId: string): Promise<void> {
    await this.requireOpen(campaignId, 'resume');
    await this.call(campaignId, 'resume', () => this.handle(campaignId).signal(resumeSignal));
  }

  /** Tells waiting orders that the account has new funds (they check the balance and resubmit). */
  async notifyFundsAdded(campaignId: string, note?: { amount?: number; note?: string }): Promise<void> {
    await this.requireOpen(campaignId, 'take a funds notice');
    await this.call(campaignId, 'take a funds notice', () =>
      this.handle(campaignId).signal(fundsAddedSignal, note ?? {}),
    );
  }

  /**
   * Cancels the campaign: it stops submitting, lets the orders with Tango settle, gives up what was
   * waiting, and writes its report (the workflow ends "cancelled", not failed).
   */
  async cancelCampaign(campaignId: string): Promise<void> {
    await this.requireOpen(campaignId, 'cancel');
    await this.call(campaignId, 'cancel', () => this.handle(campaignId).cancel());
  }

  async approveCampaign(
    campaignId: string,
    approver: string,
    note?: string,
  ): Promise<{ approvedBy: string }> {
    if (!approver.trim())
      throw new InvalidInputError('the approval', [{ path: 'approver', message: 'name the approver' }]);
    await this.requireOpen(campaignId, 'be approved');
    return this.call(campaignId, 'be approved', () =>
      this.handle(campaignId).executeUpdate(approveUpdate, {
        args: [{ approver, ...(note ? { note } : {}) }],
      }),
    );
  }

  async rejectCampaign(
    campaignId: string,
    approver: string,
    reason: string,
  ): Promise<{ rejectedBy: string }> {
    const issues: InputIssue[] = [];
    if (!approver.trim()) issues.push({ path: 'approver', message: 'name who rejects the campaign' });
    if (!reason.trim()) issues.push({ path: 'reason', message: 'say why the campaign is rejected' });
    if (issues.length > 0) throw new InvalidInputError('the rejection', issues);
    await this.requireOpen(campaignId, 'be rejected');
    return this.call(campaignId, 'be rejected', () =>
      this.handle(campaignId).executeUpdate(rejectUpdate, { args: [{ approver, reason }] }),
    );
  }

  async setFailureThreshold(campaignId: string, threshold: FailureThreshold): Promise<FailureThreshold> {
    const parsed = failureThresholdSchema.safeParse(threshold);
    if (!parsed.success) throw new InvalidInputError('the failure threshold', issuesOf(parsed.error));
    await this.requireOpen(campaignId, 'change its failure threshold');
    return this.call(campaignId, 'change its failure threshold', () =>
      this.handle(campaignId).executeUpdate(setFailureThresholdUpdate, { args: [parsed.data] }),
    );
  }

  /**
   * Waits for the campaign to end and returns its result (cancelled campaigns also end with a
   * result). A campaign that failed (e.g. invalid items) throws CampaignFailedError.
   */
  async waitForCompletion(campaignId: string): Promise<CampaignResult> {
    try {
      return await this.call(
        campaignId,
        'finish',
        () => this.handle(campaignId).result() as Promise<CampaignResult>,
      );
    } catch (error) {
      if (error instanceof WorkflowFailedError) throw new CampaignFailedError(campaignId, error);
      throw error;
    }
  }

  /** The final report (JSON form), validated row by row. */
  async getReport(campaignId: string, options: { store?: CampaignStore } = {}): Promise<CampaignReport> {
    return readReport(campaignId, requireStore('reading a report', options.store ?? this.store));
  }

  /**
   * Audits a campaign (finished or running) against Tango: every order of every round re-read within
   * the request budget, each item's record compared with the report. Sends nothing.
   */
  async reconcileCampaign(campaignId: string): Promise<CampaignReconciliation> {
    return this.call(campaignId, 'reconcile', () =>
      reconcileCampaign(this, campaignId).catch((error: unknown) => {
        throw error instanceof ReconcileCampaignNotFoundError ? new CampaignNotFoundError(campaignId) : error;
      }),
    );
  }

  /** The final report's bytes as stored (CSV for people, JSON for programs), streamed. */
  async reportStream(
    campaignId: string,
    format: 'csv' | 'json',
    options: { store?: CampaignStore } = {},
  ): Promise<AsyncIterable<Buffer>> {
    return streamReport(campaignId, format, requireStore('reading a report', options.store ?? this.store));
  }

  // ----- Schedules (src/client/schedules.ts) -----

  /**
   * A Temporal Schedule that starts `scheduledCampaignWorkflow` every week; each run loads the input
   * from `source` and runs a campaign whose id derives from the scheduled time (so a retried or
   * caught-up run never pays twice). A slot that comes while the previous run is still going is
   * buffered, one deep, and runs once that run ends: it is never dropped silently.
   */
  createWeeklySchedule(
    input: ScheduledCampaignInput & WeeklyScheduleTiming,
  ): Promise<{ scheduleId: string }> {
    return this.schedules.createWeeklySchedule(input);
  }

  /** Schedules that start scheduled campaigns (others on the namespace are left out). */
  listSchedules(): Promise<ScheduleInfo[]> {
    return this.schedules.listSchedules();
  }

  describeSchedule(scheduleId: string): Promise<ScheduleInfo> {
    return this.schedules.describeSchedule(scheduleId);
  }

  pauseSchedule(scheduleId: string, note?: string): Promise<void> {
    return this.schedules.pauseSchedule(scheduleId, note);
  }

  unpauseSchedule(scheduleId: string, note?: string): Promise<void> {
    return this.schedules.unpauseSchedule(scheduleId, note);
  }

  /** Starts a run now, or as soon as the run still going ends (buffered, one deep). */
  triggerSchedule(scheduleId: string): Promise<void> {
    return this.schedules.triggerSchedule(scheduleId);
  }

  deleteSchedule(scheduleId: string): Promise<void> {
    return this.schedules.deleteSchedule(scheduleId);
  }
}

/** A client that owns its connection. */
export class ConnectedCampaignClient extends CampaignClient {
  constructor(
    options: CampaignClientOptions,
    readonly connection: Connection,
  ) {
    super(options);
  }
  async close(): Promise<void> {
    await this.connection.close();
  }
}
