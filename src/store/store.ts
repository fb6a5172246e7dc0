// The claim-check store contract: item lists, failed-item pages and reports live here so that workflow
// history carries only keys and counts (ARCHITECTURE invariant 4).

/** Bytes a caller may hand to `put`: whole, or streamed for objects too large to hold in memory. */
export type StoreBody =
  string | Uint8Array | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

export interface CampaignStore {
  /** Where the objects live, as a URL (`file:///abs/dir`, `s3://bucket/prefix`), for logs and reports. */
  readonly location: string;
  /** Writes the object atomically: readers see the old object or the new one, never a partial one. */
  put(key: string, body: StoreBody): Promise<void>;
  /**
   * Writes the object only if no object has that key: resolves true when this call created it, false
   * when the key already existed (the existing object is left untouched). Atomic like `put`, and of
   * two concurrent calls on one key exactly one resolves true. Meant for small objects (registry
   * entries): a streamed body may be gathered in memory first.
   */
  createIfAbsent(key: string, body: StoreBody): Promise<boolean>;
  /** Reads the whole object; throws StoreNotFoundError when it does not exist. */
  get(key: string): Promise<Buffer>;
  /** Streams the object; throws StoreNotFoundError (on first iteration) when it does not exist. */
  stream(key: string): AsyncIterable<Buffer>;
  exists(key: string): Promise<boolean>;
  /** Every key that starts with `prefix` (a plain string prefix, like S3), in lexicographic order. */
  list(prefix: string): AsyncIterable<string>;
  /** Removes the object; removing a missing object is not an error (deletes are retried). */
  delete(key: string): Promise<void>;
}

/** Base class of the store's own errors, so callers can tell them from I/O bugs. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
}

export class StoreNotFoundError extends StoreError {
  override readonly name = 'StoreNotFoundError';
  constructor(
    readonly key: string,
    readonly location: string,
  ) {
    super(`No object "${key}" in the campaign store at ${location}. Was it written by an earlier step?`);
  }
}

export class InvalidStoreKeyError extends StoreError {
  override readonly name = 'InvalidStoreKeyError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Invalid campaign store key ${JSON.stringify(key)}: ${reason}`);
  }
}

const KEY_CHARACTERS = /^[A-Za-z0-9._/-]+$/;
const MAX_KEY_LENGTH = 1024;

/**
 * Rejects keys that could escape the store or mean different things on different backends: keys are
 * relative, use [A-Za-z0-9._/-] only, and have no empty, "." or ".." segments.
 */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidStoreKeyError(String(key), 'empty key');
  if (key.length > MAX_KEY_LENGTH)
    throw new InvalidStoreKeyError(key, `longer than ${MAX_KEY_LENGTH} characters`);
  if (!KEY_CHARACTERS.test(key))
    throw new InvalidStoreKeyError(key, 'only letters, digits and . _ / - are allowed');
  if (key.startsWith('/')) throw new InvalidStoreKeyError(key, 'keys are relative (no leading "/")');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidStoreKeyError(key, 'empty path segment ("//" or trailing "/")');
    if (segment === '.' || segment === '..')
      throw new InvalidStoreKeyError(key, `"${segment}" segments are not allowed`);
  }
}

/** Prefixes follow the key rules except that they may be empty or end with "/". */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (trimmed === '') throw new InvalidStoreKeyError(prefix, 'a prefix cannot be "/"');
  assertValidKey(trimmed);
}
