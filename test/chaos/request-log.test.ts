// The 429 check of the chaos suite: it must flag a retry that came before Retry-After and accept one
// that waited, per order and method.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterViolations, type LoggedRequest } from '../../chaos/request-log.ts';

const request = (patch: Partial<LoggedRequest> & { at: number }): LoggedRequest => ({
  doneAt: patch.at + 5,
  method: 'GET',
  path: '/raas/v2/asyncOrders/customers/c/accounts/a/o-1',
  query: '',
  externalRefID: 'o-1',
  status: 200,
  ...patch,
});

describe('retryAfterViolations', () => {
  it('flags the next request for the same order sooner than Retry-After', () => {
    const result = retryAfterViolations([
      request({ at: 0, status: 429, retryAfterSeconds: 2 }),
      request({ at: 1000 }),
    ]);
    assert.equal(result.rateLimited, 1);
    assert.equal(result.checked, 1);
    assert.equal(result.violations.length, 1);
    assert.equal(result.violations[0]?.earlyByMs, 1005);
  });

  it('accepts a retry that waited, and ignores other orders and methods', () => {
    const result = retryAfterViolations([
      request({ at: 0, status: 429, retryAfterSeconds: 2 }),
      request({ at: 100, externalRefID: 'o-2' }),
      request({ at: 200, method: 'POST' }),
      request({ at: 2010 }),
    ]);
    assert.equal(result.checked, 1);
    assert.deepEqual(result.violations, []);
  });
});
