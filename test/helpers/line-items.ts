// The tests' one line-item factory: a valid POST /asyncOrders line item that the simulator's default
// catalog delivers (an EMAIL reward of U000001), with whatever a test changes on top.
import type { LineItemRequest } from '../../src/tango/schemas.ts';

export function lineItem(id: string, overrides: Partial<LineItemRequest> = {}): LineItemRequest {
  return {
    externalRefLineItemID: id,
    recipient: { firstName: 'Ada', lastName: 'Lovelace', email: `${id}@example.com` },
    utid: 'U000001',
    amount: 10,
    deliveryMethod: 'EMAIL',
    ...overrides,
  };
}

/** `count` items with ids `<prefix>-<n>`; `change(n)` adjusts item n. */
export function lineItems(
  prefix: string,
  count: number,
  change: (index: number, id: string) => Partial<LineItemRequest> = () => ({}),
): LineItemRequest[] {
  return Array.from({ length: count }, (_, index) => {
    const id = `${prefix}-${index}`;
    return lineItem(id, change(index, id));
  });
}
