// The final report: every input line item with exactly one terminal state (ARCHITECTURE invariant 2),
// as rows and as streamed CSV (for people) and JSON (for programs). Pure and sandbox-safe: the writers
// turn rows into text chunks; the caller streams them into the store.
import { z } from 'zod';
import { type LineItemRequest } from '../tango/schemas.ts';
import {
  type ClassifiableError,
  type FailureClass,
  FAILURE_CLASSES,
  errorCodesOf,
  zeroPerFailureClass,
} from './classification.ts';
import { guardCsvText } from './csv-guard.ts';

export const TERMINAL_STATES = ['delivered', 'scheduled', 'given-up', 'cancelled'] as const;
export type TerminalStateName = (typeof TERMINAL_STATES)[number];

/** How one line item ended. */
export type TerminalState =
  /** Tango's record of it says COMPLETE. */
  | { state: 'delivered'; tangoStatus?: string; tangoLineItemId?: string }
  /** Tango holds it (PENDING) for delivery on a later date. */
  | { state: 'scheduled'; scheduledFor: string; tangoStatus?: string; tangoLineItemId?: string }
  /** Sent at least once and will not be sent again: permanent failure, window closed, skipped... */
  | {
      state: 'given-up';
      reason: string;
      failureClass?: FailureClass;
      lastErrors: readonly ClassifiableError[];
    }
  /** Never sent to Tango (campaign cancelled, rejected, dry run, invalid before submission). */
  | { state: 'cancelled'; reason: string };

/** One report row: flat, so that the CSV and the JSON carry the same fields. */
export interface ReportRow {
  externalRefLineItemID: string;
  state: TerminalStateName;
  /** Why the item was given up or cancelled; empty when delivered. */
  reason: string;
  failureClass: FailureClass | '';
  /** The last errors' codes, space-separated. */
  errorCodes: string;
  /** The last errors' messages, "; "-separated. */
  errorMessages: string;
  /** How many rounds (orders) the item was sent in. */
  rounds: number;
  /** The last order the item was sent in; empty when never sent. */
  externalRefID: string;
  /** Tango's referenceLineItemId of a delivered or scheduled item: the record that backs the row. */
  tangoLineItemId: string;
  /** Tango's lineItemStatus as last read (COMPLETE for a delivered item). */
  tangoStatus: string;
  /** When Tango delivers a scheduled item. */
  scheduledFor: string;
  utid: string;
  amount: number;
  deliveryMethod: string;
  /** Automatic fixes applied, "; "-separated. */
  autoFixes: string;
  /** Whether an operator corrected the item. */
  corrected: boolean;
}

export const REPORT_COLUMNS = [
  'externalRefLineItemID',
  'state',
  'reason',
  'failureClass',
  'errorCodes',
  'errorMessages',
  'rounds',
  'externalRefID',
  'tangoLineItemId',
  'tangoStatus',
  'scheduledFor',
  'utid',
  'amount',
  'deliveryMethod',
  'autoFixes',
  'corrected',
] as const satisfies readonly (keyof ReportRow)[];

/** For readers of report.json (CLI `report`, client library). */
export const reportRowSchema = z.object({
  externalRefLineItemID: z.string(),
  state: z.enum(TERMINAL_STATES),
  reason: z.string(),
  failureClass: z.union([z.enum(FAILURE_CLASSES), z.literal('')]),
  errorCodes: z.string(),
  errorMessages: z.string(),
  rounds: z.number().int().nonnegative(),
  externalRefID: z.string(),
  // Reports written before item-level reconciliation lack these.
  tangoLineItemId: z.string().default(''),
  tangoStatus: z.string().default(''),
  scheduledFor: z.string().default(''),
  utid: z.string(),
  amount: z.number(),
  deliveryMethod: z.string(),
  autoFixes: z.string(),
  corrected: z.boolean(),
});

export interface ReportRowInput {
  item: LineItemRequest;
  terminal: TerminalState;
  rounds: number;
  externalRefID?: string;
  fixes?: readonly string[];
  corrected?: boolean;
}

/** Builds the report row of one item; a given-up or cancelled item must say why. */
export function reportRow(input: ReportRowInput): ReportRow {
  const { item, terminal } = input;
  if ((terminal.state === 'given-up' || terminal.state === 'cancelled') && terminal.reason.trim() === '')
    throw new Error(`report row for ${item.externalRefLineItemID}: a ${terminal.state} item needs a reason`);
  if (terminal.state === 'cancelled' && input.rounds > 0)
    throw new Error(
      `report row for ${item.externalRefLineItemID}: "cancelled" means never sent, but it was sent in ${input.rounds} round(s); use given-up`,
    );
  const errors = terminal.state === 'given-up' ? terminal.lastErrors : [];
  return {
    externalRefLineItemID: item.externalRefLineItemID,
    state: terminal.state,
    reason: terminal.state === 'given-up' || terminal.state === 'cancelled' ? terminal.reason : '',
    failureClass: terminal.state === 'given-up' ? (terminal.failureClass ?? '') : '',
    errorCodes: errors.map((error) => errorCodesOf(error)[0] ?? '?').join(' '),
    errorMessages: errors
      .map((error) => error.message ?? error.errorMessage ?? '')
      .filter((message) => message !== '')
      .join('; '),
    rounds: input.rounds,
    externalRefID: input.externalRefID ?? '',
    tangoLineItemId:
      terminal.state === 'delivered' || terminal.state === 'scheduled'
        ? (terminal.tangoLineItemId ?? '')
        : '',
    tangoStatus:
      terminal.state === 'delivered' || terminal.state === 'scheduled' ? (terminal.tangoStatus ?? '') : '',
    scheduledFor: terminal.state === 'scheduled' ? terminal.scheduledFor : '',
    utid: item.utid,
    amount: item.amount,
    deliveryMethod: item.deliveryMethod,
    autoFixes: (input.fixes ?? []).join('; '),
    corrected: input.corrected ?? false,
  };
}

