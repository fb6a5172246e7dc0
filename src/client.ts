// The typed library other services use to run campaigns: start, watch, steer (corrections, skips,
// metadata, pause, cancel, approval) and read results of campaign workflows, plus weekly schedules.
// Inputs are checked with the workflows' own zod schemas; errors name what to fix.
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
  type ScheduleDescription,
  type ScheduleSummary,
  type WorkflowHandle,
} from '@temporalio/client';
import { z } from 'zod';
import { type CodecConfig, codecDataConverter, loadCodecConfig } from './codec/index.ts';
import {
  type CampaignReconciliation,
  ReconcileCampaignNotFoundError,
  reconcileCampaign,
} from './client/reconcile.ts';
import { checkLineItem } from './campaign/line-item.ts';
import {
  type Repeat,
  clientDeliveriesIndexKey,
  describeRepeat,
  findRepeatRecipients,
} from './client/repeats.ts';
import { DEFAULT_TEMPORAL_ADDRESS, type TemporalConfig, loadTemporalConfig } from './config.ts';
import type { BookEntry, ItemError } from './campaign/order-book.ts';
import { type ReportRow, reportRowSchema } from './campaign/report.ts';
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
} from './definitions.ts';
import {
  type RegistryEntry,
  campaignIdInUseMessage,
  claimCampaignIdIn,
  completeRegistryEntry,
  releaseCampaignId,
} from './store/campaign-registry.ts';
import { readJsonLines, putJsonLines } from './store/json.ts';
import { campaignPrefix, orderFinalBookKey, reportCsvKey, reportJsonKey } from './store/keys.ts';
import { loadStoreConfig, openStore } from './store/open.ts';
import { StoreNotFoundError, type CampaignStore } from './store/store.ts';
import type { LineItemRequest } from './tango/schemas.ts';
import {
  MAX_INLINE_CORRECTIONS,
  correctionsInputSchema,
  type LineItemCorrection,
} from './workflows/corrections-input.ts';
import {
  type CampaignProgress,
  type BlockedOrder,
  type CampaignResult,
  type CampaignStartInput,
  type CorrectionsResult,
  type FailureClassName,
  type FailureThreshold,
  type MetadataPatch,
  campaignIdSchema,
  campaignInputSchema,
  failureThresholdSchema,
  metadataPatchSchema,
  scheduledCampaignInputSchema,
  skipItemsSchema,
} from './workflows/types.ts';
export { scheduleSourceSchema, scheduledCampaignInputSchema } from './workflows/types.ts';
import type { ScheduledCampaignInput } from './workflows/types.ts';
export type { ScheduledCampaignInput };

// ---------------------------------------------------------------------------------------------
// Errors: each says what went wrong and what to do; `code` lets the CLI pick its exit code.
// ---------------------------------------------------------------------------------------------

export type CampaignErrorCode =
  | 'invalid-input'
  | 'not-found'
  | 'already-exists'
  | 'closed'
  | 'rejected'
  | 'store-required'
  | 'unavailable'
  | 'repeat-recipients';

