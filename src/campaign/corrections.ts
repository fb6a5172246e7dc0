// Corrections of failed line items: the safe automatic fixes (a short documented list, each small and
// obviously harmless) and the merge of an operator's correction into the failed item. Both produce an
// item that passes the same schema as the input; the externalRefLineItemID never changes, because it
// ties the item to its earlier rounds (ARCHITECTURE invariant 1). Pure and sandbox-safe.
import { z } from 'zod';
import { type LineItemRequest } from '../tango/schemas.ts';
import { knownErrorCodes } from '../tango/error-codes.ts';
import { type ClassifiableError, errorCodesOf } from './classification.ts';
import { type FieldProblem, checkLineItem, isPlainObject, unknownFieldProblems } from './line-item.ts';

// ---------------------------------------------------------------------------------------------
// Automatic fixes
// ---------------------------------------------------------------------------------------------

/** The automatic fixes, in the order they are applied. Nothing else is ever changed automatically. */
export const SAFE_FIXES = [
  {
    name: 'trim-whitespace',
    description:
      'remove leading/trailing whitespace from recipient, address, utid, etid, ptid, emailSubject and lineItemNote (never the id or the gift message)',
  },
  {
    name: 'lower-case-email-domain',
    description: 'lower-case the part of the email after "@" (domains are case-insensitive)',
  },
  {
    name: 'normalize-phone',
    description:
      'remove spaces, dashes and parentheses from mobileNumber, when what remains is an optional "+" and digits',
  },
  { name: 'upper-case-country', description: 'upper-case the address country code ("us" -> "US")' },
  {
    name: 'utid-fallback',
    description:
      "replace the utid by the campaign's configured fallback when Tango reports ITEM_INACTIVE, ITEM_UNAVAILABLE or DELIVERY_METHOD_NOT_SUPPORTED",
  },
] as const;
export type SafeFixName = (typeof SAFE_FIXES)[number]['name'];

/** utid -> replacement utid, configured per campaign. */
export const utidFallbacksSchema = z.record(z.string().min(1), z.string().min(1));

export interface AutomaticFixOptions {
  utidFallbacks?: Readonly<Record<string, string>>;
}

export interface AutomaticFixResult {
  item: LineItemRequest;
  /** What was changed, as "<fix> (<field>)"; field names and utids only, no personal data. */
  fixes: string[];
}

const UTID_FALLBACK_CODES = new Set(['ITEM_INACTIVE', 'ITEM_UNAVAILABLE', 'DELIVERY_METHOD_NOT_SUPPORTED']);
for (const code of knownErrorCodes) {
  if (UTID_FALLBACK_CODES.has(code.name)) {
    UTID_FALLBACK_CODES.add(String(code.value));
    if (code.i18nKey) UTID_FALLBACK_CODES.add(code.i18nKey);
  }
}

/**
 * The fields an error points at (Tango's `field`, or the field of a known code), as JSON paths.
 * Undefined when any error points nowhere: then every fix may be the one that helps.
 */
function fieldsOfErrors(errors: readonly ClassifiableError[]): string[] | undefined {
  const fields: string[] = [];
  for (const error of errors) {
    const codes = errorCodesOf(error);
    const known = knownErrorCodes.find(
      (code) =>
        codes.includes(code.name) ||
        codes.includes(String(code.value)) ||
        codes.includes(code.i18nKey ?? '-'),
    );
    // Tango may point into the request ("lineItems[3].recipient.email"); the item's own path is what counts.
    const field = (error.field ?? known?.field)?.replace(/^lineItems\[\d+\]\./, '');
    if (!field) return undefined;
    fields.push(field);
  }
  return fields.length > 0 ? fields : undefined;
}

function relevant(field: string, errorFields: string[] | undefined): boolean {
  if (errorFields === undefined) return true;
  return errorFields.some(
    (errorField) =>
      field === errorField || field.startsWith(`${errorField}.`) || errorField.startsWith(`${field}.`),
  );
}

const TRIMMED_FIELDS = ['utid', 'etid', 'ptid', 'emailSubject', 'lineItemNote'] as const;
const TRIMMED_RECIPIENT_FIELDS = ['firstName', 'lastName', 'email', 'mobileNumber'] as const;
const TRIMMED_ADDRESS_FIELDS = [
  'companyName',
  'streetLine1',
  'streetLine2',
  'city',
  'stateOrProvince',
  'postalCode',
  'country',
] as const;

/**
 * Applies the safe fixes that bear on the item's errors. Returns the fixed item and what was done, or
 * undefined when no safe fix applies (the item then waits for an operator). The result always passes
 * the line-item schema; a fix that would break it is not applied.
 */
