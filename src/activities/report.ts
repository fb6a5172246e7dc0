// The final report: every input item with its one terminal state (ARCHITECTURE invariant 2), as CSV
// for people and JSON for programs, streamed from the order books into the store.
import { Context } from '@temporalio/activity';
import { orderBookKey, orderFinalBookKey, orderPrefix } from '../campaign/book-keys.ts';
import type { BookEntry } from '../campaign/order-book.ts';
import { describeErrors } from '../campaign/order-book.ts';
import { readJsonLines } from '../store/json.ts';
import { reportCsvKey, reportJsonKey } from '../store/keys.ts';
import type { CampaignStore } from '../store/store.ts';
import { type ItemCounts, emptyCounts } from '../workflows/types.ts';

export type TerminalState = 'delivered' | 'given-up' | 'cancelled';

export interface ReportRow {
  externalRefLineItemID: string;
  state: TerminalState;
  reason: string;
  failureClass: string;
  errorCodes: string;
  rounds: number;
  externalRefID: string;
  utid: string;
  amount: number;
  deliveryMethod: string;
  autoFixes: string;
  corrected: boolean;
}

export const REPORT_COLUMNS: readonly (keyof ReportRow)[] = [
  'externalRefLineItemID',
  'state',
  'reason',
  'failureClass',
  'errorCodes',
  'rounds',
  'externalRefID',
  'utid',
  'amount',
  'deliveryMethod',
  'autoFixes',
  'corrected',
];

export interface ReportInput {
  campaignId: string;
  chunks: number;
  /** Orders started; the rest were never sent. */
  startedChunks: number;
  /** Why items of orders never started were not sent (cancelled, rejected, dry run). */
  notSentReason: string;
  approvedBy?: string;
}

export interface ReportResult {
  csvKey: string;
  jsonKey: string;
  rows: number;
  counts: ItemCounts;
}

/** Maps a book entry to its terminal row; an order that ended early leaves no item unreported. */
export function toReportRow(entry: BookEntry, notSentReason: string): ReportRow {
  let state: TerminalState;
  let reason = entry.reason ?? '';
  switch (entry.state) {
    case 'delivered':
      state = 'delivered';
      break;
    case 'given-up':
      state = 'given-up';
      break;
    case 'cancelled':
      state = 'cancelled';
      break;
    case 'queued':
      state = entry.rounds.length === 0 ? 'cancelled' : 'given-up';
      reason = reason || notSentReason;
      break;
    case 'submitted':
      // Sent, but the order ended before Tango accounted for it: never resent, flagged for a person.
      state = 'given-up';
      reason = `fate unknown: sent in ${entry.externalRefID ?? '?'} but not settled; check Tango before resending`;
      break;
    default:
      state = 'given-up';
      reason = `${reason || notSentReason}${entry.errors ? `; last errors: ${describeErrors(entry.errors)}` : ''}`;
  }
  return {
    externalRefLineItemID: entry.id,
    state,
    reason,
    failureClass: entry.failureClass ?? '',
    errorCodes: (entry.errors ?? []).map((error) => error.code ?? error.value ?? '').join(' '),
    rounds: entry.rounds.length,
    externalRefID: entry.externalRefID ?? '',
    utid: entry.item.utid,
    amount: entry.item.amount,
    deliveryMethod: entry.item.deliveryMethod,
    autoFixes: (entry.fixes ?? []).join(' '),
    corrected: entry.corrected ?? false,
  };
}

function csvField(value: string | number | boolean): string {
  const text = String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function latestBookKey(store: CampaignStore, campaignId: string, chunk: number): Promise<string> {
  let latest = orderBookKey(campaignId, chunk, 0);
  for await (const key of store.list(`${orderPrefix(campaignId, chunk)}book-`)) latest = key;
  return latest;
}

export function createReportActivities(store: CampaignStore) {
  async function* rows(input: ReportInput, counts: ItemCounts): AsyncIterable<ReportRow> {
    for (let chunk = 0; chunk < input.chunks; chunk += 1) {
      const started = chunk < input.startedChunks;
      const finalKey = orderFinalBookKey(input.campaignId, chunk);
      const key = !started
        ? orderBookKey(input.campaignId, chunk, 0)
        : (await store.exists(finalKey))
          ? finalKey
          : await latestBookKey(store, input.campaignId, chunk);
      for await (const entry of readJsonLines(store, key)) {
        const row = toReportRow(entry as BookEntry, input.notSentReason);
        counts.total += 1;
        if (row.state === 'delivered') counts.delivered += 1;
        else if (row.state === 'cancelled') counts.cancelled += 1;
        else counts.givenUp += 1;
        yield row;
      }
      if (chunk % 100 === 99) Context.current().heartbeat(chunk);
    }
  }

  async function writeCampaignReport(input: ReportInput): Promise<ReportResult> {
    const csvKey = reportCsvKey(input.campaignId);
    const jsonKey = reportJsonKey(input.campaignId);
    const csvCounts = emptyCounts();
    await store.put(
      csvKey,
      (async function* () {
        yield REPORT_COLUMNS.join(',') + '\n';
        for await (const row of rows(input, csvCounts)) {
          yield REPORT_COLUMNS.map((column) => csvField(row[column])).join(',') + '\n';
        }
      })(),
    );
    const jsonCounts = emptyCounts();
    await store.put(
      jsonKey,
      (async function* () {
        yield `{"campaignId":${JSON.stringify(input.campaignId)},"generatedAt":${JSON.stringify(new Date().toISOString())}`;
        if (input.approvedBy) yield `,"approvedBy":${JSON.stringify(input.approvedBy)}`;
        yield ',"items":[\n';
        let first = true;
        for await (const row of rows(input, jsonCounts)) {
          yield (first ? '' : ',\n') + JSON.stringify(row);
          first = false;
        }
        yield '\n]}\n';
      })(),
    );
    return { csvKey, jsonKey, rows: csvCounts.total, counts: csvCounts };
  }

  return { writeCampaignReport };
}
