// Hostile input: oversized fields and files, malformed contact details, formula injection in the CSV
// files the product writes, and file contents echoed into messages. Each test shows the attack failing.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { guardCsvText, unguardCsvText } from '../../src/campaign/csv-guard.ts';
import {
  InputFileError,
  MAX_CSV_CELL_CHARS,
  MAX_CSV_ROW_CHARS,
  MAX_JSON_ITEM_CHARS,
  type ParsedLineItem,
  formatInputProblem,
  parseLineItems,
  readLineItemsFile,
} from '../../src/input/line-items-file.ts';
import { FIELD_LIMITS, checkLineItem, excerpt } from '../../src/campaign/line-item.ts';
import { failuresCsv } from '../../src/cli/campaign-commands.ts';
import type { FailedItem } from '../../src/client/index.ts';
import type { LineItemRequest } from '../../src/tango/schemas.ts';

const emailItem: LineItemRequest = {
  externalRefLineItemID: 'e-1',
  recipient: { firstName: 'Ana', lastName: 'Lima', email: 'ana@example.com' },
  utid: 'U000001',
  amount: 25,
  deliveryMethod: 'EMAIL',
};

async function problemsOf(source: string | AsyncIterable<string>, format: 'csv' | 'json' = 'csv') {
  const input =
    typeof source === 'string'
      ? (async function* () {
          yield source;
        })()
      : source;
  try {
    const items: ParsedLineItem[] = [];
    for await (const parsed of parseLineItems(input, { name: 'in.csv', format })) items.push(parsed);
    return { items, problems: [] as ReturnType<typeof formatInputProblem>[] };
  } catch (error) {
    assert.ok(error instanceof InputFileError, String(error));
    return { items: [], problems: error.problems.map(formatInputProblem), error };
  }
}

describe('field limits and contact formats', () => {
  it('refuses a 2,000,000-character name, naming the field and the limit', () => {
    const check = checkLineItem({
      ...emailItem,
      recipient: { ...emailItem.recipient, firstName: 'A'.repeat(2_000_000) },
    });
    assert.equal(check.ok, false);
    const problems = !check.ok ? check.problems : [];
    assert.deepEqual(
      problems.map((problem) => problem.field),
      ['recipient.firstName'],
    );
    assert.match(problems[0]!.message, /2000000 characters long; at most 100/);
    assert.ok(problems[0]!.message.length < 200, 'the value itself is not in the message');
  });

  it('has a limit on every free-text field Tango leaves unbounded', () => {
    for (const [field, limit] of Object.entries(FIELD_LIMITS)) {
      const item = structuredClone(emailItem) as unknown as Record<string, unknown>;
      const parts = field.split('.');
      let at = item;
      for (const part of parts.slice(0, -1)) {
        at[part] ??=
          part === 'address'
            ? { streetLine1: 's', city: 'c', stateOrProvince: 's', postalCode: '1', country: 'US' }
            : {};
        at = at[part] as Record<string, unknown>;
      }
      at[parts.at(-1)!] = 'x'.repeat(limit + 1);
      const check = checkLineItem(item);
      assert.equal(check.ok, false, field);
      assert.ok(
        !check.ok &&
          check.problems.some((problem) => problem.field === field && /at most/.test(problem.message)),
        `${field}: ${JSON.stringify(!check.ok && check.problems)}`,
      );
    }
    for (const field of ['etid', 'ptid', 'utid', 'emailSubject'])
      assert.ok(FIELD_LIMITS[field] !== undefined, `${field} has a limit`);
  });

  it('refuses "not-an-email" and "call-me" at validation, with row and field', async () => {
    const csv =
      'externalRefLineItemID,firstName,lastName,email,mobileNumber,utid,amount,deliveryMethod\n' +
      'a,Ana,Lima,not-an-email,,U1,5,EMAIL\n' +
      'b,,,,call-me,U1,5,PHONE\n' +
      'c,Bo,Ng, bo@EXAMPLE.com ,+1 (555) 010-2000,U1,5,EMAIL\n';
    const { problems } = await problemsOf(csv);
    assert.deepEqual(problems, [
      'in.csv, row 2, field email: recipient.email the text "not-an-email" is not an email address (name@example.com)',
      'in.csv, row 3, field mobileNumber: recipient.mobileNumber the text "call-me" is not a phone number: digits (7-15, country code first, e.g. +15550102000), with optional spaces, dashes or parentheses',
    ]);
  });
});

