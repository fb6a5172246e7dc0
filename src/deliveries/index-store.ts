// The deliveries index: per Tango account, which recipients got which reward and amount, when and from
// which campaign, kept in the claim-check store as keyed hashes (never contacts in clear). Written once
// per campaign from Tango's own record (delivered = a COMPLETE line item), read by the repeat-recipient
// guard and the spend limits. Partitioned by hash prefix so that neither writing nor checking holds
// the whole index in memory:
//
//   deliveries/key.json                                        fingerprint of the HMAC key
//   deliveries/<account>/p<xx>/<yyyymmdd>-<campaignId>.jsonl   {"h": hash, "d": date} per delivered item
//   deliveries/<account>/spend/<period>/<campaignId>.json       the campaign's delivered amount in a period
//   deliveries/<account>/campaigns/<campaignId>.json            written last: the campaign is recorded
import { z } from 'zod';
import type { LineItemRequest } from '../tango/schemas.ts';
import { getJson, putJson, putJsonLines, readJsonLines } from '../store/json.ts';
import { type CampaignStore, StoreError } from '../store/store.ts';
import { accountTag, amountCents, deliveryHash, keyFingerprint } from './recipient.ts';
import { SPEND_PERIODS, type SpendPeriod, periodId } from './spend-limits.ts';

// Partitions are the hashes' first two hex digits: 256 of them, so 10M entries make ~40k a partition.
/** Entries one pass holds in memory, at most (about 100 bytes each). */
export const DEFAULT_PASS_SIZE = 200_000;

export class DeliveriesKeyMismatchError extends StoreError {
  override readonly name = 'DeliveriesKeyMismatchError';
  constructor(location: string) {
    super(
      `The deliveries index in ${location} was written with another DELIVERIES_INDEX_KEY: ` +
        'give this process the same key as the workers (with another key no repeat could ever be found)',
    );
  }
}

/** One input item whose recipient the index already holds for the same reward and amount. */
export interface Repeat {
  /** 0-based position among the campaign's items. */
  position: number;
  externalRefLineItemID: string;
  /** The earlier campaign (the latest one, when several) and when it delivered. */
  earlierCampaignId: string;
  deliveredAt: string;
}

const entrySchema = z.object({ h: z.string(), d: z.string() });
const recordSchema = z.object({
  campaignId: z.string(),
  recordedAt: z.string(),
  items: z.number(),
  amount: z.number(),
});
export type RecordedCampaign = z.infer<typeof recordSchema>;
const pendingSchema = z.object({ recordedAt: z.string() });
const spendSchema = z.object({ amount: z.number(), items: z.number() });

export interface DeliveriesIndexOptions {
  now?: () => number;
  passSize?: number;
  /** Called every few thousand entries read (an activity heartbeats). */
  heartbeat?: () => void;
}
const HEARTBEAT_EVERY = 5000;

function partitionOf(hash: string): number {
  return Number.parseInt(hash.slice(0, 2), 16);
}
const hex2 = (partition: number) => partition.toString(16).padStart(2, '0');
const compactDate = (iso: string) => iso.slice(0, 10).replace(/-/g, '');

export class DeliveriesIndex {
  private readonly now: () => number;
  private readonly passSize: number;
  private readonly heartbeat: () => void;
  private keyChecked = false;
  private seen = 0;

  constructor(
    private readonly store: CampaignStore,
    private readonly key: Buffer,
    options: DeliveriesIndexOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.passSize = options.passSize ?? DEFAULT_PASS_SIZE;
    this.heartbeat = options.heartbeat ?? (() => undefined);
  }

  private tick(): void {
    this.seen += 1;
    if (this.seen % HEARTBEAT_EVERY === 0) this.heartbeat();
  }

  private root(accountIdentifier: string): string {
    return `deliveries/${accountTag(this.key, accountIdentifier)}/`;
  }

  /**
   * The first writer records the key's fingerprint; everyone after must hold the same key. Readers
   * write nothing: false when the index has never been written (there is nothing to find).
   */
  async assertKey(options: { write: boolean } = { write: true }): Promise<boolean> {
    if (this.keyChecked) return true;
    const fingerprint = keyFingerprint(this.key);
    const key = 'deliveries/key.json';
    if (options.write) await this.store.createIfAbsent(key, JSON.stringify({ fingerprint }));
    else if (!(await this.store.exists(key))) return false;
    const stored = await getJson(this.store, key, z.object({ fingerprint: z.string() }));
    if (stored.fingerprint !== fingerprint) throw new DeliveriesKeyMismatchError(this.store.location);
    this.keyChecked = true;
    return true;
  }

  /** The campaign's record, when its deliveries are in the index. */
  async recorded(accountIdentifier: string, campaignId: string): Promise<RecordedCampaign | undefined> {
    const key = `${this.root(accountIdentifier)}campaigns/${campaignId}.json`;
    if (!(await this.store.exists(key))) return undefined;
    return getJson(this.store, key, recordSchema);
  }

