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
import {
  type ReportRow,
  type ReportSummary,
  type TerminalState,
  reportCsvChunks,
  reportJsonChunks,
  reportRow,
} from '../campaign/report.ts';

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

/** Maps a book entry to its terminal state; an order that ended early leaves no item unreported. */
export function terminalStateOf(entry: BookEntry, notSentReason: string): TerminalState {
  const lastErrors = entry.errors ?? [];
  switch (entry.state) {
    case 'delivered':
      return {
        state: 'delivered',
        ...(entry.tangoStatus ? { tangoStatus: entry.tangoStatus } : {}),
        ...(entry.tangoLineItemId ? { tangoLineItemId: entry.tangoLineItemId } : {}),
      };
    case 'scheduled':
      return {
        state: 'scheduled',
        scheduledFor: entry.scheduledFor ?? entry.item.deliveryDate ?? '',
        ...(entry.tangoStatus ? { tangoStatus: entry.tangoStatus } : {}),
        ...(entry.tangoLineItemId ? { tangoLineItemId: entry.tangoLineItemId } : {}),
      };
    case 'cancelled':
      return { state: 'cancelled', reason: entry.reason ?? notSentReason };
    case 'given-up':
      return {
        state: 'given-up',
        reason: entry.reason ?? 'given up',
        ...(entry.failureClass ? { failureClass: entry.failureClass } : {}),
        lastErrors,
      };
    case 'queued':
      return entry.rounds.length === 0
        ? { state: 'cancelled', reason: entry.reason ?? notSentReason }
        : { state: 'given-up', reason: entry.reason ?? notSentReason, lastErrors };
    case 'submitted':
      // Sent, but the order ended before Tango accounted for it: never resent, flagged for a person.
      return {
        state: 'given-up',
        reason: `fate unknown: sent in ${entry.externalRefID ?? '?'} but not settled; check Tango before resending`,
        lastErrors,
      };
    default:
      return {
        state: 'given-up',
        reason: `${entry.reason ?? notSentReason}${lastErrors.length ? `; last errors: ${describeErrors(lastErrors)}` : ''}`,
        ...(entry.failureClass ? { failureClass: entry.failureClass } : {}),
        lastErrors,
      };
  }
}

export function toReportRow(entry: BookEntry, notSentReason: string): ReportRow {
  return reportRow({
    item: entry.item,
    terminal: terminalStateOf(entry, notSentReason),
    rounds: entry.rounds.length,
    ...(entry.externalRefID ? { externalRefID: entry.externalRefID } : {}),
    ...(entry.fixes ? { fixes: entry.fixes } : {}),
    corrected: entry.corrected ?? false,
  });
}

export async function latestBookKey(
  store: CampaignStore,
  campaignId: string,
  chunk: number,
): Promise<string> {
  // By step number, not by name: book-10000 sorts before book-9999.
  let latest = { step: 0, key: orderBookKey(campaignId, chunk, 0) };
  for await (const key of store.list(`${orderPrefix(campaignId, chunk)}book-`)) {
    const step = Number(/book-(\d+)\.jsonl$/.exec(key)?.[1] ?? -1);
    if (step > latest.step) latest = { step, key };
  }
  return latest.key;
}

export function createReportActivities(store: CampaignStore) {
  async function* rows(input: ReportInput): AsyncIterable<ReportRow> {
    for (let chunk = 0; chunk < input.chunks; chunk += 1) {
      const started = chunk < input.startedChunks;
      const finalKey = orderFinalBookKey(input.campaignId, chunk);
      const key = !started
        ? orderBookKey(input.campaignId, chunk, 0)
        : (await store.exists(finalKey))
          ? finalKey
          : await latestBookKey(store, input.campaignId, chunk);
      for await (const entry of readJsonLines(store, key))
        yield toReportRow(entry as BookEntry, input.notSentReason);
      if (chunk % 100 === 99) Context.current().heartbeat(chunk);
    }
  }

  async function writeCampaignReport(input: ReportInput): Promise<ReportResult> {
    const csvKey = reportCsvKey(input.campaignId);
    const jsonKey = reportJsonKey(input.campaignId);
    await store.put(csvKey, reportCsvChunks(rows(input)));
    let summary: ReportSummary | undefined;
    const meta = {
      campaignId: input.campaignId,
      generatedAt: new Date().toISOString(),
      ...(input.approvedBy ? { approvedBy: input.approvedBy } : {}),
    };
    await store.put(
      jsonKey,
      reportJsonChunks(meta, rows(input), (result) => {
        summary = result;
      }),
    );
    const counts = emptyCounts();
    counts.total = summary?.total ?? 0;
    counts.delivered = summary?.delivered ?? 0;
    counts.scheduled = summary?.scheduled ?? 0;
    counts.givenUp = summary?.givenUp ?? 0;
    counts.cancelled = summary?.cancelled ?? 0;
    return { csvKey, jsonKey, rows: counts.total, counts };
  }

  return { writeCampaignReport };
}
