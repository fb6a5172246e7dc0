// JSON and JSON Lines helpers: round trips, streaming of many rows, and errors that name key and line.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import {
  FileSystemStore,
  StoreDataError,
  getJson,
  putJson,
  putJsonLines,
  readJsonLines,
} from '../../src/store/index.ts';

describe('JSON helpers', () => {
  let root: string;
  let store: FileSystemStore;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'store-json-'));
    store = new FileSystemStore(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('round-trips a JSON document, validated by a schema', async () => {
    await putJson(store, 'doc.json', { total: 3, name: 'Zoë' });
    assert.deepEqual(await getJson(store, 'doc.json'), { total: 3, name: 'Zoë' });
    const typed = await getJson(store, 'doc.json', z.object({ total: z.number() }));
    assert.equal(typed.total, 3);
    await assert.rejects(getJson(store, 'doc.json', z.object({ total: z.string() })), (error: unknown) => {
      assert.ok(error instanceof StoreDataError);
      assert.match(error.message, /"doc\.json".*total/);
      return true;
    });
  });

  it('names the key when an object is not JSON, and refuses unserializable values', async () => {
    await store.put('broken.json', '{"a":');
    await assert.rejects(getJson(store, 'broken.json'), /"broken\.json".*not valid JSON/);
    await assert.rejects(putJson(store, 'u.json', undefined), StoreDataError);
  });

  it('streams 100,000 rows in and out as JSON Lines, multi-byte characters intact', async () => {
    async function* rows() {
      for (let i = 0; i < 100_000; i += 1) yield { i, name: `Zoë ${i} 日本` };
    }
    const written = await putJsonLines(store, 'rows.jsonl', rows());
    assert.equal(written, 100_000);
    let count = 0;
    for await (const row of readJsonLines(
      store,
      'rows.jsonl',
      z.object({ i: z.number(), name: z.string() }),
    )) {
      assert.equal(row.i, count);
      assert.equal(row.name, `Zoë ${count} 日本`);
      count += 1;
    }
    assert.equal(count, 100_000);
  });

  it('accepts a plain array and an empty iterable', async () => {
    assert.equal(await putJsonLines(store, 'small.jsonl', [1, 'two', { three: 3 }]), 3);
    const back: unknown[] = [];
    for await (const row of readJsonLines(store, 'small.jsonl')) back.push(row);
    assert.deepEqual(back, [1, 'two', { three: 3 }]);
    assert.equal(await putJsonLines(store, 'empty.jsonl', []), 0);
    for await (const _ of readJsonLines(store, 'empty.jsonl')) assert.fail('no rows expected');
  });

  it('reports the line number of a bad row', async () => {
    await store.put('bad.jsonl', '{"a":1}\n\n{"a":2}\n{"a":"x"}\n');
    const seen: unknown[] = [];
    await assert.rejects(
      async () => {
        for await (const row of readJsonLines(store, 'bad.jsonl', z.object({ a: z.number() })))
          seen.push(row);
      },
      (error: unknown) => {
        assert.ok(error instanceof StoreDataError);
        assert.match(error.message, /"bad\.jsonl".*line 4/);
        return true;
      },
    );
    assert.equal(seen.length, 2);
    await store.put('garbled.jsonl', '{"a":1}\n{nope\n');
    await assert.rejects(async () => {
      for await (const _ of readJsonLines(store, 'garbled.jsonl')) void _;
    }, /line 2: not valid JSON/);
  });
});