export class CampaignClientError extends Error {
  override readonly name: string = 'CampaignClientError';
  constructor(
    readonly code: CampaignErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The campaign repeats recipients an earlier campaign of the account rewarded with the same reward and
 * amount within the window: nothing was started. `repeats` are in input order (positions from 0).
 */
export class RepeatRecipientsError extends CampaignClientError {
  override readonly name = 'RepeatRecipientsError';
  constructor(
    readonly campaignId: string,
    readonly total: number,
    readonly repeats: Repeat[],
    readonly window: string,
  ) {
    super(
      'repeat-recipients',
      `campaign "${campaignId}": ${total} recipient(s) already rewarded with the same reward and amount within ${window}; ` +
        `${repeats
          .slice(0, 5)
          .map((repeat) => describeRepeat(repeat))
          .join('; ')}${total > 5 ? '; ...' : ''}. ` +
        'Nothing was sent. If they are meant, start again with allowRepeats (--allow-repeats).',
    );
  }
}

/** One problem in an input, with the path of the field (`items.3.recipient.email`). */
export interface InputIssue {
  path: string;
  message: string;
}

export class InvalidInputError extends CampaignClientError {
  override readonly name = 'InvalidInputError';
  constructor(
    readonly what: string,
    readonly issues: InputIssue[],
  ) {
    const shown = issues.slice(0, 20).map((issue) => `  - ${issue.path || '(input)'}: ${issue.message}`);
    const more = issues.length > 20 ? `\n  ... and ${issues.length - 20} more` : '';
    super('invalid-input', `${what} is invalid; fix these and try again:\n${shown.join('\n')}${more}`);
  }
}

export class CampaignNotFoundError extends CampaignClientError {
  override readonly name = 'CampaignNotFoundError';
  constructor(readonly campaignId: string) {
    super(
      'not-found',
      `no campaign "${campaignId}" (workflow ${campaignWorkflowId(campaignId)}) on this namespace: check the id, TEMPORAL_NAMESPACE and TEMPORAL_ADDRESS`,
    );
  }
}

export class CampaignAlreadyExistsError extends CampaignClientError {
  override readonly name: string = 'CampaignAlreadyExistsError';
  constructor(
    readonly campaignId: string,
    readonly runId?: string,
    message?: string,
  ) {
    super(
      'already-exists',
      message ??
        `campaign "${campaignId}" already exists (workflow ${campaignWorkflowId(campaignId)}); a campaign id is never run twice, so nobody is rewarded twice. Watch it with \`status ${campaignId}\`, or pick a new id to run another campaign`,
    );
  }
}

/**
 * The campaign registry holds the id for an earlier campaign, whose workflow may be long gone
 * (deleted, or removed by the namespace's retention): ids are never reused.
 */
export class CampaignIdInUseError extends CampaignAlreadyExistsError {
  override readonly name = 'CampaignIdInUseError';
  constructor(readonly entry: RegistryEntry) {
    super(entry.campaignId, entry.runId, campaignIdInUseMessage(entry));
  }
}

export class CampaignClosedError extends CampaignClientError {
  override readonly name = 'CampaignClosedError';
  constructor(
    readonly campaignId: string,
    readonly status: string,
    action: string,
  ) {
    super(
      'closed',
      `campaign "${campaignId}" is closed (${status.toLowerCase()}): cannot ${action}. Read its report with \`report ${campaignId}\``,
    );
  }
}

/** The workflow refused an update (its validator or handler said why). */
export class CampaignRejectedError extends CampaignClientError {
  override readonly name = 'CampaignRejectedError';
  constructor(campaignId: string, action: string, reason: string, options?: { cause?: unknown }) {
    super('rejected', `campaign "${campaignId}" refused to ${action}: ${reason}`, options);
  }
}

export class ScheduleMissingError extends CampaignClientError {
  override readonly name = 'ScheduleMissingError';
  constructor(readonly scheduleId: string) {
    super('not-found', `no schedule "${scheduleId}" on this namespace: list them with \`schedule list\``);
  }
}

export class TemporalUnavailableError extends CampaignClientError {
  override readonly name = 'TemporalUnavailableError';
  constructor(address: string | undefined, cause: unknown) {
    super(
      'unavailable',
      `cannot reach Temporal${address ? ` at ${address}` : ''}: ${messageOf(cause)}. Start it (\`npm start\` runs a local one) or set TEMPORAL_ADDRESS / TEMPORAL_PROFILE`,
      { cause },
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function issuesOf(error: z.ZodError, prefix = ''): InputIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.'),
    message: issue.message,
  }));
}

/** gRPC UNAVAILABLE / DEADLINE_EXCEEDED and connection failures mean "Temporal is not there". */
function isUnavailable(error: unknown): boolean {
  if (isGrpcServiceError(error)) return error.code === 14 || error.code === 4;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause && cause !== error && isUnavailable(cause)) return true;
  return /UNAVAILABLE|ECONNREFUSED|Failed to connect|tcp connect error|transport error|DEADLINE_EXCEEDED/i.test(
    messageOf(error),
  );
}

// ---------------------------------------------------------------------------------------------
// Configuration and connection
// ---------------------------------------------------------------------------------------------

export interface CampaignClientConfig {
  /** From @temporalio/envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, profiles. */
  connection: TemporalConfig['connection'];
  namespace: string;
  /** TEMPORAL_TASK_QUEUE (default `tango-campaigns`): where campaign workflows run. */
  taskQueue: string;
  /** CAMPAIGN_STORE (default file://.data/store). */
  storeUrl: string;
  codec: Pick<CodecConfig, 'keys'>;
  /** DELIVERIES_INDEX_KEY (the workers' key): the repeat-recipient check before a start. */
  deliveriesIndexKey?: Buffer;
}

