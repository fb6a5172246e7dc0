// scheduledCampaignWorkflow: what a Temporal Schedule starts for a recurring campaign. The campaign
// id comes from the schedule id and the slot's scheduled time and is claimed in the registry before
// anything is loaded, so a retry, a catch-up or a re-run of the same slot finds the id taken and
// neither overwrites the slot's items nor sends anything twice.
import {
  ActivityFailure,
  ApplicationFailure,
  WorkflowIdReusePolicy,
  executeChild,
  log,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import {
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
  defineSearchAttributeKey,
} from '@temporalio/common';
import type { createActivities } from '../activities/index.ts';
import { campaignWorkflowId } from '../definitions.ts';
import { campaignWorkflow } from './campaign-workflow.ts';
import { REGISTRY_CLAIM, SOURCE_LOAD } from './activity-options.ts';
import { parseWorkflowInput } from './boundary.ts';
import { type ScheduledWorkflowInput, scheduledWorkflowInputSchema } from './scheduled-campaign-input.ts';
import type { CampaignResult } from './types.ts';

type Activities = ReturnType<typeof createActivities>;

const { claimCampaignId } = proxyActivities<Activities>(REGISTRY_CLAIM);
const { loadCampaignSource } = proxyActivities<Activities>(SOURCE_LOAD);

/** Set by the Temporal server on every workflow a Schedule starts: the slot's nominal time. */
const scheduledStartTime = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

export type ScheduledCampaignResult =
  | { campaignId: string; outcome: 'ran'; result: CampaignResult }
  | { campaignId: string; outcome: 'already-ran' };

/** `<scheduleId>-YYYYMMDDTHHMMZ`: the slot to the minute, UTC. */
export function scheduledCampaignId(scheduleId: string, slot: Date): string {
  const stamp = slot.toISOString().replace(/[-:]/g, '').slice(0, 13);
  return `${scheduleId.slice(0, 60)}-${stamp}Z`;
}

export async function scheduledCampaignWorkflow(
  rawInput: ScheduledWorkflowInput,
): Promise<ScheduledCampaignResult> {
  const input = parseWorkflowInput(scheduledWorkflowInputSchema, rawInput, 'scheduledCampaignWorkflow');
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(scheduledStartTime) as Date | undefined;
  const slot = scheduled ?? (input.slot ? new Date(input.slot) : undefined);
  if (!slot || Number.isNaN(slot.getTime())) {
    throw ApplicationFailure.create({
      type: 'MissingScheduleSlot',
      message: 'started outside a Schedule without `slot`: pass the ISO time of the slot this run stands for',
      nonRetryable: true,
    });
  }
  const campaignId = scheduledCampaignId(input.scheduleId, slot);
  // The id is this run's before the source is loaded: loading overwrites the slot's source items.
  const registryClaim = `workflow:${info.firstExecutionRunId}`;
  const claimed = patched('campaign-id-registry');
  if (claimed) {
    try {
      await claimCampaignId.executeWithOptions({ summary: `claim campaign id ${campaignId}` }, [
        { campaignId, claim: registryClaim, workflowId: info.workflowId, runId: info.runId },
      ]);
    } catch (error) {
      if (error instanceof ActivityFailure && isIdInUse(error.cause)) {
        log.info('this slot already ran its campaign (its id is taken); nothing loaded or sent', {
          campaignId,
          reason: error.cause.message,
        });
        return { campaignId, outcome: 'already-ran' };
      }
      throw error;
    }
  }
  const items = await loadCampaignSource.executeWithOptions({ summary: `load ${input.source.location}` }, [
    { campaignId, source: input.source },
  ]);
  try {
    const result = await executeChild(campaignWorkflow, {
      workflowId: campaignWorkflowId(campaignId),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Scheduled campaign ${campaignId}: ${items.items} items`,
      args: [
        {
          campaignId,
          ...input.campaign,
          // The starter, as the approval gate compares it with the approver.
          requestedBy: `schedule ${input.scheduleId}`,
          items: { storeKey: items.storeKey },
          ...(claimed ? { registryClaim } : {}),
          ...(input.useSearchAttributes === false ? { useSearchAttributes: false } : {}),
        },
      ],
    });
    return { campaignId, outcome: 'ran', result };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      log.info('this slot already ran its campaign; nothing sent', { campaignId });
      return { campaignId, outcome: 'already-ran' };
    }
    throw error;
  }
}

function isIdInUse(cause: unknown): cause is ApplicationFailure {
  return cause instanceof ApplicationFailure && cause.type === 'CampaignIdInUse';
}
