// Failure classification: which of the four classes a failed line item belongs to, from the error
// codes Tango reported. A built-in table (src/tango/error-codes.ts plus the i18nKeys Tango documents)
// that TANGO_ERROR_CLASSES overrides or extends without code changes. Pure and sandbox-safe.
import { z } from 'zod';
import { FAILURE_CLASSES, type FailureClass, knownErrorCodes } from '../tango/error-codes.ts';

export { FAILURE_CLASSES, type FailureClass, zeroPerFailureClass } from '../tango/error-codes.ts';
export const failureClassSchema = z.enum(FAILURE_CLASSES);

/** Least to most demanding: an item with several errors takes the most demanding class. */
const RANK: Record<FailureClass, number> = {
  transient: 0,
  'needs-funds': 1,
  'needs-correction': 2,
  permanent: 3,
};

/** The class of an error nobody told us about: a person decides; never retried blindly. */
export const UNKNOWN_ERROR_CLASS: FailureClass = 'needs-correction';

/**
 * Any of the shapes an error reaches us in: POST failedLineItems errors (errorCodeName, errorCodeValue),
 * GET lineItemErrors (errorCode), request-level bodies (i18nKey) or an already normalized
 * { code, value }. Every code present is tried.
 */
export interface ClassifiableError {
  errorCodeName?: string | null;
  errorCodeValue?: number | string | null;
  errorCode?: string | number | null;
  i18nKey?: string | null;
  code?: string | number | null;
  value?: number | string | null;
  field?: string | null;
  message?: string | null;
  /** GET lineItemErrors carry the message here. */
  errorMessage?: string | null;
}

/**
 * Request-level i18nKeys from Tango's published list that error-codes.ts does not carry, and what they
 * mean for the items of the request.
 */
const DOCUMENTED_I18N_KEYS: Record<string, { failureClass: FailureClass; description: string }> = {
  // Credentials are fixed by a person; the items themselves are unchanged.
  '401.001': { failureClass: 'needs-correction', description: 'authentication failed' },
  '401.002': { failureClass: 'needs-correction', description: 'authentication failed' },
  '401.501': { failureClass: 'needs-correction', description: 'authentication failed' },
  '402.001': { failureClass: 'needs-funds', description: 'insufficient funds' },
  // Same externalRefID still being processed: the same request succeeds later.
  '409.002': { failureClass: 'transient', description: 'order still being processed' },
  // Tango already holds this id: sending it again could reward twice.
  '409.024': { failureClass: 'permanent', description: 'already exists' },
  '422.030': { failureClass: 'permanent', description: 'reward inactive' },
  '422.097': { failureClass: 'permanent', description: 'reward unavailable' },
  '429.001': { failureClass: 'transient', description: 'rate limited' },
  '429.008': { failureClass: 'transient', description: 'rate limited' },
  '503.501': { failureClass: 'transient', description: 'temporary outage' },
  '503.502': { failureClass: 'transient', description: 'temporary outage' },
};

/** Families of i18nKeys: "429.*" rate limits pass; "400.*"/"422.*" validation needs a correction. */
const BUILT_IN_FAMILIES: Record<string, FailureClass> = {
  '429.*': 'transient',
  '400.*': 'needs-correction',
  '422.*': 'needs-correction',
};

function normalizeKey(key: string): string {
  return key.trim().toUpperCase();
}

function buildBuiltInTable(): ReadonlyMap<string, FailureClass> {
  const table = new Map<string, FailureClass>();
  for (const [key, entry] of Object.entries(DOCUMENTED_I18N_KEYS)) table.set(key, entry.failureClass);
  for (const code of knownErrorCodes) {
    table.set(normalizeKey(code.name), code.failureClass);
    table.set(String(code.value), code.failureClass);
    if (code.i18nKey) table.set(code.i18nKey, code.failureClass);
  }
  return table;
}

const BUILT_IN = buildBuiltInTable();

/** The built-in class of one code (name, numeric value or i18nKey), or undefined when unknown. */
export function builtInFailureClass(code: string): FailureClass | undefined {
  const key = normalizeKey(code);
  return BUILT_IN.get(key) ?? familyOf(key, BUILT_IN_FAMILIES);
}