  /**
   * Writes a campaign's delivered items. `delivered` is called once per pass and must yield the same
   * items each time. Idempotent: a campaign already recorded is left as it is, and a retry after a
   * crash rewrites the same objects under the same date.
   */
  async recordCampaign(input: {
    campaignId: string;
    accountIdentifier: string;
    delivered: () => AsyncIterable<LineItemRequest>;
  }): Promise<RecordedCampaign> {
    await this.assertKey();
    const { campaignId, accountIdentifier } = input;
    const done = await this.recorded(accountIdentifier, campaignId);
    if (done) return done;
    const root = this.root(accountIdentifier);
    // The date is fixed by the first attempt, so a retry never files the campaign under two days.
    const pendingKey = `${root}campaigns/${campaignId}.pending.json`;
    await this.store.createIfAbsent(
      pendingKey,
      JSON.stringify({ recordedAt: new Date(this.now()).toISOString() }),
    );
    const { recordedAt } = await getJson(this.store, pendingKey, pendingSchema);

    let items = 0;
    let cents = 0;
    for await (const item of input.delivered()) {
      this.tick();
      // Every delivered item's money counts toward the spend limits; only items with a contact to
      // compare (not NONE or embedded links) get a hash entry.
      cents += amountCents(item.amount);
      if (deliveryHash(this.key, accountIdentifier, item) === undefined) continue;
      items += 1;
    }
    const passes = Math.max(1, Math.ceil(items / this.passSize));
    for (let pass = 0; pass < passes; pass += 1) {
      const byPartition = new Map<number, { h: string; d: string }[]>();
      for await (const item of input.delivered()) {
        this.tick();
        const hash = deliveryHash(this.key, accountIdentifier, item);
        if (hash === undefined) continue;
        const partition = partitionOf(hash);
        if (partition % passes !== pass) continue;
        let entries = byPartition.get(partition);
        if (!entries) byPartition.set(partition, (entries = []));
        entries.push({ h: hash, d: recordedAt });
      }
      for (const [partition, entries] of byPartition)
        await putJsonLines(
          this.store,
          `${root}p${hex2(partition)}/${compactDate(recordedAt)}-${campaignId}.jsonl`,
          entries,
        );
    }
    const amount = cents / 100;
    const at = Date.parse(recordedAt);
    for (const period of SPEND_PERIODS)
      await putJson(this.store, `${root}spend/${periodId(period, at)}/${campaignId}.json`, { amount, items });
    const record: RecordedCampaign = { campaignId, recordedAt, items, amount };
    await putJson(this.store, `${root}campaigns/${campaignId}.json`, record);
    await this.store.delete(pendingKey);
    return record;
  }

  /**
   * The campaign's items whose recipient got the same reward and amount from the same account within
   * `windowMs` (the campaign's own earlier record excluded), in input order. `items` is called once
   * per pass and must yield the same items, in the same order, each time.
   */
  async findRepeats(input: {
    campaignId: string;
    accountIdentifier: string;
    items: () => AsyncIterable<LineItemRequest>;
    windowMs: number;
  }): Promise<Repeat[]> {
    if (!(await this.assertKey({ write: false }))) return [];
    const { campaignId, accountIdentifier } = input;
    const root = this.root(accountIdentifier);
    const cutoff = new Date(this.now() - input.windowMs).toISOString();
    const cutoffDay = compactDate(cutoff);
    let count = 0;
    for await (const _ of input.items()) {
      count += 1;
      this.tick();
    }
    const passes = Math.max(1, Math.ceil(count / this.passSize));
    const found = new Map<number, Repeat>();
    for (let pass = 0; pass < passes; pass += 1) {
      // This pass's share of the campaign: hash -> the positions and ids that carry it.
      const wanted = new Map<string, { position: number; id: string }[]>();
      const partitions = new Set<number>();
      let position = -1;
      for await (const item of input.items()) {
        position += 1;
        this.tick();
        const hash = deliveryHash(this.key, accountIdentifier, item);
        if (hash === undefined || partitionOf(hash) % passes !== pass) continue;
        partitions.add(partitionOf(hash));
        let at = wanted.get(hash);
        if (!at) wanted.set(hash, (at = []));
        at.push({ position, id: item.externalRefLineItemID });
      }
      for (const partition of [...partitions].sort((a, b) => a - b)) {
        const prefix = `${root}p${hex2(partition)}/`;
        for await (const key of this.store.list(prefix)) {
          const name = key.slice(prefix.length, -'.jsonl'.length);
          const day = name.slice(0, 8);
          const earlier = name.slice(9);
          // Older than the window as a whole: not read at all.
          if (day < cutoffDay || earlier === campaignId) continue;
          for await (const row of readJsonLines(this.store, key)) {
            this.tick();
            const entry = entrySchema.parse(row);
            if (entry.d < cutoff) continue;
            for (const { position: at, id } of wanted.get(entry.h) ?? []) {
              const known = found.get(at);
              if (!known || known.deliveredAt < entry.d)
                found.set(at, {
                  position: at,
                  externalRefLineItemID: id,
                  earlierCampaignId: earlier,
                  deliveredAt: entry.d,
                });
            }
          }
        }
      }
    }
    return [...found.values()].sort((a, b) => a.position - b.position);
  }

  /** What the account's recorded campaigns delivered in the period that holds `at` (one campaign left out). */
  async spent(input: {
    accountIdentifier: string;
    period: SpendPeriod;
    at?: number;
    exceptCampaignId?: string;
  }) {
    const prefix = `${this.root(input.accountIdentifier)}spend/${periodId(input.period, input.at ?? this.now())}/`;
    let cents = 0;
    for await (const key of this.store.list(prefix)) {
      if (key === `${prefix}${input.exceptCampaignId}.json`) continue;
      cents += amountCents((await getJson(this.store, key, spendSchema)).amount);
    }
    return cents / 100;
  }
}
