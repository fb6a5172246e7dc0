// Spreadsheet formula injection: a cell that starts with = + - @ (or a tab or carriage return) is
// run as a formula by Excel, LibreOffice and Google Sheets. Every text cell of every CSV the product
// writes goes through guardCsvText; the input reader undoes exactly that guard, so a file written by
// `failures --csv` reads back with the values it was written from. Pure and sandbox-safe.

// The apostrophe is in the set so that a value that really starts with one is guarded too: the reader
// then always knows whether the first apostrophe is ours.
const GUARDED_START = /^[=+\-@\t\r']/;
const GUARD_ADDED = /^'[=+\-@\t\r']/;

/** The text a CSV cell holds for `value`: a leading apostrophe before a formula-like start. */
export function guardCsvText(value: string): string {
  return GUARDED_START.test(value) ? `'${value}` : value;
}

/** The value of a cell written by guardCsvText (also applied to any input file's cells). */
export function unguardCsvText(cell: string): string {
  return GUARD_ADDED.test(cell) ? cell.slice(1) : cell;
}
