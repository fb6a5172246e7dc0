// Chunk plans: every item in exactly one order, orders at most chunkSize, ranges computed on demand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chunkCount,
  chunkOfItem,
  chunkRange,
  groupIntoChunks,
  planChunks,
} from '../../src/campaign/chunking.ts';

describe('chunking', () => {
  it('covers every item exactly once, in input order, with full chunks except the last', () => {
    for (const [total, size] of [
      [0, 10],
      [1, 10],
      [10, 10],
      [11, 10],
      [999, 100],
      [1000, 1],
      [7, 3],
    ] as const) {
      const plan = planChunks(total, size);
      assert.equal(plan.length, chunkCount(total, size));
      let next = 0;
      plan.forEach((range, i) => {
        assert.equal(range.chunk, i);
        assert.equal(range.start, next);
        assert.ok(range.end > range.start && range.end - range.start <= size);
        if (i < plan.length - 1) assert.equal(range.end - range.start, size);
        next = range.end;
      });
      assert.equal(next, total, `${total}/${size}`);
    }
  });

  it('computes a single range and the chunk of an item for a million-item campaign without a plan', () => {
    assert.equal(chunkCount(1_000_000, 500), 2000);
    assert.deepEqual(chunkRange(1_000_001, 500, 2000), { chunk: 2000, start: 1_000_000, end: 1_000_001 });
    assert.equal(chunkOfItem(1_000_000, 500, 999_999), 1999);
    assert.equal(chunkOfItem(1_000_000, 500, 500), 1);
  });

  it('rejects sizes, counts and chunk numbers that make no sense', () => {
    assert.throws(() => chunkCount(10, 0), /chunkSize must be an integer >= 1/);
    assert.throws(() => chunkCount(-1, 5), /totalItems/);
    assert.throws(() => chunkCount(10, 2.5), /chunkSize/);
    assert.throws(() => chunkRange(10, 5, 2), /chunk 2 is outside 0\.\.1/);
    assert.throws(() => chunkOfItem(10, 5, 10), /outside/);
  });

  it('groups a stream into chunk-sized arrays', async () => {
    async function* items() {
      for (let i = 0; i < 7; i += 1) yield i;
    }
    const groups: number[][] = [];
    for await (const group of groupIntoChunks(items(), 3)) groups.push(group);
    assert.deepEqual(groups, [[0, 1, 2], [3, 4, 5], [6]]);
    const none: number[][] = [];
    for await (const group of groupIntoChunks([], 3)) none.push(group);
    assert.deepEqual(none, []);
  });
});
