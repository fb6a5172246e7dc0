// The order book: where every line item of one order (chunk) stands, across its rounds. Each step
// of an order workflow reads the book, applies what Tango or an operator said, and writes the next
// version, so history carries only counts and keys. Pure functions: the money-safety rules live
// here and are tested without Temporal or HTTP.
import type { LineItemRequest } from '../tango/schemas.ts';
import { type FailureClass, zeroPerFailureClass } from './classification.ts';
import { type ItemCounts, emptyCounts } from './counts.ts';

export type ItemState =
  | 'queued' // to be sent in the next round
  | 'submitted' // sent in `round`; fate not yet known
  | 'scheduled' // Tango holds it PENDING for a future deliveryDate (re-read until it turns)
  | 'delivered' // Tango's record of it says COMPLETE
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

export type RoundOutcome = 'delivered' | 'scheduled' | 'failed' | 'rejected' | 'not-held';

export interface BookEntry {
  id: string; // externalRefLineItemID: the same in every round
  item: LineItemRequest;
  state: ItemState;
  /** Rounds this item was sent in (0-based round numbers). */
  rounds: number[];
  /** externalRefID of the last order it was sent in. */
  externalRefID?: string;
  failureClass?: FailureClass;
  errors?: ItemError[];
  reason?: string;
  /** Automatic fixes applied, by name; operator correction marks. */
  fixes?: string[];
  corrected?: boolean;
  /** Tango's line-item status as last read (COMPLETE for a delivered item). */
  tangoStatus?: string;
  /** Tango's referenceLineItemId: every delivered item is backed by Tango's own record. */
  tangoLineItemId?: string;
  /** When Tango will deliver a scheduled item (its scheduledDeliveryDate, or our deliveryDate). */
  scheduledFor?: string;
  /** Set by an operator correction, cleared when the item is sent: exhausted rounds never drop it. */
  operatorQueued?: boolean;
  trail: { round: number; externalRefID: string; outcome: RoundOutcome; codes?: string[] }[];
}

export function newEntry(item: LineItemRequest): BookEntry {
  return { id: item.externalRefLineItemID, item, state: 'queued', rounds: [], trail: [] };
}

/** Tango's own record of one line item (GET pages or a lookup by id). */
export interface TangoItemRecord {
  status?: string;
  errors: ItemError[];
  referenceLineItemId?: string;
  /** scheduledDeliveryDate, when Tango gives one. */
  scheduledFor?: string;
}

/** What Tango said about the items of one order (externalRefID). */
export interface RoundObservation {
  round: number;
  externalRefID: string;
  /** Rejected in the POST response (failedLineItems). */
  rejected: ReadonlyMap<string, ItemError[]>;
  /** Tango's record of each item it holds, by externalRefLineItemID (all pages, plus lookups). */
  records: ReadonlyMap<string, TangoItemRecord>;
  /** Items Tango confirmed, by a lookup after the visibility grace, that the order does not hold. */
  notHeld: ReadonlySet<string>;
  /** The time of the reading (ISO): a PENDING item whose delivery date is later is `scheduled`. */
  readAt: string;
  /**
   * Only these items were read (a re-check of scheduled or pending items). Without it the reading
   * covers the whole order, and every item sent in it must be accounted for.
   */
  only?: ReadonlySet<string>;
}

export type Classifier = (errors: readonly ItemError[]) => FailureClass;
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

/** What a settled reading changed, for the workflow's counts and its next wake-up. */
export interface SettleOutcome {
  /** Failure classes seen in this reading. */
  seen: Record<FailureClass, number>;
  /** Items of the order Tango still holds undecided (PENDING without a future delivery date). */
  pending: number;
  /** The earliest delivery date of the order's scheduled items (ISO), if any. */
  nextScheduled?: string;
}

/**
 * Applies Tango's record of an order to the book, item by item (matched by externalRefLineItemID):
 * COMPLETE -> delivered; FAILED -> classified; PENDING with a later delivery date -> scheduled;
 * PENDING otherwise -> still submitted (read again later); rejected in the POST -> classified; not
 * held (confirmed by a lookup) -> queued to be sent again. Nothing is ever inferred from counts: an
 * item Tango has no record of is not settled (UnaccountedItemsError), never taken as delivered.
 */
