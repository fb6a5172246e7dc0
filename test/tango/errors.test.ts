// Error helpers: Retry-After parsing, JSON paths, and messages that say what, where and what next.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  TangoHttpError,
  TangoNetworkError,
  formatJsonPath,
  parseErrorBody,
  parseRetryAfter,
} from '../../src/tango/errors.ts';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delta-seconds, fractions included', () => {
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter('2', now), 2000);
    assert.equal(parseRetryAfter(' 1.5 ', now), 1500);
    assert.equal(parseRetryAfter(['3', '9'], now), 3000);
  });
  it('reads an HTTP date; a past date means now', () => {
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
  });
  it('absent or unreadable: undefined', () => {
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('', now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-1', now), undefined);
  });
});

describe('error shapes', () => {
  it('formatJsonPath', () => {
    assert.equal(formatJsonPath(['lineItems', 3, 'recipient', 'email']), 'lineItems[3].recipient.email');
    assert.equal(formatJsonPath([]), '');
    assert.equal(formatJsonPath([0]), '[0]');
  });

  it('parseErrorBody keeps text that is not Tango JSON', () => {
    assert.equal(parseErrorBody('upstream connect error'), 'upstream connect error');
    const parsed = parseErrorBody('{"i18nKey":"402.001","message":"Insufficient funds"}');
    assert.equal(typeof parsed === 'object' && parsed.i18nKey, '402.001');
  });

  it('TangoHttpError with a text body says status, path and the text', () => {
    const error = new TangoHttpError({
      status: 503,
      body: 'maintenance',
      method: 'GET',
      path: '/raas/v2/catalogs',
    });
    assert.equal(error.name, 'TangoHttpError');
    assert.equal(error.i18nKey, undefined);
    assert.equal(error.message, 'Tango GET /raas/v2/catalogs returned HTTP 503: maintenance');
  });

  it('TangoNetworkError says the outcome is unknown and what to do', () => {
    const error = new TangoNetworkError({
      code: 'ECONNRESET',
      isTimeout: false,
      method: 'POST',
      path: '/raas/v2/asyncOrders',
    });
    assert.equal(error.name, 'TangoNetworkError');
    assert.match(error.message, /POST \/raas\/v2\/asyncOrders failed without a response \(ECONNRESET\)/);
    assert.match(error.message, /retry with the same externalRefID/);
  });
});
