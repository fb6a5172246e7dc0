// The catalog check: would Tango's catalog let this line item through? The reward must exist and be
// active and allow the delivery method; a fixed-value reward takes exactly its face value (Tango:
// "amount ... the face value of the reward ... including for fixed value items", 422.027), a variable
// one an amount inside its range (422.025). The CLI's dry run and the workflow's pre-flight both use
// it, so they refuse exactly the same items. Pure and sandbox-safe.
import type { CatalogItem, LineItemRequest } from '../tango/schemas.ts';
import type { FieldProblem } from './line-item.ts';

export type CatalogIndex = ReadonlyMap<string, CatalogItem>;

/** The catalog's rewards by utid. */
export function catalogIndex(brands: readonly { items: readonly CatalogItem[] }[]): Map<string, CatalogItem> {
  const index = new Map<string, CatalogItem>();
  for (const brand of brands) for (const item of brand.items) index.set(item.utid, item);
  return index;
}

const known = (value: number | null | undefined): value is number => value !== undefined && value !== null;

/** What the catalog says against one line item (empty when it would pass). */
export function catalogProblems(item: LineItemRequest, catalog: CatalogIndex): FieldProblem[] {
  const entry = catalog.get(item.utid);
  if (!entry) return [{ field: 'utid', message: `utid ${item.utid} is not in the catalog of this platform` }];
  const problems: FieldProblem[] = [];
  if (entry.status && !/^active$/i.test(entry.status))
    problems.push({
      field: 'utid',
      message: `utid ${item.utid} is ${entry.status.toLowerCase()}: pick an active reward`,
    });
  if (
    entry.deliveryMethods &&
    entry.deliveryMethods.length > 0 &&
    !entry.deliveryMethods.includes(item.deliveryMethod)
  )
    problems.push({
      field: 'deliveryMethod',
      message: `utid ${item.utid} cannot be delivered by ${item.deliveryMethod}; it allows ${entry.deliveryMethods.join(', ')}`,
    });
  // A fixed-value reward is checked against its face value only: a range the catalog may also list
  // for it is not what Tango checks.
  if (/^fixed/i.test(entry.valueType ?? '')) {
    if (known(entry.faceValue) && item.amount !== entry.faceValue)
      problems.push({
        field: 'amount',
        message: `utid ${item.utid} has a fixed value of ${entry.faceValue}, not ${item.amount}`,
      });
    return problems;
  }
  if (known(entry.minValue) && item.amount < entry.minValue)
    problems.push({
      field: 'amount',
      message: `amount ${item.amount} is below ${item.utid}'s minimum ${entry.minValue}`,
    });
  if (known(entry.maxValue) && item.amount > entry.maxValue)
    problems.push({
      field: 'amount',
      message: `amount ${item.amount} is above ${item.utid}'s maximum ${entry.maxValue}`,
    });
  return problems;
}
