// The repeat-recipient guard on the client's side: before a campaign is started, its items are looked
// up in the deliveries index, so a campaign that repeats recipients is refused with nothing sent and
// nothing left running (the campaign workflow checks again after staging, for starts that skip this).
import { checkLineItem } from '../campaign/line-item.ts';
import { DeliveriesIndex, type Repeat } from '../deliveries/index-store.ts';
import { loadDeliveriesIndexKey } from '../deliveries/key.ts';
import { readJsonLines } from '../store/json.ts';
import type { CampaignStore } from '../store/store.ts';
import { isLoopbackUrl } from '../tango/config.ts';
import type { LineItemRequest } from '../tango/schemas.ts';
import { durationMs } from '../workflows/duration.ts';
import type { CampaignStartInput } from '../workflows/types.ts';

export type { Repeat } from '../deliveries/index-store.ts';

export const DEFAULT_REPEAT_WINDOW = '30d';
/** Repeats a refusal carries, at most (the count covers all). */
export const MAX_REPEATS_LISTED = 1000;

/**
 * The client's key: DELIVERIES_INDEX_KEY, or the development key when Tango is the local simulator
 * (TANGO_BASE_URL unset or on loopback), as the worker decides. Undefined: the client cannot check.
 */
export function clientDeliveriesIndexKey(env: Record<string, string | undefined>): Buffer | undefined {
  const tango = env.TANGO_BASE_URL?.trim();
  return loadDeliveriesIndexKey(env, !tango || isLoopbackUrl(tango));
}

async function* startItems(
  store: CampaignStore,
  items: CampaignStartInput['items'],
): AsyncIterable<LineItemRequest> {
  if ('inline' in items) {
    // Invalid items are the workflow's to refuse; only valid ones can be compared.
    for (const raw of items.inline) {
      const checked = checkLineItem(raw);
      if (checked.ok) yield checked.item;
    }
    return;
  }
  for await (const row of readJsonLines(store, items.storeKey)) yield row as LineItemRequest;
}

/** The items an earlier campaign of the account delivered to the same recipient, reward and amount. */
export async function findRepeatRecipients(input: {
  store: CampaignStore;
  key: Buffer;
  campaignId: string;
  accountIdentifier: string;
  items: CampaignStartInput['items'];
  repeatWindow?: string | number;
}): Promise<{ total: number; repeats: Repeat[]; window: string }> {
  const window = String(input.repeatWindow ?? DEFAULT_REPEAT_WINDOW);
  const index = new DeliveriesIndex(input.store, input.key);
  const repeats = await index.findRepeats({
    campaignId: input.campaignId,
    accountIdentifier: input.accountIdentifier,
    items: () => startItems(input.store, input.items),
    windowMs: durationMs(input.repeatWindow ?? DEFAULT_REPEAT_WINDOW),
  });
  return { total: repeats.length, repeats: repeats.slice(0, MAX_REPEATS_LISTED), window };
}

/** "item 3 (id-3): rewarded by campaign weekly-1 on 2026-11-30". */
export function describeRepeat(repeat: Repeat, where = `item ${repeat.position}`): string {
  return `${where} (${repeat.externalRefLineItemID}): rewarded by campaign ${repeat.earlierCampaignId} on ${repeat.deliveredAt.slice(0, 10)}`;
}
