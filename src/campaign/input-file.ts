// Reads a campaign's input file (CSV with Tango's field names as header, or a JSON array of POST line
// items) as a stream of validated line items, and reports every problem by file, row and field with
// what to fix. Does file I/O: never imported by workflow code.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { type LineItemRequest } from '../tango/schemas.ts';
import { unguardCsvText } from './csv-guard.ts';
import {
  CSV_COLUMNS,
  type CsvColumn,
  type FieldProblem,
  LineItemValidator,
  REQUIRED_CSV_COLUMNS,
  csvColumnOf,
  excerpt,
  quotedExcerpt,
  jsonPathOfColumn,
  lineItemFromCsvCells,
} from './line-item.ts';

export type InputFormat = 'csv' | 'json';

/** One problem in an input file. CSV rows count the header as row 1; JSON "rows" are items (1-based). */
export interface InputProblem {
  file: string;
  /** CSV: the record number, header = 1. JSON: the item number in the array (1-based). */
  row: number;
  unit: 'row' | 'item';
  /** The physical line where the row or item starts, when that differs from `row`. */
  line?: number;
  /** CSV column, or JSON path for JSON items; absent for problems with the whole file or row. */
  field?: string;
  message: string;
}

export function formatInputProblem(problem: InputProblem): string {
  const line = problem.line !== undefined && problem.line !== problem.row ? ` (line ${problem.line})` : '';
  const field = problem.field ? `, field ${problem.field}` : '';
  return `${problem.file}, ${problem.unit} ${problem.row}${line}${field}: ${problem.message}`;
}

export class InputFileError extends Error {
  override readonly name = 'InputFileError';
  constructor(
    readonly file: string,
    /** The first problems found (at most the configured limit). */
    readonly problems: InputProblem[],
    /** All problems found, including those not kept. */
    readonly totalProblems: number = problems.length,
  ) {
    const shown = problems.slice(0, 20).map((problem) => `  - ${formatInputProblem(problem)}`);
    const more = totalProblems - Math.min(problems.length, 20);
    super(
      `${file}: ${totalProblems} problem(s) in the input; nothing was staged. Fix these and try again:\n` +
        shown.join('\n') +
        (more > 0 ? `\n  ... and ${more} more` : ''),
    );
  }
}

export interface ParsedLineItem {
  /** Row (CSV, header = 1) or item number (JSON, 1-based) the item came from. */
  row: number;
  item: LineItemRequest;
}

export interface ParseLineItemsOptions {
  /** How the source is named in problems (a file path or URL). */
  name: string;
  format: InputFormat;
  /** Problems kept for the error (all are counted). Default 100. */
  maxProblems?: number;
}

const REPLACEMENT_CHARACTER = '\uFFFD';
const ENCODING_HINT =
  'contains bytes that are not valid UTF-8 (often a file saved as Latin-1 / Windows-1252 by a spreadsheet): save the file as UTF-8 and try again';

/** JSON.parse's message, which quotes a short piece of the text, kept short and printable. */
function excerptOfJsonError(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ');
  const quoted = /"(.*)"/.exec(oneLine);
  if (quoted) return oneLine.replace(quoted[0], quotedExcerpt(quoted[1]!));
  return oneLine.replace(/[\p{Cc}\p{Cf}]/gu, '?').slice(0, 120);
}

