// Operator input for a running campaign: corrections and skips are checked against the order books
// (each must name an item that is failed right now) and staged per order, all or nothing.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { operatorInputKey } from '../store/keys.ts';
import { mergeCorrection } from '../campaign/corrections.ts';
import type { BookEntry } from '../campaign/order-book.ts';
import { putJsonLines, readJsonLines } from '../store/json.ts';
import type { CampaignStore } from '../store/store.ts';
import type { LineItemCorrection } from '../workflows/corrections-input.ts';

export type OperatorPayload =
  | { kind: 'corrections'; corrections: LineItemCorrection[] }
  | { kind: 'skip'; externalRefLineItemIDs: string[]; reason: string };

export interface StageOperatorInput {
  campaignId: string;
  sequence: number;
  kind: 'corrections' | 'skip';
  payload: OperatorPayload;
  /** Orders that have failed or queued items, with their latest book. */
  orders: { chunk: number; bookKey: string }[];
}

export interface StagedOperatorInput {
  accepted: number;
  orders: { chunk: number; key: string; count: number }[];
  /**
   * What accepted corrections do to the money (corrections only): the change of the campaign's total,
   * whether any raises an amount or changes a reward (utid), and what the corrected items that do so
   * will cost when they are sent. The workflow re-runs its money controls on it.
   */
  money?: { amountDelta: number; raisesSpend: boolean; raisedItemsAmount: number };
}

const CORRECTABLE = new Set(['awaiting-correction', 'awaiting-funds']);
const SKIPPABLE = new Set(['awaiting-correction', 'awaiting-funds', 'queued']);
const MAX_PROBLEMS_SHOWN = 25;

export function createOperatorActivities(store: CampaignStore) {
  async function stageOperatorInput(input: StageOperatorInput): Promise<StagedOperatorInput> {
    const wanted = new Set(
      input.payload.kind === 'corrections'
        ? input.payload.corrections.map((correction) => correction.externalRefLineItemID)
        : input.payload.externalRefLineItemIDs,
    );
    // Where each named item is now: the latest book of every order that still has failures.
    const found = new Map<string, { chunk: number; entry: BookEntry }>();
    for (const order of input.orders) {
      if (!order.bookKey) continue;
      Context.current().heartbeat({ reading: order.chunk });
      for await (const row of readJsonLines(store, order.bookKey)) {
        const entry = row as BookEntry;
        if (wanted.has(entry.id)) found.set(entry.id, { chunk: order.chunk, entry });
      }
    }

    const problems: string[] = [];
    const perChunk = new Map<number, unknown[]>();
    const add = (chunk: number, row: unknown) => {
      const rows = perChunk.get(chunk) ?? [];
      rows.push(row);
      perChunk.set(chunk, rows);
    };
    let deltaCents = 0;
    let raisedCents = 0;
    let raisesSpend = false;
    if (input.payload.kind === 'corrections') {
      input.payload.corrections.forEach((correction, index) => {
        const id = correction.externalRefLineItemID;
        const place = found.get(id);
        if (!place || !CORRECTABLE.has(place.entry.state)) {
          problems.push(
            `correction ${index + 1} (${id}): ${place ? `the item is ${place.entry.state}, not failed` : 'no failed line item with this id in this campaign'}`,
          );
          return;
        }
        const merged = mergeCorrection(place.entry.item, correction);
        if (!merged.ok) {
          for (const problem of merged.problems)
            problems.push(`correction ${index + 1} (${id}) ${problem.field}: ${problem.message}`);
          return;
        }
        add(place.chunk, { id, item: merged.item });
        const before = Math.round(place.entry.item.amount * 100);
        const after = Math.round(merged.item.amount * 100);
        deltaCents += after - before;
        if (after > before || merged.item.utid !== place.entry.item.utid) {
          raisesSpend = true;
          raisedCents += after;
        }
      });
    } else {
      const { reason } = input.payload;
      for (const id of input.payload.externalRefLineItemIDs) {
        const place = found.get(id);
        if (!place || !SKIPPABLE.has(place.entry.state)) {
          problems.push(
            `${id}: ${place ? `the item is ${place.entry.state}; only failed or queued items can be skipped` : 'no failed line item with this id in this campaign'}`,
          );
          continue;
        }
        add(place.chunk, { id, reason });
      }
    }
    if (problems.length > 0) {
      throw ApplicationFailure.create({
        type: 'InvalidOperatorInput',
        message:
          `${problems.length} problem(s), nothing was changed: ${problems.slice(0, MAX_PROBLEMS_SHOWN).join('; ')}` +
          (problems.length > MAX_PROBLEMS_SHOWN ? ` (and ${problems.length - MAX_PROBLEMS_SHOWN} more)` : ''),
        details: [{ problems: problems.slice(0, 200) }],
        nonRetryable: true,
      });
    }
    const orders: StagedOperatorInput['orders'] = [];
    let accepted = 0;
    for (const [chunk, rows] of [...perChunk].sort(([a], [b]) => a - b)) {
      const key = operatorInputKey(input.campaignId, input.sequence, chunk);
      await putJsonLines(store, key, rows);
      orders.push({ chunk, key, count: rows.length });
      accepted += rows.length;
    }
    return {
      accepted,
      orders,
      ...(input.payload.kind === 'corrections'
        ? { money: { amountDelta: deltaCents / 100, raisesSpend, raisedItemsAmount: raisedCents / 100 } }
        : {}),
    };
  }

  return { stageOperatorInput };
}
