// Found by `npm run chaos -- --only tango-429`: while paging an order's failed line items, a Tango 429
// reached Temporal as a raw TangoHttpError, so the settle retried after the policy's 1 s instead of
// Retry-After (2 s in the scenario), and a 401/404 there would have been retried forever. The paging
// must map Tango errors like every other Tango call (activities/errors.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { campaignDefinitionKey, orderBookKey } from '../../src/store/keys.ts';
import { classifyErrors } from '../../src/campaign/classification.ts';
import { newEntry } from '../../src/campaign/order-book.ts';
import { createOrderActivities } from '../../src/activities/orders.ts';
import type { TangoApi } from '../../src/activities/deps.ts';
import { putJson, putJsonLines } from '../../src/store/json.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { TangoHttpError } from '../../src/tango/errors.ts';
import type { LineItemRequest } from '../../src/tango/schemas.ts';

const campaignId = 'settle-errors';
const input = { campaignId, chunk: 0, round: 0, step: 1, externalRefID: 'settle-errors-0' };

async function settleWith(error: TangoHttpError): Promise<unknown> {
  const store = new MemoryStore();
  await putJson(store, campaignDefinitionKey(campaignId), {
    campaignId,
    customerIdentifier: 'c',
    accountIdentifier: 'account-1',
    autoCorrect: false,
    utidFallbacks: {},
  });
  const entry = newEntry({
    externalRefLineItemID: 'a',
    recipient: { firstName: 'A', lastName: 'B', email: 'a@example.test' },
    utid: 'U000001',
    amount: 10,
    deliveryMethod: 'EMAIL',
  } as LineItemRequest);
  await putJsonLines(store, orderBookKey(campaignId, 0, 1), [entry]);
  const { settleOrderRound } = createOrderActivities({
    store,
    tango: {
      // The first page request fails.
      getAsyncOrder: () => Promise.reject(error),
    } as Partial<TangoApi> as TangoApi,
    classify: (errors) => classifyErrors(errors),
    autoFixerFor: () => undefined,
  });
  try {
    await new MockActivityEnvironment().run(settleOrderRound, input);
  } catch (caught) {
    return caught;
  }
  assert.fail('settleOrderRound should have failed');
}

const httpError = (status: number, retryAfterMs?: number) =>
  new TangoHttpError({
    status,
    body: `status ${status}`,
    method: 'GET',
    path: '/asyncOrders/customers/c/accounts/account-1/settle-errors-0',
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });

describe('settleOrderRound: Tango errors while paging failed items', () => {
  it('a 429 is retried after Retry-After, not after the retry policy interval', async () => {
    const failure = await settleWith(httpError(429, 2000));
    assert.ok(failure instanceof ApplicationFailure, `got ${String(failure)}`);
    assert.equal(failure.type, 'TangoRateLimited');
    assert.equal(failure.nextRetryDelay, 2000);
  });

  it('a 401 is not retried (credentials need a person)', async () => {
    const failure = await settleWith(httpError(401));
    assert.ok(failure instanceof ApplicationFailure, `got ${String(failure)}`);
    assert.equal(failure.type, 'TangoUnauthorized');
    assert.equal(failure.nonRetryable, true);
  });
});