describe('reader caps', () => {
  it('stops a CSV value at the per-value cap and names file, row and field', async () => {
    const csv = `externalRefLineItemID,utid,amount,deliveryMethod\nx,${'U'.repeat(MAX_CSV_CELL_CHARS + 10)},5,NONE\n`;
    const { problems } = await problemsOf(csv);
    assert.deepEqual(problems, [
      `in.csv, row 2, field utid: the value is longer than ${MAX_CSV_CELL_CHARS} characters, the most the reader takes per value`,
    ]);
  });

  it('stops a CSV row at the per-row cap without holding it (an unclosed quote swallowing the file)', async () => {
    async function* endless(): AsyncIterable<string> {
      yield 'externalRefLineItemID,utid,amount,deliveryMethod\nx,"U1';
      // 20 MiB of text inside one quoted value: the reader keeps at most one capped value of it.
      for (let i = 0; i < 320; i += 1) yield 'y'.repeat(64 * 1024);
      yield '",5,NONE\n';
    }
    const before = process.memoryUsage().heapUsed;
    const { problems } = await problemsOf(endless());
    assert.ok(process.memoryUsage().heapUsed - before < 16 * 1024 * 1024, 'memory stays bounded');
    assert.ok(
      problems.some((problem) =>
        problem.startsWith(`in.csv, row 2: the row is longer than ${MAX_CSV_ROW_CHARS} characters`),
      ),
      problems.join('\n'),
    );
  });

  it('refuses a JSON item over the per-item cap with its item number', async () => {
    const json = `[${JSON.stringify(emailItem)},{"externalRefLineItemID":"big","message":"${'m'.repeat(MAX_JSON_ITEM_CHARS)}"}]`;
    const { problems } = await problemsOf(json, 'json');
    assert.deepEqual(problems, [
      `in.csv, item 2 (line 1): the item is longer than ${MAX_JSON_ITEM_CHARS} characters, the most the reader takes per item`,
    ]);
  });
});

describe('file contents in messages', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'input-safety-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('echoes at most a short printable excerpt of a header (a file such as /proc/self/environ)', async () => {
    const secret = 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const environ = `PATH=/usr/bin\0HOME=/root\0\x1b[31mTERM=xterm\0${secret}\0`;
    const file = path.join(dir, 'environ');
    await writeFile(file, environ);
    let error: unknown;
    try {
      for await (const _ of readLineItemsFile(file, { format: 'csv' })) void _;
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof InputFileError);
    const everything = `${error.message}\n${JSON.stringify(error.problems)}`;
    assert.ok(!everything.includes('wJalrXUtnFEMI'), everything);
    assert.ok(!everything.includes('AWS_SECRET'), everything);
    assert.ok(!everything.includes('\0') && !everything.includes('\x1b'), 'no control characters');
    const unknown = error.problems.find((problem) => /unknown column/.test(problem.message));
    assert.ok(unknown, everything);
    assert.ok(unknown.field!.length <= 43, unknown.field);
  });

  it('cuts and cleans excerpts', () => {
    assert.equal(excerpt('a\0b\nc\u202Ed'), 'a?b?c?d');
    assert.equal(excerpt('x'.repeat(100)), `${'x'.repeat(40)}...`);
  });
});

describe('CSV formula guard', () => {
  const tricky = [
    '=1+1',
    '+15550102000',
    '-5',
    '@SUM(A1)',
    '\tTab',
    '\rCR',
    "'already",
    "'=both",
    "''",
    "O'Brien",
    'plain',
  ];

  it('guards every formula-like start and undoes exactly its own guard', () => {
    for (const value of tricky) {
      const cell = guardCsvText(value);
      if (/^[=+\-@\t\r']/.test(value)) assert.equal(cell, `'${value}`);
      else assert.equal(cell, value);
      assert.equal(unguardCsvText(cell), value, JSON.stringify(value));
    }
  });

  it('round-trips failures --csv through the reader that `correct` uses, values intact', async () => {
    const item = (
      id: string,
      recipient: LineItemRequest['recipient'],
      extra: Partial<LineItemRequest> = {},
    ) =>
      ({
        externalRefLineItemID: id,
        chunk: 0,
        state: 'awaiting-correction',
        errors: [],
        rounds: 1,
        item: { ...emailItem, externalRefLineItemID: id, recipient, ...extra },
      }) satisfies FailedItem;
    const failed: FailedItem[] = [
      item('-dash-id', {
        firstName: '=HYPERLINK("http://evil.test")',
        lastName: "'Quote",
        email: 'a@example.com',
      }),
      item(
        'r2',
        { firstName: '@cmd', lastName: "O'Brien", email: 'b@example.com', mobileNumber: '+15550102000' },
        {
          message: '+ a gift',
          emailSubject: "'=already guarded",
        },
      ),
    ];
    const csv = failuresCsv(failed);
    for (const line of csv.split('\n').slice(1).filter(Boolean))
      for (const cell of line.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/))
        assert.ok(!/^"?[=+\-@\t\r]/.test(cell), `unguarded cell ${JSON.stringify(cell)} in ${line}`);
    const file = path.join(tmpdir(), `failures-${process.pid}.csv`);
    await writeFile(file, csv);
    try {
      const back: LineItemRequest[] = [];
      for await (const { item: read } of readLineItemsFile(file)) back.push(read);
      assert.deepEqual(
        back,
        failed.map((entry) => entry.item),
      );
    } finally {
      await rm(file, { force: true });
    }
  });
});
