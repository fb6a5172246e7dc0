// Reads a campaign's input file (CSV with Tango's field names as header, or a JSON array of POST line
// items) as a stream of validated line items, and reports every problem by file, row and field with
// what to fix. Does file I/O: never imported by workflow code.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { LineItemRequest } from '../tango/schemas.ts';
import { parseCsv } from './csv-line-items.ts';
import { parseJson } from './json-line-items.ts';
import { InputFileError, type InputProblem, ProblemLog, UTF16_HINT, startsWithUtf16Bom } from './problems.ts';

export { InputFileError, type InputProblem, formatInputProblem } from './problems.ts';
export { MAX_CSV_CELL_CHARS, MAX_CSV_ROW_CHARS } from './csv-line-items.ts';
export { MAX_JSON_ITEM_CHARS } from './json-line-items.ts';

export type InputFormat = 'csv' | 'json';

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

/** Picks the format from a file name or URL path; anything but .json is read as CSV. */
export function formatOfFile(fileOrUrl: string): InputFormat {
  const withoutQuery = fileOrUrl.replace(/[?#].*$/, '');
  return path.extname(withoutQuery).toLowerCase() === '.json' ? 'json' : 'csv';
}

/** The source as it is, refused at once when it starts with a UTF-16 byte-order mark. */
async function* refuseUtf16(
  source: AsyncIterable<Uint8Array | string>,
  log: ProblemLog,
): AsyncIterable<Uint8Array | string> {
  let first = true;
  for await (const chunk of source) {
    if (first && startsWithUtf16Bom(chunk)) {
      log.add(1, undefined, UTF16_HINT);
      log.fail();
    }
    first = false;
    yield chunk;
  }
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
  const utf8 = refuseUtf16(source, log);
  yield* options.format === 'csv' ? parseCsv(utf8, log) : parseJson(utf8, log);
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
