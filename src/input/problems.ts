// Problems found in an input file, by file, row (or item) and field, and the error that carries them
// to the user with what to fix.

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

/** Collects a file's problems: all are counted, the first `max` are kept for the error. */
export class ProblemLog {
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

/** U+FFFD: what the UTF-8 decoders put where a byte sequence is not UTF-8. */
export const REPLACEMENT_CHARACTER = '\uFFFD';
export const ENCODING_HINT =
  'contains bytes that are not valid UTF-8 (often a file saved as Latin-1 / Windows-1252 by a spreadsheet): save the file as UTF-8 and try again';
export const UTF16_HINT = 'the file is UTF-16 encoded: save it as UTF-8 (CSV UTF-8 in spreadsheet programs)';

/** True when the first bytes are a UTF-16 byte-order mark (little or big endian). */
export function startsWithUtf16Bom(chunk: Uint8Array | string): boolean {
  if (typeof chunk === 'string') return false;
  return (
    chunk.length >= 2 &&
    ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
  );
}
