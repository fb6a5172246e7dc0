// Weekly schedules of scheduled campaigns: a Temporal Schedule per recurring campaign, each run a
// `scheduledCampaignWorkflow` (its input checked here with the workflow's own schema).
import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type ScheduleDescription,
  type ScheduleSummary,
} from '@temporalio/client';
import { z } from 'zod';
import { emailFormatProblem } from '../campaign/line-item.ts';
import {
  type ScheduledCampaignInput,
  scheduledCampaignInputSchema,
} from '../workflows/scheduled-campaign-input.ts';
import type { scheduledCampaignWorkflow } from '../workflows/scheduled-campaign-workflow.ts';
import { CampaignClientError, InvalidInputError, issuesOf, scheduleErrorOf } from './errors.ts';

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

/** The schedule operations of CampaignClient (which delegates to them). */
export class CampaignSchedules {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly address: string | undefined,
  ) {}

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
    const sender = emailFormatProblem('campaign.sender.email', workflowInput.campaign?.sender?.email);
    if (sender) issues.push({ path: sender.field, message: sender.message });
    if (!timing.success || !parsed.success || sender) throw new InvalidInputError('the schedule', issues);
    const when = timing.data;
    try {
      await this.client.schedule.create<typeof scheduledCampaignWorkflow>({
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
      throw scheduleErrorOf(error, parsed.data.scheduleId, this.address);
    }
    return { scheduleId: parsed.data.scheduleId };
  }

  private async onSchedule<T>(scheduleId: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw scheduleErrorOf(error, scheduleId, this.address);
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

function isCampaignSchedule(summary: ScheduleSummary): boolean {
  return (
    summary.action?.type === 'startWorkflow' && summary.action.workflowType === SCHEDULED_CAMPAIGN_WORKFLOW
  );
}
