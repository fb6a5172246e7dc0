// Reconciling a campaign against Tango after the fact: what we claim about each item (the report, or
// the books of a campaign still running) against every record Tango holds of it in the campaign's
// orders. Pure and sandbox-safe: the activities gather both sides, this module judges them.

/** What this side says about one item: a report row's state, or a book's state while running. */
export interface ItemClaim {
  externalRefLineItemID: string;
  /** A report state (delivered, scheduled, given-up, cancelled) or, while running, a book state. */
  state: string;
  /** The last order the item was sent in ('' when never sent). */
  externalRefID: string;
  /** Tango's referenceLineItemId of a delivered or scheduled item ('' when none was recorded). */
  tangoLineItemId: string;
}

/** One line item as Tango holds it in one order. */
export interface TangoItemReading {
  externalRefID: string;
  status: string;
  referenceLineItemId?: string;
  errors: { code?: string; message?: string }[];
}

export type DisagreementKind =
  /** We say delivered (or scheduled); Tango's record says otherwise (e.g. reversed to FAILED). */
  | 'not-delivered'
  /** We say given up, cancelled or waiting; Tango holds it COMPLETE. */
  | 'delivered-by-tango'
  /** We say given up or cancelled; Tango still holds it undecided (it may yet deliver it). */
  | 'pending-at-tango'
  /** We say never sent; Tango holds a record of it. */
  | 'sent-but-reported-unsent'
  /** Tango holds it COMPLETE in more than one order: a double reward. */
  | 'delivered-twice'
  /** We say delivered; Tango's COMPLETE record is another line item than the one we recorded. */
  | 'different-record'
  /** Tango holds an item in the campaign's orders that the campaign does not have. */
  | 'unknown-item';

export interface Disagreement {
  kind: DisagreementKind;
  externalRefLineItemID: string;
  /** Our state ('' for an item we do not have). */
  reportState: string;
  /** Tango's status of the item ('ABSENT' when no order of the campaign holds it). */
  tangoStatus: string;
  /** Tango's errors of the item, "code: message; ...". */
  tangoErrors: string;
  /** The order Tango's record is in (or, when absent, the last order we sent it in). */
  externalRefID: string;
  tangoLineItemId: string;
  message: string;
}

const isComplete = (status: string) => /^COMPLETED?$/i.test(status.trim());
const isFailed = (status: string) => /^FAILED$/i.test(status.trim());
/** Anything Tango has not decided yet: PENDING, and any status other than COMPLETE or FAILED (the
 * documented set is unconfirmed; the order book reads them the same way). */
const isPending = (status: string) => !isComplete(status) && !isFailed(status);

/** Book states of a running campaign's item that Tango must not hold as delivered (we may send it). */
const WAITING_STATES = new Set(['queued', 'awaiting-correction', 'awaiting-funds']);

function describeErrors(errors: TangoItemReading['errors']): string {
  return errors
    .map((error) => [error.code, error.message].filter(Boolean).join(': '))
    .filter((text) => text !== '')
    .join('; ');
}

/**
 * The reading that speaks for an item: a COMPLETE one if any, then the one in the order we last sent
 * it in, then the last one read.
 */
function mainReading(
  claim: ItemClaim | undefined,
  readings: TangoItemReading[],
): TangoItemReading | undefined {
  return (
    readings.find((reading) => isComplete(reading.status)) ??
    readings.find((reading) => reading.externalRefID === claim?.externalRefID) ??
    readings.at(-1)
  );
}

/**
 * Judges one item: what we claim against every record Tango holds of it in the campaign's orders.
 * Returns the disagreements (none when both sides agree).
 */
export function judgeItem(
  id: string,
  claim: ItemClaim | undefined,
  readings: TangoItemReading[],
): Disagreement[] {
  const main = mainReading(claim, readings);
  const disagreement = (kind: DisagreementKind, message: string, reading = main): Disagreement => ({
    kind,
    externalRefLineItemID: id,
    reportState: claim?.state ?? '',
    tangoStatus: reading ? reading.status || 'UNKNOWN' : 'ABSENT',
    tangoErrors: reading ? describeErrors(reading.errors) : '',
    externalRefID: reading?.externalRefID ?? claim?.externalRefID ?? '',
    tangoLineItemId: reading?.referenceLineItemId ?? claim?.tangoLineItemId ?? '',
    message,
  });
  if (!claim)
    return [
      disagreement(
        'unknown-item',
        `Tango holds line item ${id} in order ${main?.externalRefID ?? '?'}, which this campaign does not have`,
      ),
    ];

  const found: Disagreement[] = [];
  const complete = readings.filter((reading) => isComplete(reading.status));
  if (complete.length > 1)
    found.push(
      disagreement(
        'delivered-twice',
        `Tango holds ${id} COMPLETE in ${complete.length} orders (${complete.map((reading) => reading.externalRefID).join(', ')}): rewarded more than once`,
      ),
    );
  const where = main ? `in order ${main.externalRefID}` : 'in none of the campaign’s orders';
  const status = main ? main.status || 'without a status' : 'absent';
  switch (claim.state) {
    case 'delivered':
      if (complete.length === 0)
        found.push(
          disagreement(
            'not-delivered',
            `reported delivered, but Tango holds it ${status} ${where}` +
              (main && main.errors.length > 0 ? ` (${describeErrors(main.errors)})` : ''),
          ),
        );
      else if (
        claim.tangoLineItemId !== '' &&
        complete[0]!.referenceLineItemId !== undefined &&
        complete.every((reading) => reading.referenceLineItemId !== claim.tangoLineItemId)
      )
        found.push(
          disagreement(
            'different-record',
            `reported delivered as Tango line item ${claim.tangoLineItemId}, but Tango's COMPLETE record is ${complete[0]!.referenceLineItemId}`,
          ),
        );
      break;
    case 'scheduled':
      if (complete.length === 0 && !readings.some((reading) => isPending(reading.status)))
        found.push(
          disagreement('not-delivered', `reported scheduled, but Tango holds it ${status} ${where}`),
        );
      break;
    case 'cancelled':
      if (readings.length > 0)
        found.push(
          disagreement(
            complete.length > 0 ? 'delivered-by-tango' : 'sent-but-reported-unsent',
            `reported cancelled (never sent), but Tango holds it ${status} ${where}`,
          ),
        );
      break;
    case 'given-up':
      if (complete.length > 0)
        found.push(
          disagreement('delivered-by-tango', `reported given up, but Tango holds it COMPLETE ${where}`),
        );
      else if (readings.some((reading) => isPending(reading.status)))
        found.push(
          disagreement(
            'pending-at-tango',
            `reported given up, but Tango still holds it ${status} (undecided) ${where}: it may yet be delivered`,
            readings.find((reading) => isPending(reading.status)),
          ),
        );
      break;
    default:
      // A running campaign's book: an item waiting to be sent (again) must not be COMPLETE at Tango.
      if (WAITING_STATES.has(claim.state) && complete.length > 0)
        found.push(
          disagreement(
            'delivered-by-tango',
            `the campaign holds it ${claim.state} (it may send it again), but Tango holds it COMPLETE ${where}`,
          ),
        );
      // 'submitted': Tango's word is still awaited; anything it holds agrees.
      break;
  }
  return found;
}

// ----- Store keys of a reconcile run (campaign id and run id only: nothing personal) -----

/** A reconcile run's id: `<UTC stamp>-<random>` from the client; keys and workflow ids carry it. */
export const RECONCILE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
