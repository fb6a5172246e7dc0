// The order book: where every line item of one order (chunk) stands, across its rounds. Each step
// of an order workflow reads the book, applies what Tango or an operator said, and writes the next
// version, so history carries only counts and keys. Pure functions: the money-safety rules live
// here and are tested without Temporal or HTTP.
import type { LineItemRequest } from '../tango/schemas.ts';
import { type FailureClassName, type ItemCounts, emptyCounts } from '../workflows/types.ts';

export type ItemState =
  | 'queued' // to be sent in the next round
  | 'submitted' // sent in `round`; fate not yet known
  | 'delivered' // Tango holds it and did not fail it
  | 'awaiting-correction'
  | 'awaiting-funds'
  | 'given-up'
  | 'cancelled'; // never sent

export interface ItemError {
  /** errorCodeName (POST) or errorCode (GET), or a request-level i18nKey. */
  code?: string;
  /** errorCodeValue (POST). */
  value?: number;
  field?: string;
  message?: string;
}

export type RoundOutcome = 'delivered' | 'failed' | 'rejected' | 'not-held';

export interface BookEntry {
  id: string; // externalRefLineItemID: the same in every round
  item: LineItemRequest;
  state: ItemState;
  /** Rounds this item was sent in (0-based round numbers). */
  rounds: number[];
  /** externalRefID of the last order it was sent in. */
  externalRefID?: string;
  failureClass?: FailureClassName;
  errors?: ItemError[];
  reason?: string;
  /** Automatic fixes applied, by name; operator correction marks. */
  fixes?: string[];
  corrected?: boolean;
  /** Tango's line-item status when it was accounted as delivered. */
  tangoStatus?: string;
  trail: { round: number; externalRefID: string; outcome: RoundOutcome; codes?: string[] }[];
}

export function newEntry(item: LineItemRequest): BookEntry {
  return { id: item.externalRefLineItemID, item, state: 'queued', rounds: [], trail: [] };
}

/** What Tango said about one settled round. */
export interface RoundObservation {
  round: number;
  externalRefID: string;
  /** Rejected in the POST response (failedLineItems). */
  rejected: ReadonlyMap<string, ItemError[]>;
  /** Failed line items from GET failedOnly. */
  failed: ReadonlyMap<string, ItemError[]>;
  /**
   * Items looked up by id. `null` = Tango confirmed the order does not hold it. A found item carries
   * its line-item status and errors.
   */
  lookedUp: ReadonlyMap<string, { status?: string; errors: ItemError[] } | null>;
  /**
   * True when Tango's own count proves every submitted item that is neither rejected nor failed is
   * held by the order (totalLineItems = unaccounted + failed).
   */
  restHeld: boolean;
}

export type Classifier = (errors: readonly ItemError[]) => FailureClassName;
export type AutoFixer = (entry: BookEntry) => { item: LineItemRequest; fixes: string[] } | undefined;

export class UnaccountedItemsError extends Error {
  override readonly name = 'UnaccountedItemsError';
  constructor(readonly ids: string[]) {
    super(
      `${ids.length} submitted item(s) are not accounted for by Tango (first: ${ids.slice(0, 5).join(', ')}); ` +
        'they are never resubmitted until Tango reports them failed or confirms it does not hold them',
    );
  }
}

/** The submitted items that neither the POST response nor the failed pages account for. */
export function unaccountedIds(
  entries: readonly BookEntry[],
  rejected: ReadonlyMap<string, unknown>,
  failed: ReadonlyMap<string, unknown>,
): string[] {
  return entries
    .filter((entry) => entry.state === 'submitted' && !rejected.has(entry.id) && !failed.has(entry.id))
    .map((entry) => entry.id);
}

