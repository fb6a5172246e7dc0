// JSON and JSON Lines on top of any CampaignStore: whole documents for small objects, rows streamed
// one line at a time for item lists that may hold a million entries.
import { type z } from 'zod';
import { type CampaignStore, StoreError } from './store.ts';

export class StoreDataError extends StoreError {
  override readonly name = 'StoreDataError';
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function serialize(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new StoreDataError(`${what} is not JSON-serializable (got ${typeof value})`);
  return text;
}

export async function putJson(store: CampaignStore, key: string, value: unknown): Promise<void> {
  await store.put(key, serialize(value, `The value for "${key}"`));
}

/** Reads a JSON object; with a schema, the result is validated and typed (an invalid object names the key). */
export async function getJson(store: CampaignStore, key: string): Promise<unknown>;
export async function getJson<S extends z.ZodType>(
  store: CampaignStore,
  key: string,
  schema: S,
): Promise<z.output<S>>;
export async function getJson(store: CampaignStore, key: string, schema?: z.ZodType): Promise<unknown> {
  const bytes = await store.get(key);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new StoreDataError(`"${key}" in ${store.location} is not valid JSON: ${(error as Error).message}`);
  }
  if (!schema) return value;
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new StoreDataError(
      `"${key}" in ${store.location} does not have the expected shape: ${describeIssues(parsed.error)}`,
    );
  return parsed.data;
}

async function* jsonLines<T>(rows: Iterable<T> | AsyncIterable<T>, key: string, counter: { rows: number }) {
  // Lines are gathered into ~64 KiB strings: yielding one tiny string per row costs more than the rows.
  let buffer = '';
  for await (const row of rows) {
    counter.rows += 1;
    buffer += serialize(row, `Row ${counter.rows} for "${key}"`) + '\n';
    if (buffer.length >= 64 * 1024) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

/** Streams rows into one JSON Lines object (one JSON value per line); resolves to the number of rows. */
export async function putJsonLines<T>(
  store: CampaignStore,
  key: string,
  rows: Iterable<T> | AsyncIterable<T>,
): Promise<number> {
  const counter = { rows: 0 };
  await store.put(key, jsonLines(rows, key, counter));
  return counter.rows;
}

/**
 * Streams the rows of a JSON Lines object back, one parsed value at a time; with a schema each row is
 * validated and an invalid one is reported with its key and line number.
 */
export function readJsonLines(store: CampaignStore, key: string): AsyncIterable<unknown>;
export function readJsonLines<S extends z.ZodType>(
  store: CampaignStore,
  key: string,
  schema: S,
): AsyncIterable<z.output<S>>;
export async function* readJsonLines(
  store: CampaignStore,
  key: string,
  schema?: z.ZodType,
): AsyncIterable<unknown> {
  // Stream mode keeps a multi-byte character split across two chunks intact.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let carry = '';
  let lineNumber = 0;
  const parseLine = (line: string): unknown => {
    lineNumber += 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new StoreDataError(
        `"${key}" in ${store.location}, line ${lineNumber}: not valid JSON (${(error as Error).message})`,
      );
    }
    if (!schema) return value;
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new StoreDataError(
        `"${key}" in ${store.location}, line ${lineNumber}: unexpected shape: ${describeIssues(parsed.error)}`,
      );
    return parsed.data;
  };
  for await (const chunk of store.stream(key)) {
    carry += decoder.decode(chunk, { stream: true });
    let start = 0;
    let newline = carry.indexOf('\n', start);
    while (newline !== -1) {
      const line = carry.slice(start, newline);
      if (line.trim() !== '') yield parseLine(line);
      else lineNumber += 1;
      start = newline + 1;
      newline = carry.indexOf('\n', start);
    }
    carry = carry.slice(start);
  }
  carry += decoder.decode();
  if (carry.trim() !== '') yield parseLine(carry);
}
