// Staging: validate a campaign's line items once, store them, and write each order's first book.
// After this activity the workflow only handles keys and counts (ARCHITECTURE invariant 4).
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { LineItemValidator, checkLineItem } from '../campaign/line-item.ts';
import { newEntry } from '../campaign/order-book.ts';
import { campaignDefinitionKey, campaignItemsKey, orderBookKey, stagingErrorsKey } from '../store/keys.ts';
import { groupIntoChunks } from '../campaign/chunking.ts';
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

/** JSON with object keys sorted, so that equal items always give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What one pass over the items saw: their count, total and a SHA-256 over each validated item's
 * canonical JSON, in order. The pass that writes must see exactly what the pass that checked saw.
 */
class ItemsDigest {
  private readonly hash = createHash('sha256');
  count = 0;
  totalCents = 0;
  add(item: LineItemRequest): void {
    this.hash.update(canonicalJson(item)).update('\n');
    this.count += 1;
    this.totalCents += Math.round(item.amount * 100);
  }
  digest(): string {
    return `${this.count}:${this.totalCents}:${this.hash.digest('hex')}`;
  }
}

function inputChanged(): ApplicationFailure {
  return ApplicationFailure.create({
    type: failureTypes.invalidInput,
    message: "the campaign's input changed while it was being staged; nothing was sent",
    nonRetryable: true,
  });
}

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
    // Every later step reads the definition back with this schema: what it refuses (a malformed
    // sender email) must fail the campaign here, once, not every retry of every later activity.
    const checkedDefinition = campaignDefinitionSchema.safeParse(definition);
    if (!checkedDefinition.success)
      throw ApplicationFailure.create({
        type: failureTypes.invalidInput,
        message: `the campaign's settings are invalid, nothing was sent: ${checkedDefinition.error.issues
          .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
          .join('; ')}`,
        nonRetryable: true,
      });
    const problems: StagingProblem[] = [];
    const validator = new LineItemValidator('item');
    const checkedPass = new ItemsDigest();
    let position = 0;
    for await (const raw of rawItems(store, input.items)) {
      position += 1;
      if (position % 2000 === 0) Context.current().heartbeat({ validated: position });
      const checked = validator.check(raw, position);
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
      checkedPass.add(checked.item);
    }
    const { count, totalCents } = checkedPass;
    const checkedDigest = checkedPass.digest();
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
    // Second pass, streaming: a million items are never held in memory at once. It must prove it saw
    // the items the first pass checked (uniqueness, total for the approval gate), or nothing is staged:
    // a changed item aborts the write of items.jsonl, so no book is written from it.
    const itemsKey = campaignItemsKey(campaignId);
    const writtenPass = new ItemsDigest();
    let changed = false;
    const sameItems = async function* () {
      for await (const raw of rawItems(store, input.items)) {
        const checked = checkLineItem(raw);
        if (!checked.ok) {
          changed = true;
          throw inputChanged();
        }
        writtenPass.add(checked.item);
        if (writtenPass.count % 2000 === 0) Context.current().heartbeat({ verified: writtenPass.count });
        yield checked.item;
      }
      if (writtenPass.digest() !== checkedDigest) {
        changed = true;
        throw inputChanged();
      }
    };
    if (!('storeKey' in input.items && input.items.storeKey === itemsKey)) {
      try {
        await putJsonLines(store, itemsKey, sameItems());
      } catch (error) {
        // The store may wrap what the source threw (an S3 upload does): the flag says what happened.
        if (changed) throw inputChanged();
        throw error;
      }
    } else {
      for await (const _ of sameItems()) void _;
    }
    let chunk = 0;
    for await (const batch of groupIntoChunks(
      readJsonLines(store, itemsKey, lineItemRequestSchema),
      chunkSize,
    )) {
      Context.current().heartbeat({ staged: chunk });
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