export function settleRound(
  entries: BookEntry[],
  observation: RoundObservation,
  classify: Classifier,
  autoFix?: AutoFixer,
): SettleOutcome {
  const seen = zeroPerFailureClass();
  const readAt = Date.parse(observation.readAt);
  const open = entries.filter(
    (entry) =>
      (entry.state === 'submitted' || entry.state === 'scheduled') &&
      entry.externalRefID === observation.externalRefID &&
      (observation.only === undefined || observation.only.has(entry.id)),
  );
  const missing = open.filter(
    (entry) =>
      entry.state === 'submitted' &&
      !observation.records.has(entry.id) &&
      !observation.rejected.has(entry.id) &&
      !observation.notHeld.has(entry.id),
  );
  if (observation.only === undefined && missing.length > 0)
    throw new UnaccountedItemsError(missing.map((entry) => entry.id));

  const step = { round: observation.round, externalRefID: observation.externalRefID };
  for (const entry of open) {
    const record = observation.records.get(entry.id);
    const rejectedErrors = observation.rejected.get(entry.id);
    if (record) {
      const status = record.status?.trim().toUpperCase();
      entry.tangoStatus = record.status;
      if (record.referenceLineItemId) entry.tangoLineItemId = record.referenceLineItemId;
      if (status === 'COMPLETE' || status === 'COMPLETED') {
        entry.trail.push({ ...step, outcome: 'delivered' });
        entry.state = 'delivered';
        entry.failureClass = undefined;
        entry.errors = undefined;
        entry.scheduledFor = undefined;
      } else if (isFailedStatus(status)) {
        entry.trail.push({ ...step, outcome: 'failed', codes: codesOf(record.errors) });
        entry.scheduledFor = undefined;
        failItem(entry, record.errors, classify, autoFix);
        seen[entry.failureClass ?? 'needs-correction'] += 1;
      } else {
        const deliverAt = record.scheduledFor ?? entry.item.deliveryDate;
        if (deliverAt !== undefined && Date.parse(deliverAt) > readAt) {
          if (entry.state !== 'scheduled') entry.trail.push({ ...step, outcome: 'scheduled' });
          entry.state = 'scheduled';
          entry.scheduledFor = deliverAt;
        } else {
          // PENDING (or a status we do not know) with nothing to wait for: Tango has not decided.
          entry.state = 'submitted';
          entry.scheduledFor = undefined;
        }
      }
    } else if (rejectedErrors) {
      entry.trail.push({ ...step, outcome: 'rejected', codes: codesOf(rejectedErrors) });
      failItem(entry, rejectedErrors, classify, autoFix);
      seen[entry.failureClass ?? 'needs-correction'] += 1;
    } else if (observation.notHeld.has(entry.id) && entry.state === 'submitted') {
      // Tango confirmed it does not hold the item: safe to send again, as is.
      entry.trail.push({ ...step, outcome: 'not-held' });
      entry.state = 'queued';
    }
  }
  return { seen, ...openItems(entries) };
}

/** The book's items still with Tango undecided, and the earliest scheduled delivery. */
export function openItems(entries: readonly BookEntry[]): { pending: number; nextScheduled?: string } {
  let pending = 0;
  let nextScheduled: string | undefined;
  for (const entry of entries) {
    if (entry.state === 'submitted') pending += 1;
    if (entry.state === 'scheduled' && entry.scheduledFor !== undefined) {
      if (nextScheduled === undefined || Date.parse(entry.scheduledFor) < Date.parse(nextScheduled))
        nextScheduled = entry.scheduledFor;
    }
  }
  return { pending, ...(nextScheduled ? { nextScheduled } : {}) };
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
    entry.operatorQueued = undefined;
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
    entry.operatorQueued = true;
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

/**
 * Rounds are exhausted: queued items are given up, except those an operator just corrected (they
 * are sent once more). Items waiting for a correction keep their window.
 */
export function giveUpExhausted(entries: BookEntry[], reason: string): number {
  let count = 0;
  for (const entry of entries) {
    if (entry.state !== 'queued' || entry.operatorQueued) continue;
    entry.state = entry.rounds.length === 0 ? 'cancelled' : 'given-up';
    entry.reason = entry.errors ? `${reason}; last errors: ${describeErrors(entry.errors)}` : reason;
    count += 1;
  }
  return count;
}

/**
 * The order stops while a POST of the queued items may have reached Tango (it kept failing, and
 * Tango could not say whether it holds the order): the items are given up as "fate unknown", never
 * reported as not sent and never sent again.
 */
export function giveUpInDoubt(entries: BookEntry[], externalRefID: string, reason: string): number {
  let count = 0;
  for (const entry of entries) {
    // The queued items of a POST that may have gone out, and the items already sent in that order.
    const inDoubt =
      entry.state === 'queued' || (entry.state === 'submitted' && entry.externalRefID === externalRefID);
    if (!inDoubt) continue;
    entry.state = 'given-up';
    entry.externalRefID = externalRefID;
    entry.reason = `fate unknown: sent in ${externalRefID} but not settled (${reason}); check Tango before resending`;
    count += 1;
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
      case 'scheduled':
        counts.scheduled += 1;
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
