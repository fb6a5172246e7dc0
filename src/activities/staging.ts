// Staging: validate a campaign's line items once, store them, and write each order's first book.
// After this activity the workflow only handles keys and counts (ARCHITECTURE invariant 4).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { campaignDefinitionKey, orderBookKey, stagingErrorsKey } from '../campaign/book-keys.ts';
import { checkLineItem } from '../campaign/line-item.ts';
import { newEntry } from '../campaign/order-book.ts';
import { campaignItemsKey } from '../store/keys.ts';
import { getJson, putJson, putJsonLines, readJsonLines } from '../store/json.ts';
import type { CampaignStore } from '../store/store.ts';
import { lineItemRequestSchema, senderSchema, type LineItemRequest } from '../tango/schemas.ts';
import { failureTypes } from './errors.ts';

export const campaignDefinitionSchema = z.object({
  campaignId: z.string(),
  customerIdentifier: z.string(),
  accountIdentifier: z.string(),
  campaign: z.string().optional(),
  purchaseOrderNumber: z.string().optional(),
  notes: z.string().optional(),
  sender: senderSchema.optional(),
  autoCorrect: z.boolean(),
  utidFallbacks: z.record(z.string(), z.string()),
});
export type CampaignDefinition = z.infer<typeof campaignDefinitionSchema>;

export async function loadCampaignDefinition(
  store: CampaignStore,
  campaignId: string,
): Promise<CampaignDefinition> {
  return getJson(store, campaignDefinitionKey(campaignId), campaignDefinitionSchema);
}

export interface StageInput {
  definition: CampaignDefinition;
  items: { storeKey: string } | { inline: unknown[] };
  chunkSize: number;
}

export interface StageResult {
  items: number;
  chunks: number;
  totalAmount: number;
  itemsKey: string;
}

export interface StagingProblem {
  /** 1-based position of the item in the input. */
  item: number;
  externalRefLineItemID?: string;
  field: string;
  message: string;
}

const MAX_PROBLEMS_IN_MESSAGE = 20;

async function* rawItems(store: CampaignStore, items: StageInput['items']): AsyncIterable<unknown> {
  if ('inline' in items) yield* items.inline;
  else yield* readJsonLines(store, items.storeKey);
}

/**
 * Validates every item (Tango's request rules, unique externalRefLineItemID), then stores the items
 * and one book per order. Any invalid item fails the campaign before anything is sent, with every
 * problem listed in the store and the first ones in the failure message.
 */
export function createStagingActivities(store: CampaignStore) {
  async function stageCampaign(input: StageInput): Promise<StageResult> {
    const { definition, chunkSize } = input;
    const campaignId = definition.campaignId;
    const problems: StagingProblem[] = [];
    const seen = new Set<string>();
    let count = 0;
    let position = 0;
    let totalCents = 0;
    for await (const raw of rawItems(store, input.items)) {
      position += 1;
      if (position % 2000 === 0) Context.current().heartbeat({ validated: position });
      const checked = checkLineItem(raw);
      if (!checked.ok) {
        const id = (raw as { externalRefLineItemID?: unknown } | null)?.externalRefLineItemID;
        for (const problem of checked.problems) {
          problems.push({
            item: position,
            ...(typeof id === 'string' ? { externalRefLineItemID: id } : {}),
            field: problem.field,
            message: problem.message,
          });
        }
        continue;
      }
      const item = checked.item;
      if (seen.has(item.externalRefLineItemID)) {
        problems.push({
          item: position,
          externalRefLineItemID: item.externalRefLineItemID,
          field: 'externalRefLineItemID',
          message: 'duplicate externalRefLineItemID: each line item needs its own id',
        });
        continue;
      }
      seen.add(item.externalRefLineItemID);
      totalCents += Math.round(item.amount * 100);
      count += 1;
    }
    if (problems.length > 0) {
      await putJsonLines(store, stagingErrorsKey(campaignId), problems);
      const shown = problems
        .slice(0, MAX_PROBLEMS_IN_MESSAGE)
        .map((problem) => `item ${problem.item} ${problem.field}: ${problem.message}`)
        .join('; ');
      throw ApplicationFailure.create({
        type: failureTypes.invalidInput,
        message:
          `${problems.length} problem(s) in the campaign's line items, nothing was sent: ${shown}` +
          (problems.length > MAX_PROBLEMS_IN_MESSAGE
            ? ` (all listed in ${stagingErrorsKey(campaignId)})`
            : ''),
        details: [{ problems: problems.slice(0, 100), problemsKey: stagingErrorsKey(campaignId) }],
        nonRetryable: true,
      });
    }
    if (count === 0) {
      throw ApplicationFailure.create({
        type: failureTypes.invalidInput,
        message: 'the campaign has no line items',
        nonRetryable: true,
      });
    }
    await putJson(store, campaignDefinitionKey(campaignId), definition);
    // Second pass, streaming: a million items are never held in memory at once.
    const itemsKey = campaignItemsKey(campaignId);
    const validItems = async function* () {
      for await (const raw of rawItems(store, input.items)) yield lineItemRequestSchema.parse(raw);
    };
    if (!('storeKey' in input.items && input.items.storeKey === itemsKey)) {
      await putJsonLines(store, itemsKey, validItems());
    }
    let chunk = 0;
    let batch: LineItemRequest[] = [];
    for await (const item of readJsonLines(store, itemsKey, lineItemRequestSchema)) {
      batch.push(item);
      if (batch.length === chunkSize) {
        Context.current().heartbeat({ staged: chunk });
        await putJsonLines(store, orderBookKey(campaignId, chunk, 0), batch.map(newEntry));
        chunk += 1;
        batch = [];
      }
    }
    if (batch.length > 0) {
      await putJsonLines(store, orderBookKey(campaignId, chunk, 0), batch.map(newEntry));
      chunk += 1;
    }
    return { items: count, chunks: chunk, totalAmount: totalCents / 100, itemsKey };
  }

  /** Replaces the order metadata (campaign, PO number, notes) that later submissions carry. */
  async function saveCampaignMetadata(input: {
    campaignId: string;
    patch: { campaign?: string; purchaseOrderNumber?: string; notes?: string };
  }): Promise<void> {
    const definition = await loadCampaignDefinition(store, input.campaignId);
    const defined = Object.fromEntries(
      Object.entries(input.patch).filter(([, value]) => value !== undefined),
    );
    await putJson(store, campaignDefinitionKey(input.campaignId), { ...definition, ...defined });
  }

  return { stageCampaign, saveCampaignMetadata };
}