export interface ReportSummary {
  total: number;
  delivered: number;
  /** Held by Tango for a later delivery date. */
  scheduled: number;
  givenUp: number;
  cancelled: number;
  /** Sum of the delivered items' amounts. */
  amountDelivered: number;
  amountScheduled: number;
  amountGivenUp: number;
  amountCancelled: number;
  /** Given-up items by failure class ("unclassified" when none was recorded). */
  givenUpByClass: Record<FailureClass | 'unclassified', number>;
}

/** Counts rows as they stream past (the JSON writer appends the result after the rows). */
export class ReportSummaryBuilder {
  private readonly summary: ReportSummary = {
    total: 0,
    delivered: 0,
    scheduled: 0,
    givenUp: 0,
    cancelled: 0,
    amountDelivered: 0,
    amountScheduled: 0,
    amountGivenUp: 0,
    amountCancelled: 0,
    givenUpByClass: { ...zeroPerFailureClass(), unclassified: 0 },
  };

  add(row: ReportRow): void {
    const s = this.summary;
    s.total += 1;
    // Cents, so that a million additions of 0.1 do not drift.
    const cents = Math.round(row.amount * 100);
    if (row.state === 'delivered') {
      s.delivered += 1;
      s.amountDelivered = (Math.round(s.amountDelivered * 100) + cents) / 100;
    } else if (row.state === 'scheduled') {
      s.scheduled += 1;
      s.amountScheduled = (Math.round(s.amountScheduled * 100) + cents) / 100;
    } else if (row.state === 'given-up') {
      s.givenUp += 1;
      s.amountGivenUp = (Math.round(s.amountGivenUp * 100) + cents) / 100;
      s.givenUpByClass[row.failureClass === '' ? 'unclassified' : row.failureClass] += 1;
    } else {
      s.cancelled += 1;
      s.amountCancelled = (Math.round(s.amountCancelled * 100) + cents) / 100;
    }
  }

  result(): ReportSummary {
    return structuredCopy(this.summary);
  }
}

function structuredCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * One CSV cell (RFC 4180). Every text cell that a spreadsheet would run as a formula (=, +, -, @, tab
 * or CR at the start: recipient input and Tango's error messages echo it) gets a leading apostrophe
 * (src/campaign/csv-guard.ts); numbers and booleans are written as they are.
 */
export function csvCell(value: string | number | boolean): string {
  const text = typeof value === 'string' ? guardCsvText(value) : String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// Rows are gathered into ~64 KiB strings: one tiny chunk per row would dominate the cost of writing.
const CHUNK_CHARS = 64 * 1024;

/** The report as CSV text chunks: a header of REPORT_COLUMNS, then one CRLF-terminated line per row. */
export async function* reportCsvChunks(
  rows: Iterable<ReportRow> | AsyncIterable<ReportRow>,
): AsyncIterable<string> {
  let buffer = REPORT_COLUMNS.join(',') + '\r\n';
  for await (const row of rows) {
    buffer += REPORT_COLUMNS.map((column) => csvCell(row[column])).join(',') + '\r\n';
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

/** What the JSON report says about the campaign besides its rows. */
export interface ReportMeta {
  campaignId: string;
  generatedAt: string;
  [key: string]: unknown;
}

/**
 * The report as JSON text chunks: `{ ...meta, "items": [rows...], "summary": {...} }`. The summary
 * comes last because it is counted while the rows stream; JSON readers do not care about key order.
 * `onSummary` receives the same summary (for the workflow's result) once the rows are written.
 */
export async function* reportJsonChunks(
  meta: ReportMeta,
  rows: Iterable<ReportRow> | AsyncIterable<ReportRow>,
  onSummary?: (summary: ReportSummary) => void,
): AsyncIterable<string> {
  const {
    items: _items,
    summary: _summary,
    ...header
  } = meta as ReportMeta & { items?: unknown; summary?: unknown };
  const opening = JSON.stringify(header);
  const summary = new ReportSummaryBuilder();
  let buffer = `${opening.slice(0, -1)}${opening === '{}' ? '' : ','}"items":[`;
  let first = true;
  for await (const row of rows) {
    summary.add(row);
    buffer += `${first ? '\n' : ',\n'}${JSON.stringify(row)}`;
    first = false;
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  const result = summary.result();
  yield `${buffer}${first ? '' : '\n'}],"summary":${JSON.stringify(result)}}\n`;
  onSummary?.(result);
}
