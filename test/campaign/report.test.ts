// Report rows and writers: one terminal state per item, CSV that spreadsheets read safely, JSON that
// parses back to the same rows with a summary counted while streaming.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  REPORT_COLUMNS,
  type ReportRow,
  type ReportSummary,
  csvCell,
  reportCsvChunks,
  reportJsonChunks,
  reportRow,
  reportRowSchema,
} from '../../src/campaign/report.ts';
import { type LineItemRequest } from '../../src/tango/schemas.ts';
import { lineItem } from '../helpers/line-items.ts';

const item = (id: string, amount = 10): LineItemRequest => lineItem(id, { amount });

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

const rows: ReportRow[] = [
  reportRow({
    item: item('d-1', 25),
    terminal: { state: 'delivered', tangoStatus: 'COMPLETE', tangoLineItemId: 'RL-1' },
    rounds: 1,
    externalRefID: 'c-0',
  }),
  reportRow({
    item: item('g-1', 10.1),
    terminal: {
      state: 'given-up',
      reason: 'permanent failure',
      failureClass: 'permanent',
      lastErrors: [
        { errorCode: 'RECIPIENT_BLOCKED', errorMessage: 'blocked' },
        { errorCodeName: 'INVALID_EMAIL', errorCodeValue: 134, message: '=cmd|" /C calc"!A0, not an email' },
      ],
    },
    rounds: 2,
    externalRefID: 'c-0-r1',
    fixes: ['trim-whitespace (recipient.email)'],
    corrected: true,
  }),
  reportRow({
    item: item('c-1', 5),
    terminal: { state: 'cancelled', reason: 'campaign cancelled before submission' },
    rounds: 0,
  }),
];

describe('report rows', () => {
  it('carries the terminal state, reason, class and last errors', () => {
    assert.deepEqual(rows[0], {
      externalRefLineItemID: 'd-1',
      state: 'delivered',
      reason: '',
      failureClass: '',
      errorCodes: '',
      errorMessages: '',
      rounds: 1,
      externalRefID: 'c-0',
      tangoLineItemId: 'RL-1',
      tangoStatus: 'COMPLETE',
      scheduledFor: '',
      utid: 'U000001',
      amount: 25,
      deliveryMethod: 'EMAIL',
      autoFixes: '',
      corrected: false,
    });
    assert.equal(rows[1]!.errorCodes, 'RECIPIENT_BLOCKED INVALID_EMAIL');
    assert.equal(rows[1]!.failureClass, 'permanent');
    assert.equal(rows[1]!.errorMessages, 'blocked; =cmd|" /C calc"!A0, not an email');
    assert.equal(rows[2]!.externalRefID, '');
  });

  it('says when Tango will deliver a scheduled item, backed by its record', () => {
    const row = reportRow({
      item: item('s-1', 25),
      terminal: {
        state: 'scheduled',
        scheduledFor: '2026-12-20T00:00:00Z',
        tangoStatus: 'PENDING',
        tangoLineItemId: 'RL-9',
      },
      rounds: 1,
      externalRefID: 'c-0',
    });
    assert.equal(row.state, 'scheduled');
    assert.equal(row.scheduledFor, '2026-12-20T00:00:00Z');
    assert.equal(row.tangoLineItemId, 'RL-9');
    assert.equal(row.reason, '');
  });

  it('refuses rows that would break the invariant: no reason, or "cancelled" after sending', () => {
    assert.throws(
      () =>
        reportRow({
          item: item('x'),
          terminal: { state: 'given-up', reason: ' ', lastErrors: [] },
          rounds: 1,
        }),
      /needs a reason/,
    );
    assert.throws(
      () => reportRow({ item: item('x'), terminal: { state: 'cancelled', reason: 'stop' }, rounds: 1 }),
      /never sent/,
    );
  });
});

