// A finished campaign's final report, read from the store the workers write it to: parsed and
// checked row by row for programs, or streamed as stored (CSV or JSON).
import { z } from 'zod';
import { type ReportRow, reportRowSchema } from '../campaign/report.ts';
import { reportCsvKey, reportJsonKey } from '../store/keys.ts';
import { StoreNotFoundError, type CampaignStore } from '../store/store.ts';
import { CampaignClientError, ReportNotReadyError } from './errors.ts';

export interface CampaignReport {
  campaignId: string;
  summary: unknown;
  items: ReportRow[];
  [key: string]: unknown;
}

export async function readReport(campaignId: string, store: CampaignStore): Promise<CampaignReport> {
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

export async function streamReport(
  campaignId: string,
  format: 'csv' | 'json',
  store: CampaignStore,
): Promise<AsyncIterable<Buffer>> {
  const key = format === 'csv' ? reportCsvKey(campaignId) : reportJsonKey(campaignId);
  if (!(await store.exists(key))) throw new ReportNotReadyError(campaignId, store.location);
  return store.stream(key);
}