/** Picks the format from a file name or URL path; anything but .json is read as CSV. */
export function formatOfFile(fileOrUrl: string): InputFormat {
  const withoutQuery = fileOrUrl.replace(/[?#].*$/, '');
  return path.extname(withoutQuery).toLowerCase() === '.json' ? 'json' : 'csv';
}

class ProblemLog {
  readonly kept: InputProblem[] = [];
  total = 0;
  constructor(
    private readonly file: string,
    private readonly unit: 'row' | 'item',
    private readonly max: number,
  ) {}
  add(row: number, field: string | undefined, message: string, line?: number): void {
    this.total += 1;
    if (this.kept.length >= this.max) return;
    const problem: InputProblem = { file: this.file, row, unit: this.unit, message };
    if (line !== undefined) problem.line = line;
    if (field !== undefined) problem.field = field;
    this.kept.push(problem);
  }
  fail(): never {
    throw new InputFileError(this.file, this.kept, this.total);
  }
}

/** Decodes the byte stream as UTF-8 text chunks (BOM dropped; invalid bytes become U+FFFD, caught per field). */
async function* decode(source: AsyncIterable<Uint8Array | string>, log: ProblemLog): AsyncIterable<string> {
  const decoder = new TextDecoder('utf-8');
  let first = true;
  for await (const chunk of source) {
    if (typeof chunk === 'string') {
      yield first ? chunk.replace(/^\uFEFF/, '') : chunk;
      first = false;
      continue;
    }
    if (
      first &&
      chunk.length >= 2 &&
      ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
    ) {
      log.add(
        1,
        undefined,
        'the file is UTF-16 encoded: save it as UTF-8 (CSV UTF-8 in spreadsheet programs)',
      );
      log.fail();
    }
    first = false;
    const text = decoder.decode(chunk, { stream: true });
    if (text !== '') yield text;
  }
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180: quoted fields with "" escapes and line breaks, CRLF or LF line ends)
// ---------------------------------------------------------------------------------------------

interface CsvRecord {
  fields: string[];
  row: number;
  line: number;
  blank: boolean;
  /** `column` is absent for a problem with the whole row. */
  problems: { message: string; column?: number }[];
  /** The row exceeded MAX_CSV_ROW_CHARS: its fields were not kept. */
  tooLong?: boolean;
}

/** The reader's limits: no value or row of a real input file comes near them. */
export const MAX_CSV_CELL_CHARS = 4096;
export const MAX_CSV_ROW_CHARS = 32 * 1024;
export const MAX_JSON_ITEM_CHARS = 64 * 1024;

const enum CsvState {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
  AfterCarriageReturn,
}

const UNQUOTED_SPECIAL = /[,\r\n"]/g;

class CsvParser {
  private state = CsvState.FieldStart;
  private field = '';
  private fields: string[] = [];
  private quoted = false;
  private problems: CsvRecord['problems'] = [];
  private line = 1;
  private row = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private out: CsvRecord[] = [];

  private rowChars = 0;
  private rowTooLong = false;
  private fieldTooLong = false;

  /** Adds text to the current value, within the per-value and per-row limits (the rest is dropped). */
  private append(piece: string): void {
    this.rowChars += piece.length;
    if (!this.rowTooLong && this.rowChars > MAX_CSV_ROW_CHARS) {
      this.rowTooLong = true;
      this.problems.push({
        message: `the row is longer than ${MAX_CSV_ROW_CHARS} characters, the most the reader takes per row: is a closing double quote missing?`,
      });
    }
    if (this.rowTooLong || this.fieldTooLong) return;
    if (this.field.length + piece.length > MAX_CSV_CELL_CHARS) {
      this.fieldTooLong = true;
      this.problems.push({
        column: this.fields.length,
        message: `the value is longer than ${MAX_CSV_CELL_CHARS} characters, the most the reader takes per value`,
      });
      this.field += piece.slice(0, MAX_CSV_CELL_CHARS - this.field.length);
      return;
    }
    this.field += piece;
  }

  private endField(): void {
    this.rowChars += 1;
    if (!this.rowTooLong) this.fields.push(this.field);
    this.field = '';
    this.fieldTooLong = false;
  }

  private endRecord(): void {
    this.endField();
    const blank = this.fields.length === 1 && this.fields[0]!.trim() === '' && !this.quoted;
    this.out.push({
      fields: this.fields,
      row: this.row,
      line: this.recordLine,
      blank: blank && !this.rowTooLong,
      problems: this.problems,
      ...(this.rowTooLong ? { tooLong: true } : {}),
    });
    this.fields = [];
    this.problems = [];
    this.quoted = false;
    this.rowChars = 0;
    this.rowTooLong = false;
    this.row += 1;
  }

  private newLine(): void {
    this.line += 1;
    this.recordLine = this.line;
  }

  /** Feeds text; returns the records completed by it. */
  push(text: string): CsvRecord[] {
    this.out = [];
    let i = 0;
    const length = text.length;
    while (i < length) {
      switch (this.state) {
        case CsvState.AfterCarriageReturn:
          if (text.charCodeAt(i) === 10) i += 1;
          this.state = CsvState.FieldStart;
          break;
        case CsvState.FieldStart:
          if (text.charCodeAt(i) === 34) {
            this.state = CsvState.Quoted;
            this.quoted = true;
            this.quoteLine = this.line;
            i += 1;
          } else this.state = CsvState.Unquoted;
          break;
        case CsvState.Unquoted: {
          UNQUOTED_SPECIAL.lastIndex = i;
          const match = UNQUOTED_SPECIAL.exec(text);
          if (!match) {
            this.append(text.slice(i));
            i = length;
            break;
          }
          const j = match.index;
          this.append(text.slice(i, j));
          const c = text.charCodeAt(j);
          i = j + 1;
          if (c === 44) {
            this.endField();
            this.state = CsvState.FieldStart;
          } else if (c === 10 || c === 13) {
            this.endRecord();
            this.newLine();
            this.state = c === 13 ? CsvState.AfterCarriageReturn : CsvState.FieldStart;
          } else {
            this.problems.push({
              column: this.fields.length,
              message:
                'a double quote inside an unquoted value: put the whole value in double quotes and write each inner quote twice ("say ""hi""")',
            });
            this.append('"');
          }
          break;
        }
        case CsvState.Quoted: {
          const j = text.indexOf('"', i);
          const piece = j === -1 ? text.slice(i) : text.slice(i, j);
          for (let k = piece.indexOf('\n'); k !== -1; k = piece.indexOf('\n', k + 1)) this.line += 1;
          this.append(piece);
          if (j === -1) i = length;
          else {
            this.state = CsvState.QuoteInQuoted;
            i = j + 1;
          }
          break;
        }
        case CsvState.QuoteInQuoted: {
          const c = text.charCodeAt(i);
          i += 1;
          if (c === 34) {
            this.append('"');
            this.state = CsvState.Quoted;
          } else if (c === 44) {
            this.endField();
            this.state = CsvState.FieldStart;
          } else if (c === 10 || c === 13) {
            this.endRecord();
            this.newLine();
            this.state = c === 13 ? CsvState.AfterCarriageReturn : CsvState.FieldStart;
          } else {
            this.problems.push({
              column: this.fields.length,
              message:
                'text after the closing double quote of a quoted value: quote the whole value and write each inner quote twice',
            });
            this.append(text[i - 1]!);
            this.state = CsvState.Unquoted;
          }
          break;
        }
      }
    }
    return this.out;
  }

  /** Ends the input; returns the last record, or a problem when a quoted value never closes. */
  end(): { records: CsvRecord[]; unterminatedQuoteLine?: number; row: number } {
    this.out = [];
    if (this.state === CsvState.Quoted)
      return { records: [], unterminatedQuoteLine: this.quoteLine, row: this.row };
    if (this.state === CsvState.Unquoted || this.state === CsvState.QuoteInQuoted || this.fields.length > 0)
      this.endRecord();
    return { records: this.out, row: this.row };
  }
}

const ADDRESS_HINT = 'streetLine1, city, stateOrProvince, postalCode, country';

function csvFieldOf(problemField: string): string {
  if (problemField === 'recipient.address') return ADDRESS_HINT;
  return csvColumnOf(problemField) ?? problemField;
}

async function* parseCsv(text: AsyncIterable<string>, log: ProblemLog): AsyncIterable<ParsedLineItem> {
  const parser = new CsvParser();
  let header: (CsvColumn | undefined)[] | undefined;
  let present = new Set<CsvColumn>();
  const validator = new LineItemValidator('row');
  let sawAnything = false;

  const readHeader = (record: CsvRecord) => {
    const columns: (CsvColumn | undefined)[] = [];
    const seen = new Map<string, number>();
    record.fields.forEach((raw, index) => {
      const name = raw.trim();
      const position = `column ${index + 1}`;
      if (name === '') {
        log.add(
          1,
          position,
          `empty header cell in ${position}: every column needs one of the names ${CSV_COLUMNS.join(', ')}`,
        );
        columns.push(undefined);
        return;
      }
      if (name.includes(REPLACEMENT_CHARACTER)) log.add(1, position, `the header ${ENCODING_HINT}`);
      const known = (CSV_COLUMNS as readonly string[]).includes(name);
      if (!known) {
        const near = CSV_COLUMNS.find(
          (column) => column.toLowerCase() === name.toLowerCase().replace(/[\s_-]/g, ''),
        );
        log.add(
          1,
          excerpt(name),
          `unknown column ${quotedExcerpt(name)}` +
            (near
              ? `: did you mean "${near}"? (Tango's field names, exact case)`
              : `: allowed columns are ${CSV_COLUMNS.join(', ')}`),
        );
      }
      const earlier = seen.get(name);
      if (earlier !== undefined)
        log.add(
          1,
          excerpt(name),
          `column ${quotedExcerpt(name)} appears twice (columns ${earlier} and ${index + 1}); keep one`,
        );
      seen.set(name, index + 1);
      columns.push(known ? (name as CsvColumn) : undefined);
    });
    for (const required of REQUIRED_CSV_COLUMNS)
      if (!seen.has(required))
        log.add(
          1,
          required,
          `the header has no "${required}" column; every line item needs ${REQUIRED_CSV_COLUMNS.join(', ')}`,
        );
    for (const problem of record.problems)
      log.add(1, problem.column === undefined ? undefined : `column ${problem.column + 1}`, problem.message);
    if (log.total > 0) log.fail();
    present = new Set(columns.filter((column): column is CsvColumn => column !== undefined));
    return columns;
  };

  const readRow = (record: CsvRecord): ParsedLineItem | undefined => {
    const columns = header!;
    const before = log.total;
    const fieldOfIndex = (index: number) => columns[index] ?? `column ${index + 1}`;
    for (const problem of record.problems)
      log.add(
        record.row,
        problem.column === undefined ? undefined : fieldOfIndex(problem.column),
        problem.message,
        record.line,
      );
    if (record.tooLong) return undefined;
    if (record.fields.length !== columns.length) {
      log.add(
        record.row,
        undefined,
        `has ${record.fields.length} value(s) but the header has ${columns.length} column(s): check for a missing or extra comma, or a value with a comma that is not in double quotes`,
        record.line,
      );
      return undefined;
    }
    const cells: Partial<Record<CsvColumn, string>> = {};
    record.fields.forEach((value, index) => {
      const column = columns[index];
      if (column === undefined) return;
      if (value.includes(REPLACEMENT_CHARACTER)) log.add(record.row, column, ENCODING_HINT, record.line);
      // The formula guard the product's own CSV files carry (failures --csv) is not part of the value.
      cells[column] = unguardCsvText(value);
    });
    if (log.total > before) return undefined;
    const { value, problems } = lineItemFromCsvCells(cells);
    const reported = new Set<string>();
    const report = (problem: FieldProblem) => {
      const field = csvFieldOf(problem.field);
      if (reported.has(field)) return;
      reported.add(field);
      const column = (CSV_COLUMNS as readonly string[]).includes(field) ? (field as CsvColumn) : undefined;
      const missingColumn =
        column !== undefined && !present.has(column) ? ` (the file has no "${column}" column: add it)` : '';
      log.add(record.row, field, problem.message + missingColumn, record.line);
    };
    problems.forEach(report);
    const check = validator.check(value, record.row);
    if (!check.ok) check.problems.forEach(report);
    if (log.total > before || !check.ok) return undefined;
    return { row: record.row, item: check.item };
  };

  const handle = (record: CsvRecord): ParsedLineItem | undefined => {
    if (header === undefined) {
      if (record.blank) return undefined;
      if (record.row !== 1) {
        log.add(
          record.row,
          undefined,
          'the header must be on the first line: remove the blank lines above it',
          record.line,
        );
        log.fail();
      }
      header = readHeader(record);
      return undefined;
    }
    if (record.blank) return undefined;
    return readRow(record);
  };

  for await (const chunk of text) {
    if (!sawAnything && chunk.trim() !== '') sawAnything = true;
    for (const record of parser.push(chunk)) {
      const parsed = handle(record);
      if (parsed) yield parsed;
    }
  }
  const { records, unterminatedQuoteLine, row } = parser.end();
  for (const record of records) {
    const parsed = handle(record);
    if (parsed) yield parsed;
  }
  if (unterminatedQuoteLine !== undefined) {
    log.add(
      row,
      undefined,
      `a quoted value that starts on line ${unterminatedQuoteLine} is never closed: add the closing double quote`,
      unterminatedQuoteLine,
    );
    log.fail();
  }
  if (!sawAnything) {
    log.add(
      1,
      undefined,
      `the file is empty: expected a header row (${REQUIRED_CSV_COLUMNS.join(',')},...) and one row per line item`,
    );
    log.fail();
  }
  if (header !== undefined && validator.distinctIds === 0 && log.total === 0)
    log.add(2, undefined, 'the file has a header but no line items: add one row per reward');
}

// ---------------------------------------------------------------------------------------------
// JSON: an array of POST /asyncOrders line items, split into items without holding the whole text
// ---------------------------------------------------------------------------------------------

const enum JsonPhase {
  BeforeArray,
  ExpectFirst,
  ExpectNext,
  InItem,
  AfterArray,
}

function isJsonWhitespace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function findReplacement(value: unknown, pathSoFar: string): string | undefined {
  if (typeof value === 'string')
    return value.includes(REPLACEMENT_CHARACTER) ? pathSoFar || '(value)' : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = findReplacement(value[i], `${pathSoFar}[${i}]`);
      if (found) return found;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      const found = findReplacement(inner, pathSoFar ? `${pathSoFar}.${key}` : key);
      if (found) return found;
    }
  }
  return undefined;
}

async function* parseJson(text: AsyncIterable<string>, log: ProblemLog): AsyncIterable<ParsedLineItem> {
  let phase = JsonPhase.BeforeArray as JsonPhase;
  let line = 1;
  let carry = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let itemNumber = 0;
  let itemLine = 1;
  const validator = new LineItemValidator('item');

  const finishItem = (itemText: string): ParsedLineItem | undefined => {
    itemNumber += 1;
    if (itemText.length > MAX_JSON_ITEM_CHARS) tooLong(itemNumber);
    const before = log.total;
    let value: unknown;
    try {
      value = JSON.parse(itemText);
    } catch (error) {
      log.add(
        itemNumber,
        undefined,
        // V8 quotes a piece of the text in its message: only the excerpt of it is kept.
        `not valid JSON: ${excerptOfJsonError((error as Error).message)}`,
        itemLine,
      );
      log.fail();
    }
    const garbled = findReplacement(value, '');
    if (garbled) {
      log.add(itemNumber, garbled, ENCODING_HINT, itemLine);
      return undefined;
    }
    const check = validator.check(value, itemNumber);
    if (!check.ok)
      for (const problem of check.problems) log.add(itemNumber, problem.field, problem.message, itemLine);
    if (!check.ok || log.total > before) return undefined;
    return { row: itemNumber, item: check.item };
  };

  const structural = (message: string): never => {
    log.add(itemNumber + 1, undefined, message, line);
    return log.fail();
  };
  const tooLong = (item: number): never => {
    log.add(
      item,
      undefined,
      `the item is longer than ${MAX_JSON_ITEM_CHARS} characters, the most the reader takes per item`,
      itemLine,
    );
    return log.fail();
  };

  for await (const chunk of text) {
    let itemStart = 0;
    const out: ParsedLineItem[] = [];
    for (let i = 0; i < chunk.length; i += 1) {
      const c = chunk.charCodeAt(i);
      switch (phase) {
        case JsonPhase.BeforeArray:
          if (isJsonWhitespace(c)) break;
          if (c === 91) phase = JsonPhase.ExpectFirst;
          else if (c === 123)
            structural(
              'expected a JSON array of line items ([{...}, {...}]) but the file holds one object; if it is a whole POST /asyncOrders body, save its "lineItems" array instead',
            );
          else
            structural(
              `expected a JSON array of line items, but the file starts with ${quotedExcerpt(chunk[i]!)}`,
            );
          break;
        case JsonPhase.ExpectFirst:
        case JsonPhase.ExpectNext:
          if (isJsonWhitespace(c)) break;
          if (c === 93) {
            if (phase === JsonPhase.ExpectNext) structural('a comma before the closing "]": remove it');
            phase = JsonPhase.AfterArray;
            break;
          }
          if (c === 44) structural('an empty entry (two commas in a row): remove one');
          phase = JsonPhase.InItem;
          itemStart = i;
          itemLine = line;
          carry = '';
          depth = 0;
          inString = false;
          escaped = false;
          i -= 1; // read the item's first character in the InItem phase
          continue;
        case JsonPhase.InItem:
          if (inString) {
            if (escaped) escaped = false;
            else if (c === 92) escaped = true;
            else if (c === 34) inString = false;
            break;
          }
          if (c === 34) inString = true;
          else if (c === 123 || c === 91) depth += 1;
          else if (c === 125 || (c === 93 && depth > 0)) depth -= 1;
          else if ((c === 44 || c === 93) && depth === 0) {
            const parsed = finishItem(carry + chunk.slice(itemStart, i));
            carry = '';
            if (parsed) out.push(parsed);
            phase = c === 44 ? JsonPhase.ExpectNext : JsonPhase.AfterArray;
          }
          break;
        case JsonPhase.AfterArray:
          if (!isJsonWhitespace(c)) structural('text after the closing "]" of the array: remove it');
          break;
      }
      if (c === 10) line += 1;
    }
    if (phase === JsonPhase.InItem) {
      carry += chunk.slice(itemStart);
      if (carry.length > MAX_JSON_ITEM_CHARS) tooLong(itemNumber + 1);
    }
    yield* out;
  }
  if (phase === JsonPhase.BeforeArray) {
    log.add(1, undefined, 'the file is empty: expected a JSON array of line items ([{...}, {...}])');
    log.fail();
  }
  if (phase !== JsonPhase.AfterArray)
    structural('the file ends before the array is closed with "]": is it truncated?');
  if (itemNumber === 0) log.add(1, undefined, 'the array has no line items: add at least one');
}

/**
 * Parses a stream of bytes (or text) into validated line items, yielding each valid one as soon as it
 * is read, so that a caller can stream them into the store. All problems are collected; when the
 * input ends (or cannot be read further), InputFileError is thrown with them, so a store write fed by
 * this iterator is abandoned and nothing is staged from a bad file.
 */
export async function* parseLineItems(
  source: AsyncIterable<Uint8Array | string>,
  options: ParseLineItemsOptions,
): AsyncIterable<ParsedLineItem> {
  const log = new ProblemLog(
    options.name,
    options.format === 'csv' ? 'row' : 'item',
    options.maxProblems ?? 100,
  );
  const text = decode(source, log);
  yield* options.format === 'csv' ? parseCsv(text, log) : parseJson(text, log);
  if (log.total > 0) log.fail();
}

export interface ReadLineItemsFileOptions {
  /** Default: from the extension (.json is JSON, anything else CSV). */
  format?: InputFormat;
  maxProblems?: number;
}

async function* readBytes(file: string): AsyncIterable<Buffer> {
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'a directory, not a file'
          : (error as Error).message;
    throw new InputFileError(file, [
      { file, row: 1, unit: 'row', message: `cannot read the input file: ${reason}` },
    ]);
  } finally {
    stream.destroy();
  }
}

