// Splits a campaign's N items into orders (chunks) of a configurable size. The plan is ranges over the
// input order, never copies of items, so a workflow can hold the plan of a million-item campaign.
// Pure and sandbox-safe.

export interface ChunkRange {
  /** 0-based chunk (order) number: the `<chunk>` of the order's externalRefID. */
  chunk: number;
  /** Index of the chunk's first item in the campaign's items (0-based, inclusive). */
  start: number;
  /** Index after the chunk's last item (exclusive). */
  end: number;
}

function assertCount(what: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum)
    throw new RangeError(`${what} must be an integer >= ${minimum}, got ${String(value)}`);
}

/** How many orders `totalItems` items need at `chunkSize` items per order (0 for no items). */
export function chunkCount(totalItems: number, chunkSize: number): number {
  assertCount('totalItems', totalItems, 0);
  assertCount('chunkSize', chunkSize, 1);
  return Math.ceil(totalItems / chunkSize);
}

/** The range of one chunk, computed on demand (no need to materialize the whole plan). */
export function chunkRange(totalItems: number, chunkSize: number, chunk: number): ChunkRange {
  const count = chunkCount(totalItems, chunkSize);
  if (!Number.isSafeInteger(chunk) || chunk < 0 || chunk >= count)
    throw new RangeError(
      `chunk ${String(chunk)} is outside 0..${count - 1} (${totalItems} items, ${chunkSize} per order)`,
    );
  const start = chunk * chunkSize;
  return { chunk, start, end: Math.min(start + chunkSize, totalItems) };
}

/** Every chunk's range, in order; all chunks are full except possibly the last. */
export function planChunks(totalItems: number, chunkSize: number): ChunkRange[] {
  const count = chunkCount(totalItems, chunkSize);
  return Array.from({ length: count }, (_, chunk) => chunkRange(totalItems, chunkSize, chunk));
}

/** Which chunk holds the item at `index` in the campaign's items. */
export function chunkOfItem(totalItems: number, chunkSize: number, index: number): number {
  assertCount('index', index, 0);
  if (index >= totalItems) throw new RangeError(`item index ${index} is outside 0..${totalItems - 1}`);
  return Math.floor(index / chunkSize);
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
