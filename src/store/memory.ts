// In-memory claim-check store for tests and dry runs: same contract and key rules as the filesystem
// store, nothing persisted. Registered as memory://<name>; each name is one shared store per process.
import {
  type CampaignStore,
  type StoreBody,
  StoreNotFoundError,
  assertValidKey,
  assertValidPrefix,
} from './store.ts';

export class MemoryStore implements CampaignStore {
  readonly location: string;
  private readonly objects = new Map<string, Buffer>();

  constructor(name = 'default') {
    this.location = `memory://${name}`;
  }

  async put(key: string, body: StoreBody): Promise<void> {
    assertValidKey(key);
    // Gathered first and stored at once: readers never see a partial object, and a failing source
    // leaves the previous object in place.
    const parts: Buffer[] = [];
    if (typeof body === 'string' || body instanceof Uint8Array) parts.push(Buffer.from(body));
    else for await (const chunk of body) parts.push(Buffer.from(chunk));
    this.objects.set(key, Buffer.concat(parts));
  }

  async createIfAbsent(key: string, body: StoreBody): Promise<boolean> {
    assertValidKey(key);
    if (this.objects.has(key)) return false;
    const parts: Buffer[] = [];
    if (typeof body === 'string' || body instanceof Uint8Array) parts.push(Buffer.from(body));
    else for await (const chunk of body) parts.push(Buffer.from(chunk));
    // Checked again after gathering: another call may have created the key while this one awaited.
    if (this.objects.has(key)) return false;
    this.objects.set(key, Buffer.concat(parts));
    return true;
  }

  async get(key: string): Promise<Buffer> {
    assertValidKey(key);
    const object = this.objects.get(key);
    if (!object) throw new StoreNotFoundError(key, this.location);
    return Buffer.from(object);
  }

  stream(key: string): AsyncIterable<Buffer> {
    assertValidKey(key);
    const objects = this.objects;
    const location = this.location;
    return (async function* () {
      const object = objects.get(key);
      if (!object) throw new StoreNotFoundError(key, location);
      for (let offset = 0; offset < object.length; offset += 64 * 1024)
        yield Buffer.from(object.subarray(offset, offset + 64 * 1024));
    })();
  }

  async exists(key: string): Promise<boolean> {
    assertValidKey(key);
    return this.objects.has(key);
  }

  list(prefix: string): AsyncIterable<string> {
    assertValidPrefix(prefix);
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix));
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return (async function* () {
      yield* keys;
    })();
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    this.objects.delete(key);
  }
}

const named = new Map<string, MemoryStore>();

/** The process-wide memory store of that name (memory://<name>). */
export function memoryStore(name: string): MemoryStore {
  let store = named.get(name);
  if (!store) {
    store = new MemoryStore(name);
    named.set(name, store);
  }
  return store;
}
