// The OAuth token shared through the claim-check store, against the simulator's token endpoint
// (whose request count is what Tango's daily token limit would see): one token for several
// authenticators, none after a restart, one renewal among concurrent ones inside the refresh
// window, a 401 that drops only the refused token, and an entry unreadable without its key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { StoreTokenCache, storeTokenCacheFor, tokenCachePrefix } from '../../src/store/token-cache.ts';
import { OAuthAuthenticator, type CachedToken } from '../../src/tango/auth.ts';
import { TangoClient } from '../../src/tango/client.ts';
import { loadTangoConfig, type TangoConfig } from '../../src/tango/config.ts';
import type { CodecKey } from '../../src/codec/aes-gcm-codec.ts';

const DAY_S = 86_400;

function key(id: string): CodecKey {
  return { id, key: randomBytes(32) };
}

describe('OAuth token shared through the store', () => {
  let sim: RunningSimulator;
  let config: TangoConfig;
  let oauth: Extract<TangoConfig['auth'], { kind: 'oauth' }>;

  before(async () => {
    sim = await startSimulator({ processingDelayMs: 0 });
    config = loadTangoConfig({ TANGO_BASE_URL: sim.baseUrl, TANGO_AUTH: 'oauth' });
    assert.equal(config.auth.kind, 'oauth');
    oauth = config.auth as typeof oauth;
  });
  after(() => sim.close());

  let issuedBefore = 0;
  const tokensIssued = () => {
    const total = sim.stats().requests['POST /oauth/token']?.['200'] ?? 0;
    return total - issuedBefore;
  };
  const resetCount = () => {
    issuedBefore = sim.stats().requests['POST /oauth/token']?.['200'] ?? 0;
  };

  it('two workers sharing one store fetch one token between them; a restart fetches none', async () => {
    resetCount();
    const store = new MemoryStore('shared-token-1');
    const cacheFor = (holder: string) => storeTokenCacheFor(store, config.auth, { holder })!;
    const a = new TangoClient(config, { tokenCache: cacheFor('a') });
    const b = new TangoClient(config, { tokenCache: cacheFor('b') });
    await Promise.all([a.getCatalog(), b.getCatalog(), a.getAccount('A00000001').catch(() => undefined)]);
    await Promise.all([b.getCatalog(), a.getCatalog()]);
    assert.equal(tokensIssued(), 1);

    // Every worker restarts: new clients, same store.
    const restarted = [
      new TangoClient(config, { tokenCache: cacheFor('c') }),
      new TangoClient(config, { tokenCache: cacheFor('d') }),
    ];
    await Promise.all(restarted.map((client) => client.getCatalog()));
    assert.equal(tokensIssued(), 1, 'the restarted workers used the stored token');
    assert.ok(await store.exists(`${tokenCachePrefix(oauth)}token.json`));
    assert.equal(
      await store.exists(`${tokenCachePrefix(oauth)}renewal.lock`),
      false,
      'the lease was released',
    );
  });

  it('inside the refresh window exactly one of several concurrent authenticators renews the token', async () => {
    resetCount();
    const store = new MemoryStore('shared-token-2');
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    const authenticators = Array.from(
      { length: 6 },
      (_, index) =>
        new OAuthAuthenticator(oauth, {
          timeoutMs: 5_000,
          now,
          tokenCache: storeTokenCacheFor(store, config.auth, { holder: `w${index}`, now })!,
          leaseWaitMs: { poll: 10, total: 5_000 },
        }),
    );
    const first = await Promise.all(authenticators.map((auth) => auth.authorization()));
    assert.equal(new Set(first).size, 1);
    assert.equal(tokensIssued(), 1);

    // Two minutes before the 24 h token expires: inside its (5 minute) refresh window.
    offsetMs = (DAY_S - 120) * 1000;
    const renewed = await Promise.all(authenticators.map((auth) => auth.authorization()));
    assert.equal(tokensIssued(), 2, 'one renewal, not one per authenticator');
    const stored = await storeTokenCacheFor(store, config.auth)!.read();
    assert.ok(stored);
    assert.notEqual(`Bearer ${stored.accessToken}`, first[0]);
    // Whoever did not renew kept using the current token or picked up the new one.
    for (const header of renewed) assert.ok([first[0], `Bearer ${stored.accessToken}`].includes(header));
    assert.ok(now() < stored.refreshAtMs, 'the stored token is outside its refresh window again');

    // A moment later every authenticator is on the renewed token, and none fetched another.
    offsetMs += 1_500;
    const settled = await Promise.all(authenticators.map((auth) => auth.authorization()));
    assert.deepEqual(new Set(settled), new Set([`Bearer ${stored.accessToken}`]));
    assert.equal(tokensIssued(), 2);
  });

  it('a 401 drops the refused token from the store (only that one) and fetches one new token', async () => {
    resetCount();
    const store = new MemoryStore('shared-token-3');
    const cache = storeTokenCacheFor(store, config.auth)!;
    const revoked: CachedToken = {
      accessToken: 'revoked-token',
      expiresAtMs: Date.now() + DAY_S * 1000,
      refreshAtMs: Date.now() + DAY_S * 500,
    };
    await cache.write(revoked);
    const client = new TangoClient(config, { tokenCache: cache });
    await client.getCatalog();
    assert.equal(tokensIssued(), 1);
    const replaced = await cache.read();
    assert.ok(replaced && replaced.accessToken !== 'revoked-token');

    // Dropping a token that is no longer the stored one leaves the stored one alone.
    await cache.drop('revoked-token');
    assert.deepEqual(await cache.read(), replaced);
    await cache.drop(replaced.accessToken);
    assert.equal(await cache.read(), undefined);
  });

  it('an encrypted entry holds no token in clear and is unreadable without its key', async () => {
    const store = new MemoryStore('shared-token-4');
    const current = key('k2');
    const old = key('k1');
    const prefix = tokenCachePrefix(oauth);
    const writer = new StoreTokenCache({ store, prefix, keys: [current, old] });
    const token: CachedToken = { accessToken: 'secret-access-token', expiresAtMs: 2e12, refreshAtMs: 1.9e12 };
    await writer.write(token);
    const raw = (await store.get(writer.tokenKey)).toString('utf8');
    assert.equal(raw.includes('secret-access-token'), false);
    assert.equal((JSON.parse(raw) as { encrypted: { keyId: string } }).encrypted.keyId, 'k2');

    assert.deepEqual(await writer.read(), token);
    // A rotation that keeps k2 as an old key still reads it.
    assert.deepEqual(await new StoreTokenCache({ store, prefix, keys: [key('k3'), current] }).read(), token);
    // Without the key, with another key under the same id, or without encryption: no token.
    assert.equal(await new StoreTokenCache({ store, prefix, keys: [old] }).read(), undefined);
    assert.equal(
      await new StoreTokenCache({ store, prefix, keys: [{ id: 'k2', key: randomBytes(32) }] }).read(),
      undefined,
    );
    assert.equal(await new StoreTokenCache({ store, prefix }).read(), undefined);

    // A clear-text entry is not trusted once keys are configured; garbage reads as no token.
    await new StoreTokenCache({ store, prefix }).write(token);
    assert.deepEqual(await new StoreTokenCache({ store, prefix }).read(), token);
    assert.equal(await writer.read(), undefined);
    await store.put(writer.tokenKey, 'not json');
    assert.equal(await writer.read(), undefined);
  });

  it('the renewal lease: one holder at a time, released by its holder only, taken over when stale', async () => {
    const store = new MemoryStore('shared-token-5');
    let clock = 1_000_000;
    const cache = (holder: string) =>
      new StoreTokenCache({ store, prefix: 'tango/oauth/lease-test/', holder, now: () => clock });
    const first = await cache('a').lease();
    assert.ok(first);
    assert.equal(await cache('b').lease(), undefined);
    clock += 29_000;
    assert.equal(await cache('b').lease(), undefined, 'still inside the 30 s lease');
    clock += 2_000;
    const takeover = await cache('b').lease();
    assert.ok(takeover, 'a lease older than 30 s is taken over');
    await first.release(); // the old holder's late release must not free b's lease
    assert.equal(await cache('c').lease(), undefined);
    await takeover.release();
    assert.ok(await cache('c').lease());
  });
});
