// The filesystem claim-check store: atomic overwrite, streaming, listing order, key safety.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileSystemStore, InvalidStoreKeyError, StoreNotFoundError } from '../../src/store/index.ts';

describe('FileSystemStore', () => {
  let root: string;
  let store: FileSystemStore;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'store-test-'));
    store = new FileSystemStore(path.join(root, 'data'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps objects owner-only (0600 files, 0700 directories) whatever the umask', async () => {
    const previous = process.umask(0);
    try {
      const private_ = new FileSystemStore(path.join(root, 'private'));
      await private_.put('campaigns/p/items.jsonl', 'recipients');
      await private_.put(
        'campaigns/p/streamed.jsonl',
        (async function* () {
          yield 'a';
          yield 'b';
        })(),
      );
      assert.equal(await private_.createIfAbsent('registry/campaigns/p.json', '{}'), true);
      const mode = async (...parts: string[]) =>
        (await stat(path.join(root, 'private', ...parts))).mode & 0o777;
      assert.equal(await mode(), 0o700, 'the store root');
      assert.equal(await mode('campaigns'), 0o700);
      assert.equal(await mode('campaigns', 'p'), 0o700);
      assert.equal(await mode('registry', 'campaigns'), 0o700);
      assert.equal(await mode('campaigns', 'p', 'items.jsonl'), 0o600);
      assert.equal(await mode('campaigns', 'p', 'streamed.jsonl'), 0o600);
      assert.equal(await mode('registry', 'campaigns', 'p.json'), 0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('writes, reads, overwrites and deletes objects in nested keys', async () => {
    await store.put('campaigns/a/items.jsonl', 'first');
    assert.equal((await store.get('campaigns/a/items.jsonl')).toString(), 'first');
    await store.put('campaigns/a/items.jsonl', new TextEncoder().encode('second'));
    assert.equal((await store.get('campaigns/a/items.jsonl')).toString(), 'second');
    assert.equal(await store.exists('campaigns/a/items.jsonl'), true);
    await store.delete('campaigns/a/items.jsonl');
    assert.equal(await store.exists('campaigns/a/items.jsonl'), false);
    await store.delete('campaigns/a/items.jsonl'); // a second delete is harmless
    assert.equal(await store.exists('campaigns/a'), false, 'a directory is not an object');
  });

  it('reports a missing object with its key and location', async () => {
    await assert.rejects(store.get('campaigns/none/report.csv'), (error: unknown) => {
      assert.ok(error instanceof StoreNotFoundError);
      assert.match(error.message, /campaigns\/none\/report\.csv/);
      assert.match(error.message, /file:\/\//);
      return true;
    });
    await assert.rejects(async () => {
      for await (const _ of store.stream('campaigns/none/x')) void _;
    }, StoreNotFoundError);
  });

  it('streams a large body in and out without leaving temporary files', async () => {
    const line = 'x'.repeat(999) + '\n';
    async function* body() {
      for (let i = 0; i < 5000; i += 1) yield line;
    }
    await store.put('big/object', body());
    let total = 0;
    let chunks = 0;
    for await (const chunk of store.stream('big/object')) {
      total += chunk.length;
      chunks += 1;
    }
    assert.equal(total, 5000 * 1000);
    assert.ok(chunks > 1, 'read back in several chunks');
    assert.deepEqual(await readdir(path.join(root, 'data', 'big')), ['object']);
  });

  it('keeps the previous object when a streamed write fails part-way', async () => {
    await store.put('atomic/obj', 'old contents');
    async function* failing() {
      yield 'new contents, part one';
      throw new Error('source broke');
    }
    await assert.rejects(store.put('atomic/obj', failing()), /source broke/);
    assert.equal((await store.get('atomic/obj')).toString(), 'old contents');
    assert.deepEqual(await readdir(path.join(root, 'data', 'atomic')), ['obj']);
  });

  it('never exposes a partial object to concurrent readers', async () => {
    const a = 'a'.repeat(2_000_000);
    const b = 'b'.repeat(2_000_000);
    await store.put('race/obj', a);
    const writes = [store.put('race/obj', b), store.put('race/obj', a), store.put('race/obj', b)];
    const reads = Array.from({ length: 10 }, () => store.get('race/obj'));
    for (const read of await Promise.all(reads)) {
      const text = read.toString();
      assert.ok(text === a || text === b, 'every read sees one whole version');
    }
    await Promise.all(writes);
    assert.equal((await store.get('race/obj')).length, 2_000_000);
  });

  it('lists keys under a prefix in lexicographic order, ignoring temporary files', async () => {
    const keys = ['l/orders/000002/x', 'l/orders/000001/y', 'l/orders-extra', 'l/orders/000001/a', 'm/other'];
    for (const key of keys) await store.put(key, key);
    await writeFile(path.join(root, 'data', 'l', 'orders', 'half~tmp-1-abc'), 'partial');
    const listed: string[] = [];
    for await (const key of store.list('l/orders')) listed.push(key);
    assert.deepEqual(listed, [
      'l/orders-extra',
      'l/orders/000001/a',
      'l/orders/000001/y',
      'l/orders/000002/x',
    ]);
    const underSlash: string[] = [];
    for await (const key of store.list('l/orders/')) underSlash.push(key);
    assert.equal(underSlash.length, 3);
    const none: string[] = [];
    for await (const key of store.list('nothing/here/')) none.push(key);
    assert.deepEqual(none, []);
  });

  it('rejects keys that could escape the store or are not portable', async () => {
    for (const bad of ['', '/abs', '../up', 'a/../b', 'a//b', 'a/', './a', 'sp ace', 'ü', 'a\\b', 'a~b']) {
      await assert.rejects(store.put(bad, 'x'), InvalidStoreKeyError, `key ${JSON.stringify(bad)}`);
    }
    await assert.rejects(store.get('../../etc/passwd'), InvalidStoreKeyError);
    assert.throws(() => store.list('../'), InvalidStoreKeyError);
  });

  it('reports its location as a file URL of an absolute directory', () => {
    assert.equal(store.location, new URL(`file://${path.join(root, 'data')}`).href);
  });
});