export { DEFAULT_TEMPORAL_ADDRESS };

/**
 * Reads the client's settings from an environment object (never from process.env itself): the
 * Temporal connection the same way as the worker (src/config.ts), the task queue, store and codec.
 */
export function loadCampaignClientConfig(env: Record<string, string | undefined>): CampaignClientConfig {
  const temporal = loadTemporalConfig(env, env.TEMPORAL_TASK_QUEUE?.trim() || DEFAULT_TASK_QUEUE);
  return {
    connection: temporal.connection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    storeUrl: loadStoreConfig(env).url,
    codec: loadCodecConfig(env),
    ...withKey(clientDeliveriesIndexKey(env)),
  };
}

const withKey = (key: Buffer | undefined) => (key ? { deliveriesIndexKey: key } : {});

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

/** Item lists up to this size travel inline in the workflow input; larger ones go to the store. */
export const MAX_INLINE_ITEMS = 100;

export interface StartedCampaign {
  campaignId: string;
  workflowId: string;
  runId: string;
  items: number | undefined;
  itemsKey?: string;
}

export interface FailedItem {
  externalRefLineItemID: string;
  chunk: number;
  state: 'awaiting-correction' | 'awaiting-funds' | 'given-up';
  failureClass?: FailureClassName;
  errors: ItemError[];
  reason?: string;
  rounds: number;
  externalRefID?: string;
  /** The line item as it would be sent again (edit and submit it as a correction). */
  item: LineItemRequest;
}

export interface ListFailuresOptions {
  failureClass?: FailureClassName;
  /** Only items in these states (default: all three). */
  states?: FailedItem['state'][];
  /** Page size (default 100). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface FailuresListing {
  campaignId: string;
  /**
   * The campaign has ended: items come from its report (given-up only, reward fields but no
   * recipient details), and it takes no more corrections.
   */
  closed: boolean;
  items: FailedItem[];
  nextCursor?: string;
  totals: { awaitingCorrection: number; awaitingFunds: number; givenUp: number };
  /** Orders blocked on something a person must look at (e.g. a collision), with the reason. */
  blockedOrders?: BlockedOrder[];
}

