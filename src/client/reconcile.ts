// Reconciling a campaign against Tango from the client: starts `reconcileCampaignWorkflow` (its Tango
// reads go through the workers' request budget), waits for it, and returns every disagreement
// (from the store when the client has it; otherwise the first MAX_DISAGREEMENTS_LISTED).
import { randomBytes } from 'node:crypto';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MAX_DISAGREEMENTS_LISTED, type ReconcileOutcome } from '../activities/reconcile.ts';
import type { Disagreement } from '../campaign/reconcile.ts';
import { reconcileWorkflowId } from '../definitions.ts';
import { getJson } from '../store/json.ts';
import type { CampaignStore } from '../store/store.ts';
import type { reconcileCampaignWorkflow } from '../workflows/reconcile-workflow.ts';

export type { Disagreement, DisagreementKind } from '../campaign/reconcile.ts';
export type { ReconcileOutcome };

export interface CampaignReconciliation extends ReconcileOutcome {
  /** True when `disagreements` holds only the first MAX_DISAGREEMENTS_LISTED (no store to read the rest). */
  truncated: boolean;
}

/** The campaign has nothing in the store to reconcile (never staged, or another store). */
export class ReconcileCampaignNotFoundError extends Error {
  override readonly name = 'ReconcileCampaignNotFoundError';
  constructor(
    readonly campaignId: string,
    message: string,
  ) {
    super(message);
  }
}

/** `<UTC stamp>-<random>`: sorts by time, never repeats. */
export function newReconcileId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export async function reconcileCampaign(
  context: { client: Client; taskQueue: string; store: CampaignStore | undefined },
  campaignId: string,
  options: { reconcileId?: string } = {},
): Promise<CampaignReconciliation> {
  const reconcileId = options.reconcileId ?? newReconcileId();
  let outcome: ReconcileOutcome;
  try {
    outcome = await context.client.workflow.execute<typeof reconcileCampaignWorkflow>(
      'reconcileCampaignWorkflow',
      {
        taskQueue: context.taskQueue,
        workflowId: reconcileWorkflowId(campaignId, reconcileId),
        args: [{ campaignId, reconcileId }],
        staticSummary: `reconcile campaign ${campaignId} against Tango`,
      },
    );
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    const failure = cause instanceof ApplicationFailure ? cause : cause?.cause;
    if (failure instanceof ApplicationFailure && failure.type === 'CampaignNotFound')
      throw new ReconcileCampaignNotFoundError(campaignId, failure.message);
    throw error;
  }
  let disagreements: Disagreement[] = outcome.disagreements;
  if (context.store && outcome.disagreementCount > disagreements.length)
    disagreements = ((await getJson(context.store, outcome.resultKey)) as ReconcileOutcome).disagreements;
  return {
    ...outcome,
    disagreements,
    truncated: disagreements.length < outcome.disagreementCount,
  };
}

export { MAX_DISAGREEMENTS_LISTED };
