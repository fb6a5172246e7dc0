// Who a line item rewards, reduced to one comparable contact: the field its delivery method sends to,
// normalised so that the same person written two ways (case, spaces, phone punctuation) compares equal.
// The deliveries index stores only keyed hashes of these (src/deliveries/index-store.ts).
import { createHmac } from 'node:crypto';
import type { LineItemRequest } from '../tango/schemas.ts';

export interface RecipientContact {
  kind: 'email' | 'phone' | 'address';
  value: string;
}

/** Lower-cased and trimmed. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Digits only: "+1 (555) 010-2000" and "15550102000" are one number. */
export function normaliseMobileNumber(mobileNumber: string): string {
  return mobileNumber.replace(/\D+/g, '');
}

/** One address field: Unicode-folded, lower-cased, punctuation and runs of spaces to one space. */
export function normaliseAddressField(value: string | undefined): string {
  return (value ?? '')
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

type Address = NonNullable<NonNullable<LineItemRequest['recipient']>['address']>;

export function normaliseAddress(address: Address): string {
  return [
    normaliseAddressField(address.streetLine1),
    normaliseAddressField(address.streetLine2),
    normaliseAddressField(address.city),
    normaliseAddressField(address.stateOrProvince),
    // Postal codes compare without their spaces ("SW1A 1AA" = "sw1a1aa").
    normaliseAddressField(address.postalCode).replace(/ /g, ''),
    normaliseAddressField(address.country),
  ].join('|');
}

/**
 * The contact the reward goes to: the email for EMAIL, the number for PHONE and WHATSAPP, the address
 * for ADDRESS. Methods without a contact (NONE, EMBEDDED: a link handed to the caller) fall back to
 * whatever contact the item carries; undefined when it carries none (a name alone is not compared:
 * two people may share one).
 */
export function recipientContact(item: LineItemRequest): RecipientContact | undefined {
  const recipient = item.recipient;
  const email = recipient?.email?.trim()
    ? { kind: 'email' as const, value: normaliseEmail(recipient.email) }
    : undefined;
  const phone =
    recipient?.mobileNumber && normaliseMobileNumber(recipient.mobileNumber)
      ? { kind: 'phone' as const, value: normaliseMobileNumber(recipient.mobileNumber) }
      : undefined;
  const address = recipient?.address
    ? { kind: 'address' as const, value: normaliseAddress(recipient.address) }
    : undefined;
  switch (item.deliveryMethod) {
    case 'EMAIL':
      return email;
    case 'PHONE':
    case 'WHATSAPP':
      return phone;
    case 'ADDRESS':
      return address;
    default:
      return email ?? phone ?? address;
  }
}

/** Amounts compare in cents: 25, 25.0 and 25.00 are one amount. */
export function amountCents(amount: number): number {
  return Math.round(amount * 100);
}

/**
 * The index's key for "this recipient got this reward and amount from this account": a keyed
 * HMAC-SHA256 (hex), so the store never holds a contact, and nobody without the key can test whether
 * a given address is in it. Undefined when the item names no contact (it cannot be compared).
 */
export function deliveryHash(
  key: Buffer,
  accountIdentifier: string,
  item: LineItemRequest,
): string | undefined {
  const contact = recipientContact(item);
  if (!contact) return undefined;
  return createHmac('sha256', key)
    .update(
      JSON.stringify([accountIdentifier, contact.kind, contact.value, item.utid, amountCents(item.amount)]),
    )
    .digest('hex');
}

/** The account's folder name in the index: a keyed hash too, so keys stay within the store's characters. */
export function accountTag(key: Buffer, accountIdentifier: string): string {
  return createHmac('sha256', key).update(`account:${accountIdentifier}`).digest('hex').slice(0, 32);
}

/** A short fingerprint of the key, kept in the index so that a client or worker with another key is told. */
export function keyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update('tango-campaigns deliveries index').digest('hex').slice(0, 16);
}
