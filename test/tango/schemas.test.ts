// Schema tests: Tango's own JSON examples parse (and normalize), and every documented request limit
// accepts the value just inside it and rejects the value just outside it, at the right path.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  asyncOrderDetailSchema,
  asyncOrderQuerySchema,
  asyncOrderStatusEventSchema,
  catalogResponseSchema,
  accountResponseSchema,
  createAsyncOrderRequestSchema,
  createAsyncOrderResponseSchema,
  isFinalLineItemStatus,
  isFinalOrderStatus,
  isFinalWebhookStatus,
  lineItemRequestSchema,
  normalizeStatus,
  tangoErrorBodySchema,
  updateAsyncOrderRequestSchema,
  webhookRegistrationRequestSchema,
  type CreateAsyncOrderRequest,
  type LineItemRequest,
} from '../../src/tango/schemas.ts';
import { lineItem } from '../helpers/line-items.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/seeds/${name}`, import.meta.url), 'utf8');
const fixtureJson = (name: string): unknown => JSON.parse(fixture(name));

const DAY_MS = 86_400_000;

function validItem(overrides: Partial<LineItemRequest> = {}): LineItemRequest {
  return lineItem('item-1', {
    recipient: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' },
    amount: 25,
    ...overrides,
  });
}

function validOrder(overrides: Partial<CreateAsyncOrderRequest> = {}): CreateAsyncOrderRequest {
  return {
    externalRefID: 'campaign-1-0',
    customerIdentifier: 'sim-customer',
    accountIdentifier: 'sim-account-1',
    lineItems: [validItem()],
    ...overrides,
  };
}

/** Paths of the issues, joined with dots, for readable assertions. */
function issuePaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  return (result.error?.issues ?? []).map((issue) => issue.path.map(String).join('.'));
}

describe('response schemas accept Tango’s documented examples', () => {
  it('POST summary shape', () => {
    const order = createAsyncOrderResponseSchema.parse(
      fixtureJson('create-async-order-response-summary.json'),
    );
    assert.equal(order.externalRefID, 'string');
    assert.equal(order.totalLineItems, 0);
    assert.equal(order.createdAt, '2025-10-23T21:52:43.041Z');
    assert.equal(order.failedLineItems.length, 1);
    assert.deepEqual(order.failedLineItems[0]!.errors[0], {
      field: 'string',
      errorCodeValue: 0,
      errorCodeName: 'string',
      message: 'string',
    });
    assert.deepEqual(order.duplicateLineItemRefIds, { additionalProp: 0 });
    assert.deepEqual(order.extra, {});
  });

  it('POST {externalRefID, order} shape with string count and created_at', () => {
    const order = createAsyncOrderResponseSchema.parse(fixtureJson('create-async-order-response-order.json'));
    assert.deepEqual(order, {
      externalRefID: 'ORDER-2025-001',
      status: 'pending',
      totalLineItems: 2,
      createdAt: '2025-05-07T10:00:00Z',
      failedLineItems: [],
      duplicateLineItemRefIds: {},
      extra: {},
    });
  });

  it('POST response keeps unknown fields under extra', () => {
    const order = createAsyncOrderResponseSchema.parse({
      externalRefID: 'A',
      status: 'PENDING',
      referenceOrderID: 'RA-1',
      order: { externalRefID: 'A', queuePosition: 3 },
      failedLineItems: null,
      duplicateLineItemRefIds: null,
    });
    assert.deepEqual(order.extra, { referenceOrderID: 'RA-1', order: { queuePosition: 3 } });
    assert.deepEqual(order.failedLineItems, []);
    assert.deepEqual(order.duplicateLineItemRefIds, {});
  });

  it('GET example', () => {
    const order = asyncOrderDetailSchema.parse(fixtureJson('get-async-order-response.json'));
    assert.equal(order.orderStatus, 'PENDING');
    assert.equal(order.pagination?.nextCursor, 'string');
    assert.equal(order.pagination?.nextPageAvailable, true);
    assert.equal(order.lineItems.length, 1);
    const item = order.lineItems[0]!;
    assert.equal(item.lineItemStatus, 'COMPLETE');
    assert.equal(item.recipient?.address?.postalCode, 'string');
    assert.deepEqual(item.lineItemErrors, [{ errorCode: 'string', errorMessage: 'string' }]);
    assert.deepEqual(order.orderErrors, [{ errorCode: 'string', errorMessage: 'string' }]);
    assert.equal(order.amountCharged?.total, 0);
  });

  it('PATCH example (nulls everywhere; the seed’s "integer" placeholder replaced by a number)', () => {
    const text = fixture('update-async-order-response.txt');
    assert.match(text, /"totalLineItems": integer,/);
    const order = asyncOrderDetailSchema.parse(
      JSON.parse(text.replace('"totalLineItems": integer', '"totalLineItems": 3')),
    );
    assert.equal(order.orderStatus, 'COMPLETE');
    assert.equal(order.totalLineItems, 3);
    assert.equal(order.sender, undefined);
    assert.equal(order.completedAt, undefined);
    assert.equal(order.pagination, undefined);
    assert.deepEqual(order.orderErrors, []);
    assert.deepEqual(order.lineItems, []);
  });

  it('webhook event and error body examples', () => {
    const event = asyncOrderStatusEventSchema.parse(fixtureJson('webhook-async-order-status-event.json'));
    assert.equal(event.eventData.status, 'SUCCESSFUL');
    assert.equal(event.eventData.referenceOrderId, '...');
    assert.equal(event.revision, 0);
    const body = tangoErrorBodySchema.parse(fixtureJson('error-body.json'));
    assert.equal(body.httpCode, 400);
    assert.equal(body.errors[0]?.i18nKey, '422.134');
    assert.equal(body.errors[0]?.path, 'sender.email');
  });
});