/** Streams the validated line items of a CSV or JSON file (see parseLineItems). */
export function readLineItemsFile(
  file: string,
  options: ReadLineItemsFileOptions = {},
): AsyncIterable<ParsedLineItem> {
  const format = options.format ?? formatOfFile(file);
  const parseOptions: ParseLineItemsOptions = { name: file, format };
  if (options.maxProblems !== undefined) parseOptions.maxProblems = options.maxProblems;
  return parseLineItems(readBytes(file), parseOptions);
}

export interface InputValidation {
  file: string;
  format: InputFormat;
  /** Valid line items read. */
  items: number;
  /** Total amount of the valid line items. */
  totalAmount: number;
  ok: boolean;
  problems: InputProblem[];
  totalProblems: number;
}

/** Checks a whole file without staging anything (the CLI's `validate`, dry runs). */
export async function validateLineItemsFile(
  file: string,
  options: ReadLineItemsFileOptions = {},
): Promise<InputValidation> {
  const format = options.format ?? formatOfFile(file);
  let items = 0;
  let totalAmount = 0;
  try {
    for await (const { item } of readLineItemsFile(file, { ...options, format })) {
      items += 1;
      totalAmount += item.amount;
    }
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    return {
      file,
      format,
      items,
      totalAmount,
      ok: false,
      problems: error.problems,
      totalProblems: error.totalProblems,
    };
  }
  return { file, format, items, totalAmount, ok: true, problems: [], totalProblems: 0 };
}

export { jsonPathOfColumn };
