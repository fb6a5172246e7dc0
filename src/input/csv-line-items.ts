// Reads a CSV input file (RFC 4180, Tango's field names as header, CR / LF / CRLF line ends) into
// validated line items on csv-parse, streaming: one row is held at a time, and the reader's limits bound
// the row it is building. Every problem is reported by row (header = 1), starting line and column.
import { Readable } from 'node:stream';
import { CsvError, type Options, parse } from 'csv-parse';
import { unguardCsvText } from '../campaign/csv-guard.ts';
import {
  CSV_COLUMNS,
  type CsvColumn,
  type FieldProblem,
  LineItemValidator,
  REQUIRED_CSV_COLUMNS,
  csvColumnOf,
  excerpt,
  lineItemFromCsvCells,
  quotedExcerpt,
} from '../campaign/line-item.ts';
import { ENCODING_HINT, type ProblemLog, REPLACEMENT_CHARACTER } from './problems.ts';
import type { ParsedLineItem } from './line-items-file.ts';

/** The reader's limits: no value or row of a real input file comes near them. */
export const MAX_CSV_CELL_CHARS = 4096;
export const MAX_CSV_ROW_CHARS = 32 * 1024;
/**
 * csv-parse bounds a row in bytes: four bytes per character (the most UTF-8 takes) lets a row of
 * MAX_CSV_ROW_CHARS characters through in any script; the character limit is then checked per row.
 */
const MAX_CSV_ROW_BYTES = 4 * MAX_CSV_ROW_CHARS;

const ADDRESS_HINT = 'streetLine1, city, stateOrProvince, postalCode, country';
const LINE_BREAK = /\r\n|\r|\n/g;

interface CsvRecord {
  fields: string[];
  /** The record number, header = 1 (blank lines count). */
  row: number;
  /** The physical line the record starts on. */
  line: number;
  blank: boolean;
}

function csvFieldOf(problemField: string): string {
  if (problemField === 'recipient.address') return ADDRESS_HINT;
  return csvColumnOf(problemField) ?? problemField;
}

/** What a quoting error of csv-parse means, in the words of the fix. */
function quotingMessage(error: CsvError, startLine: number): string | undefined {
  switch (error.code) {
    case 'INVALID_OPENING_QUOTE':
      return 'a double quote inside an unquoted value: put the whole value in double quotes and write each inner quote twice ("say ""hi""")';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'text after the closing double quote of a quoted value: quote the whole value and write each inner quote twice';
    case 'CSV_QUOTE_NOT_CLOSED':
      return `a quoted value that starts on line ${startLine} is never closed: add the closing double quote`;
    case 'CSV_MAX_RECORD_SIZE':
      return `the row is longer than ${MAX_CSV_ROW_CHARS} characters, the most the reader takes per row: is a closing double quote missing?`;
    default:
      return undefined;
  }
}

/**
 * The file's records with their row and starting line. A quoting error or an over-long row ends the
 * reading there: where a quote is wrong, the boundaries of every later value are guesswork.
 */