function failItem(
  entry: BookEntry,
  errors: ItemError[],
  classify: Classifier,
  autoFix: AutoFixer | undefined,
) {
  const failureClass = classify(errors);
  entry.failureClass = failureClass;
  entry.errors = errors;
  switch (failureClass) {
    case 'transient':
      entry.state = 'queued';
      break;
    case 'needs-funds':
      entry.state = 'awaiting-funds';
      break;
    case 'permanent': {
      // A reward that is discontinued may still have a replacement the campaign named in advance.
      const fixed = autoFix?.(entry);
      if (fixed?.fixes.some((fix) => fix.startsWith('utid-fallback'))) {
        entry.item = fixed.item;
        entry.fixes = [...(entry.fixes ?? []), ...fixed.fixes];
        entry.state = 'queued';
      } else {
        entry.state = 'given-up';
        entry.reason = `permanent failure: ${describeErrors(errors)}`;
      }
      break;
    }
    case 'needs-correction': {
      const fixed = autoFix?.(entry);
      if (fixed) {
        entry.item = fixed.item;
        entry.fixes = [...(entry.fixes ?? []), ...fixed.fixes];
        entry.state = 'queued';
      } else {
        entry.state = 'awaiting-correction';
      }
      break;
    }
  }
}

export function describeErrors(errors: readonly ItemError[]): string {
  if (errors.length === 0) return 'no error detail from Tango';
  return errors
    .map((error) => [error.code, error.field, error.message].filter(Boolean).join(' / '))
    .join('; ');
}

/**
 * Applies a settled round to the book. Every item submitted in this round must end up accounted
 * for; otherwise nothing changes and UnaccountedItemsError is thrown (the caller looks them up).
 * Returns the failure classes seen in this round.
 */
export function settleRound(
  entries: BookEntry[],
  observation: RoundObservation,
  classify: Classifier,
  autoFix?: AutoFixer,
): Record<FailureClassName, number> {
  const seen = { transient: 0, 'needs-correction': 0, 'needs-funds': 0, permanent: 0 };
  const submitted = entries.filter(
    (entry) => entry.state === 'submitted' && entry.externalRefID === observation.externalRefID,
  );
  const missing = submitted.filter(
    (entry) =>
      !observation.rejected.has(entry.id) &&
      !observation.failed.has(entry.id) &&
      !observation.lookedUp.has(entry.id) &&
      !observation.restHeld,
  );
  if (missing.length > 0) throw new UnaccountedItemsError(missing.map((entry) => entry.id));

  for (const entry of submitted) {
    const step = { round: observation.round, externalRefID: observation.externalRefID };
    const failedErrors = observation.failed.get(entry.id);
    const rejectedErrors = observation.rejected.get(entry.id);
    const lookedUp = observation.lookedUp.get(entry.id);
    if (failedErrors || rejectedErrors) {
      const errors = failedErrors ?? rejectedErrors ?? [];
      entry.trail.push({ ...step, outcome: failedErrors ? 'failed' : 'rejected', codes: codesOf(errors) });
      failItem(entry, errors, classify, autoFix);
      seen[entry.failureClass ?? 'needs-correction'] += 1;
    } else if (lookedUp === null) {
      // Tango confirmed it does not hold the item: safe to send again, as is.
      entry.trail.push({ ...step, outcome: 'not-held' });
      entry.state = 'queued';
    } else if (lookedUp && isFailedStatus(lookedUp.status)) {
      entry.trail.push({ ...step, outcome: 'failed', codes: codesOf(lookedUp.errors) });
      failItem(entry, lookedUp.errors, classify, autoFix);
      seen[entry.failureClass ?? 'needs-correction'] += 1;
    } else {
      entry.trail.push({ ...step, outcome: 'delivered' });
      entry.state = 'delivered';
      entry.failureClass = undefined;
      entry.errors = undefined;
      if (lookedUp?.status) entry.tangoStatus = lookedUp.status;
    }
  }
  return seen;
}

function isFailedStatus(status: string | undefined): boolean {
  return status !== undefined && /^(FAILED|FAILURE|ERROR|REJECTED|CANCELLED|CANCELED)$/i.test(status);
}

function codesOf(errors: readonly ItemError[]): string[] {
  return errors.map((error) => error.code ?? String(error.value ?? 'unknown'));
}

/** Marks the queued items as sent in `round` under `externalRefID`; returns them in book order. */
export function markSubmitted(entries: BookEntry[], round: number, externalRefID: string): BookEntry[] {
  const sent: BookEntry[] = [];
  for (const entry of entries) {
    if (entry.state !== 'queued') continue;
    entry.state = 'submitted';
    entry.rounds.push(round);
    entry.externalRefID = externalRefID;
    sent.push(entry);
  }
  return sent;
}

