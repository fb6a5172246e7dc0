// How many of an order's (or a campaign's) items are in each state: what progress signals, queries
// and results carry instead of the items. Pure and sandbox-safe.
import { type FailureClass, zeroPerFailureClass } from './classification.ts';

/** What the order's store-backed book holds, by state. */
export interface ItemCounts {
  total: number;
  queued: number;
  submitted: number;
  /** Held by Tango for a future delivery date (re-read until it turns). */
  scheduled: number;
  delivered: number;
  awaitingCorrection: number;
  awaitingFunds: number;
  givenUp: number;
  cancelled: number;
  corrected: number;
  autoFixed: number;
  /** Failures seen so far by class (an item that failed twice counts twice). */
  failures: Record<FailureClass, number>;
  /** Total amount of the items waiting for funds. */
  awaitingFundsAmount: number;
}

export function emptyCounts(): ItemCounts {
  return {
    total: 0,
    queued: 0,
    submitted: 0,
    scheduled: 0,
    delivered: 0,
    awaitingCorrection: 0,
    awaitingFunds: 0,
    givenUp: 0,
    cancelled: 0,
    corrected: 0,
    autoFixed: 0,
    failures: zeroPerFailureClass(),
    awaitingFundsAmount: 0,
  };
}
