// The deliveries index from the workflows' side (src/deliveries/index-store.ts): record a campaign's
// deliveries once its report is written, look for repeat recipients before anything is sent, and
// count the spend limits before the first order and again before each one after it.
import { Context } from '@temporalio/activity';
import { orderBookKey, orderFinalBookKey } from '../store/keys.ts';
import type { BookEntry } from '../campaign/order-book.ts';
import { DeliveriesIndex, type Repeat } from '../deliveries/index-store.ts';
import {
  type SpendLimits,
  type SpendPeriod,
  SPEND_PERIODS,
  limitsForAccount,
} from '../deliveries/spend-limits.ts';
import { putJsonLines, readJsonLines } from '../store/json.ts';
import { campaignItemsKey, campaignPrefix } from '../store/keys.ts';
import type { CampaignStore } from '../store/store.ts';
import type { LineItemRequest } from '../tango/schemas.ts';
import { durationMs } from '../workflows/duration.ts';
import { latestBookKey } from './report.ts';

export interface DeliveriesDeps {
  /** The HMAC key (DELIVERIES_INDEX_KEY); undefined: no index (nothing recorded, checked or limited). */
  key?: Buffer;
  spendLimits?: SpendLimits;
  now?: () => number;
}

/** Repeats an activity result names (the full list is in the store). */
const REPEATS_LISTED = 20;
export const DEFAULT_REPEAT_WINDOW = '30d';

export interface RepeatCheck {
  /** False when the worker keeps no deliveries index. */
  checked: boolean;
  total: number;
  first: Repeat[];
  /** The full list (JSON Lines of Repeat), when there are repeats. */
  listKey?: string;
  window: string;
}

export interface SpendLimitUse {
  period: SpendPeriod;
  limit: number;
  /** Delivered by the account's other recorded campaigns in the current period. */
  used: number;
  /** used + this campaign's total. */
  withCampaign: number;
}

export interface SpendCheck {
  /** False: the account has no limits (the workflow stops asking). */
  configured: boolean;
  usage: SpendLimitUse[];
  /** The first limit the campaign would cross. */
  exceeded?: SpendLimitUse;
  /** For the status: how much of the (crossed, else the fullest) limit is used. */
  summary: string;
}

export function repeatsListKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}repeats.jsonl`;
}

/** "used 1500 of the week limit 2000 (75%); this campaign's 1000 would make 2500". */
export function describeSpend(use: SpendLimitUse, campaignTotal: number): string {
  const percent = Math.round((use.used / use.limit) * 100);
  return `used ${use.used} of the ${use.period} limit ${use.limit} (${percent}%); this campaign's ${campaignTotal} would make ${use.withCampaign}`;
}

// Delivered is what the book decided from Tango's own record (COMPLETE, or COMPLETED as some
// answers spell it): the book's rule, not a second one here.
const isComplete = (entry: BookEntry) => entry.state === 'delivered';

export function createDeliveriesActivities(store: CampaignStore, deps: DeliveriesDeps = {}) {
  const heartbeat = () => Context.current().heartbeat();
  const index = deps.key
    ? new DeliveriesIndex(store, deps.key, { heartbeat, ...(deps.now ? { now: deps.now } : {}) })
    : undefined;
  const limits = deps.spendLimits ?? { accounts: {} };

  /**
   * Files the campaign's delivered items (Tango's record: COMPLETE line items, from each order's final
   * book) in the index. Idempotent: a retried or repeated call finds the campaign recorded.
   */
  async function recordCampaignDeliveries(input: {
    campaignId: string;
    accountIdentifier: string;
    startedChunks: number;
  }): Promise<{ recorded: boolean; items: number; amount: number }> {
    if (!index) return { recorded: false, items: 0, amount: 0 };
    async function* delivered(): AsyncIterable<LineItemRequest> {
      for (let chunk = 0; chunk < input.startedChunks; chunk += 1) {
        const finalKey = orderFinalBookKey(input.campaignId, chunk);
        const key = (await store.exists(finalKey))
          ? finalKey
          : await latestBookKey(store, input.campaignId, chunk);
        if (!(await store.exists(key)) && key === orderBookKey(input.campaignId, chunk, 0)) continue;
        for await (const row of readJsonLines(store, key)) {
          const entry = row as BookEntry;
          if (isComplete(entry)) yield entry.item;
        }
        if (chunk % 100 === 99) Context.current().heartbeat(chunk);
      }
    }
    const record = await index.recordCampaign({
      campaignId: input.campaignId,
      accountIdentifier: input.accountIdentifier,
      delivered,
    });
    return { recorded: true, items: record.items, amount: record.amount };
  }

  /** The staged items whose recipient the account rewarded with the same utid and amount within the window. */
  async function checkRepeatRecipients(input: {
    campaignId: string;
    accountIdentifier: string;
    repeatWindow?: string | number;
  }): Promise<RepeatCheck> {
    const window = String(input.repeatWindow ?? DEFAULT_REPEAT_WINDOW);
    if (!index) return { checked: false, total: 0, first: [], window };
    const itemsKey = campaignItemsKey(input.campaignId);
    const repeats = await index.findRepeats({
      campaignId: input.campaignId,
      accountIdentifier: input.accountIdentifier,
      items: () => readJsonLines(store, itemsKey) as AsyncIterable<LineItemRequest>,
      windowMs: durationMs(input.repeatWindow ?? DEFAULT_REPEAT_WINDOW),
    });
    if (repeats.length === 0) return { checked: true, total: 0, first: [], window };
    const listKey = repeatsListKey(input.campaignId);
    await putJsonLines(store, listKey, repeats);
    return { checked: true, total: repeats.length, first: repeats.slice(0, REPEATS_LISTED), listKey, window };
  }

  /** How much of each of the account's limits is used, and the first one this campaign's total would cross. */
  async function checkSpendLimit(input: {
    campaignId: string;
    accountIdentifier: string;
    totalAmount: number;
  }): Promise<SpendCheck> {
    const accountLimits = limitsForAccount(limits, input.accountIdentifier);
    const periods = SPEND_PERIODS.filter((period) => accountLimits[period] !== undefined);
    if (!index || periods.length === 0) return { configured: false, usage: [], summary: 'no spend limits' };
    const usage: SpendLimitUse[] = [];
    for (const period of periods) {
      const used = await index.spent({
        accountIdentifier: input.accountIdentifier,
        period,
        exceptCampaignId: input.campaignId,
      });
      const withCampaign = Math.round((used + input.totalAmount) * 100) / 100;
      usage.push({ period, limit: accountLimits[period]!, used, withCampaign });
    }
    const exceeded = usage.find((use) => use.withCampaign > use.limit);
    const shown =
      exceeded ?? [...usage].sort((a, b) => b.withCampaign / b.limit - a.withCampaign / a.limit)[0]!;
    return {
      configured: true,
      usage,
      ...(exceeded ? { exceeded } : {}),
      summary: describeSpend(shown, input.totalAmount),
    };
  }

  return { recordCampaignDeliveries, checkRepeatRecipients, checkSpendLimit };
}
