// Store keys for a campaign's objects, built from the campaign id, chunk and round only: keys show up in
// workflow history and logs, so nothing personal may go into them. Pure and sandbox-safe: workflows
// import this module to pass claim-check references to activities.

import { assertValidCampaignId } from '../campaign/ids.ts';

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

/** The line items sent in one order round (JSON Lines). */
export function orderRoundItemsKey(campaignId: string, chunk: number, round: number): string {
  return `${orderRoundPrefix(campaignId, chunk, round)}items.jsonl`;
}

/** Prefix of the failed-item pages fetched from Tango for one order round. */
export function failedItemsPrefix(campaignId: string, chunk: number, round: number): string {
  return `${orderRoundPrefix(campaignId, chunk, round)}failed/`;
}

/** One page of failed line items (JSON Lines), numbered from 0 in the order Tango returned them. */
export function failedItemsPageKey(campaignId: string, chunk: number, round: number, page: number): string {
  assertIndex('page', page);
  return `${failedItemsPrefix(campaignId, chunk, round)}page-${pad(page, 6)}.jsonl`;
}

/**
 * The corrections (automatic and operator) to the items that failed in `round`, to be sent in the
 * next round (JSON Lines of line items).
 */
export function correctionsKey(campaignId: string, chunk: number, round: number): string {
  return `${orderRoundPrefix(campaignId, chunk, round)}corrections.jsonl`;
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
