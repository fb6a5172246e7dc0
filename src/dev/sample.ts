// The sample campaign of the local stack: line items aimed at the simulator's failure rules, so one
// run shows every path a real campaign takes (delivered, resubmitted, fixed automatically, given up).
import { campaignPrefix } from '../store/keys.ts';
import type { CampaignStartInput } from '../workflows/types.ts';

export type SampleKind = 'ok' | 'transient' | 'blocked' | 'bounce' | 'over-max' | 'wrong-method';

// Out of every 100 items: 4 transient (PROCESSING_ERROR the first time, delivered next round),
// 3 U000002 by EMAIL (DELIVERY_METHOD_NOT_SUPPORTED, fixed by the utid fallback), 1 blocked
// (RECIPIENT_BLOCKED, permanent), 1 bounce (INVALID_EMAIL at processing) and 1 over the catalog's
// maximum (AMOUNT_OUT_OF_RANGE at submission): those two need a person, so the sample gives them up.
const PATTERN: SampleKind[] = [
  'transient',
  'transient',
  'transient',
  'transient',
  'wrong-method',
  'wrong-method',
  'wrong-method',
  'blocked',
  'bounce',
  'over-max',
];

/** Which kind item `index` is (the failing kinds lead each block of 100). */
export function sampleKind(index: number): SampleKind {
  return PATTERN[index % 100] ?? 'ok';
}

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Frances', 'Donald', 'Margaret'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Dijkstra', 'Allen', 'Knuth', 'Hamilton'];

/** `count` line items for the simulator's default catalog and account. */
export function sampleLineItems(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => {
    const kind = sampleKind(index);
    const id = `sample-${String(index + 1).padStart(6, '0')}`;
    const domain =
      kind === 'transient'
        ? 'transient.test'
        : kind === 'blocked'
          ? 'blocked.test'
          : kind === 'bounce'
            ? 'bounce.test'
            : 'example.test';
    return {
      externalRefLineItemID: id,
      recipient: {
        firstName: FIRST_NAMES[index % FIRST_NAMES.length],
        lastName: LAST_NAMES[Math.floor(index / FIRST_NAMES.length) % LAST_NAMES.length],
        email: `recipient.${index + 1}@${domain}`,
      },
      utid: kind === 'wrong-method' ? 'U000002' : 'U000001',
      // U000001 takes 1-500 USD.
      amount: kind === 'over-max' ? 750 : 5 + (index % 20) * 5,
      deliveryMethod: 'EMAIL',
    };
  });
}

/** Where the dev stack puts the sample's input items (JSON Lines) in the store. */
export function sampleInputKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}input.jsonl`;
}

/** A new campaign id for each run: sample-<UTC date and time>-<random>. */
export function newSampleCampaignId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `sample-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

export interface SampleCampaignOptions {
  campaignId: string;
  customerIdentifier: string;
  accountIdentifier: string;
  /** How long items needing a person wait before they are given up (short, so the sample ends). */
  correctionWindow: string;
}

/** The campaign workflow input of the sample; only automatic corrections happen. */
export function sampleCampaignInput(options: SampleCampaignOptions): CampaignStartInput {
  return {
    campaignId: options.campaignId,
    customerIdentifier: options.customerIdentifier,
    accountIdentifier: options.accountIdentifier,
    campaign: 'tango-campaigns sample',
    notes: 'Local sample campaign (npm start)',
    items: { storeKey: sampleInputKey(options.campaignId) },
    options: {
      chunkSize: 500,
      maxConcurrentOrders: 8,
      // The webhook normally wakes the orders; polling is the fallback.
      pollInitial: '5s',
      pollMax: '20s',
      resubmitDelay: '2s',
      correctionWindow: options.correctionWindow,
      autoCorrect: true,
      utidFallbacks: { U000002: 'U000001' },
      // Every `npm start` pays the same simulated recipients again: not a mistake to refuse.
      allowRepeats: true,
    },
    requestedBy: 'tango-campaigns dev',
  };
}