describe('response schemas are lenient where Tango is', () => {
  const base = { externalRefID: 'A', orderStatus: 'complete' };

  for (const empty of [null, 'NONE', 'NULL', 'none', undefined]) {
    it(`lineItems ${JSON.stringify(empty)} on an empty failed-only page becomes []`, () => {
      assert.deepEqual(asyncOrderDetailSchema.parse({ ...base, lineItems: empty }).lineItems, []);
    });
  }

  it('keeps unknown fields on the order and on line items, and created_at becomes createdAt', () => {
    const order = asyncOrderDetailSchema.parse({
      ...base,
      created_at: '2025-01-01T00:00:00Z',
      newTopLevel: { a: 1 },
      lineItems: [{ externalRefLineItemID: 'x', amount: '12.50', shinyNewField: true, lineItemErrors: null }],
    });
    assert.equal(order.createdAt, '2025-01-01T00:00:00Z');
    assert.deepEqual(order.newTopLevel, { a: 1 });
    assert.equal(order.lineItems[0]!.shinyNewField, true);
    assert.equal(order.lineItems[0]!.amount, 12.5);
    assert.deepEqual(order.lineItems[0]!.lineItemErrors, []);
  });

  it('keeps statuses as sent; the helpers compare case-insensitively and unknown values are not final', () => {
    assert.equal(asyncOrderDetailSchema.parse(base).orderStatus, 'complete');
    assert.equal(normalizeStatus(' complete '), 'COMPLETE');
    assert.equal(isFinalOrderStatus('complete'), true);
    assert.equal(isFinalOrderStatus('Partial'), true);
    assert.equal(isFinalOrderStatus('PROCESSING'), false);
    assert.equal(isFinalOrderStatus('QUEUED_FOR_REVIEW'), false);
    assert.equal(isFinalOrderStatus(undefined), false);
    assert.equal(isFinalLineItemStatus('failed'), true);
    assert.equal(isFinalLineItemStatus('pending'), false);
    assert.equal(isFinalWebhookStatus('RETRYING'), false);
    assert.equal(isFinalWebhookStatus('partialFailed'), true);
  });

  it('reports the JSON path of a response it cannot use', () => {
    const result = asyncOrderDetailSchema.safeParse({
      ...base,
      lineItems: [
        { externalRefLineItemID: 'a' },
        { externalRefLineItemID: 'b' },
        { lineItemStatus: 'FAILED' },
      ],
    });
    assert.equal(result.success, false);
    assert.deepEqual(issuePaths(result), ['lineItems.2.externalRefLineItemID']);
  });

  it('rejects a count that is not a number', () => {
    const result = createAsyncOrderResponseSchema.safeParse({ externalRefID: 'A', totalLineItems: 'two' });
    assert.deepEqual(issuePaths(result), ['totalLineItems']);
  });

  it('older webhook spelling referenceOrderID, string revision and array category', () => {
    const event = asyncOrderStatusEventSchema.parse({
      eventId: 'e1',
      revision: '4',
      category: ['ORDER'],
      eventType: 'AsyncOrderStatus',
      eventData: { externalRefID: 'A', status: 'RETRYING', referenceOrderID: 'RA-9', failedLineItems: '2' },
    });
    assert.equal(event.revision, 4);
    assert.equal(event.eventData.referenceOrderId, 'RA-9');
    assert.equal(event.eventData.failedLineItems, 2);
  });

  it('catalog and account', () => {
    const catalog = catalogResponseSchema.parse({
      brands: [
        { brandName: 'B', items: [{ utid: 'U1', minValue: 1, maxValue: '500', countries: null }] },
        { items: null },
      ],
    });
    assert.equal(catalog.brands[0]!.items[0]!.maxValue, 500);
    assert.deepEqual(catalog.brands[1]!.items, []);
    const account = accountResponseSchema.parse({
      accountIdentifier: 'acct-1',
      currentBalance: '100.25',
      status: 'ACTIVE',
    });
    assert.equal(account.currentBalance, 100.25);
  });
});

