// The duplicate filter's memory stays bounded and forgets the least recently seen id first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentIds } from '../../src/webhook/recent-ids.ts';

describe('RecentIds', () => {
  it('keeps at most capacity ids, evicting the least recently seen', () => {
    const recent = new RecentIds(3);
    for (const id of ['a', 'b', 'c']) recent.add(id);
    assert.equal(recent.has('a'), true); // a is now the most recent
    recent.add('d'); // evicts b
    assert.equal(recent.size, 3);
    assert.equal(recent.has('b'), false);
    assert.deepEqual(
      ['a', 'c', 'd'].map((id) => recent.has(id)),
      [true, true, true],
    );
    for (let i = 0; i < 1000; i += 1) recent.add(`x${i}`);
    assert.equal(recent.size, 3);
    assert.equal(recent.has('x999'), true);
    assert.equal(recent.has('a'), false);
  });

  it('never stores an id over maxIdLength: memory stays under capacity x maxIdLength', () => {
    const recent = new RecentIds(10, 200);
    assert.throws(() => recent.add('e'.repeat(201)), /over the 200 limit/);
    assert.throws(() => recent.add('e'.repeat(1024 * 1024)), /over the 200 limit/);
    assert.equal(recent.size, 0);
    recent.add('e'.repeat(200));
    assert.equal(recent.size, 1);
    assert.throws(() => new RecentIds(10, 0), /maxIdLength/);
  });

  it('refuses a capacity that is not a whole number >= 1', () => {
    assert.throws(() => new RecentIds(0), /capacity/);
    assert.throws(() => new RecentIds(2.5), /capacity/);
  });
});