async function* csvRecords(
  source: AsyncIterable<Uint8Array | string>,
  log: ProblemLog,
): AsyncIterable<CsvRecord> {
  // Rows and lines are counted as csv-parse reads (it reads ahead of what is consumed here), so a
  // quoting error can name the row and line it is on.
  let row = 1;
  let line = 1;
  let header: string[] | undefined;
  const columnName = (index: number) => {
    const name = header?.[index]?.trim() ?? '';
    return (CSV_COLUMNS as readonly string[]).includes(name) ? name : `column ${index + 1}`;
  };
  const options: Options<CsvRecord, { record: string[]; raw: string }> = {
    bom: true,
    encoding: 'utf8',
    raw: true,
    relax_column_count: true,
    skip_empty_lines: false,
    record_delimiter: ['\r\n', '\n', '\r'],
    max_record_size: MAX_CSV_ROW_BYTES,
    // With `raw`, csv-parse hands each record over as { record, raw }.
    on_record: ({ record: fields, raw }) => {
      const record = { fields, row, line, blank: fields.length === 1 && raw.trim() === '' };
      if (header === undefined && !record.blank) header = fields;
      row += 1;
      line += raw.match(LINE_BREAK)?.length ?? 0;
      return record;
    },
  };
  // The overload without `columns` types records as string[]; `on_record` turns them into CsvRecord.
  const parser = parse(options as unknown as Options);
  const input = Readable.from(source);
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  try {
    for await (const record of parser as AsyncIterable<CsvRecord>) yield record;
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const message = quotingMessage(error, line);
    if (message === undefined) throw error;
    const inValue = error.code === 'INVALID_OPENING_QUOTE' || error.code === 'CSV_INVALID_CLOSING_QUOTE';
    const field = inValue && typeof error.column === 'number' ? error.column : undefined;
    log.add(row, field === undefined ? undefined : columnName(field), message, line);
    log.fail();
  } finally {
    input.destroy();
    parser.destroy();
  }
}

export async function* parseCsv(
  source: AsyncIterable<Uint8Array | string>,
  log: ProblemLog,
): AsyncIterable<ParsedLineItem> {
  let header: (CsvColumn | undefined)[] | undefined;
  let present = new Set<CsvColumn>();
  const validator = new LineItemValidator('row');

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
    if (log.total > 0) log.fail();
    present = new Set(columns.filter((column): column is CsvColumn => column !== undefined));
    return columns;
  };

  /** Problems with the row's size and encoding; true when the row can be read as a line item. */
  const checkCells = (record: CsvRecord, columns: (CsvColumn | undefined)[]): boolean => {
    const before = log.total;
    const chars = record.fields.reduce((sum, value) => sum + value.length + 1, -1);
    if (chars > MAX_CSV_ROW_CHARS) {
      log.add(
        record.row,
        undefined,
        `the row is longer than ${MAX_CSV_ROW_CHARS} characters, the most the reader takes per row: is a closing double quote missing?`,
        record.line,
      );
      return false;
    }
    if (record.fields.length !== columns.length) {
      log.add(
        record.row,
        undefined,
        `has ${record.fields.length} value(s) but the header has ${columns.length} column(s): check for a missing or extra comma, or a value with a comma that is not in double quotes`,
        record.line,
      );
      return false;
    }
    record.fields.forEach((value, index) => {
      const field = columns[index] ?? `column ${index + 1}`;
      if (value.length > MAX_CSV_CELL_CHARS)
        log.add(
          record.row,
          field,
          `the value is longer than ${MAX_CSV_CELL_CHARS} characters, the most the reader takes per value`,
          record.line,
        );
      else if (columns[index] !== undefined && value.includes(REPLACEMENT_CHARACTER))
        log.add(record.row, field, ENCODING_HINT, record.line);
    });
    return log.total === before;
  };

  const readRow = (record: CsvRecord, columns: (CsvColumn | undefined)[]): ParsedLineItem | undefined => {
    if (!checkCells(record, columns)) return undefined;
    const before = log.total;
    const cells: Partial<Record<CsvColumn, string>> = {};
    record.fields.forEach((value, index) => {
      const column = columns[index];
      // The formula guard the product's own CSV files carry (failures --csv) is not part of the value.
      if (column !== undefined) cells[column] = unguardCsvText(value);
    });
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

  for await (const record of csvRecords(source, log)) {
    if (record.blank) continue;
    if (header === undefined) {
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
      continue;
    }
    const parsed = readRow(record, header);
    if (parsed) yield parsed;
  }
  if (header === undefined) {
    log.add(
      1,
      undefined,
      `the file is empty: expected a header row (${REQUIRED_CSV_COLUMNS.join(',')},...) and one row per line item`,
    );
    log.fail();
  }
  if (validator.distinctIds === 0 && log.total === 0)
    log.add(2, undefined, 'the file has a header but no line items: add one row per reward');
}
