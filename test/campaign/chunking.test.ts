// Chunking: every item in exactly one order, in input order, orders of at most chunkSize.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupIntoChunks } from '../../src/campaign/chunking.ts';

async function groups(total: number, size: number): Promise<number[][]> {
  async function* items() {
    for (let i = 0; i < total; i += 1) yield i;
  }
  const out: number[][] = [];
  for await (const group of groupIntoChunks(items(), size)) out.push(group);
  return out;
}

describe('chunking', () => {
  it('covers every item exactly once, in input order, with full chunks except the last', async () => {
    for (const [total, size] of [
      [0, 10],
      [1, 10],
      [10, 10],
      [11, 10],
      [999, 100],
      [1000, 1],
      [7, 3],
    ] as const) {
      const chunks = await groups(total, size);
      assert.equal(chunks.length, Math.ceil(total / size), `${total}/${size}`);
      chunks.forEach((chunk, i) => {
        if (i < chunks.length - 1) assert.equal(chunk.length, size);
        else assert.ok(chunk.length > 0 && chunk.length <= size);
      });
      assert.deepEqual(
        chunks.flat(),
        Array.from({ length: total }, (_, i) => i),
      );
    }
    assert.deepEqual(await groups(7, 3), [[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('rejects a chunk size that makes no sense', async () => {
    await assert.rejects(groups(10, 0), /chunkSize must be an integer >= 1/);
    await assert.rejects(groups(10, 2.5), /chunkSize/);
  });
});
