// The fulfilment ledger: one entry per line item the simulator delivered or accepted for scheduled
// delivery, and the report of anything rewarded twice. The simulator never prevents a double
// delivery (Tango documents no such guard); the ledger is how tests prove that the product itself
// never rewards anyone twice. An entry changes state when its scheduled date comes (scheduled ->
// fulfilled) or when Tango reverses the reward (fulfilled -> reversed).

/** 'scheduled': charged, waiting for its deliveryDate; 'fulfilled': delivered; 'reversed': delivered, then failed. */
export type LedgerEntryState = 'fulfilled' | 'scheduled' | 'reversed';

export interface LedgerEntry {
  customerIdentifier: string;
  accountIdentifier: string;
  externalRefID: string;
  referenceOrderID: string;
  externalRefLineItemID: string;
  referenceLineItemId: string;
  /** Who received it: normalized email, else phone digits, else postal address; null when none given. */
  recipientKey: string | null;
  deliveryMethod: string;
  utid: string;
  amount: number;
  currencyCode: string;
  state: LedgerEntryState;
  /** When the simulator accepted (and charged) the item: its processing time, on the simulator's clock. */
  recordedAt: string;
  /** The item's deliveryDate when it was scheduled; null for an immediate delivery. */
  scheduledFor: string | null;
  /** When it was delivered; null while it is still scheduled. */
  fulfilledAt: string | null;
  /** When Tango turned it FAILED after delivery; null unless reversed. */
  reversedAt: string | null;
}

export interface LineItemDuplicate {
  customerIdentifier: string;
  accountIdentifier: string;
  externalRefLineItemID: string;
  count: number;
  entries: LedgerEntry[];
}

export interface RecipientDuplicate {
  recipientKey: string;
  utid: string;
  amount: number;
  count: number;
  entries: LedgerEntry[];
}

/** Duplicates count entries that are fulfilled or scheduled (a reward on its way is a reward); reversed ones do not. */
export interface LedgerDuplicates {
  /** The same externalRefLineItemID fulfilled or scheduled more than once across any orders of one account. */
  lineItems: LineItemDuplicate[];
  /** The same recipient fulfilled or scheduled more than once with the same utid and amount (any account). */
  recipients: RecipientDuplicate[];
}

export interface Ledger {
  entries(): LedgerEntry[];
  duplicates(): LedgerDuplicates;
  readonly size: number;
}

interface RecipientLike {
  email?: string;
  mobileNumber?: string;
  address?: {
    streetLine1?: string;
    streetLine2?: string;
    city?: string;
    stateOrProvince?: string;
    postalCode?: string;
    country?: string;
  };
}

export function recipientKey(recipient: RecipientLike | undefined): string | null {
  if (!recipient) return null;
  if (recipient.email?.trim()) return `email:${recipient.email.trim().toLowerCase()}`;
  if (recipient.mobileNumber?.trim()) return `phone:${recipient.mobileNumber.replace(/\D/g, '')}`;
  const a = recipient.address;
  if (a) {
    const parts = [a.streetLine1, a.streetLine2, a.city, a.stateOrProvince, a.postalCode, a.country]
      .map((part) => (part ?? '').trim().toLowerCase().replace(/\s+/g, ' '))
      .join('|');
    if (parts.replace(/\|/g, '') !== '') return `address:${parts}`;
  }
  return null;
}

export class FulfilmentLedger implements Ledger {
  private readonly all: LedgerEntry[] = [];
  private readonly byLineItem = new Map<string, LedgerEntry[]>();
  private readonly byRecipient = new Map<string, LedgerEntry[]>();

  /** Adds an entry and returns the ledger's own copy, which markFulfilled / markReversed change. */
  record(input: LedgerEntry): LedgerEntry {
    const entry = { ...input };
    this.all.push(entry);
    const lineKey = `${entry.customerIdentifier}\u0000${entry.accountIdentifier}\u0000${entry.externalRefLineItemID}`;
    push(this.byLineItem, lineKey, entry);
    if (entry.recipientKey !== null) {
      push(this.byRecipient, `${entry.recipientKey}\u0000${entry.utid}\u0000${entry.amount}`, entry);
    }
    return entry;
  }

  /** A scheduled entry whose date has come: delivered now. */
  markFulfilled(entry: LedgerEntry, at: string): void {
    if (entry.state !== 'scheduled') return;
    entry.state = 'fulfilled';
    entry.fulfilledAt = at;
  }

  /** A delivered entry Tango later turned FAILED. */
  markReversed(entry: LedgerEntry, at: string): void {
    if (entry.state !== 'fulfilled') return;
    entry.state = 'reversed';
    entry.reversedAt = at;
  }

  get size(): number {
    return this.all.length;
  }

  /** Snapshots: later state changes do not show in an array already returned. */
  entries(): LedgerEntry[] {
    return this.all.map((entry) => ({ ...entry }));
  }

  duplicates(): LedgerDuplicates {
    const lineItems: LineItemDuplicate[] = [];
    for (const all of this.byLineItem.values()) {
      const entries = counted(all);
      const first = entries[0];
      if (entries.length > 1 && first) {
        lineItems.push({
          customerIdentifier: first.customerIdentifier,
          accountIdentifier: first.accountIdentifier,
          externalRefLineItemID: first.externalRefLineItemID,
          count: entries.length,
          entries,
        });
      }
    }
    const recipients: RecipientDuplicate[] = [];
    for (const all of this.byRecipient.values()) {
      const entries = counted(all);
      const first = entries[0];
      if (entries.length > 1 && first?.recipientKey) {
        recipients.push({
          recipientKey: first.recipientKey,
          utid: first.utid,
          amount: first.amount,
          count: entries.length,
          entries,
        });
      }
    }
    return { lineItems, recipients };
  }
}

/** The entries that count as a reward (fulfilled or scheduled), as snapshots. */
function counted(entries: LedgerEntry[]): LedgerEntry[] {
  return entries.filter((entry) => entry.state !== 'reversed').map((entry) => ({ ...entry }));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
