// The in-memory store passes the shared store contract, and memory:// URLs share one store per name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, openStore } from '../../src/store/index.ts';
import { describeStoreContract } from './store-contract.ts';

const MiB = 1024 * 1024;
const store = new MemoryStore('contract');

describeStoreContract('memory', {
  store: () => store,
  // Holding objects in memory is this backend's job: a 50 MiB object costs its 50 MiB (plus the copy
  // made while it is gathered). The limit proves nothing worse, such as a copy per chunk.
  streamingMemoryLimitBytes: 130 * MiB,
});

describe('memory:// store URLs', () => {
  it('open the same store for the same name and separate stores for different names', async () => {
    const a = await openStore('memory://shared-test');
    await a.put('k', 'v');
    const again = await openStore('memory://shared-test');
    assert.equal((await again.get('k')).toString(), 'v');
    const other = await openStore('memory://other-test');
    assert.equal(await other.exists('k'), false);
    assert.equal(a.location, 'memory://shared-test');
  });
});
