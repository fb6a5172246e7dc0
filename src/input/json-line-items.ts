// Reads a JSON input file (an array of POST /asyncOrders line items) into validated line items on
// stream-json's tokenizer, streaming: one item is assembled at a time, bounded by MAX_JSON_ITEM_CHARS.
// Structural problems are reported by item number and line with what to fix.
import Assembler from 'stream-json/core/assembler.js';
import { type Token, jsonParser } from 'stream-json/core/parser.js';
import { LineItemValidator, quotedExcerpt } from '../campaign/line-item.ts';
import { ENCODING_HINT, type ProblemLog, REPLACEMENT_CHARACTER } from './problems.ts';
import type { ParsedLineItem } from './line-items-file.ts';

/** The reader's limit on one item: the characters of its keys, values and punctuation. */
export const MAX_JSON_ITEM_CHARS = 64 * 1024;

/** Text is fed to the tokenizer a line at a time (at most this long), so tokens know their line. */
const MAX_PIECE_CHARS = 16 * 1024;

const PARSER_OPTIONS = { packValues: true, streamValues: true };

/** Decodes the byte stream as UTF-8 text (BOM dropped; invalid bytes become U+FFFD, caught per field). */
async function* decode(source: AsyncIterable<Uint8Array | string>): AsyncIterable<string> {
  const decoder = new TextDecoder('utf-8');
  let first = true;
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const piece = first ? text.replace(/^\uFEFF/, '') : text;
    if (piece !== '') first = false;
    if (piece !== '') yield piece;
  }
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

/** The text in pieces that end at a line break (or MAX_PIECE_CHARS). */
async function* pieces(text: AsyncIterable<string>): AsyncIterable<string> {
  for await (const chunk of text) {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf('\n', start);
      const end = Math.min(newline === -1 ? chunk.length : newline + 1, start + MAX_PIECE_CHARS);
      yield chunk.slice(start, end);
      start = end;
    }
  }
}

function tokensOf(out: unknown): Token[] {
  return typeof out === 'object' && out !== null ? (out as { values: Token[] }).values : [];
}

/** How much of an item a token stands for: its text, or one character of punctuation. */
function weight(token: Token): number {
  switch (token.name) {
    case 'stringChunk':
    case 'numberChunk':
      return token.value.length;
    case 'keyValue':
    case 'stringValue':
    case 'numberValue':
      return 0; // the packed copy of the chunks already counted
    default:
      return 1;
  }
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

const STREAMED = new Set<Token['name']>([
  'startKey',
  'endKey',
  'startString',
  'endString',
  'stringChunk',
  'startNumber',
  'endNumber',
  'numberChunk',
]);

const isJsonWhitespace = (c: string) => c === ' ' || c === '\n' || c === '\r' || c === '\t';

interface ItemInProgress {
  line: number;
  chars: number;
  assembler: Assembler;
}

export async function* parseJson(
  source: AsyncIterable<Uint8Array | string>,
  log: ProblemLog,
): AsyncIterable<ParsedLineItem> {
  // The tokenizer throws away the tokens of a piece it fails on; its twin, fed only pieces that
  // passed, replays the failing one character by character to find where and in what the error is.
  const tokenizer = jsonParser(PARSER_OPTIONS);
  const twin = jsonParser(PARSER_OPTIONS);
  let phase: 'before' | 'array' | 'closed' = 'before';
  let line = 1;
  let itemNumber = 0;
  let item: ItemInProgress | undefined;
  const validator = new LineItemValidator('item');

  const structural = (message: string, at: number = line): never => {
    log.add(itemNumber + 1, undefined, message, at);
    return log.fail();
  };

  const finishItem = (value: unknown, itemLine: number): ParsedLineItem | undefined => {
    itemNumber += 1;
    const before = log.total;
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

  const take = (token: Token, tokenLine: number): ParsedLineItem | undefined => {
    if (phase === 'before') {
      phase = 'array'; // the first character was checked to be "["
      return undefined;
    }
    if (item === undefined) {
      if (token.name === 'endArray') {
        phase = 'closed';
        return undefined;
      }
      item = { line: tokenLine, chars: 0, assembler: new Assembler() };
    }
    item.chars += weight(token);
    if (item.chars > MAX_JSON_ITEM_CHARS) {
      log.add(
        itemNumber + 1,
        undefined,
        `the item is longer than ${MAX_JSON_ITEM_CHARS} characters, the most the reader takes per item`,
        item.line,
      );
      log.fail();
    }
    if (STREAMED.has(token.name)) return undefined; // the assembler reads the packed copies
    item.assembler.consume(token);
    if (!item.assembler.done) return undefined;
    const { line: itemLine } = item;
    const value: unknown = item.assembler.current;
    item = undefined;
    return finishItem(value, itemLine);
  };

  /** Replays a piece the tokenizer refused on its twin, to report the error where it is. */
  const locate = (piece: string, error: unknown, out: ParsedLineItem[]): never => {
    let at = line;
    for (let i = 0; i < piece.length; i += 1) {
      const c = piece[i]!;
      let tokens: Token[];
      try {
        tokens = tokensOf(twin(c));
      } catch (twinError) {
        const reason = (twinError as Error).message.replace(/^Parser cannot parse input: /, '');
        if (phase === 'closed') structural('text after the closing "]" of the array: remove it', at);
        if (item === undefined && /unexpected token '\]'/.test(reason))
          structural('a comma before the closing "]": remove it', at);
        if (item === undefined && c === ',')
          structural('an empty entry (two commas in a row): remove one', at);
        log.add(
          itemNumber + 1,
          undefined,
          `not valid JSON: ${reason} at ${quotedExcerpt(c)}`,
          item?.line ?? at,
        );
        return log.fail();
      }
      for (const token of tokens) {
        const parsed = take(token, at);
        if (parsed) out.push(parsed);
      }
      if (c === '\n') at += 1;
    }
    return structural(`not valid JSON: ${(error as Error).message}`);
  };

  for await (const piece of pieces(decode(source))) {
    if (phase === 'before') {
      const first = [...piece].find((c) => !isJsonWhitespace(c));
      if (first === '{')
        structural(
          'expected a JSON array of line items ([{...}, {...}]) but the file holds one object; if it is a whole POST /asyncOrders body, save its "lineItems" array instead',
        );
      else if (first !== undefined && first !== '[')
        structural(`expected a JSON array of line items, but the file starts with ${quotedExcerpt(first)}`);
    }
    const out: ParsedLineItem[] = [];
    let tokens: Token[] | undefined;
    try {
      tokens = tokensOf(tokenizer(piece));
    } catch (error) {
      locate(piece, error, out);
    }
    twin(piece);
    for (const token of tokens ?? []) {
      const parsed = take(token, line);
      if (parsed) out.push(parsed);
    }
    if (piece.endsWith('\n')) line += 1;
    yield* out;
  }
  if (phase === 'before') {
    log.add(1, undefined, 'the file is empty: expected a JSON array of line items ([{...}, {...}])');
    log.fail();
  }
  if (phase !== 'closed') structural('the file ends before the array is closed with "]": is it truncated?');
  if (itemNumber === 0) log.add(1, undefined, 'the array has no line items: add at least one');
}
