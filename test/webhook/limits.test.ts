// The receiver's bounded memory and source rules, without a server: the signal window (one signal
// per order and kind per minute, a bounded number of orders), X-Forwarded-For handling.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress, parseAddressList } from '../../src/webhook/ip-allowlist.ts';
import { SignalWindow } from '../../src/webhook/signal-window.ts';

describe('SignalWindow', () => {
  it('lets a key through once per window, and again after it or after a release', () => {
    const window = new SignalWindow(60_000, 100);
    assert.equal(window.claim('a', 0), true);
    assert.equal(window.claim('a', 59_999), false);
    assert.equal(window.claim('b', 1), true);
    assert.equal(window.claim('a', 60_000), true);
    window.release('b');
    assert.equal(window.claim('b', 2), true);
  });

  it('holds at most capacity keys, expired ones dropped first', () => {
    const window = new SignalWindow(60_000, 50);
    for (let i = 0; i < 10_000; i += 1) window.claim(`order-${i}`, i);
    assert.equal(window.size, 50);
    assert.equal(window.claim('order-9999', 10_000), false);
    window.claim('late', 200_000);
    assert.equal(window.size, 1);
    assert.throws(() => new SignalWindow(1000, 0), /capacity/);
    assert.throws(() => new SignalWindow(-1, 10), /window/);
  });
});

describe('client address', () => {
  const proxies = parseAddressList('10.0.0.0/8');
  it('is the socket peer unless the peer is a trusted proxy', () => {
    assert.equal(clientAddress('203.0.113.7', '198.51.100.1', undefined), '203.0.113.7');
    assert.equal(clientAddress('203.0.113.7', '198.51.100.1', proxies), '203.0.113.7');
    assert.equal(clientAddress('::ffff:203.0.113.7', undefined, undefined), '203.0.113.7');
  });
  it('reads X-Forwarded-For from the right, skipping trusted proxies', () => {
    assert.equal(clientAddress('10.0.0.1', '198.51.100.1', proxies), '198.51.100.1');
    assert.equal(clientAddress('10.0.0.1', '203.0.113.7, 198.51.100.1, 10.1.1.1', proxies), '198.51.100.1');
    assert.equal(clientAddress('10.0.0.1', ['203.0.113.7', '10.2.2.2'], proxies), '203.0.113.7');
    assert.equal(clientAddress('10.0.0.1', undefined, proxies), '10.0.0.1');
    assert.equal(clientAddress('10.0.0.1', 'not-an-ip', proxies), undefined);
    assert.equal(clientAddress(undefined, undefined, proxies), undefined);
  });
});
