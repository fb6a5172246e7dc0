// The behaviour every CampaignStore backend must share, written once and run against each backend
// (filesystem-contract.test.ts, s3-store.test.ts), so that workers see the same store whichever is used.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  type CampaignStore,
  InvalidStoreKeyError,
  StoreNotFoundError,
  putJsonLines,
  readJsonLines,
} from '../../src/store/index.ts';

// Live memory is only measurable after a collection; the runner does not start Node with --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function liveBytes(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const MiB = 1024 * 1024;

export interface StoreContractOptions {
  /** Returns the store under test; called once per test, each call may share one backend. */
  store: () => CampaignStore;
  /** Most extra live memory a 50 MiB streamed write or read may use with this backend. */
  streamingMemoryLimitBytes: number;
  /** Called with what the streaming test measured, for the report. */
  onMeasured?: (measurement: { writePeakBytes: number; readPeakBytes: number; seconds: number }) => void;
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

export function describeStoreContract(backend: string, options: StoreContractOptions): void {
  describe(`CampaignStore contract: ${backend}`, () => {
    it('puts, gets, overwrites and deletes objects given as text, bytes or a stream', async () => {
      const store = options.store();
      await store.put('campaigns/c1/items.jsonl', 'first');
      assert.equal((await store.get('campaigns/c1/items.jsonl')).toString(), 'first');
      assert.equal(await store.exists('campaigns/c1/items.jsonl'), true);
      // A retried activity writes the same key again: the object is replaced, never duplicated.
      await store.put('campaigns/c1/items.jsonl', new TextEncoder().encode('second'));
      assert.equal((await store.get('campaigns/c1/items.jsonl')).toString(), 'second');
      async function* parts() {
        yield 'thi';
        yield Buffer.from('rd ');
        yield '';
        yield new TextEncoder().encode('vérsion');
      }
      await store.put('campaigns/c1/items.jsonl', parts());
      assert.equal((await store.get('campaigns/c1/items.jsonl')).toString(), 'third vérsion');
      await store.put('campaigns/c1/items.jsonl', ['a plain ', 'array']);
      assert.equal((await store.get('campaigns/c1/items.jsonl')).toString(), 'a plain array');
      await store.put('campaigns/c1/empty', (async function* () {})());
      assert.equal((await store.get('campaigns/c1/empty')).length, 0, 'an empty stream is an empty object');
      await store.put('campaigns/c1/empty', '');
      assert.equal((await store.get('campaigns/c1/empty')).length, 0);
      assert.deepEqual(await collect(store.list('campaigns/c1/')), [
        'campaigns/c1/empty',
        'campaigns/c1/items.jsonl',
      ]);
      await store.delete('campaigns/c1/items.jsonl');
      assert.equal(await store.exists('campaigns/c1/items.jsonl'), false);
      await store.delete('campaigns/c1/items.jsonl'); // deletes are retried: a second one is harmless
      assert.equal(await store.exists('campaigns/c1'), false, 'a prefix is not an object');
      assert.deepEqual(await collect(store.list('campaigns/c1/')), ['campaigns/c1/empty']);
    });

    it('creates an object only if its key is absent, never overwriting', async () => {
      const store = options.store();
      const key = `registry/contract/${Date.now()}-${Math.random().toString(36).slice(2)}.json`;
      assert.equal(await store.createIfAbsent(key, '{"claim":"first"}'), true, 'absent: created');
      assert.equal((await store.get(key)).toString(), '{"claim":"first"}');
      assert.equal(await store.createIfAbsent(key, '{"claim":"second"}'), false, 'present: refused');
      assert.equal(await store.createIfAbsent(key, new TextEncoder().encode('{"claim":"third"}')), false);
      assert.equal(await store.createIfAbsent(key, ['{"claim":', '"fourth"}']), false);
      assert.equal((await store.get(key)).toString(), '{"claim":"first"}', 'the first object stays');
      const streamed = `${key}.streamed`;
      async function* parts() {
        yield '{"streamed":';
        yield Buffer.from('true}');
      }
      assert.equal(await store.createIfAbsent(streamed, parts()), true);
      assert.equal((await store.get(streamed)).toString(), '{"streamed":true}');
      // Only the objects themselves are listed: no temporary files are left beside them.
      assert.deepEqual(await collect(store.list(key)), [key, streamed]);
      await store.delete(key);
      assert.equal(await store.createIfAbsent(key, 'after delete'), true, 'a deleted key is absent again');
      assert.equal((await store.get(key)).toString(), 'after delete');
      await assert.rejects(store.createIfAbsent('a/../b', 'x'), InvalidStoreKeyError);
    });

    it('lets exactly one of many concurrent createIfAbsent calls on one key win', async () => {
      const store = options.store();
      for (let round = 0; round < 10; round += 1) {
        const key = `registry/race/${Date.now()}-${round}-${Math.random().toString(36).slice(2)}.json`;
        const contenders = Array.from({ length: 8 }, (_, index) => `contender-${index}`);
        const results = await Promise.all(contenders.map((body) => store.createIfAbsent(key, body)));
        const winners = contenders.filter((_, index) => results[index]);
        assert.equal(
          winners.length,
          1,
          `round ${round}: exactly one created the key (${winners.join(', ')})`,
        );
        assert.equal((await store.get(key)).toString(), winners[0], "the object is the winner's");
      }
    });

    it('reports a missing object with its key and location, from get and from stream', async () => {
      const store = options.store();
      await assert.rejects(store.get('campaigns/none/report.csv'), (error: unknown) => {
        assert.ok(error instanceof StoreNotFoundError, String(error));
        assert.match(error.message, /campaigns\/none\/report\.csv/);
        assert.ok(error.message.includes(store.location), error.message);
        return true;
      });
      await assert.rejects(async () => {
        for await (const _ of store.stream('campaigns/none/x')) void _;
      }, StoreNotFoundError);
    });

    it('rejects keys that could escape the store or differ between backends, before any I/O', async () => {
      const store = options.store();
      for (const key of ['', '/abs', 'a//b', 'a/../b', 'a/./b', 'with space', 'ü', 'trailing/'])
        await assert.rejects(store.put(key, 'x'), InvalidStoreKeyError, `key ${JSON.stringify(key)}`);
      // Thrown by list() itself or by the first step of its iteration: both reach the caller's await.
      await assert.rejects(async () => collect(store.list('../')), InvalidStoreKeyError);
    });

    it('lists every key under a prefix in lexicographic order, across many keys', async () => {
      const store = options.store();
      const keys: string[] = [];
      for (let chunk = 0; chunk < 30; chunk += 1)
        keys.push(`campaigns/list/orders/${String(chunk).padStart(4, '0')}/items`);
      keys.push(
        'campaigns/list/orders/0001/failed/page-0',
        'campaigns/list/report.json',
        'campaigns/list-other/x',
      );
      await Promise.all(keys.map((key) => store.put(key, key)));
      const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(await collect(store.list('campaigns/list')), sorted, 'a plain string prefix');
      assert.deepEqual(
        await collect(store.list('campaigns/list/')),
        sorted.filter((key) => key.startsWith('campaigns/list/')),
      );
      assert.deepEqual(await collect(store.list('campaigns/list/orders/0001')), [
        'campaigns/list/orders/0001/failed/page-0',
        'campaigns/list/orders/0001/items',
      ]);
      assert.deepEqual(await collect(store.list('campaigns/nothing-here/')), []);
    });

    it('keeps the previous object when a streamed write fails part-way', async () => {
      const store = options.store();
      await store.put('campaigns/atomic/obj', 'old contents');
      async function* failing() {
        yield 'new contents, part one';
        yield Buffer.alloc(6 * MiB, 'n'); // past one multipart part, so an upload is really in flight
        throw new Error('source broke');
      }
      await assert.rejects(store.put('campaigns/atomic/obj', failing()), /source broke/);
      assert.equal((await store.get('campaigns/atomic/obj')).toString(), 'old contents');
      assert.deepEqual(await collect(store.list('campaigns/atomic/')), ['campaigns/atomic/obj']);
    });

    it('lets a reader stop early and keeps working afterwards', async () => {
      const store = options.store();
      await store.put('campaigns/early/obj', Buffer.alloc(3 * MiB, 'e'));
      for (let i = 0; i < 5; i += 1) {
        for await (const chunk of store.stream('campaigns/early/obj')) {
          assert.ok(chunk.length > 0);
          break;
        }
      }
      assert.equal((await store.get('campaigns/early/obj')).length, 3 * MiB);
    });

    it('round-trips 100,000 JSON Lines rows, streamed both ways', async () => {
      const store = options.store();
      const count = 100_000;
      function* rows() {
        for (let i = 0; i < count; i += 1)
          yield {
            externalRefLineItemID: `li-${i}`,
            amount: (i % 500) + 1,
            note: i % 7 === 0 ? 'ünïcode ✓' : 'plain',
          };
      }
      const written = await putJsonLines(store, 'campaigns/jsonl/items.jsonl', rows());
      assert.equal(written, count);
      let read = 0;
      let amountSum = 0;
      for await (const row of readJsonLines(store, 'campaigns/jsonl/items.jsonl')) {
        const item = row as { externalRefLineItemID: string; amount: number; note: string };
        assert.equal(item.externalRefLineItemID, `li-${read}`);
        if (read % 7 === 0) assert.equal(item.note, 'ünïcode ✓');
        amountSum += item.amount;
        read += 1;
      }
      assert.equal(read, count);
      let expectedSum = 0;
      for (const row of rows()) expectedSum += row.amount;
      assert.equal(amountSum, expectedSum);
    });

    it('streams a 50 MiB object in and out with bounded memory', async () => {
      const store = options.store();
      const total = 50 * MiB;
      const block = 64 * 1024;
      const baseline = liveBytes();
      let writePeak = 0;
      const written = createHash('sha256');
      async function* body() {
        for (let offset = 0; offset < total; offset += block) {
          // Distinct bytes per block, so a lost or repeated block changes the hash.
          const chunk = Buffer.alloc(block, offset / block);
          written.update(chunk);
          if ((offset / block) % 64 === 0) writePeak = Math.max(writePeak, liveBytes() - baseline);
          yield chunk;
        }
      }
      const started = Date.now();
      await store.put('campaigns/large/items.bin', body());
      writePeak = Math.max(writePeak, liveBytes() - baseline);

      const readBaseline = liveBytes();
      let readPeak = 0;
      let readBytes = 0;
      let sinceSample = 0;
      const read = createHash('sha256');
      for await (const chunk of store.stream('campaigns/large/items.bin')) {
        read.update(chunk);
        readBytes += chunk.length;
        sinceSample += chunk.length;
        if (sinceSample >= 4 * MiB) {
          sinceSample = 0;
          readPeak = Math.max(readPeak, liveBytes() - readBaseline);
        }
      }
      const seconds = (Date.now() - started) / 1000;
      assert.equal(readBytes, total);
      assert.equal(read.digest('hex'), written.digest('hex'), 'the bytes read back are the bytes written');
      options.onMeasured?.({ writePeakBytes: writePeak, readPeakBytes: readPeak, seconds });
      assert.ok(
        writePeak < options.streamingMemoryLimitBytes,
        `writing held ${(writePeak / MiB).toFixed(1)} MiB (limit ${options.streamingMemoryLimitBytes / MiB} MiB)`,
      );
      assert.ok(
        readPeak < options.streamingMemoryLimitBytes,
        `reading held ${(readPeak / MiB).toFixed(1)} MiB (limit ${options.streamingMemoryLimitBytes / MiB} MiB)`,
      );
      await store.delete('campaigns/large/items.bin');
    });
  });
}
