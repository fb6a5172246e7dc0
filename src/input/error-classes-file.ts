// Loads the TANGO_ERROR_CLASSES file: operator overrides of the failure-class table, so that a real
// Tango code we did not foresee is routed correctly without a release. Does file I/O: never imported
// by workflow code (the worker loads it and hands the parsed overrides to workflows as input).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ERROR_CODE_KEY,
  ERROR_CODE_KEY_HINT,
  type ErrorClassOverrides,
  FAILURE_CLASSES,
  errorClassOverridesSchema,
} from '../campaign/classification.ts';

export class ErrorClassesFileError extends Error {
  override readonly name = 'ErrorClassesFileError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`TANGO_ERROR_CLASSES file ${file}: ${detail}`);
  }
}

/**
 * Parses the file's text. Errors name the file and the bad entry, and say what is expected:
 * `{"<errorCodeName | errorCodeValue | i18nKey | NNN.*>": "transient" | "needs-correction" | "needs-funds" | "permanent"}`.
 */
export function parseErrorClassOverrides(text: string, file: string): ErrorClassOverrides {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ErrorClassesFileError(file, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ErrorClassesFileError(
      file,
      `expected a JSON object such as {"INVALID_EMAIL": "permanent"}, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`,
    );
  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(raw)) {
    if (!ERROR_CODE_KEY.test(key.trim()))
      throw new ErrorClassesFileError(file, `entry "${key}": ${ERROR_CODE_KEY_HINT}`);
    const normalized = key.trim().toUpperCase();
    const earlier = seen.get(normalized);
    if (earlier !== undefined)
      throw new ErrorClassesFileError(file, `"${key}" and "${earlier}" name the same code; keep one of them`);
    seen.set(normalized, key);
    if (typeof value !== 'string' || !(FAILURE_CLASSES as readonly string[]).includes(value))
      throw new ErrorClassesFileError(
        file,
        `entry "${key}": ${JSON.stringify(value)} is not a failure class; use one of ${FAILURE_CLASSES.map((c) => `"${c}"`).join(', ')}`,
      );
  }
  // Every entry was checked above with the same rules; the schema gives the typed result.
  return errorClassOverridesSchema.parse(raw);
}

/**
 * Reads the overrides named by TANGO_ERROR_CLASSES (a path, relative to `cwd` when not absolute).
 * Unset or empty: no overrides. A missing or invalid file fails loudly at startup rather than
 * silently classifying with the built-in table only.
 */
export function loadErrorClassOverrides(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): ErrorClassOverrides {
  const setting = env.TANGO_ERROR_CLASSES?.trim();
  if (!setting) return {};
  const file = path.resolve(cwd, setting);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ErrorClassesFileError(
      file,
      code === 'ENOENT'
        ? 'does not exist; fix the path in TANGO_ERROR_CLASSES or unset it to use the built-in table'
        : `cannot be read (${code ?? (error as Error).message})`,
    );
  }
  return parseErrorClassOverrides(text, file);
}
