// The repeat-recipient guard as the CLI shows it: each repeat named by file and row, the way the other
// input problems are, for `validate` (warnings) and a refused `start` (exit 1).
import { readLineItemsFile } from '../input/line-items-file.ts';
import { type Repeat, clientDeliveriesIndexKey, describeRepeat } from '../client/repeats.ts';
import { DeliveriesIndex } from '../deliveries/index-store.ts';
import { loadStoreConfig, openStore } from '../store/open.ts';
import type { LineItemRequest } from '../tango/schemas.ts';
import { durationMs } from '../workflows/duration.ts';

export interface FileRepeat extends Repeat {
  file: string;
  /** The row (CSV) or item (JSON) number, as validate numbers them. */
  row: number;
}

/** Each repeat with the row its item came from (positions count the file's items in order). */
export async function withRows(file: string, repeats: readonly Repeat[]): Promise<FileRepeat[]> {
  const wanted = new Map(repeats.map((repeat) => [repeat.position, repeat]));
  const rows = new Map<number, number>();
  let position = 0;
  for await (const { row } of readLineItemsFile(file)) {
    if (wanted.has(position)) rows.set(position, row);
    position += 1;
    if (rows.size === wanted.size) break;
  }
  return repeats.map((repeat) => ({ ...repeat, file, row: rows.get(repeat.position) ?? 0 }));
}

export function formatFileRepeat(repeat: FileRepeat, unit: 'row' | 'item'): string {
  return `${repeat.file}, ${describeRepeat(repeat, `${unit} ${repeat.row}`)}`;
}

/**
 * `validate --account`: the file's items an earlier campaign of the account delivered to the same
 * recipient, reward and amount within the window. Undefined when no key is configured (nothing to read).
 */
export async function repeatsInFile(
  env: Record<string, string | undefined>,
  file: string,
  accountIdentifier: string,
  repeatWindow: string,
): Promise<FileRepeat[] | undefined> {
  const key = clientDeliveriesIndexKey(env);
  if (!key) return undefined;
  const store = await openStore(loadStoreConfig(env).url);
  const index = new DeliveriesIndex(store, key);
  async function* items(): AsyncIterable<LineItemRequest> {
    for await (const { item } of readLineItemsFile(file)) yield item;
  }
  const repeats = await index.findRepeats({
    campaignId: '',
    accountIdentifier,
    items,
    windowMs: durationMs(repeatWindow),
  });
  return withRows(file, repeats);
}
