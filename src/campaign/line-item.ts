// A campaign's input line item: exactly one POST /asyncOrders line item (Tango's own schema), the flat
// CSV form of it, and checks that explain each problem by field in words an operator can act on.
// Pure and sandbox-safe: update validators in workflows use the same checks as the file reader.
import { type z } from 'zod';
import {
  type LineItemRequest,
  addressSchema,
  lineItemRequestSchema,
  recipientSchema,
} from '../tango/schemas.ts';

/** The input schema is Tango's: what passes here is what Tango accepts, limits included. */
export const campaignLineItemSchema = lineItemRequestSchema;
export type CampaignLineItem = LineItemRequest;

/** CSV header names: Tango's own field names, flattened (recipient and address fields at top level). */
export const CSV_COLUMNS = [
  'externalRefLineItemID',
  'firstName',
  'lastName',
  'email',
  'mobileNumber',
  'companyName',
  'streetLine1',
  'streetLine2',
  'city',
  'stateOrProvince',
  'postalCode',
  'country',
  'utid',
  'amount',
  'deliveryMethod',
  'deliveryDate',
  'etid',
  'ptid',
  'expirationDate',
  'emailSubject',
  'message',
  'lineItemNote',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Columns every CSV file needs; the others are needed only by some rows (checked per row). */
export const REQUIRED_CSV_COLUMNS: readonly CsvColumn[] = [
  'externalRefLineItemID',
  'utid',
  'amount',
  'deliveryMethod',
];

const RECIPIENT_FIELDS = ['firstName', 'lastName', 'email', 'mobileNumber'] as const;
const ADDRESS_FIELDS = Object.keys(addressSchema.shape) as (keyof z.infer<typeof addressSchema>)[];
const LINE_ITEM_FIELDS = Object.keys(lineItemRequestSchema.shape);
const RECIPIENT_KEYS = Object.keys(recipientSchema.shape);

/** One problem with one field of one line item. `field` is the JSON path ("recipient.address.city"). */
export interface FieldProblem {
  field: string;
  message: string;
}

export type LineItemCheck = { ok: true; item: LineItemRequest } | { ok: false; problems: FieldProblem[] };

/** The CSV column that holds a JSON path's value ("recipient.address.city" -> "city"). */
export function csvColumnOf(field: string): CsvColumn | undefined {
  const last = field.split('.').at(-1) ?? field;
  return (CSV_COLUMNS as readonly string[]).includes(last) ? (last as CsvColumn) : undefined;
}

/** Where a field sits in a line item ("city" -> "recipient.address.city"). */
export function jsonPathOfColumn(column: CsvColumn): string {
  if ((RECIPIENT_FIELDS as readonly string[]).includes(column)) return `recipient.${column}`;
  if ((ADDRESS_FIELDS as readonly string[]).includes(column)) return `recipient.address.${column}`;
  return column;
}

const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * Builds the nested line item from one CSV row's cells. Empty cells are absent fields; the address
 * exists when any address column has a value. `amount` must be a plain decimal number.
 */
export function lineItemFromCsvCells(cells: Partial<Record<CsvColumn, string>>): {
  value: Record<string, unknown>;
  problems: FieldProblem[];
} {
  const problems: FieldProblem[] = [];
  const value: Record<string, unknown> = {};
  const recipient: Record<string, unknown> = {};
  const address: Record<string, unknown> = {};
  for (const column of CSV_COLUMNS) {
    const cell = cells[column];
    if (cell === undefined || cell === '') continue;
    if ((RECIPIENT_FIELDS as readonly string[]).includes(column)) recipient[column] = cell;
    else if ((ADDRESS_FIELDS as readonly string[]).includes(column)) address[column] = cell;
    else if (column === 'amount') {
      const trimmed = cell.trim();
      if (DECIMAL.test(trimmed)) value.amount = Number(trimmed);
      else
        problems.push({
          field: 'amount',
          message: `amount ${quotedExcerpt(cell)} is not a number: write digits with a dot for decimals (25 or 12.50), no currency sign or thousands separator`,
        });
    } else value[column] = cell;
  }
  if (Object.keys(address).length > 0) recipient.address = address;
  if (Object.keys(recipient).length > 0) value.recipient = recipient;
  return { value, problems };
}

/** The flat CSV cells of a line item (for exporting failures ready to edit and re-import). */
export function lineItemToCsvCells(item: LineItemRequest): Record<CsvColumn, string> {
  const cells = Object.fromEntries(CSV_COLUMNS.map((column) => [column, ''])) as Record<CsvColumn, string>;
  for (const column of CSV_COLUMNS) {
    const path = jsonPathOfColumn(column).split('.');
    let current: unknown = item;
    for (const key of path) current = (current as Record<string, unknown> | undefined)?.[key];
    if (current !== undefined && current !== null) cells[column] = String(current);
  }
  return cells;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** At most this many characters of any input value appear in a message (or a field name). */
export const MAX_EXCERPT_CHARS = 40;

// Control and format characters (NUL, newlines, escape sequences, bidi overrides) never reach a message.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * A short, printable excerpt of input text for messages: control and format characters replaced by
 * "?", at most MAX_EXCERPT_CHARS characters ("..." when cut). Messages and failure details end up in
 * logs, Temporal history and terminals: they never carry more of a file than this.
 */
export function excerpt(text: string): string {
  const cut = text.length > MAX_EXCERPT_CHARS ? [...text.slice(0, MAX_EXCERPT_CHARS * 2)] : [...text];
  const shown = cut.slice(0, MAX_EXCERPT_CHARS).join('').replace(UNPRINTABLE, '?');
  return cut.length > MAX_EXCERPT_CHARS || text.length > MAX_EXCERPT_CHARS * 2 ? `${shown}...` : shown;
}

/** The excerpt in double quotes (JSON string form), as messages quote values. */
export function quotedExcerpt(text: string): string {
  return JSON.stringify(excerpt(text));
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the text ${quotedExcerpt(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** An operator-readable sentence for one zod issue, with the offending value where it helps. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): FieldProblem {
  const field = issue.path.map(String).join('.') || '(line item)';
  const value = valueAt(input, issue.path);
  // One wording for every absent field (an empty CSV cell is an absent field); rules that need a
  // field only for some items say so in their own message.
  if (value === undefined && issue.code !== 'custom') return { field, message: `${field} is missing` };
  switch (issue.code) {
    case 'invalid_type':
      return {
        field,
        message: `${field} must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}, not ${describeValue(value)}`,
      };
    case 'too_big':
      return {
        field,
        message:
          typeof value === 'string'
            ? `${field} is ${value.length} characters long; Tango allows at most ${String(issue.maximum)}`
            : `${field} must be at most ${String(issue.maximum)}`,
      };
    case 'too_small':
      return {
        field,
        message:
          issue.origin === 'number'
            ? `${field} must be greater than ${String(issue.minimum)}, got ${String(value)}`
            : `${field} must have at least ${String(issue.minimum)} character(s)`,
      };
    case 'invalid_value':
      return {
        field,
        message: `${field} ${typeof value === 'string' ? quotedExcerpt(value) : describeValue(value)} is not one of ${issue.values.map(String).join(', ')} (exact spelling, upper case)`,
      };
    default:
      return { field, message: issue.message };
  }
}

function unknownKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  prefix: string,
): FieldProblem[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((rawKey) => {
      const near = allowed.find((candidate) => candidate.toLowerCase() === rawKey.toLowerCase());
      const key = excerpt(rawKey);
      return {
        field: `${prefix}${key}`,
        message:
          `${prefix}${key} is not a line-item field` +
          (near ? `; did you mean ${prefix}${near}?` : `; allowed here: ${allowed.join(', ')}`),
      };
    });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Fields Tango does not know, at every level (line item, recipient, address). Tango's schema would
 * silently drop them, and a misspelt "emial" must not become a reward without an email.
 */
export function unknownFieldProblems(value: Record<string, unknown>): FieldProblem[] {
  const problems = unknownKeys(value, LINE_ITEM_FIELDS, '');
  if (isPlainObject(value.recipient)) {
    problems.push(...unknownKeys(value.recipient, RECIPIENT_KEYS, 'recipient.'));
    if (isPlainObject(value.recipient.address))
      problems.push(...unknownKeys(value.recipient.address, ADDRESS_FIELDS, 'recipient.address.'));
  }
  return problems;
}

/**
 * Our limit on externalRefLineItemID: Tango takes 150 characters in a POST but looks line items up
 * by ids of at most 100, and an item we could not look up could never be settled by its record.
 */
export const MAX_LINE_ITEM_ID_LENGTH = 100;

/** What the product needs of an id beyond Tango's POST rules: short enough to look up, matched exactly. */
function idProblems(value: Record<string, unknown>): FieldProblem[] {
  const id = value.externalRefLineItemID;
  if (typeof id !== 'string' || id.trim() === '') return [];
  const problems: FieldProblem[] = [];
  if (id !== id.trim())
    problems.push({
      field: 'externalRefLineItemID',
      message: `externalRefLineItemID ${quotedExcerpt(id)} starts or ends with spaces: remove them (ids are matched exactly against Tango's records)`,
    });
  if (id.length > MAX_LINE_ITEM_ID_LENGTH)
    problems.push({
      field: 'externalRefLineItemID',
      message: `externalRefLineItemID is ${id.length} characters long; at most ${MAX_LINE_ITEM_ID_LENGTH} (Tango looks line items up by ids of at most ${MAX_LINE_ITEM_ID_LENGTH} characters)`,
    });
  return problems;
}

/**
 * Our maximum length per text field where Tango documents none (Tango's own limits, such as 1024 for
 * `message` and 150 for `lineItemNote`, are in its schema). Long enough for any real value, short
 * enough that one item cannot carry megabytes into the store, Tango or an error message.
 */
export const FIELD_LIMITS: Readonly<Record<string, number>> = {
  'recipient.firstName': 100,
  'recipient.lastName': 100,
  'recipient.email': 320,
  'recipient.mobileNumber': 30,
  'recipient.address.companyName': 200,
  'recipient.address.streetLine1': 200,
  'recipient.address.streetLine2': 200,
  'recipient.address.city': 100,
  'recipient.address.stateOrProvince': 100,
  'recipient.address.postalCode': 20,
  'recipient.address.country': 60,
  utid: 100,
  etid: 100,
  ptid: 100,
  emailSubject: 200,
  deliveryDate: 40,
  expirationDate: 40,
};

// Deliberately plain: one "@", no spaces, a dot in the domain. Tango refuses malformed addresses one
// item at a time; this catches what is obviously not an address before anything is sent. Surrounding
// spaces are left to the trim fix (Tango reports them, the automatic fix removes them).
const EMAIL_FORMAT = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
// An optional "+", then digits with the usual separators (spaces, dashes, dots, parentheses), 7-15 digits.
const MOBILE_FORMAT = /^\+?[\d\s().-]+$/;

/** A problem when `value` is text that is plainly not an email address (Tango would refuse it). */
export function emailFormatProblem(field: string, value: unknown): FieldProblem | undefined {
  if (typeof value !== 'string' || value.trim() === '' || EMAIL_FORMAT.test(value.trim())) return undefined;
  return { field, message: `${field} ${describeValue(value)} is not an email address (name@example.com)` };
}

function formatProblems(value: Record<string, unknown>): FieldProblem[] {
  const recipient = isPlainObject(value.recipient) ? value.recipient : undefined;
  const problems: FieldProblem[] = [];
  const email = emailFormatProblem('recipient.email', recipient?.email);
  if (email) problems.push(email);
  const mobile = recipient?.mobileNumber;
  if (typeof mobile === 'string' && mobile.trim() !== '') {
    const digits = mobile.replace(/\D/g, '').length;
    if (!MOBILE_FORMAT.test(mobile.trim()) || digits < 7 || digits > 15)
      problems.push({
        field: 'recipient.mobileNumber',
        message: `recipient.mobileNumber ${describeValue(mobile)} is not a phone number: digits (7-15, country code first, e.g. +15550102000), with optional spaces, dashes or parentheses`,
      });
  }
  return problems;
}

function lengthProblems(value: Record<string, unknown>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [field, limit] of Object.entries(FIELD_LIMITS)) {
    const text = valueAt(value, field.split('.'));
    if (typeof text === 'string' && text.length > limit)
      problems.push({
        field,
        message: `${field} is ${text.length} characters long; at most ${limit} (tango-campaigns' limit)`,
      });
  }
  return problems;
}

/**
 * Checks one line item against Tango's schema, our field limits and the email and phone formats, and
 * rejects fields Tango does not know.
 */
export function checkLineItem(value: unknown): LineItemCheck {
  if (!isPlainObject(value))
    return {
      ok: false,
      problems: [
        { field: '(line item)', message: `a line item must be an object, not ${describeValue(value)}` },
      ],
    };
  const problems = [...unknownFieldProblems(value), ...idProblems(value)];
  const limited = lengthProblems(value);
  const formats = formatProblems(value).filter(
    (problem) => !limited.some((other) => other.field === problem.field),
  );
  problems.push(...limited, ...formats);
  const ours = new Set(problems.map((problem) => problem.field));
  const parsed = lineItemRequestSchema.safeParse(value);
  if (!parsed.success)
    problems.push(
      ...parsed.error.issues
        .filter((issue) => !(issue.path.join('.') === 'externalRefLineItemID' && issue.code === 'too_big'))
        .map((issue) => describeIssue(issue, value))
        .filter((problem) => !ours.has(problem.field) || problem.field === 'externalRefLineItemID'),
    );
  return problems.length > 0 ? { ok: false, problems } : { ok: true, item: parsed.data! };
}

/**
 * The one validator of a campaign's line items, for the client, staging and the input-file readers:
 * each item against checkLineItem, and its externalRefLineItemID against every item before it.
 * `unit` is how the caller counts positions in its messages: rows of a CSV file, or items.
 */
export class LineItemValidator {
  private readonly firstAt = new Map<string, number>();

  constructor(private readonly unit: 'row' | 'item' = 'item') {}

  /** How many distinct ids the items checked so far carried. */
  get distinctIds(): number {
    return this.firstAt.size;
  }

  /** Checks the item at `position` (the row or item number the caller names in its messages). */
  check(value: unknown, position: number): LineItemCheck {
    const checked = checkLineItem(value);
    const id = isPlainObject(value) ? value.externalRefLineItemID : undefined;
    if (typeof id !== 'string' || id === '') return checked;
    const first = this.firstAt.get(id);
    if (first === undefined) {
      // A copy: a slice of a large input chunk would keep the whole chunk alive for the whole file.
      this.firstAt.set((' ' + id).slice(1), position);
      return checked;
    }
    const where = this.unit === 'row' ? `on row ${first}` : `by item ${first}`;
    const duplicate: FieldProblem = {
      field: 'externalRefLineItemID',
      message: `${quotedExcerpt(id)} is already used ${where}: every line item needs its own externalRefLineItemID`,
    };
    return { ok: false, problems: [...(checked.ok ? [] : checked.problems), duplicate] };
  }
}
