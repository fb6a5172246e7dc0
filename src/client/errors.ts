// The client's errors: each says what went wrong and what to do next; `code` lets the CLI pick its
// exit code. Also the translation of Temporal's errors (not found, unreachable) into these.
import {
  type WorkflowFailedError,
  ScheduleNotFoundError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
} from '@temporalio/client';
import type { z } from 'zod';
import { campaignWorkflowId } from '../definitions.ts';
import { type RegistryEntry, campaignIdInUseMessage } from '../store/campaign-registry.ts';
import type { CampaignStore } from '../store/store.ts';
import { type Repeat, describeRepeat } from './repeats.ts';

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

/** The store, or an error saying that `what` needs the store the workers use. */
export function requireStore(what: string, store: CampaignStore | undefined): CampaignStore {
  if (!store)
    throw new CampaignClientError(
      'store-required',
      `${what} needs the campaign store the workers use: pass { store } (or set CAMPAIGN_STORE for the CLI)`,
    );
  return store;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function issuesOf(error: z.ZodError, prefix = ''): InputIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.'),
    message: issue.message,
  }));
}

/** gRPC UNAVAILABLE / DEADLINE_EXCEEDED and connection failures mean "Temporal is not there". */
export function isUnavailable(error: unknown): boolean {
  if (isGrpcServiceError(error)) return error.code === 14 || error.code === 4;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause && cause !== error && isUnavailable(cause)) return true;
  return /UNAVAILABLE|ECONNREFUSED|Failed to connect|tcp connect error|transport error|DEADLINE_EXCEEDED/i.test(
    messageOf(error),
  );
}

/** A Temporal error on a campaign's workflow as ours: not found, refused (an update), unreachable. */
export function campaignErrorOf(
  error: unknown,
  campaignId: string,
  action: string,
  address: string | undefined,
): unknown {
  if (error instanceof CampaignClientError) return error;
  if (error instanceof WorkflowNotFoundError) return new CampaignNotFoundError(campaignId);
  if (error instanceof WorkflowUpdateFailedError) {
    const reason = error.cause?.message ?? error.message;
    return new CampaignRejectedError(campaignId, action, reason, { cause: error });
  }
  if (isGrpcServiceError(error) && error.code === 5) return new CampaignNotFoundError(campaignId);
  if (isUnavailable(error)) return new TemporalUnavailableError(address, error);
  return error;
}

/** A Temporal error on a schedule as ours: not found, unreachable. */
export function scheduleErrorOf(error: unknown, scheduleId: string, address: string | undefined): unknown {
  if (error instanceof CampaignClientError) return error;
  if (error instanceof ScheduleNotFoundError) return new ScheduleMissingError(scheduleId);
  if (isGrpcServiceError(error) && error.code === 5) return new ScheduleMissingError(scheduleId);
  if (isUnavailable(error)) return new TemporalUnavailableError(address, error);
  return error;
}
