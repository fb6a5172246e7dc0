// The fulfilment ledger: one entry per line item the simulator delivered, and the report of anything
// delivered twice. The simulator never prevents a double delivery (Tango documents no such guard);
// the ledger is how tests prove that the product itself never rewards anyone twice.

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
  fulfilledAt: string;
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

export interface LedgerDuplicates {
  /** The same externalRefLineItemID fulfilled more than once across any orders of one account. */
  lineItems: LineItemDuplicate[];
  /** The same recipient fulfilled more than once with the same utid and amount (any account). */
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

  record(entry: LedgerEntry): void {
    this.all.push(entry);
    const lineKey = `${entry.customerIdentifier}\u0000${entry.accountIdentifier}\u0000${entry.externalRefLineItemID}`;
    push(this.byLineItem, lineKey, entry);
    if (entry.recipientKey !== null) {
      push(this.byRecipient, `${entry.recipientKey}\u0000${entry.utid}\u0000${entry.amount}`, entry);
    }
  }

  get size(): number {
    return this.all.length;
  }

  entries(): LedgerEntry[] {
    return this.all.slice();
  }

  duplicates(): LedgerDuplicates {
    const lineItems: LineItemDuplicate[] = [];
    for (const entries of this.byLineItem.values()) {
      const first = entries[0];
      if (entries.length > 1 && first) {
        lineItems.push({
          customerIdentifier: first.customerIdentifier,
          accountIdentifier: first.accountIdentifier,
          externalRefLineItemID: first.externalRefLineItemID,
          count: entries.length,
          entries: entries.slice(),
        });
      }
    }
    const recipients: RecipientDuplicate[] = [];
    for (const entries of this.byRecipient.values()) {
      const first = entries[0];
      if (entries.length > 1 && first?.recipientKey) {
        recipients.push({
          recipientKey: first.recipientKey,
          utid: first.utid,
          amount: first.amount,
          count: entries.length,
          entries: entries.slice(),
        });
      }
    }
    return { lineItems, recipients };
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