function familyOf(key: string, families: Readonly<Record<string, FailureClass>>): FailureClass | undefined {
  const match = /^(\d{3})\.\d+$/.exec(key);
  return match ? families[`${match[1]}.*`] : undefined;
}

/**
 * Operator overrides: `{"<errorCodeName | errorCodeValue | i18nKey | 'NNN.*'>": class}`. Keys are
 * matched case-insensitively. Validated by the same schema whether they come from the
 * TANGO_ERROR_CLASSES file or a workflow input.
 */
export const ERROR_CODE_KEY = /^(?:[A-Za-z0-9_.-]+|\d{3}\.\*)$/;
export const ERROR_CODE_KEY_HINT =
  'an error code is a name (INVALID_EMAIL), a number (134), an i18nKey (422.134) or a family (429.*)';
export const errorClassOverridesSchema = z.record(
  z.string().trim().regex(ERROR_CODE_KEY, ERROR_CODE_KEY_HINT),
  failureClassSchema,
);
export type ErrorClassOverrides = Readonly<Record<string, FailureClass>>;

function overrideFor(key: string, overrides: ErrorClassOverrides): FailureClass | undefined {
  for (const [overrideKey, failureClass] of Object.entries(overrides)) {
    if (normalizeKey(overrideKey) === key) return failureClass;
  }
  return undefined;
}

function overrideFamily(key: string, overrides: ErrorClassOverrides): FailureClass | undefined {
  const match = /^(\d{3})\.\d+$/.exec(key);
  return match ? overrideFor(`${match[1]}.*`, overrides) : undefined;
}

/** The codes one error carries, name first (most specific), then value, then i18nKey. */
export function errorCodesOf(error: ClassifiableError): string[] {
  const codes = [
    error.errorCodeName,
    error.errorCode,
    error.code,
    error.errorCodeValue,
    error.value,
    error.i18nKey,
  ]
    .filter(
      (code): code is string | number => code !== undefined && code !== null && String(code).trim() !== '',
    )
    .map((code) => normalizeKey(String(code)));
  return [...new Set(codes)];
}

export interface ErrorClassification {
  failureClass: FailureClass;
  /** Which rule decided: an override, the built-in table, or none (unknown code). */
  source: 'override' | 'built-in' | 'unknown';
  /** The code that matched, when one did. */
  code?: string;
}

/**
 * Classifies one error. Overrides win over the built-in table for any of the error's codes; exact
 * codes win over families; an error without a known code is needs-correction (never transient).
 */
export function classifyError(
  error: ClassifiableError,
  overrides: ErrorClassOverrides = {},
): ErrorClassification {
  const codes = errorCodesOf(error);
  for (const code of codes) {
    const failureClass = overrideFor(code, overrides);
    if (failureClass) return { failureClass, source: 'override', code };
  }
  for (const code of codes) {
    const failureClass = overrideFamily(code, overrides);
    if (failureClass) return { failureClass, source: 'override', code };
  }
  for (const code of codes) {
    const failureClass = BUILT_IN.get(code);
    if (failureClass) return { failureClass, source: 'built-in', code };
  }
  for (const code of codes) {
    const failureClass = familyOf(code, BUILT_IN_FAMILIES);
    if (failureClass) return { failureClass, source: 'built-in', code };
  }
  return codes[0] === undefined
    ? { failureClass: UNKNOWN_ERROR_CLASS, source: 'unknown' }
    : { failureClass: UNKNOWN_ERROR_CLASS, source: 'unknown', code: codes[0] };
}

/** The more demanding of several classes (permanent > needs-correction > needs-funds > transient). */
export function mostDemanding(classes: Iterable<FailureClass>): FailureClass | undefined {
  let worst: FailureClass | undefined;
  for (const failureClass of classes) {
    if (worst === undefined || RANK[failureClass] > RANK[worst]) worst = failureClass;
  }
  return worst;
}

/**
 * The class of a failed line item from all its errors: the most demanding one. A failed item with no
 * error detail is needs-correction: nothing proves that sending it again would succeed.
 */
export function classifyErrors(
  errors: readonly ClassifiableError[],
  overrides: ErrorClassOverrides = {},
): FailureClass {
  return (
    mostDemanding(errors.map((error) => classifyError(error, overrides).failureClass)) ?? UNKNOWN_ERROR_CLASS
  );
}
