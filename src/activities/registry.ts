// The campaign id registry as an activity: the first thing a campaign (or a scheduled run) does is
// claim its id, so that an id used before, whatever became of its workflows, is refused before
// anything is staged or sent.
import { ApplicationFailure } from '@temporalio/common';
import { campaignIdInUseMessage, claimCampaignIdIn } from '../store/campaign-registry.ts';
import type { CampaignStore } from '../store/store.ts';
import { failureTypes } from './errors.ts';

export interface ClaimCampaignIdInput {
  campaignId: string;
  /** Who owns the id: `client:<uuid>` or `workflow:<first execution run id>`. */
  claim: string;
  workflowId: string;
  runId: string;
  startedBy?: string;
}

export function createRegistryActivities(store: CampaignStore) {
  /**
   * Claims the campaign id, or confirms the claim is already ours (a retried activity, a client that
   * claimed first). Any other holder fails the caller with a non-retryable `CampaignIdInUse`.
   */
  async function claimCampaignId(input: ClaimCampaignIdInput): Promise<{ claimedAt: string }> {
    const outcome = await claimCampaignIdIn(store, {
      campaignId: input.campaignId,
      claim: input.claim,
      workflowId: input.workflowId,
      runId: input.runId,
      ...(input.startedBy !== undefined ? { startedBy: input.startedBy } : {}),
    });
    if (outcome.owned) return { claimedAt: outcome.entry.startedAt };
    const { entry } = outcome;
    throw ApplicationFailure.create({
      type: failureTypes.campaignIdInUse,
      message: campaignIdInUseMessage(entry),
      details: [
        {
          campaignId: entry.campaignId,
          workflowId: entry.workflowId,
          ...(entry.runId ? { runId: entry.runId } : {}),
          startedAt: entry.startedAt,
        },
      ],
      nonRetryable: true,
    });
  }
  return { claimCampaignId };
}