describe('CSV writer', () => {
  it('writes a header and one RFC 4180 line per row, defusing formulas in free text', async () => {
    const csv = await text(reportCsvChunks(rows));
    const lines = csv.split('\r\n');
    assert.equal(lines[0], REPORT_COLUMNS.join(','));
    assert.equal(lines.length, rows.length + 2, 'header, rows, and the empty string after the last CRLF');
    assert.equal(lines[1], 'd-1,delivered,,,,,1,c-0,RL-1,COMPLETE,,U000001,25,EMAIL,,false');
    assert.ok(lines[2]!.includes(`"blocked; =cmd|"" /C calc""!A0, not an email"`), lines[2]);
    assert.equal(csvCell('=1+1'), "'=1+1");
    assert.equal(csvCell(-5), '-5', 'numbers are written as they are');
    assert.equal(csvCell(' padded'), '" padded"');
  });

  it('guards every text column of the report, not only the free-text ones', async () => {
    const hostile = {
      ...rows[0]!,
      externalRefLineItemID: '=HYPERLINK("http://x.test","id")',
      externalRefID: '+c-0',
      tangoLineItemId: '@SUM(A1)',
      tangoStatus: '-COMPLETE',
      utid: '\tU1',
      deliveryMethod: '\rEMAIL',
      scheduledFor: "'quoted",
    };
    const csv = await text(reportCsvChunks([hostile]));
    const cells = csv.split('\r\n')[1]!;
    assert.ok(cells.startsWith(`"'=HYPERLINK(""http://x.test"",""id"")"`), cells);
    for (const guarded of ["'+c-0", "'@SUM(A1)", "'-COMPLETE", "'\tU1", "'\rEMAIL", "''quoted"])
      assert.ok(cells.includes(guarded), `${JSON.stringify(guarded)} in ${JSON.stringify(cells)}`);
    assert.ok(cells.includes(',25,'), 'the amount is a number, written as it is');
  });

  it('streams large reports in bounded chunks', async () => {
    function* many() {
      for (let i = 0; i < 20_000; i += 1) yield rows[i % 3]!;
    }
    let chunks = 0;
    let lines = 0;
    for await (const chunk of reportCsvChunks(many())) {
      chunks += 1;
      assert.ok(chunk.length < 70 * 1024);
      lines += chunk.split('\r\n').length - 1;
    }
    assert.ok(chunks > 5);
    assert.equal(lines, 20_001);
  });
});

describe('JSON writer', () => {
  it('parses back to the meta, the same rows and a summary', async () => {
    let reported: ReportSummary | undefined;
    const json = await text(
      reportJsonChunks(
        { campaignId: 'c', generatedAt: '2026-01-01T00:00:00Z', approvedBy: 'ops' },
        rows,
        (s) => (reported = s),
      ),
    );
    const parsed = JSON.parse(json) as {
      campaignId: string;
      approvedBy: string;
      items: unknown[];
      summary: ReportSummary;
    };
    assert.equal(parsed.campaignId, 'c');
    assert.equal(parsed.approvedBy, 'ops');
    assert.deepEqual(z.array(reportRowSchema).parse(parsed.items), rows);
    assert.deepEqual(parsed.summary, {
      total: 3,
      delivered: 1,
      scheduled: 0,
      givenUp: 1,
      cancelled: 1,
      amountDelivered: 25,
      amountScheduled: 0,
      amountGivenUp: 10.1,
      amountCancelled: 5,
      givenUpByClass: {
        transient: 0,
        'needs-funds': 0,
        'needs-correction': 0,
        permanent: 1,
        unclassified: 0,
      },
    });
    assert.deepEqual(reported, parsed.summary);
  });

  it('writes valid JSON for an empty report and sums amounts without drift', async () => {
    const empty = JSON.parse(await text(reportJsonChunks({ campaignId: 'c', generatedAt: 'now' }, []))) as {
      items: unknown[];
      summary: ReportSummary;
    };
    assert.deepEqual(empty.items, []);
    assert.equal(empty.summary.total, 0);
    const dimes = Array.from({ length: 1000 }, (_, i) =>
      reportRow({ item: item(`d-${i}`, 0.1), terminal: { state: 'delivered' }, rounds: 1 }),
    );
    const summed = JSON.parse(
      await text(reportJsonChunks({ campaignId: 'c', generatedAt: 'now' }, dimes)),
    ) as {
      summary: ReportSummary;
    };
    assert.equal(summed.summary.amountDelivered, 100);
  });
});
