// Store keys of the order books and the small per-order records beside them. Built from campaign id,
// chunk, step and round only (nothing personal), like src/store/keys.ts. Pure and sandbox-safe.
import { campaignPrefix, orderRoundPrefix } from '../store/keys.ts';

const pad = (value: number, width: number) => String(value).padStart(width, '0');

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
