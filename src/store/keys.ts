// Every store key the product uses, built from the campaign id, chunk, step and round only: keys show
// up in workflow history and logs, so nothing personal may go into them. Pure and sandbox-safe:
// workflows import this module to pass claim-check references to activities.

import { assertValidCampaignId } from '../campaign/ids.ts';
import { RECONCILE_ID_PATTERN } from '../campaign/reconcile.ts';

export { InvalidCampaignIdError, assertValidCampaignId, isValidCampaignId } from '../campaign/ids.ts';

function assertIndex(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${what} must be a non-negative integer, got ${String(value)}`);
}

// Zero-padded so that listing a prefix returns chunks, rounds and pages in numeric order.
function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Every object of a campaign sits under this prefix (ends with "/"). */
export function campaignPrefix(campaignId: string): string {
  assertValidCampaignId(campaignId);
  return `campaigns/${campaignId}/`;
}

/** The campaign's validated input line items, one JSON line item per line, in input order. */
export function campaignItemsKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}items.jsonl`;
}

/** Everything stored for one order round (ends with "/"). */
export function orderRoundPrefix(campaignId: string, chunk: number, round: number): string {
  assertIndex('chunk', chunk);
  assertIndex('round', round);
  return `${campaignPrefix(campaignId)}orders/${pad(chunk, 6)}/round-${pad(round, 3)}/`;
}

export function reportCsvKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}report.csv`;
}

export function reportJsonKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}report.json`;
}

/**
 * The campaign id's entry in the registry of every id ever used. Outside `campaigns/<id>/` on purpose:
 * deleting a campaign's own objects never frees its id.
 */
export function campaignRegistryKey(campaignId: string): string {
  assertValidCampaignId(campaignId);
  return `registry/campaigns/${campaignId}.json`;
}

// The order books and the small per-order records beside them.

export function orderPrefix(campaignId: string, chunk: number): string {
  return `${campaignPrefix(campaignId)}orders/${pad(chunk, 6)}/`;
}

/** Version `step` of an order's book (JSON Lines of BookEntry). Step 0 is written by staging. */
export function orderBookKey(campaignId: string, chunk: number, step: number): string {
  return `${orderPrefix(campaignId, chunk)}book-${pad(step, 4)}.jsonl`;
}

/** The book an order ended with: what the final report reads. */
export function orderFinalBookKey(campaignId: string, chunk: number): string {
  return `${orderPrefix(campaignId, chunk)}final.jsonl`;
}

/** Items Tango rejected in a round's POST response (JSON: { [externalRefLineItemID]: ItemError[] }). */
export function roundRejectedKey(campaignId: string, chunk: number, round: number): string {
  return `${orderRoundPrefix(campaignId, chunk, round)}rejected.json`;
}

/**
 * One page of a round's line items as Tango returned them (JSON: the order's status and errors, and
 * the page's line items), numbered from 0: settling resumes after the last page it stored.
 */
export function roundLineItemsPageKey(
  campaignId: string,
  chunk: number,
  round: number,
  page: number,
): string {
  return `${orderRoundPrefix(campaignId, chunk, round)}line-items/page-${pad(page, 6)}.json`;
}

/** How far settling the round got (JSON): pages read, their cursor, ids looked up and found. */
export function roundSettleProgressKey(campaignId: string, chunk: number, round: number): string {
  return `${orderRoundPrefix(campaignId, chunk, round)}settle-progress.json`;
}

/**
 * The round's record of its POST (JSON): when it was first attempted, whether Tango acknowledged it
 * (any 2xx), what it answered, and a collision when the order under this externalRefID is not ours.
 */
export function roundOrderKey(campaignId: string, chunk: number, round: number): string {
  return `${orderRoundPrefix(campaignId, chunk, round)}order.json`;
}

/** The campaign's definition and current metadata (customer, account, campaign, PO, notes, sender). */
export function campaignDefinitionKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}campaign.json`;
}

/** Problems found while staging the input (JSON Lines of { row, field, message }). */
export function stagingErrorsKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}staging-errors.jsonl`;
}

/** Operator input (corrections or skips) number `sequence`, for one order (JSON Lines). */
export function operatorInputKey(campaignId: string, sequence: number, chunk: number): string {
  return `${campaignPrefix(campaignId)}operator/${pad(sequence, 5)}/${pad(chunk, 6)}.jsonl`;
}

// ----- Reconciling a campaign against Tango (tango-campaigns reconcile) -----

export function reconcilePrefix(campaignId: string, reconcileId: string): string {
  if (!RECONCILE_ID_PATTERN.test(reconcileId))
    throw new RangeError(`reconcile id "${reconcileId}" must match ${RECONCILE_ID_PATTERN}`);
  return `${campaignPrefix(campaignId)}reconcile/${reconcileId}/`;
}

/** The orders to read (JSON: ReconcilePlan). */
export function reconcilePlanKey(campaignId: string, reconcileId: string): string {
  return `${reconcilePrefix(campaignId, reconcileId)}plan.json`;
}

/** One page of one order as Tango returned it, reduced to the fields compared (JSON). */
export function reconcilePageKey(
  campaignId: string,
  reconcileId: string,
  order: number,
  page: number,
): string {
  return `${reconcilePrefix(campaignId, reconcileId)}orders/${pad(order, 6)}/page-${pad(page, 6)}.json`;
}

/** The full list of disagreements (JSON: ReconcileOutcome). */
export function reconcileResultKey(campaignId: string, reconcileId: string): string {
  return `${reconcilePrefix(campaignId, reconcileId)}result.json`;
}