export interface CorrectionApplied {
  id: string;
  item: LineItemRequest;
}

/**
 * Operator corrections: only items waiting for a correction (or for funds) take them; anything else
 * is reported back unchanged, never re-queued, so a correction can't resend a delivered item.
 */
export function applyCorrections(
  entries: BookEntry[],
  corrections: readonly CorrectionApplied[],
): { applied: string[]; ignored: { id: string; state: ItemState | 'unknown' }[] } {
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const applied: string[] = [];
  const ignored: { id: string; state: ItemState | 'unknown' }[] = [];
  for (const correction of corrections) {
    const entry = byId.get(correction.id);
    if (!entry || (entry.state !== 'awaiting-correction' && entry.state !== 'awaiting-funds')) {
      ignored.push({ id: correction.id, state: entry?.state ?? 'unknown' });
      continue;
    }
    entry.item = correction.item;
    entry.corrected = true;
    entry.state = 'queued';
    applied.push(entry.id);
  }
  return { applied, ignored };
}

/** Operator skips: items not yet delivered and not in flight are given up with the operator's reason. */
export function applySkips(
  entries: BookEntry[],
  ids: readonly string[],
  reason: string,
): { skipped: string[]; ignored: string[] } {
  const wanted = new Set(ids);
  const skipped: string[] = [];
  for (const entry of entries) {
    if (!wanted.has(entry.id)) continue;
    if (
      entry.state === 'awaiting-correction' ||
      entry.state === 'awaiting-funds' ||
      entry.state === 'queued'
    ) {
      const neverSent = entry.rounds.length === 0;
      entry.state = neverSent ? 'cancelled' : 'given-up';
      entry.reason = `skipped by operator: ${reason}`;
      skipped.push(entry.id);
      wanted.delete(entry.id);
    }
  }
  return { skipped, ignored: [...wanted] };
}

/** Funds arrived: items waiting for funds go back to the queue. */
export function releaseFunds(entries: BookEntry[]): number {
  let released = 0;
  for (const entry of entries) {
    if (entry.state === 'awaiting-funds') {
      entry.state = 'queued';
      released += 1;
    }
  }
  return released;
}

/** Ends waiting: every item still waiting (and, with `includeQueued`, every queued one) is given up. */
export function giveUpWaiting(entries: BookEntry[], reason: string, includeQueued = false): number {
  let count = 0;
  for (const entry of entries) {
    const waiting = entry.state === 'awaiting-correction' || entry.state === 'awaiting-funds';
    if (waiting || (includeQueued && entry.state === 'queued')) {
      if (entry.rounds.length === 0) {
        entry.state = 'cancelled';
      } else {
        entry.state = 'given-up';
      }
      entry.reason =
        waiting && entry.errors ? `${reason}; last errors: ${describeErrors(entry.errors)}` : reason;
      count += 1;
    }
  }
  return count;
}

export function countBook(entries: readonly BookEntry[], previous?: ItemCounts): ItemCounts {
  const counts = emptyCounts();
  counts.failures = { ...(previous?.failures ?? counts.failures) };
  for (const entry of entries) {
    counts.total += 1;
    switch (entry.state) {
      case 'queued':
        counts.queued += 1;
        break;
      case 'submitted':
        counts.submitted += 1;
        break;
      case 'delivered':
        counts.delivered += 1;
        break;
      case 'awaiting-correction':
        counts.awaitingCorrection += 1;
        break;
      case 'awaiting-funds':
        counts.awaitingFunds += 1;
        counts.awaitingFundsAmount += entry.item.amount;
        break;
      case 'given-up':
        counts.givenUp += 1;
        break;
      case 'cancelled':
        counts.cancelled += 1;
        break;
    }
    if (entry.corrected) counts.corrected += 1;
    if (entry.fixes?.length) counts.autoFixed += 1;
  }
  counts.awaitingFundsAmount = Math.round(counts.awaitingFundsAmount * 100) / 100;
  return counts;
}
