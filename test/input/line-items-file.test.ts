// Input files: good CSV/JSON files map to Tango line items; every malformed file in the corpus yields
// a clear error naming file, row and field; streaming survives any chunk boundary; big files stream.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  InputFileError,
  type InputProblem,
  type ParsedLineItem,
  formatInputProblem,
  formatOfFile,
  parseLineItems,
  readLineItemsFile,
  validateLineItemsFile,
} from '../../src/input/line-items-file.ts';

const fixtures = fileURLToPath(new URL('../fixtures/inputs/', import.meta.url));

async function collect(iterable: AsyncIterable<ParsedLineItem>): Promise<ParsedLineItem[]> {
  const out: ParsedLineItem[] = [];
  for await (const parsed of iterable) out.push(parsed);
  return out;
}

async function* inPieces(bytes: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('good input files', () => {
  it('maps flat CSV columns to nested recipient/address, with RFC 4180 quoting, CRLF and a BOM', async () => {
    const rows = await collect(readLineItemsFile(path.join(fixtures, 'good/mixed.csv')));
    assert.deepEqual(
      rows.map((r) => r.row),
      [2, 3, 4, 5],
    );
    assert.deepEqual(rows[0]!.item, {
      externalRefLineItemID: 'L-1',
      recipient: { firstName: 'Zoë', lastName: 'Ångström', email: 'zoe@example.com' },
      utid: 'U000001',
      amount: 25,
      deliveryMethod: 'EMAIL',
      message: 'Thanks, Zoë!',
    });
    assert.deepEqual(rows[1]!.item.recipient, {
      firstName: 'Sam',
      lastName: "O'Neil",
      mobileNumber: '+1 (555) 010-2000',
    });
    assert.equal(rows[1]!.item.amount, 10.5);
    assert.deepEqual(rows[2]!.item.recipient, {
      firstName: 'Ana',
      lastName: 'Lima',
      address: {
        companyName: 'Acme, Inc.',
        streetLine1: '1 Main St',
        streetLine2: 'Suite "B"',
        city: 'Springfield',
        stateOrProvince: 'IL',
        postalCode: '62701',
        country: 'US',
      },
    });
    assert.equal(rows[2]!.item.message, 'Line one\r\nline two');
    assert.equal(rows[2]!.item.deliveryDate, '2099-06-01');
    assert.deepEqual(rows[3]!.item, {
      externalRefLineItemID: 'L-4',
      utid: 'U000001',
      amount: 5,
      deliveryMethod: 'NONE',
    });
  });

  it('reads files with only the needed columns, blank lines and no final newline', async () => {
    const minimal = await collect(readLineItemsFile(path.join(fixtures, 'good/minimal.csv')));
    assert.deepEqual(
      minimal.map((r) => [r.item.externalRefLineItemID, r.item.amount, r.item.deliveryMethod]),
      [
        ['m-1', 1, 'NONE'],
        ['m-2', 2.75, 'EMBEDDED'],
      ],
    );
    const last = await collect(readLineItemsFile(path.join(fixtures, 'good/no-trailing-newline.csv')));
    assert.equal(last.length, 1);
    assert.equal(last[0]!.item.recipient?.email, 'al@example.com');
  });

  it('reads a JSON array of POST line items', async () => {
    const items = await collect(readLineItemsFile(path.join(fixtures, 'good/items.json')));
    assert.deepEqual(
      items.map((r) => [r.row, r.item.externalRefLineItemID]),
      [
        [1, 'j-1'],
        [2, 'j-2'],
        [3, 'j-3'],
      ],
    );
    assert.equal(items[0]!.item.message, 'Hi, "Zoë" ]}');
    assert.equal(items[1]!.item.recipient?.address?.city, 'Springfield');
  });

  it('gives the same result whatever the chunk boundaries (split UTF-8, CRLF, quotes)', async () => {
    for (const [name, format] of [
      ['good/mixed.csv', 'csv'],
      ['good/items.json', 'json'],
    ] as const) {
      const bytes = await readFile(path.join(fixtures, name));
      const whole = await collect(parseLineItems(inPieces(bytes, bytes.length), { name, format }));
      for (const size of [1, 2, 3, 7, 64]) {
        const pieces = await collect(parseLineItems(inPieces(bytes, size), { name, format }));
        assert.deepEqual(pieces, whole, `${name} in ${size}-byte chunks`);
      }
    }
  });

  it('summarizes a valid file without staging it', async () => {
    const result = await validateLineItemsFile(path.join(fixtures, 'good/mixed.csv'));
    assert.deepEqual(
      { ok: result.ok, items: result.items, totalAmount: result.totalAmount, format: result.format },
      { ok: true, items: 4, totalAmount: 80.5, format: 'csv' },
    );
  });
});

interface Expectation {
  row: number;
  field: string | null;
  message: string;
}

describe('malformed input corpus', () => {
  const badDir = path.join(fixtures, 'bad');
  let expected: Record<string, Expectation>;
  before(async () => {
    expected = JSON.parse(await readFile(path.join(badDir, 'expected.json'), 'utf8')) as Record<
      string,
      Expectation
    >;
  });

  it('has at least 30 cases, each with an expectation', async () => {
    const files = (await readdir(badDir)).filter((file) => file !== 'expected.json').sort();
    assert.ok(files.length >= 30, `${files.length} fixtures`);
    assert.deepEqual(files, Object.keys(expected).sort());
  });

  it('rejects every malformed file with a problem naming file, row and field, and what to do', async () => {
    for (const [name, expectation] of Object.entries(expected)) {
      const file = path.join(badDir, name);
      const result = await validateLineItemsFile(file);
      assert.equal(result.ok, false, `${name} must be rejected`);
      const match = result.problems.find(
        (problem: InputProblem) =>
          problem.row === expectation.row &&
          (problem.field ?? null) === expectation.field &&
          new RegExp(expectation.message).test(problem.message),
      );
      assert.ok(
        match,
        `${name}: expected row ${expectation.row}, field ${expectation.field}, /${expectation.message}/; got\n` +
          result.problems.map(formatInputProblem).join('\n'),
      );
      const text = formatInputProblem(match);
      assert.ok(text.startsWith(`${file}, ${match.unit} ${expectation.row}`), text);
      if (expectation.field) assert.ok(text.includes(`field ${expectation.field}:`), text);

      // Reading for staging throws the same problems, with a readable message.
      await assert.rejects(collect(readLineItemsFile(file)), (error: unknown) => {
        assert.ok(error instanceof InputFileError);
        assert.ok(error.message.includes(file));
        assert.match(error.message, /nothing was staged/);
        return true;
      });
    }
  });
});

describe('large and unreadable files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'input-file-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams a 100,000-row CSV file', async () => {
    const file = path.join(dir, 'big.csv');
    const lines = ['externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod'];
    for (let i = 0; i < 100_000; i += 1)
      lines.push(`id-${i},First ${i},Last,user${i}@example.com,U000001,${(i % 50) + 1},EMAIL`);
    await writeFile(file, lines.join('\n'));
    let count = 0;
    for await (const { row, item } of readLineItemsFile(file)) {
      assert.equal(row, count + 2);
      count += 1;
      if (count === 100_000) assert.equal(item.externalRefLineItemID, 'id-99999');
    }
    assert.equal(count, 100_000);
  });

  it('keeps the first problems and counts them all', async () => {
    const file = path.join(dir, 'many-bad.csv');
    const lines = ['externalRefLineItemID,utid,amount,deliveryMethod'];
    for (let i = 0; i < 250; i += 1) lines.push(`id-${i},U000001,abc,NONE`);
    await writeFile(file, lines.join('\n'));
    const result = await validateLineItemsFile(file, { maxProblems: 100 });
    assert.equal(result.problems.length, 100);
    assert.equal(result.totalProblems, 250);
    await assert.rejects(collect(readLineItemsFile(file)), /250 problem\(s\)[\s\S]*and 230 more/);
  });

  it('picks the format from the name of a file or URL', () => {
    assert.equal(formatOfFile('/data/items.JSON'), 'json');
    assert.equal(formatOfFile('https://example.com/weekly.json?sig=abc#x'), 'json');
    assert.equal(formatOfFile('items.csv'), 'csv');
    assert.equal(formatOfFile('items'), 'csv');
  });

  it('says when the file does not exist', async () => {
    await assert.rejects(collect(readLineItemsFile(path.join(dir, 'nope.csv'))), /nope\.csv.*no such file/s);
  });
});

