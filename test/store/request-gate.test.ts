// The shared request gate: requests spaced per process, and no request from any process before a
// Retry-After (or the 1 s Tango asks after an error) that another process was told.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../src/store/memory.ts';
import { QUIET_UNTIL_KEY, StoreRequestGate, TICKS_PREFIX } from '../../src/store/request-gate.ts';

/** A clock the gates share; sleeping moves it (and records the wait). */
function fakeTime() {
  const time = { now: 1_000_000, slept: [] as number[] };
  return {
    time,
    now: () => time.now,
    sleep: async (ms: number) => {
      time.slept.push(ms);
      time.now += ms;
    },
  };
}

describe('StoreRequestGate', () => {
  it('spaces the requests of one process at 1/TPS (plus a tenth), concurrent callers included', async () => {
    const clock = fakeTime();
    const gate = new StoreRequestGate(new MemoryStore(), { tps: 2, now: clock.now, sleep: clock.sleep });
    const sentAt: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        await gate.beforeRequest();
        sentAt.push(clock.time.now);
      }),
    );
    assert.deepEqual(
      sentAt.map((at) => at - sentAt[0]!),
      [0, 550, 1100, 1650],
    );
  });

  it('gives up a slot it woke too late for, so the next request is not crowded', async () => {
    const clock = fakeTime();
    const store = new MemoryStore();
    let late = 200;
    const gate = new StoreRequestGate(store, {
      tps: 1,
      now: clock.now,
      // The first sleep overshoots by 200 ms (a busy event loop); the others are on time.
      sleep: async (ms) => {
        clock.time.now += ms + late;
        late = 0;
      },
    });
    const other = new StoreRequestGate(store, { tps: 1, now: clock.now, sleep: clock.sleep });
    await gate.beforeRequest();
    const first = clock.time.now;
    await other.beforeRequest();
    const second = clock.time.now;
    assert.ok(second - first >= 1000, `requests only ${second - first} ms apart`);
    // The late one went out at the start of a later tick (a multiple of 275 ms), not 200 ms into one.
    assert.equal(first % 275, 0);
  });

  it('claims far enough ahead when the store is slower than a spacing (no endless re-claims)', async () => {
    const clock = fakeTime();
    const store = new MemoryStore();
    // Every create-if-absent takes 20 ms (an S3 round trip); at 500 per second a spacing is 12 ms.
    const createIfAbsent = store.createIfAbsent.bind(store);
    store.createIfAbsent = async (key, body) => {
      clock.time.now += 20;
      // A real round trip yields to the event loop (and lets the test's own timeout fire).
      await new Promise((resolve) => setImmediate(resolve));
      return createIfAbsent(key, body);
    };
    const gate = new StoreRequestGate(store, { tps: 500, now: clock.now, sleep: clock.sleep });
    const sentAt: number[] = [];
    const sending = (async () => {
      for (let i = 0; i < 5; i += 1) {
        await gate.beforeRequest();
        sentAt.push(clock.time.now);
      }
    })();
    const stuck = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the gate never sent')), 2000),
    );
    await Promise.race([sending, stuck]);
    assert.equal(sentAt.length, 5);
    for (let i = 1; i < sentAt.length; i += 1) assert.ok(sentAt[i]! - sentAt[i - 1]! >= 2);
  });

  it('removes ticks claimed long ago, whoever claimed them', async () => {
    const clock = fakeTime();
    const store = new MemoryStore();
    // Ticks a crashed process left behind, long past.
    for (const tick of [10, 11, 12, 13]) await store.put(`${TICKS_PREFIX}${tick}`, '{}');
    const gate = new StoreRequestGate(store, { tps: 1000, now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 300; i += 1) await gate.beforeRequest();
    await new Promise((resolve) => setImmediate(resolve));
    const keys: string[] = [];
    for await (const key of store.list(TICKS_PREFIX)) keys.push(key);
    assert.ok(!keys.includes(`${TICKS_PREFIX}10`), 'a tick long past is still there');
    assert.ok(keys.length < 300 * 4, `${keys.length} ticks kept`);
  });

  it('sends from an idle gate within a quarter spacing, and lets go of a partial claim', async () => {
    const clock = fakeTime();
    const store = new MemoryStore();
    const gate = new StoreRequestGate(store, { tps: 1, now: clock.now, sleep: clock.sleep });
    clock.time.now = 1_000_010;
    await gate.beforeRequest();
    assert.ok(clock.time.now - 1_000_010 <= 275, `an idle gate waited ${clock.time.now - 1_000_010} ms`);
    const tick = clock.time.now / 275;
    // Another process holds the third tick after our spacing: the next claim gets the two before it
    // and the one after it, lets go of them, and takes the four after the held one.
    await store.put(`${TICKS_PREFIX}${tick + 6}`, '{}');
    const other = new StoreRequestGate(store, { tps: 1, now: clock.now, sleep: clock.sleep });
    await other.beforeRequest();
    assert.equal(clock.time.now / 275, tick + 7);
    const keys = new Set<string>();
    for await (const key of store.list(TICKS_PREFIX)) keys.add(key);
    for (const held of [
      tick,
      tick + 1,
      tick + 2,
      tick + 3,
      tick + 6,
      tick + 7,
      tick + 8,
      tick + 9,
      tick + 10,
    ])
      assert.ok(keys.has(`${TICKS_PREFIX}${held}`), `tick ${held - tick} is held`);
    for (const released of [tick + 4, tick + 5])
      assert.ok(!keys.has(`${TICKS_PREFIX}${released}`), 'the partial claim let go of what it got');
  });

  it('never lets two processes send in the same slot (real clock)', async () => {
    const store = new MemoryStore();
    // 20 per second: spacings of 60 ms (50 plus the 10 ms least margin).
    const gates = [1, 2, 3].map(() => new StoreRequestGate(store, { tps: 20 }));
    const sentAt: number[] = [];
    await Promise.all(
      gates.flatMap((gate) =>
        [0, 1].map(async () => {
          await gate.beforeRequest();
          sentAt.push(performance.now());
        }),
      ),
    );
    sentAt.sort((x, y) => x - y);
    for (let i = 1; i < sentAt.length; i += 1) {
      const gap = sentAt[i]! - sentAt[i - 1]!;
      // Half the interval: two gates that did not share the ticks would send together (gaps near 0); a
      // busy event loop may delay when the test sees a send by some milliseconds.
      assert.ok(gap >= 25, `requests ${i - 1} and ${i} only ${gap.toFixed(1)} ms apart`);
    }
  });

  it("holds every process's requests until a 429's Retry-After has passed", async () => {
    const clock = fakeTime();
    const store = new MemoryStore();
    const a = new StoreRequestGate(store, { tps: 10, now: clock.now, sleep: clock.sleep });
    const b = new StoreRequestGate(store, { tps: 10, now: clock.now, sleep: clock.sleep });
    await a.beforeRequest();
    const answeredAt = clock.time.now;
    await a.afterResponse({ status: 429, retryAfterMs: 3000 });
    assert.ok(await store.exists(QUIET_UNTIL_KEY));
    await b.beforeRequest();
    assert.ok(clock.time.now >= answeredAt + 3000, 'the other process waited out the Retry-After');
  });

  it('waits at least 1 s after a 5xx or a network failure, and not after a success', async () => {
    const clock = fakeTime();
    const store = new MemoryStore();
    const gate = new StoreRequestGate(store, { tps: 100, now: clock.now, sleep: clock.sleep });
    await gate.beforeRequest();
    await gate.afterResponse({ status: 200 });
    assert.equal(await store.exists(QUIET_UNTIL_KEY), false);
    await gate.afterResponse({ status: 503 });
    let before = clock.time.now;
    await gate.beforeRequest();
    assert.ok(clock.time.now - before >= 1000);
    await gate.afterResponse({});
    before = clock.time.now;
    await gate.beforeRequest();
    assert.ok(clock.time.now - before >= 1000);
    // A 429 without Retry-After also waits the 1 s.
    await gate.afterResponse({ status: 429 });
    before = clock.time.now;
    await gate.beforeRequest();
    assert.ok(clock.time.now - before >= 1000);
  });

  it("never shortens another process's longer quiet", async () => {
    const clock = fakeTime();
    const store = new MemoryStore();
    const a = new StoreRequestGate(store, { tps: 1, now: clock.now, sleep: clock.sleep });
    const b = new StoreRequestGate(store, { tps: 1, now: clock.now, sleep: clock.sleep });
    await a.afterResponse({ status: 429, retryAfterMs: 30_000 });
    await b.afterResponse({ status: 503 });
    const { until } = JSON.parse((await store.get(QUIET_UNTIL_KEY)).toString('utf8')) as { until: number };
    assert.equal(until, 1_000_000 + 30_000);
  });

  it('keeps working when the store fails once', async () => {
    const clock = fakeTime();
    const store = new MemoryStore();
    let failures = 1;
    const flaky = Object.assign(Object.create(store) as MemoryStore, {
      get: (key: string) => (failures-- > 0 ? Promise.reject(new Error('disk')) : store.get(key)),
    });
    const gate = new StoreRequestGate(flaky, { tps: 10, now: clock.now, sleep: clock.sleep });
    await assert.rejects(gate.beforeRequest(), /disk/);
    await gate.beforeRequest();
  });
});