export function automaticFixes(
  original: LineItemRequest,
  errors: readonly ClassifiableError[],
  options: AutomaticFixOptions = {},
): AutomaticFixResult | undefined {
  const errorFields = fieldsOfErrors(errors);
  const item = structuredCloneItem(original);
  const fixes: string[] = [];
  const apply = (
    fix: SafeFixName,
    field: string,
    current: string | undefined,
    next: string | undefined,
    set: (value: string) => void,
  ) => {
    if (current === undefined || next === undefined || next === current || !relevant(field, errorFields))
      return;
    set(next);
    fixes.push(`${fix} (${field})`);
  };

  for (const field of TRIMMED_FIELDS) {
    apply('trim-whitespace', field, item[field], item[field]?.trim(), (value) => (item[field] = value));
  }
  const recipient = item.recipient;
  if (recipient) {
    for (const field of TRIMMED_RECIPIENT_FIELDS)
      apply(
        'trim-whitespace',
        `recipient.${field}`,
        recipient[field],
        recipient[field]?.trim(),
        (value) => (recipient[field] = value),
      );
    const address = recipient.address;
    if (address)
      for (const field of TRIMMED_ADDRESS_FIELDS)
        apply(
          'trim-whitespace',
          `recipient.address.${field}`,
          address[field],
          address[field]?.trim(),
          (value) => (address[field] = value),
        );

    const email = recipient.email;
    const at = email?.lastIndexOf('@') ?? -1;
    if (email !== undefined && at > 0)
      apply(
        'lower-case-email-domain',
        'recipient.email',
        email,
        email.slice(0, at + 1) + email.slice(at + 1).toLowerCase(),
        (value) => (recipient.email = value),
      );

    const phone = recipient.mobileNumber;
    const compact = phone?.replace(/[\s()-]/g, '');
    if (compact !== undefined && /^\+?\d+$/.test(compact))
      apply(
        'normalize-phone',
        'recipient.mobileNumber',
        phone,
        compact,
        (value) => (recipient.mobileNumber = value),
      );

    if (address)
      apply(
        'upper-case-country',
        'recipient.address.country',
        address.country,
        address.country.toUpperCase(),
        (value) => (address.country = value),
      );
  }

  const fallback = options.utidFallbacks?.[item.utid];
  const wantsFallback = errors.some((error) =>
    errorCodesOf(error).some((code) => UTID_FALLBACK_CODES.has(code)),
  );
  if (fallback !== undefined && fallback !== item.utid && wantsFallback) {
    fixes.push(`utid-fallback (utid ${item.utid} -> ${fallback})`);
    item.utid = fallback;
  }

  if (fixes.length === 0) return undefined;
  const check = checkLineItem(item);
  return check.ok ? { item: check.item, fixes } : undefined;
}

function structuredCloneItem(item: LineItemRequest): LineItemRequest {
  // JSON round trip: line items are plain JSON, and structuredClone is not in every workflow sandbox.
  return JSON.parse(JSON.stringify(item)) as LineItemRequest;
}

// ---------------------------------------------------------------------------------------------
// Operator corrections
// ---------------------------------------------------------------------------------------------

/**
 * An operator's correction: the externalRefLineItemID of a failed item plus the fields to change, in
 * POST /asyncOrders form (nested recipient / address). Fields not given keep their value; `null`
 * removes an optional field (e.g. `"deliveryDate": null`). Validated in full by mergeCorrection.
 */
export const lineItemCorrectionSchema = z.looseObject({
  externalRefLineItemID: z.string().min(1).max(150),
});
export type LineItemCorrection = z.infer<typeof lineItemCorrectionSchema>;

export type MergeResult =
  | {
      ok: true;
      item: LineItemRequest;
      /** JSON paths of the fields whose value changed. */ changed: string[];
    }
  | { ok: false; problems: FieldProblem[] };

function mergeLevel(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
  prefix: string,
  changed: string[],
  problems: FieldProblem[],
  nested: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const field = `${prefix}${key}`;
    if (value === undefined) continue;
    if (value === null) {
      if (key in out) {
        delete out[key];
        changed.push(field);
      }
      continue;
    }
    if (nested.includes(key)) {
      if (!isPlainObject(value)) {
        problems.push({
          field,
          message: `${field} must be an object with the fields to change (or null to remove it)`,
        });
        continue;
      }
      const inner = isPlainObject(out[key]) ? (out[key] as Record<string, unknown>) : {};
      out[key] = mergeLevel(
        inner,
        value,
        `${field}.`,
        changed,
        problems,
        key === 'recipient' ? ['address'] : [],
      );
      continue;
    }
    if (JSON.stringify(out[key]) !== JSON.stringify(value)) changed.push(field);
    out[key] = value;
  }
  return out;
}

/**
 * Merges an operator's correction into the failed item. The correction must name the item's own
 * externalRefLineItemID (ids never change), may only use Tango's field names, and the merged item
 * must pass the line-item schema; otherwise nothing is merged and every problem is returned with its
 * field (JSON path) and what is wrong.
 */
export function mergeCorrection(original: LineItemRequest, correction: unknown): MergeResult {
  if (!isPlainObject(correction))
    return {
      ok: false,
      problems: [
        { field: '(correction)', message: 'a correction must be an object naming externalRefLineItemID' },
      ],
    };
  const problems: FieldProblem[] = [];
  const id = correction.externalRefLineItemID;
  if (typeof id !== 'string' || id === '')
    problems.push({
      field: 'externalRefLineItemID',
      message: 'the correction must name the externalRefLineItemID of the failed item it corrects',
    });
  else if (id !== original.externalRefLineItemID)
    problems.push({
      field: 'externalRefLineItemID',
      message: `the correction names "${id}" but is applied to "${original.externalRefLineItemID}"; the id of a line item cannot change (to send a different item, start a new campaign)`,
    });
  problems.push(...unknownFieldProblems(correction));
  if (problems.length > 0) return { ok: false, problems };

  const changed: string[] = [];
  const { externalRefLineItemID: _id, ...patch } = correction;
  const merged = mergeLevel(original as unknown as Record<string, unknown>, patch, '', changed, problems, [
    'recipient',
  ]);
  if (isPlainObject(merged.recipient)) {
    const recipient = merged.recipient;
    if (isPlainObject(recipient.address) && Object.keys(recipient.address).length === 0)
      delete recipient.address;
    if (Object.keys(recipient).length === 0) delete merged.recipient;
  }
  if (problems.length > 0) return { ok: false, problems };
  const check = checkLineItem(merged);
  if (!check.ok)
    return {
      ok: false,
      problems: check.problems.map((problem) => ({
        field: problem.field,
        message: `after the correction, ${problem.message}`,
      })),
    };
  return { ok: true, item: check.item, changed };
}
