// The client library: CampaignClient and what its callers need beside it (errors, configuration,
// schedule and failure shapes). `src/index.ts` re-exports it as the package's entry point.
export {
  CAMPAIGN_WORKFLOW,
  CampaignClient,
  ConnectedCampaignClient,
  isOpenExecution,
  type CampaignClientOptions,
  type CampaignDescription,
  type StartCampaignOptions,
  type StartedCampaign,
} from './campaign-client.ts';
export { DEFAULT_TEMPORAL_ADDRESS, loadCampaignClientConfig, type CampaignClientConfig } from './config.ts';
export {
  CampaignAlreadyExistsError,
  CampaignClientError,
  CampaignClosedError,
  CampaignFailedError,
  CampaignIdInUseError,
  CampaignNotFoundError,
  CampaignRejectedError,
  InvalidInputError,
  RepeatRecipientsError,
  ReportNotReadyError,
  ScheduleMissingError,
  TemporalUnavailableError,
  type CampaignErrorCode,
  type InputIssue,
} from './errors.ts';
export { type FailedItem, type FailuresListing, type ListFailuresOptions } from './failures.ts';
export {
  SCHEDULED_CAMPAIGN_WORKFLOW,
  WEEKDAYS,
  scheduledRunWorkflowId,
  weeklyScheduleSchema,
  type ScheduleInfo,
  type Weekday,
  type WeeklyScheduleTiming,
} from './schedules.ts';
export { type CampaignReport } from './reports.ts';
export { MAX_INLINE_ITEMS } from './stage-items.ts';
export {
  scheduleSourceSchema,
  scheduledCampaignInputSchema,
  type ScheduledCampaignInput,
} from '../workflows/scheduled-campaign-input.ts';
