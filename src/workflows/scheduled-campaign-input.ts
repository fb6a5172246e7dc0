// Input of `scheduledCampaignWorkflow` (beside it in scheduled-campaign-workflow.ts): what a Schedule
// passes each run, as zod schemas with the types derived from them. Pure code, sandbox-safe: the
// client checks a schedule's input with the same schemas the workflow parses it with.
import { z } from 'zod';
import { campaignInputSchema, campaignOptionsSchema } from './types.ts';

/** Where a scheduled run reads its line items: a path on the workers' machines or an http(s) URL. */
export const scheduleSourceSchema = z
  .object({
    location: z.string().min(1, 'a file path (as the workers see it) or an http(s) URL'),
    format: z.enum(['csv', 'json']).optional(),
  })
  .strict();

/** What a Schedule passes each run of `scheduledCampaignWorkflow`. */
export const scheduledCampaignInputSchema = z
  .object({
    scheduleId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,60}$/, 'schedule id: 1-60 characters of A-Z a-z 0-9 _ . -'),
    source: scheduleSourceSchema,
    /** The campaign each run starts, but its id (from the slot) and items (from the source). */
    campaign: campaignInputSchema
      .pick({
        customerIdentifier: true,
        accountIdentifier: true,
        campaign: true,
        purchaseOrderNumber: true,
        notes: true,
        sender: true,
      })
      .extend({ options: campaignOptionsSchema.partial().optional() })
      .strict(),
  })
  .strict();
export type ScheduledCampaignInput = z.input<typeof scheduledCampaignInputSchema>;

/** What `scheduledCampaignWorkflow` takes: the schedule's input, plus a slot for a run started by hand. */
export const scheduledWorkflowInputSchema = scheduledCampaignInputSchema.extend({
  /** For a run started by hand: the slot it stands for (ISO time). Ignored when a Schedule started it. */
  slot: z.string().max(64).optional(),
  useSearchAttributes: z.boolean().optional(),
});
export type ScheduledWorkflowInput = z.input<typeof scheduledWorkflowInputSchema>;