export interface CampaignReport {
  campaignId: string;
  summary: unknown;
  items: ReportRow[];
  [key: string]: unknown;
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

// ----- Schedules -----

export const WEEKDAYS = [
  'SUNDAY',
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const weeklyScheduleSchema = z
  .object({
    /** When: day of the week, hour and minute in `timezone` (IANA name, default UTC). */
    dayOfWeek: z.enum(WEEKDAYS),
    hour: z.number().int().min(0).max(23).default(9),
    minute: z.number().int().min(0).max(59).default(0),
    timezone: z.string().min(1).default('UTC'),
    /** Start paused (nothing runs until unpaused). */
    paused: z.boolean().default(false),
    note: z.string().max(500).optional(),
  })
  .strict();
export type WeeklyScheduleTiming = z.input<typeof weeklyScheduleSchema>;

export const SCHEDULED_CAMPAIGN_WORKFLOW = 'scheduledCampaignWorkflow';

/** Workflow ID prefix of the scheduled runs; Temporal appends the scheduled time. */
export function scheduledRunWorkflowId(scheduleId: string): string {
  return `scheduled-campaign-${scheduleId}`;
}

export interface ScheduleInfo {
  scheduleId: string;
  paused: boolean;
  note?: string;
  workflowType?: string;
  nextActionTimes: Date[];
  recentActions: { scheduledAt: Date; takenAt: Date; workflowId?: string }[];
  calendars?: unknown;
  timezone?: string;
  input?: unknown;
}

const openStatuses = new Set(['RUNNING', 'CONTINUED_AS_NEW']);

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

export class CampaignClient {
  readonly client: Client;
  readonly taskQueue: string;
  readonly store: CampaignStore | undefined;
  private readonly address: string | undefined;
  private readonly deliveriesIndexKey: Buffer | undefined;

  constructor(options: CampaignClientOptions) {
    this.deliveriesIndexKey = options.deliveriesIndexKey;
    this.client = options.client;
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    this.store = options.store;
    this.address = options.address;
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

  private requireStore(what: string, store = this.store): CampaignStore {
    if (!store)
      throw new CampaignClientError(
        'store-required',
        `${what} needs the campaign store the workers use: pass { store } (or set CAMPAIGN_STORE for the CLI)`,
      );
    return store;
  }

  /** Runs a Temporal call, turning its errors into ours. */
  private async call<T>(campaignId: string, action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.translate(error, campaignId, action);
    }
  }

  private translate(error: unknown, campaignId: string, action: string): unknown {
    if (error instanceof CampaignClientError) return error;
    if (error instanceof WorkflowNotFoundError) return new CampaignNotFoundError(campaignId);
    if (error instanceof WorkflowUpdateFailedError) {
      const reason = error.cause?.message ?? error.message;
      return new CampaignRejectedError(campaignId, action, reason, { cause: error });
    }
    if (isGrpcServiceError(error) && error.code === 5) return new CampaignNotFoundError(campaignId);
    if (isUnavailable(error)) return new TemporalUnavailableError(this.address, error);
    return error;
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
    if (!openStatuses.has(description.executionStatus))
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
        const staged = await this.stageItems(campaignId, options.items, store);
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
        if (found.total > 0)
          throw new RepeatRecipientsError(campaignId, found.total, found.repeats, found.window);
      }
      const result = await this.call(campaignId, 'start', async () => {
        try {
          const handle = await this.client.workflow.start('campaignWorkflow', {
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

  /**
   * Validates every item, then keeps small lists inline and streams large ones into the store (the
   * store write pulls items as it goes, so a million-item file is never held in memory).
   */
  private async stageItems(
    campaignId: string,
    source: Iterable<unknown> | AsyncIterable<unknown>,
    store: CampaignStore | undefined,
  ): Promise<{ items: CampaignStartInput['items']; count: number; key?: string }> {
    const issues: InputIssue[] = [];
    const seen = new Map<string, number>();
    let count = 0;
    const iterator = toAsyncIterator(source);
    /** The next valid item, or undefined at the end; invalid ones are recorded and skipped. */
    const next = async (): Promise<LineItemRequest | undefined> => {
      for (;;) {
        const step = await iterator.next();
        if (step.done) return undefined;
        count += 1;
        const position = count - 1;
        const checked = checkLineItem(step.value);
        if (!checked.ok) {
          for (const problem of checked.problems)
            if (issues.length < 1000)
              issues.push({ path: `items.${position}.${problem.field}`, message: problem.message });
          continue;
        }
        const itemId = checked.item.externalRefLineItemID;
        const first = seen.get(itemId);
        if (first !== undefined) {
          if (issues.length < 1000)
            issues.push({
              path: `items.${position}.externalRefLineItemID`,
              message: `duplicate id ${itemId} (also item ${first}): each line item needs its own id`,
            });
          continue;
        }
        seen.set(itemId, position);
        return checked.item;
      }
    };

    const head: LineItemRequest[] = [];
    let item: LineItemRequest | undefined;
    while (head.length <= MAX_INLINE_ITEMS && (item = await next()) !== undefined) head.push(item);
    let key: string | undefined;
    if (head.length > MAX_INLINE_ITEMS) {
      const target = this.requireStore(`a campaign of more than ${MAX_INLINE_ITEMS} items`, store);
      // An attempt-unique key: a retried start never overwrites what another attempt staged.
      const stagingKey = `${campaignPrefix(campaignId)}input/${Date.now()}-${randomUUID().slice(0, 8)}.jsonl`;
      key = stagingKey;
      async function* rows() {
        yield* head;
        for (let more = await next(); more !== undefined; more = await next()) yield more;
      }
      try {
        await putJsonLines(target, stagingKey, rows());
      } catch (error) {
        // The source failed (e.g. a malformed file): nothing half-written may stay behind.
        await target.delete(stagingKey).catch(() => undefined);
        throw error;
      }
    }
    if (count === 0)
      issues.push({ path: 'items', message: 'the campaign has no line items: add at least one' });
    if (issues.length > 0) {
      if (key && store) await store.delete(key).catch(() => undefined);
      throw new InvalidInputError('the line items', issues);
    }
    return key ? { items: { storeKey: key }, count, key } : { items: { inline: head }, count };
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
    const store = this.requireStore('listing failures');
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidInputError('the page size', [{ path: 'limit', message: 'a positive whole number' }]);
    const states = new Set(options.states ?? ['awaiting-correction', 'awaiting-funds', 'given-up']);
    const [afterChunk, afterIndex] = decodeCursor(options.cursor);
    const description = await this.describeCampaign(campaignId);
    if (!openStatuses.has(description.executionStatus))
      return this.failuresFromReport(campaignId, store, options, states, limit, afterIndex);

    const [page, progress] = await this.call(campaignId, 'list failures', () => {
      const handle = this.handle(campaignId);
      return Promise.all([
        handle.query(
          failuresQuery,
          options.failureClass ? { failureClass: options.failureClass } : undefined,
        ),
        handle.query(progressQuery),
      ]);
    });
    const items: FailedItem[] = [];
    let nextCursor: string | undefined;
    // Orders in flight name their current book; orders already finished left a sealed final book,
    // which can only hold given-up items among the failures.
    const active = new Map(page.orders.map((order) => [order.chunk, order.bookKey]));
    const ordersToRead = async function* (): AsyncIterable<{ chunk: number; bookKey: string }> {
      for (let chunk = Math.max(0, afterChunk); chunk < progress.orders.started; chunk += 1) {
        const bookKey = active.get(chunk);
        if (bookKey) yield { chunk, bookKey };
        else if (states.has('given-up')) {
          const finalKey = orderFinalBookKey(campaignId, chunk);
          if (await store.exists(finalKey)) yield { chunk, bookKey: finalKey };
        }
      }
    };
    const orders = ordersToRead();
    outer: for await (const order of orders) {
      let index = -1;
      for await (const raw of readJsonLines(store, order.bookKey)) {
        index += 1;
        if (order.chunk === afterChunk && index <= afterIndex) continue;
        const entry = raw as BookEntry;
        if (!states.has(entry.state as FailedItem['state'])) continue;
        if (options.failureClass && entry.failureClass !== options.failureClass) continue;
        if (items.length === limit) {
          nextCursor = encodeCursor(order.chunk, index - 1);
          break outer;
        }
        items.push({
          externalRefLineItemID: entry.id,
          chunk: order.chunk,
          state: entry.state as FailedItem['state'],
          ...(entry.failureClass ? { failureClass: entry.failureClass } : {}),
          errors: entry.errors ?? [],
          ...(entry.reason ? { reason: entry.reason } : {}),
          rounds: entry.rounds.length,
          ...(entry.externalRefID ? { externalRefID: entry.externalRefID } : {}),
          item: entry.item,
        });
      }
    }
    return {
      campaignId,
      closed: false,
      items,
      ...(nextCursor ? { nextCursor } : {}),
      ...(page.blocked?.length ? { blockedOrders: page.blocked } : {}),
      totals: {
        awaitingCorrection: page.totals.awaitingCorrection,
        awaitingFunds: page.totals.awaitingFunds,
        givenUp: page.totals.givenUp,
      },
    };
  }

  private async failuresFromReport(
    campaignId: string,
    store: CampaignStore,
    options: ListFailuresOptions,
    states: Set<string>,
    limit: number,
    afterIndex: number,
  ): Promise<FailuresListing> {
    const report = await this.getReport(campaignId, { store });
    const givenUp = report.items.filter((row) => row.state === 'given-up');
    const wanted = states.has('given-up')
      ? givenUp.filter((row) => !options.failureClass || row.failureClass === options.failureClass)
      : [];
    const start = afterIndex + 1;
    const slice = wanted.slice(start, start + limit);
    return {
      campaignId,
      closed: true,
      items: slice.map((row) => ({
        externalRefLineItemID: row.externalRefLineItemID,
        chunk: -1,
        state: 'given-up',
        ...(row.failureClass ? { failureClass: row.failureClass } : {}),
        errors: row.errorCodes
          .split(' ')
          .filter((code) => code !== '')
          .map((code, index) => ({
            code,
            ...(index === 0 && row.errorMessages ? { message: row.errorMessages } : {}),
          })),
        reason: row.reason,
        rounds: row.rounds,
        ...(row.externalRefID ? { externalRefID: row.externalRefID } : {}),
        // The report keeps no recipient details: only the reward fields are known here.
        item: {
          externalRefLineItemID: row.externalRefLineItemID,
          utid: row.utid,
          amount: row.amount,
          deliveryMethod: row.deliveryMethod,
        } as LineItemRequest,
      })),
      ...(start + limit < wanted.length ? { nextCursor: encodeCursor(-1, start + limit - 1) } : {}),
      totals: { awaitingCorrection: 0, awaitingFunds: 0, givenUp: givenUp.length },
    };
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
    const store = this.requireStore('reading a report', options.store);
    let text: string;
    try {
      text = (await store.get(reportJsonKey(campaignId))).toString('utf8');
    } catch (error) {
      if (error instanceof StoreNotFoundError) throw new ReportNotReadyError(campaignId, store.location);
      throw error;
    }
    const parsed = z
      .looseObject({ campaignId: z.string(), summary: z.unknown(), items: z.array(reportRowSchema) })
      .safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new CampaignClientError(
        'invalid-input',
        `the report of "${campaignId}" in ${store.location} is malformed: ${parsed.error.issues[0]?.message}`,
      );
    return parsed.data as CampaignReport;
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
    const store = this.requireStore('reading a report', options.store);
    const key = format === 'csv' ? reportCsvKey(campaignId) : reportJsonKey(campaignId);
    if (!(await store.exists(key))) throw new ReportNotReadyError(campaignId, store.location);
    return store.stream(key);
  }

  // ----- Schedules -----

  /**
   * A Temporal Schedule that starts `scheduledCampaignWorkflow` every week; each run loads the input
   * from `source` and runs a campaign whose id derives from the scheduled time (so a retried or
   * caught-up run never pays twice). A slot that comes while the previous run is still going (its
   * campaign waiting for corrections or funds) is buffered, one deep, and runs once that run ends:
   * it is never dropped silently.
   */
  async createWeeklySchedule(
    input: ScheduledCampaignInput & WeeklyScheduleTiming,
  ): Promise<{ scheduleId: string }> {
    const { dayOfWeek, hour, minute, timezone, paused, note, ...workflowInput } = input;
    const timing = weeklyScheduleSchema.safeParse({ dayOfWeek, hour, minute, timezone, paused, note });
    const parsed = scheduledCampaignInputSchema.safeParse(workflowInput);
    const issues = [
      ...(timing.success ? [] : issuesOf(timing.error)),
      ...(parsed.success ? [] : issuesOf(parsed.error)),
    ];
    if (!timing.success || !parsed.success) throw new InvalidInputError('the schedule', issues);
    const when = timing.data;
    try {
      await this.client.schedule.create({
        scheduleId: parsed.data.scheduleId,
        spec: {
          calendars: [{ dayOfWeek: when.dayOfWeek, hour: when.hour, minute: when.minute }],
          timezone: when.timezone,
        },
        action: {
          type: 'startWorkflow',
          workflowType: SCHEDULED_CAMPAIGN_WORKFLOW,
          args: [parsed.data],
          taskQueue: this.taskQueue,
          workflowId: scheduledRunWorkflowId(parsed.data.scheduleId),
        },
        policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '1 day' },
        state: { paused: when.paused, ...(when.note ? { note: when.note } : {}) },
      });
    } catch (error) {
      if (error instanceof ScheduleAlreadyRunning)
        throw new CampaignClientError(
          'already-exists',
          `schedule "${parsed.data.scheduleId}" already exists: delete it first or pick another id`,
        );
      throw this.translateSchedule(error, parsed.data.scheduleId);
    }
    return { scheduleId: parsed.data.scheduleId };
  }

  private translateSchedule(error: unknown, scheduleId: string): unknown {
    if (error instanceof CampaignClientError) return error;
    if (error instanceof ScheduleNotFoundError) return new ScheduleMissingError(scheduleId);
    if (isGrpcServiceError(error) && error.code === 5) return new ScheduleMissingError(scheduleId);
    if (isUnavailable(error)) return new TemporalUnavailableError(this.address, error);
    return error;
  }

  private async onSchedule<T>(scheduleId: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.translateSchedule(error, scheduleId);
    }
  }

  /** Schedules that start scheduled campaigns (others on the namespace are left out). */
  async listSchedules(): Promise<ScheduleInfo[]> {
    return this.onSchedule('', async () => {
      const found: ScheduleInfo[] = [];
      for await (const summary of this.client.schedule.list()) {
        if (!isCampaignSchedule(summary)) continue;
        found.push({
          scheduleId: summary.scheduleId,
          paused: summary.state.paused,
          ...(summary.state.note ? { note: summary.state.note } : {}),
          ...(summary.action?.type === 'startWorkflow' ? { workflowType: summary.action.workflowType } : {}),
          nextActionTimes: summary.info?.nextActionTimes ?? [],
          recentActions: (summary.info?.recentActions ?? []).map((action) => ({
            scheduledAt: action.scheduledAt,
            takenAt: action.takenAt,
            workflowId: action.action.workflow.workflowId,
          })),
        });
      }
      return found.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
    });
  }

  async describeSchedule(scheduleId: string): Promise<ScheduleInfo> {
    return this.onSchedule(scheduleId, async () => {
      const description: ScheduleDescription = await this.client.schedule.getHandle(scheduleId).describe();
      const action = description.action;
      return {
        scheduleId,
        paused: description.state.paused,
        ...(description.state.note ? { note: description.state.note } : {}),
        ...(action.type === 'startWorkflow'
          ? { workflowType: action.workflowType, input: action.args?.[0] }
          : {}),
        nextActionTimes: description.info.nextActionTimes,
        recentActions: description.info.recentActions.map((recent) => ({
          scheduledAt: recent.scheduledAt,
          takenAt: recent.takenAt,
          workflowId: recent.action.workflow.workflowId,
        })),
        calendars: description.spec.calendars,
        ...(description.spec.timezone ? { timezone: description.spec.timezone } : {}),
      };
    });
  }

  async pauseSchedule(scheduleId: string, note?: string): Promise<void> {
    await this.onSchedule(scheduleId, () => this.client.schedule.getHandle(scheduleId).pause(note));
  }

  async unpauseSchedule(scheduleId: string, note?: string): Promise<void> {
    await this.onSchedule(scheduleId, () => this.client.schedule.getHandle(scheduleId).unpause(note));
  }

  /** Starts a run now, or as soon as the run still going ends (buffered, one deep). */
  async triggerSchedule(scheduleId: string): Promise<void> {
    await this.onSchedule(scheduleId, () =>
      this.client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.BUFFER_ONE),
    );
  }

  async deleteSchedule(scheduleId: string): Promise<void> {
    await this.onSchedule(scheduleId, () => this.client.schedule.getHandle(scheduleId).delete());
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

export class CampaignFailedError extends CampaignClientError {
  override readonly name = 'CampaignFailedError';
  constructor(
    readonly campaignId: string,
    cause: WorkflowFailedError,
  ) {
    const reason =
      (cause.cause as { cause?: Error } | undefined)?.cause?.message ?? cause.cause?.message ?? cause.message;
    super('invalid-input', `campaign "${campaignId}" failed: ${reason}`, { cause });
  }
}

export class ReportNotReadyError extends CampaignClientError {
  override readonly name = 'ReportNotReadyError';
  constructor(campaignId: string, location: string) {
    super(
      'not-found',
      `no report for campaign "${campaignId}" in ${location}: the report is written when the campaign ends (check \`status ${campaignId}\`) and is read from the store the workers use (CAMPAIGN_STORE)`,
    );
  }
}

function isCampaignSchedule(summary: ScheduleSummary): boolean {
  return (
    summary.action?.type === 'startWorkflow' && summary.action.workflowType === SCHEDULED_CAMPAIGN_WORKFLOW
  );
}

// Cursor: "<chunk>:<index of the last entry returned>", opaque to callers.
function encodeCursor(chunk: number, index: number): string {
  return Buffer.from(`${chunk}:${index}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): [number, number] {
  if (cursor === undefined) return [-Infinity, -1];
  const match = /^(-?\d+):(-?\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match)
    throw new InvalidInputError('the page cursor', [
      { path: 'cursor', message: 'not a cursor returned by listFailures' },
    ]);
  return [Number(match[1]), Number(match[2])];
}

function toAsyncIterator<T>(source: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}
