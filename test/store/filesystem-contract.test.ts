// The shared store contract (store-contract.ts) run against the filesystem store, the embedded default.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { FileSystemStore } from '../../src/store/index.ts';
import { describeStoreContract } from './store-contract.ts';

const MiB = 1024 * 1024;
let root: string;
let store: FileSystemStore;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'store-contract-'));
  store = new FileSystemStore(path.join(root, 'data'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describeStoreContract('filesystem', {
  store: () => store,
  streamingMemoryLimitBytes: 16 * MiB,
  onMeasured: (m) =>
    console.log(
      `  filesystem 50 MiB: write peak ${(m.writePeakBytes / MiB).toFixed(1)} MiB, read peak ` +
        `${(m.readPeakBytes / MiB).toFixed(1)} MiB, ${m.seconds.toFixed(1)} s`,
    ),
});
