// Splits a campaign's items into orders (chunks) of a configurable size as they stream past, one
// chunk in memory at a time. Pure and sandbox-safe.

function assertCount(what: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum)
    throw new RangeError(`${what} must be an integer >= ${minimum}, got ${String(value)}`);
}

/**
 * Groups a stream of items into arrays of `chunkSize` (the last one shorter), for the activity that
 * stages each order's items: only one chunk is held in memory at a time.
 */
export async function* groupIntoChunks<T>(
  items: Iterable<T> | AsyncIterable<T>,
  chunkSize: number,
): AsyncIterable<T[]> {
  assertCount('chunkSize', chunkSize, 1);
  let current: T[] = [];
  for await (const item of items) {
    current.push(item);
    if (current.length === chunkSize) {
      yield current;
      current = [];
    }
  }
  if (current.length > 0) yield current;
}
