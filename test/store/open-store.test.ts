// Opening the store from CAMPAIGN_STORE: file URLs (relative and absolute), defaults, unknown schemes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CampaignStore,
  DEFAULT_STORE_URL,
  FileSystemStore,
  fileStoreDirectory,
  loadStoreConfig,
  openStore,
  registerStoreScheme,
} from '../../src/store/index.ts';

describe('openStore and loadStoreConfig', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'store-open-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('resolves relative file URLs against the working directory and keeps absolute ones', () => {
    assert.equal(fileStoreDirectory('file://.data/store', '/srv/app'), '/srv/app/.data/store');
    assert.equal(fileStoreDirectory('file:///var/lib/campaigns', '/srv/app'), '/var/lib/campaigns');
    assert.equal(fileStoreDirectory('file://localhost/var/x', '/srv/app'), '/var/x');
    assert.equal(fileStoreDirectory('file:///tmp/my%20dir', '/'), '/tmp/my dir');
    assert.throws(() => fileStoreDirectory('file://', '/'), /names no directory/);
  });

  it('opens a working filesystem store from a file URL', async () => {
    const store = await openStore(`file://${root}/s`);
    assert.ok(store instanceof FileSystemStore);
    await store.put('k', 'v');
    assert.equal((await store.get('k')).toString(), 'v');
    assert.equal(store.location, `file://${root}/s`);
  });

  it('rejects unsupported schemes and scheme-less values with the supported list', async () => {
    await assert.rejects(
      openStore('gs://bucket/x'),
      /Unsupported campaign store URL scheme "gs:\/\/".*file:\/\//,
    );
    await assert.rejects(openStore('/var/data'), /no scheme: use file:\/\//);
  });

  it('lets another backend register its scheme', async () => {
    const fake: CampaignStore = new FileSystemStore(path.join(root, 'fake'));
    let seenUrl = '';
    registerStoreScheme('memtest', (url) => {
      seenUrl = url;
      return fake;
    });
    assert.equal(await openStore('memtest://bucket/prefix'), fake);
    assert.equal(seenUrl, 'memtest://bucket/prefix');
    assert.throws(() => registerStoreScheme('s3://', () => fake), /Invalid store URL scheme/);
  });

  it('reads CAMPAIGN_STORE with a default and names the variable when invalid', () => {
    assert.deepEqual(loadStoreConfig({}), { url: DEFAULT_STORE_URL });
    assert.deepEqual(loadStoreConfig({ CAMPAIGN_STORE: '' }), { url: 'file://.data/store' });
    assert.deepEqual(loadStoreConfig({ CAMPAIGN_STORE: 's3://b/p' }), { url: 's3://b/p' });
    assert.throws(() => loadStoreConfig({ CAMPAIGN_STORE: 'data/store' }), /CAMPAIGN_STORE="data\/store"/);
  });
});