describe('rows, items and lines as the libraries read them', () => {
  async function problems(text: string, format: 'csv' | 'json'): Promise<string[]> {
    try {
      await collect(parseLineItems(inPieces(Buffer.from(text), 5), { name: 'in', format }));
    } catch (error) {
      assert.ok(error instanceof InputFileError, String(error));
      return error.problems.map(formatInputProblem);
    }
    return [];
  }
  const header = 'externalRefLineItemID,utid,amount,deliveryMethod,message';

  // A line ends at CR, LF or CRLF, inside a quoted value as well as between rows.
  it('counts CSV rows and their first lines past quoted values with CR, LF and CRLF line breaks', async () => {
    const csv =
      `${header}\r\n` +
      'a,U1,5,NONE,"one\r\ntwo\r\nthree"\r\n' +
      'b,U1,abc,NONE,"x\ry"\n' +
      '\n' +
      'c,U1,-1,NONE,plain\r\n';
    assert.deepEqual(await problems(csv, 'csv'), [
      'in, row 3 (line 5), field amount: amount "abc" is not a number: write digits with a dot for decimals (25 or 12.50), no currency sign or thousands separator',
      'in, row 5 (line 8), field amount: amount "-1" is not a number: write digits with a dot for decimals (25 or 12.50), no currency sign or thousands separator',
    ]);
  });

  it('names the row, line and column of a quoting error after rows read well', async () => {
    const csv = `${header}\na,U1,5,NONE,"two\nlines"\nb,U1,5,NONE,ok\nc,U1,5,NONE,say "hi"\n`;
    assert.deepEqual(await problems(csv, 'csv'), [
      'in, row 4 (line 5), field message: a double quote inside an unquoted value: put the whole value in double quotes and write each inner quote twice ("say ""hi""")',
    ]);
  });

  it('gives each JSON problem its item number and the line the item starts on', async () => {
    const good = '{"externalRefLineItemID": "j-1", "utid": "U1", "amount": 5, "deliveryMethod": "NONE"}';
    const json = `[\n  ${good},\n  {\n    "externalRefLineItemID": "j-2",\n    "amount": 0\n  }\n]\n`;
    const found = await problems(json, 'json');
    assert.ok(
      found.length > 0 && found.every((line) => line.startsWith('in, item 2 (line 3), field ')),
      found.join('\n'),
    );
    assert.deepEqual(await problems(`[\n  ${good},\n\n  ,${good}]`, 'json'), [
      'in, item 2 (line 4): an empty entry (two commas in a row): remove one',
    ]);
    assert.deepEqual(await problems(`[${good},\n\n  {"utid": U1}]`, 'json'), [
      'in, item 2 (line 3): not valid JSON: expected a value at "U"',
    ]);
  });

  it('stops a JSON value at the per-item cap without holding the rest of it', async () => {
    async function* endless(): AsyncIterable<string> {
      yield '[{"externalRefLineItemID": "big", "message": "';
      for (let i = 0; i < 320; i += 1) yield 'm'.repeat(64 * 1024);
      yield '"}]';
    }
    const before = process.memoryUsage().heapUsed;
    let caught: unknown;
    try {
      await collect(parseLineItems(endless(), { name: 'in', format: 'json' }));
    } catch (error) {
      caught = error;
    }
    assert.ok(process.memoryUsage().heapUsed - before < 16 * 1024 * 1024, 'memory stays bounded');
    assert.ok(caught instanceof InputFileError);
    assert.match(caught.problems[0]!.message, /the item is longer than 65536 characters/);
  });
});
