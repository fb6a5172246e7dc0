// The benchmark's item mix, the same for the baseline and the product: deliverable EMAIL rewards on
// the simulator's U000001, with one item in a hundred aimed at the transient rule (PROCESSING_ERROR the
// first time, delivered when resubmitted).
import type { LineItemRequest } from '../src/tango/schemas.ts';

/** Every hundredth item (index 0, 100, 200, ...) fails once with PROCESSING_ERROR. */
export const TRANSIENT_EVERY = 100;

export function benchItem(runTag: string, index: number): LineItemRequest {
  const transient = index % TRANSIENT_EVERY === 0;
  const id = `${runTag}-${String(index).padStart(7, '0')}`;
  return {
    externalRefLineItemID: id,
    recipient: {
      firstName: 'Bench',
      lastName: `Recipient ${index}`,
      email: `${id}@${transient ? 'transient.test' : 'example.test'}`,
    },
    utid: 'U000001',
    amount: 5,
    deliveryMethod: 'EMAIL',
  } as LineItemRequest;
}

/** Items generated on demand, so that a million of them never sit in memory at once. */
export function* benchItems(runTag: string, count: number): Generator<LineItemRequest> {
  for (let index = 0; index < count; index += 1) yield benchItem(runTag, index);
}

/** How many items of `count` the transient rule fails on their first submission. */
export function transientCount(count: number): number {
  return Math.ceil(count / TRANSIENT_EVERY);
}

/**
 * Whether item `index` is one of a share (0..1) of the items aimed at the transient rule, spread
 * evenly: 0.06 makes 6 items in every 100 fail PROCESSING_ERROR once, then deliver.
 */
export function isTransientAt(index: number, share: number): boolean {
  const basisPoints = Math.round(share * 10_000);
  return Math.floor(((index + 1) * basisPoints) / 10_000) > Math.floor((index * basisPoints) / 10_000);
}

/** The rate-limited benchmark's item: as benchItem, with a share of the items transient. */
export function sharedTransientItem(runTag: string, index: number, share: number): LineItemRequest {
  const id = `${runTag}-${String(index).padStart(7, '0')}`;
  return {
    externalRefLineItemID: id,
    recipient: {
      firstName: 'Bench',
      lastName: `Recipient ${index}`,
      email: `${id}@${isTransientAt(index, share) ? 'transient.test' : 'example.test'}`,
    },
    utid: 'U000001',
    amount: 5,
    deliveryMethod: 'EMAIL',
  } as LineItemRequest;
}

/** How many of `count` items isTransientAt() picks for `share`. */
export function transientShareCount(count: number, share: number): number {
  let transient = 0;
  for (let index = 0; index < count; index += 1) if (isTransientAt(index, share)) transient += 1;
  return transient;
}
