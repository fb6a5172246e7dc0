// Staging a campaign's line items on the client side: every item checked by the one line-item
// validator; small lists travel inline in the workflow input, large ones are streamed into the store.
import { randomUUID } from 'node:crypto';
import { LineItemValidator } from '../campaign/line-item.ts';
import { putJsonLines } from '../store/json.ts';
import { campaignPrefix } from '../store/keys.ts';
import type { CampaignStore } from '../store/store.ts';
import type { LineItemRequest } from '../tango/schemas.ts';
import type { CampaignStartInput } from '../workflows/types.ts';
import { type InputIssue, InvalidInputError, requireStore } from './errors.ts';

/** Item lists up to this size travel inline in the workflow input; larger ones go to the store. */
export const MAX_INLINE_ITEMS = 100;

/**
 * Validates every item, then keeps small lists inline and streams large ones into the store (the
 * store write pulls items as it goes, so a million-item file is never held in memory).
 */
export async function stageItems(
  campaignId: string,
  source: Iterable<unknown> | AsyncIterable<unknown>,
  store: CampaignStore | undefined,
): Promise<{ items: CampaignStartInput['items']; count: number; key?: string }> {
  const issues: InputIssue[] = [];
  const validator = new LineItemValidator('item');
  let count = 0;
  const iterator = toAsyncIterator(source);
  /** The next valid item, or undefined at the end; invalid ones are recorded and skipped. */
  const next = async (): Promise<LineItemRequest | undefined> => {
    for (;;) {
      const step = await iterator.next();
      if (step.done) return undefined;
      count += 1;
      const position = count - 1;
      const checked = validator.check(step.value, position);
      if (!checked.ok) {
        for (const problem of checked.problems)
          if (issues.length < 1000)
            issues.push({ path: `items.${position}.${problem.field}`, message: problem.message });
        continue;
      }
      return checked.item;
    }
  };

  const head: LineItemRequest[] = [];
  let item: LineItemRequest | undefined;
  while (head.length <= MAX_INLINE_ITEMS && (item = await next()) !== undefined) head.push(item);
  let key: string | undefined;
  if (head.length > MAX_INLINE_ITEMS) {
    const target = requireStore(`a campaign of more than ${MAX_INLINE_ITEMS} items`, store);
    // An attempt-unique key: a retried start never overwrites what another attempt staged.
    const stagingKey = `${campaignPrefix(campaignId)}input/${Date.now()}-${randomUUID().slice(0, 8)}.jsonl`;
    key = stagingKey;
    async function* rows() {
      yield* head;
      for (let more = await next(); more !== undefined; more = await next()) yield more;
    }
    try {
      await putJsonLines(target, stagingKey, rows());
    } catch (error) {
      // The source failed (e.g. a malformed file): nothing half-written may stay behind.
      await target.delete(stagingKey).catch(() => undefined);
      throw error;
    }
  }
  if (count === 0)
    issues.push({ path: 'items', message: 'the campaign has no line items: add at least one' });
  if (issues.length > 0) {
    if (key && store) await store.delete(key).catch(() => undefined);
    throw new InvalidInputError('the line items', issues);
  }
  return key ? { items: { storeKey: key }, count, key } : { items: { inline: head }, count };
}

function toAsyncIterator<T>(source: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}