describe('request limits: just inside passes, just outside fails at the field', () => {
  const cases: {
    name: string;
    path: string;
    max: number;
    min?: number;
    build: (value: string) => unknown;
  }[] = [
    {
      name: 'externalRefID',
      path: 'externalRefID',
      max: 100,
      build: (v) => validOrder({ externalRefID: v }),
    },
    {
      name: 'accountIdentifier',
      path: 'accountIdentifier',
      min: 5,
      max: 100,
      build: (v) => validOrder({ accountIdentifier: v }),
    },
    { name: 'campaign', path: 'campaign', max: 1024, build: (v) => validOrder({ campaign: v }) },
    { name: 'notes', path: 'notes', max: 150, build: (v) => validOrder({ notes: v }) },
    {
      name: 'purchaseOrderNumber',
      path: 'purchaseOrderNumber',
      max: 100,
      build: (v) => validOrder({ purchaseOrderNumber: v }),
    },
    {
      name: 'sender.firstName',
      path: 'sender.firstName',
      max: 100,
      build: (v) => validOrder({ sender: { firstName: v } }),
    },
    {
      name: 'sender.lastName',
      path: 'sender.lastName',
      max: 100,
      build: (v) => validOrder({ sender: { lastName: v } }),
    },
    {
      name: 'externalRefLineItemID',
      path: 'lineItems.0.externalRefLineItemID',
      max: 150,
      build: (v) => validOrder({ lineItems: [validItem({ externalRefLineItemID: v })] }),
    },
    {
      name: 'message',
      path: 'lineItems.0.message',
      max: 1024,
      build: (v) => validOrder({ lineItems: [validItem({ message: v })] }),
    },
    {
      name: 'lineItemNote',
      path: 'lineItems.0.lineItemNote',
      max: 150,
      build: (v) => validOrder({ lineItems: [validItem({ lineItemNote: v })] }),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.min ? `${c.min}..` : '<= '}${c.max} characters`, () => {
      assert.equal(createAsyncOrderRequestSchema.safeParse(c.build('x'.repeat(c.max))).success, true);
      assert.deepEqual(issuePaths(createAsyncOrderRequestSchema.safeParse(c.build('x'.repeat(c.max + 1)))), [
        c.path,
      ]);
      if (c.min) {
        assert.equal(createAsyncOrderRequestSchema.safeParse(c.build('x'.repeat(c.min))).success, true);
        assert.deepEqual(
          issuePaths(createAsyncOrderRequestSchema.safeParse(c.build('x'.repeat(c.min - 1)))),
          [c.path],
        );
      }
    });
  }

  it('sender.email must be well formed (Tango fails the whole order otherwise)', () => {
    assert.equal(
      createAsyncOrderRequestSchema.safeParse(validOrder({ sender: { email: 'rewards@acme.example' } }))
        .success,
      true,
    );
    assert.deepEqual(
      issuePaths(
        createAsyncOrderRequestSchema.safeParse(validOrder({ sender: { email: 'rewards at acme' } })),
      ),
      ['sender.email'],
    );
  });

  it('at least one line item', () => {
    assert.deepEqual(issuePaths(createAsyncOrderRequestSchema.safeParse(validOrder({ lineItems: [] }))), [
      'lineItems',
    ]);
  });

  it('amount must be positive', () => {
    assert.deepEqual(issuePaths(lineItemRequestSchema.safeParse(validItem({ amount: 0 }))), ['amount']);
    assert.equal(lineItemRequestSchema.safeParse(validItem({ amount: 0.01 })).success, true);
  });

  it('unknown delivery method is rejected', () => {
    const result = lineItemRequestSchema.safeParse({ ...validItem(), deliveryMethod: 'CARRIER_PIGEON' });
    assert.deepEqual(issuePaths(result), ['deliveryMethod']);
  });

  it('deliveryDate as a calendar date: today + 7 (UTC) passes, today + 6 fails', () => {
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const day = (offset: number) => new Date(today + offset * DAY_MS).toISOString().slice(0, 10);
    assert.equal(lineItemRequestSchema.safeParse(validItem({ deliveryDate: day(7) })).success, true);
    assert.deepEqual(issuePaths(lineItemRequestSchema.safeParse(validItem({ deliveryDate: day(6) }))), [
      'deliveryDate',
    ]);
  });

  it('deliveryDate as a date-time: 7 days + 1 minute passes, 7 days - 1 minute fails', () => {
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    assert.equal(
      lineItemRequestSchema.safeParse(validItem({ deliveryDate: at(7 * DAY_MS + 60_000) })).success,
      true,
    );
    const tooSoon = lineItemRequestSchema.safeParse(validItem({ deliveryDate: at(7 * DAY_MS - 60_000) }));
    assert.deepEqual(issuePaths(tooSoon), ['deliveryDate']);
    assert.match(tooSoon.error!.issues[0]!.message, /at least 7 days/);
  });

  it('deliveryDate that is not a date fails with a clear message', () => {
    for (const value of ['2099-02-30', 'next tuesday', '2099-01-01T10:00']) {
      const result = lineItemRequestSchema.safeParse(validItem({ deliveryDate: value }));
      assert.deepEqual(issuePaths(result), ['deliveryDate'], value);
    }
  });
});

describe('request: the recipient contact the delivery method needs', () => {
  const address = {
    streetLine1: '1 Main St',
    city: 'Springfield',
    stateOrProvince: 'IL',
    postalCode: '62701',
    country: 'US',
  };

  it('EMAIL needs email, first and last name', () => {
    assert.deepEqual(
      issuePaths(
        lineItemRequestSchema.safeParse(validItem({ recipient: { firstName: 'A', lastName: 'B' } })),
      ),
      ['recipient.email'],
    );
    assert.deepEqual(
      issuePaths(
        lineItemRequestSchema.safeParse(validItem({ recipient: { email: 'a@b.c', lastName: 'B' } })),
      ),
      ['recipient.firstName'],
    );
    assert.deepEqual(
      issuePaths(
        lineItemRequestSchema.safeParse(
          validItem({ recipient: { email: '  ', firstName: 'A', lastName: 'B' } }),
        ),
      ),
      ['recipient.email'],
    );
    assert.deepEqual(issuePaths(lineItemRequestSchema.safeParse(validItem({ recipient: undefined }))), [
      'recipient.email',
      'recipient.firstName',
      'recipient.lastName',
    ]);
  });

  it('leaves the email format to Tango (a malformed address fails one line item, not the order)', () => {
    const result = lineItemRequestSchema.safeParse(
      validItem({ recipient: { email: 'not-an-email', firstName: 'A', lastName: 'B' } }),
    );
    assert.equal(result.success, true);
  });

  for (const method of ['PHONE', 'WHATSAPP'] as const) {
    it(`${method} needs mobileNumber`, () => {
      assert.deepEqual(
        issuePaths(
          lineItemRequestSchema.safeParse(
            validItem({ deliveryMethod: method, recipient: { firstName: 'A' } }),
          ),
        ),
        ['recipient.mobileNumber'],
      );
      assert.equal(
        lineItemRequestSchema.safeParse(
          validItem({ deliveryMethod: method, recipient: { mobileNumber: '+15555550100' } }),
        ).success,
        true,
      );
    });
  }

  it('ADDRESS needs a complete address', () => {
    assert.deepEqual(
      issuePaths(
        lineItemRequestSchema.safeParse(
          validItem({ deliveryMethod: 'ADDRESS', recipient: { firstName: 'A' } }),
        ),
      ),
      ['recipient.address'],
    );
    const { city: _city, ...noCity } = address;
    assert.deepEqual(
      issuePaths(
        lineItemRequestSchema.safeParse({
          ...validItem({ deliveryMethod: 'ADDRESS' }),
          recipient: { address: noCity },
        }),
      ),
      ['recipient.address.city'],
    );
    assert.equal(
      lineItemRequestSchema.safeParse(validItem({ deliveryMethod: 'ADDRESS', recipient: { address } }))
        .success,
      true,
    );
  });

  it('NONE and EMBEDDED need no contact', () => {
    for (const method of ['NONE', 'EMBEDDED'] as const) {
      assert.equal(
        lineItemRequestSchema.safeParse(validItem({ deliveryMethod: method, recipient: undefined })).success,
        true,
      );
    }
  });

  it('strips fields Tango does not know instead of sending them', () => {
    const parsed = lineItemRequestSchema.parse({ ...validItem(), rowNumber: 7 });
    assert.equal('rowNumber' in parsed, false);
  });
});

describe('PATCH, query and webhook registration requests', () => {
  it('PATCH needs a field and enforces the limits', () => {
    assert.equal(updateAsyncOrderRequestSchema.safeParse({}).success, false);
    assert.equal(updateAsyncOrderRequestSchema.safeParse({ campaign: '' }).success, true);
    assert.equal(updateAsyncOrderRequestSchema.safeParse({ campaign: 'x'.repeat(1024) }).success, true);
    assert.deepEqual(issuePaths(updateAsyncOrderRequestSchema.safeParse({ campaign: 'x'.repeat(1025) })), [
      'campaign',
    ]);
    assert.equal(updateAsyncOrderRequestSchema.safeParse({ notes: 'x'.repeat(150) }).success, true);
    assert.deepEqual(issuePaths(updateAsyncOrderRequestSchema.safeParse({ notes: 'x'.repeat(151) })), [
      'notes',
    ]);
    assert.equal(
      updateAsyncOrderRequestSchema.safeParse({ purchaseOrderNumber: 'x'.repeat(100) }).success,
      true,
    );
    assert.deepEqual(
      issuePaths(updateAsyncOrderRequestSchema.safeParse({ purchaseOrderNumber: 'x'.repeat(101) })),
      ['purchaseOrderNumber'],
    );
  });

  it('maxResults 1..500', () => {
    assert.deepEqual(issuePaths(asyncOrderQuerySchema.safeParse({ maxResults: 0 })), ['maxResults']);
    assert.equal(asyncOrderQuerySchema.safeParse({ maxResults: 1 }).success, true);
    assert.equal(asyncOrderQuerySchema.safeParse({ maxResults: 500 }).success, true);
    assert.deepEqual(issuePaths(asyncOrderQuerySchema.safeParse({ maxResults: 501 })), ['maxResults']);
  });

  it('id filters: 50 ids of up to 100 characters, and not both filters', () => {
    const ids = (n: number, len = 10) => Array.from({ length: n }, (_, i) => String(i).padStart(len, '0'));
    assert.equal(asyncOrderQuerySchema.safeParse({ externalLineItemReferenceIds: ids(50) }).success, true);
    assert.deepEqual(issuePaths(asyncOrderQuerySchema.safeParse({ externalLineItemReferenceIds: ids(51) })), [
      'externalLineItemReferenceIds',
    ]);
    assert.equal(asyncOrderQuerySchema.safeParse({ referenceLineItemIds: ids(1, 100) }).success, true);
    assert.deepEqual(issuePaths(asyncOrderQuerySchema.safeParse({ referenceLineItemIds: ids(1, 101) })), [
      'referenceLineItemIds.0',
    ]);
    const both = asyncOrderQuerySchema.safeParse({
      externalLineItemReferenceIds: ['a'],
      referenceLineItemIds: ['b'],
    });
    assert.deepEqual(issuePaths(both), ['referenceLineItemIds']);
    assert.match(both.error!.issues[0]!.message, /not both/);
  });

  it('webhook registration: the method needs its key material', () => {
    const base = { url: 'https://hooks.example.com/tango' };
    assert.deepEqual(
      issuePaths(webhookRegistrationRequestSchema.safeParse({ ...base, payloadVerificationMethod: 'HMAC' })),
      ['hmacSharedSecretKey'],
    );
    assert.deepEqual(
      issuePaths(webhookRegistrationRequestSchema.safeParse({ ...base, payloadVerificationMethod: 'X509' })),
      ['signingCertificate'],
    );
    assert.equal(
      webhookRegistrationRequestSchema.safeParse({
        ...base,
        payloadVerificationMethod: 'HMAC',
        hmacSharedSecretKey: 'c2VjcmV0',
      }).success,
      true,
    );
    assert.deepEqual(
      issuePaths(
        webhookRegistrationRequestSchema.safeParse({ url: 'ftp://x', payloadVerificationMethod: 'NONE' }),
      ),
      ['url'],
    );
  });
});
