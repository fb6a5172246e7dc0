// Spend limits across campaigns: per Tango account, at most so much per calendar period (UTC), counted
// from the deliveries index. Configuration of the worker (SPEND_LIMITS_FILE or SPEND_LIMITS), never
// campaign input; a campaign whose total would cross a limit waits for `approve`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../tango/config.ts';

export const SPEND_PERIODS = ['day', 'week', 'month', 'year'] as const;
export type SpendPeriod = (typeof SPEND_PERIODS)[number];

const amount = z.number().positive().finite();
const limitsSchema = z
  .object({
    day: amount.optional(),
    week: amount.optional(),
    month: amount.optional(),
    year: amount.optional(),
  })
  .strict();
export type PeriodLimits = z.infer<typeof limitsSchema>;

export const spendLimitsSchema = z
  .object({
    /** Limits of accounts the file does not name. */
    default: limitsSchema.optional(),
    /** Per Tango accountIdentifier, in the account's currency; replaces the default for that account. */
    accounts: z.record(z.string().min(1), limitsSchema).default({}),
  })
  .strict();
export type SpendLimits = z.output<typeof spendLimitsSchema>;

export const NO_SPEND_LIMITS: SpendLimits = { accounts: {} };

/** The limits that apply to one account (an empty object: none). */
export function limitsForAccount(limits: SpendLimits, accountIdentifier: string): PeriodLimits {
  return limits.accounts[accountIdentifier] ?? limits.default ?? {};
}

/**
 * The calendar period (UTC) a moment falls in, as an id that is also a store key segment:
 * `day-2026-12-01`, `week-2026-W49` (ISO 8601 weeks, Monday to Sunday), `month-2026-12`, `year-2026`.
 */
export function periodId(period: SpendPeriod, at: number): string {
  const date = new Date(at);
  const year = date.getUTCFullYear();
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  switch (period) {
    case 'day':
      return `day-${date.toISOString().slice(0, 10)}`;
    case 'month':
      return `month-${year}-${month}`;
    case 'year':
      return `year-${year}`;
    case 'week': {
      // ISO week: the week that holds the Thursday of this one.
      const thursday = new Date(Date.UTC(year, date.getUTCMonth(), date.getUTCDate()));
      const weekday = (thursday.getUTCDay() + 6) % 7; // Monday 0
      thursday.setUTCDate(thursday.getUTCDate() - weekday + 3);
      const weekYear = thursday.getUTCFullYear();
      const firstThursday = new Date(Date.UTC(weekYear, 0, 4));
      const firstMonday = firstThursday.getTime() - ((firstThursday.getUTCDay() + 6) % 7) * 86_400_000;
      const week = 1 + Math.floor((thursday.getTime() - firstMonday) / (7 * 86_400_000));
      return `week-${weekYear}-W${String(week).padStart(2, '0')}`;
    }
  }
}

/** SPEND_LIMITS_FILE (a JSON file) or SPEND_LIMITS (the same JSON inline); neither: no limits. */
export function loadSpendLimits(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): SpendLimits {
  const file = env.SPEND_LIMITS_FILE?.trim();
  const inline = env.SPEND_LIMITS?.trim();
  if (file && inline)
    throw new ConfigError('SPEND_LIMITS', 'set SPEND_LIMITS_FILE or SPEND_LIMITS, not both');
  if (!file && !inline) return NO_SPEND_LIMITS;
  const variable = file ? 'SPEND_LIMITS_FILE' : 'SPEND_LIMITS';
  let value: unknown;
  try {
    value = JSON.parse(file ? readFileSync(path.resolve(cwd, file), 'utf8') : inline!);
  } catch (error) {
    throw new ConfigError(
      variable,
      `cannot read ${file ?? 'the value'} as JSON: ${(error as Error).message}`,
    );
  }
  const parsed = spendLimitsSchema.safeParse(value);
  if (!parsed.success)
    throw new ConfigError(
      variable,
      `${file ?? 'SPEND_LIMITS'}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`).join('; ')}`,
    );
  return parsed.data;
}
