// Automatic fixes (only the documented safe ones, only where they bear on the errors) and the merge of
// operator corrections (id fixed, Tango's field names only, merged item must pass the schema).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SAFE_FIXES, automaticFixes, mergeCorrection } from '../../src/campaign/corrections.ts';
import { type LineItemRequest } from '../../src/tango/schemas.ts';

const emailItem: LineItemRequest = {
  externalRefLineItemID: 'L-1',
  recipient: { firstName: ' Zoë ', lastName: 'Ng', email: ' Zoe.Ng@Example.COM ' },
  utid: 'U000001',
  amount: 25,
  deliveryMethod: 'EMAIL',
  message: '  keep my spacing  ',
};

const addressItem: LineItemRequest = {
  externalRefLineItemID: 'L-2',
  recipient: {
    firstName: 'Ana',
    mobileNumber: '+1 (555) 010-2000',
    address: {
      streetLine1: '1 Main St ',
      city: 'Springfield',
      stateOrProvince: 'IL',
      postalCode: '62701',
      country: 'us',
    },
  },
  utid: 'U000002',
  amount: 40,
  deliveryMethod: 'ADDRESS',
};

describe('automaticFixes', () => {
  it('documents every fix it can apply', () => {
    assert.deepEqual(
      SAFE_FIXES.map((fix) => fix.name),
      [
        'trim-whitespace',
        'lower-case-email-domain',
        'normalize-phone',
        'upper-case-country',
        'utid-fallback',
      ],
    );
  });

  it('fixes the email field for an email error: trims, lower-cases the domain only, keeps the local part', () => {
    const result = automaticFixes(emailItem, [
      { errorCodeName: 'INVALID_EMAIL', errorCodeValue: 134, field: 'recipient.email' },
    ]);
    assert.ok(result);
    assert.equal(result.item.recipient?.email, 'Zoe.Ng@example.com');
    assert.deepEqual(result.fixes, [
      'trim-whitespace (recipient.email)',
      'lower-case-email-domain (recipient.email)',
    ]);
    assert.equal(
      result.item.recipient?.firstName,
      ' Zoë ',
      'fields the error does not point at are untouched',
    );
    assert.equal(result.item.message, '  keep my spacing  ');
    assert.equal(result.item.externalRefLineItemID, 'L-1');
    assert.equal(emailItem.recipient?.email, ' Zoe.Ng@Example.COM ', 'the original is not mutated');
  });

  it('finds the field from the error code when Tango gives none (GET lineItemErrors)', () => {
    const result = automaticFixes(emailItem, [{ errorCode: 'INVALID_EMAIL' }]);
    assert.equal(result?.item.recipient?.email, 'Zoe.Ng@example.com');
    const prefixed = automaticFixes(emailItem, [{ errorCode: 'X', field: 'lineItems[0].recipient.email' }]);
    assert.equal(prefixed?.item.recipient?.email, 'Zoe.Ng@example.com');
  });

  it('normalizes phone numbers and country codes for phone and address errors', () => {
    const phone = automaticFixes(addressItem, [{ errorCode: 'INVALID_PHONE' }]);
    assert.equal(phone?.item.recipient?.mobileNumber, '+15550102000');
    assert.deepEqual(phone?.fixes, ['normalize-phone (recipient.mobileNumber)']);
    const address = automaticFixes(addressItem, [{ errorCode: 'INVALID_ADDRESS' }]);
    assert.deepEqual(address?.item.recipient?.address, {
      streetLine1: '1 Main St',
      city: 'Springfield',
      stateOrProvince: 'IL',
      postalCode: '62701',
      country: 'US',
    });
    assert.deepEqual(address?.fixes, [
      'trim-whitespace (recipient.address.streetLine1)',
      'upper-case-country (recipient.address.country)',
    ]);
  });

  it('leaves a phone number with letters alone', () => {
    const item: LineItemRequest = {
      ...addressItem,
      recipient: { mobileNumber: '555-CALL-NOW' },
      deliveryMethod: 'PHONE',
    };
    assert.equal(automaticFixes(item, [{ errorCode: 'INVALID_PHONE' }]), undefined);
  });

  it('applies every safe fix when the errors do not say which field is wrong', () => {
    const result = automaticFixes(emailItem, [{ errorCode: 'SOMETHING_NEW' }]);
    assert.equal(result?.item.recipient?.firstName, 'Zoë');
    assert.equal(result?.item.recipient?.email, 'Zoe.Ng@example.com');
  });

  it('swaps the utid for the configured fallback only for inactive / unsupported rewards', () => {
    const item: LineItemRequest = { ...addressItem, utid: 'U000004' };
    const fallbacks = { U000004: 'U000002' };
    const inactive = automaticFixes(item, [{ errorCode: 'ITEM_INACTIVE' }], { utidFallbacks: fallbacks });
    assert.equal(inactive?.item.utid, 'U000002');
    assert.ok(inactive?.fixes.includes('utid-fallback (utid U000004 -> U000002)'));
    const byValue = automaticFixes(item, [{ errorCodeValue: 170 }], { utidFallbacks: fallbacks });
    assert.equal(byValue?.item.utid, 'U000002');
    assert.equal(
      automaticFixes(item, [{ errorCode: 'AMOUNT_OUT_OF_RANGE' }], { utidFallbacks: fallbacks }),
      undefined,
    );
    assert.equal(automaticFixes(item, [{ errorCode: 'ITEM_INACTIVE' }]), undefined, 'no fallback configured');
  });

  it('returns nothing when no safe fix applies', () => {
    const clean: LineItemRequest = {
      externalRefLineItemID: 'L-9',
      recipient: { firstName: 'A', lastName: 'B', email: 'a@example.com' },
      utid: 'U000001',
      amount: 5,
      deliveryMethod: 'EMAIL',
    };
    assert.equal(automaticFixes(clean, [{ errorCode: 'INVALID_EMAIL' }]), undefined);
    assert.equal(automaticFixes(emailItem, [{ errorCode: 'AMOUNT_OUT_OF_RANGE' }]), undefined);
  });
});

describe('mergeCorrection', () => {
  it('merges nested fields and keeps the rest', () => {
    const result = mergeCorrection(addressItem, {
      externalRefLineItemID: 'L-2',
      recipient: { address: { postalCode: '62702' } },
      amount: 30,
    });
    assert.ok(result.ok);
    assert.equal(result.item.recipient?.address?.postalCode, '62702');
    assert.equal(result.item.recipient?.address?.city, 'Springfield');
    assert.equal(result.item.recipient?.firstName, 'Ana');
    assert.equal(result.item.amount, 30);
    assert.deepEqual(result.changed.sort(), ['amount', 'recipient.address.postalCode']);
  });

  it('switches the delivery method and removes fields with null', () => {
    const result = mergeCorrection(addressItem, {
      externalRefLineItemID: 'L-2',
      deliveryMethod: 'PHONE',
      recipient: { address: null },
      utid: 'U000001',
    });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.item.recipient?.address, undefined);
    assert.equal(result.item.deliveryMethod, 'PHONE');
    assert.ok(result.changed.includes('recipient.address'));
  });

  it('refuses to change the id, or to apply to another item', () => {
    const result = mergeCorrection(emailItem, { externalRefLineItemID: 'L-2', amount: 5 });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems.map((p) => p.field), ['externalRefLineItemID']);
    assert.match(
      !result.ok ? result.problems[0]!.message : '',
      /names "L-2" but is applied to "L-1"; the id of a line item cannot change/,
    );
    const missing = mergeCorrection(emailItem, { amount: 5 });
    assert.equal(missing.ok, false);
  });

  it('rejects unknown fields, wrong types and results that break the schema, with the field', () => {
    const cases: [unknown, string, RegExp][] = [
      [
        { externalRefLineItemID: 'L-1', recipient: { emial: 'x@example.com' } },
        'recipient.emial',
        /not a line-item field/,
      ],
      [
        { externalRefLineItemID: 'L-1', amount: '30' },
        'amount',
        /amount must be a number, not the text "30"/,
      ],
      [
        { externalRefLineItemID: 'L-1', amount: -1 },
        'amount',
        /after the correction, amount must be greater than 0/,
      ],
      [
        { externalRefLineItemID: 'L-1', recipient: { email: null } },
        'recipient.email',
        /recipient.email is missing: deliveryMethod EMAIL needs it/,
      ],
      [
        { externalRefLineItemID: 'L-1', deliveryMethod: 'ADDRESS' },
        'recipient.address',
        /recipient.address is missing: deliveryMethod ADDRESS needs it/,
      ],
      [{ externalRefLineItemID: 'L-1', recipient: 'bob@example.com' }, 'recipient', /must be an object/],
      [{ externalRefLineItemID: 'L-1', utid: null }, 'utid', /utid is missing/],
      [
        { externalRefLineItemID: 'L-1', lineItemNote: 'n'.repeat(151) },
        'lineItemNote',
        /151 characters long/,
      ],
      ['L-1', '(correction)', /must be an object/],
    ];
    for (const [correction, field, message] of cases) {
      const result = mergeCorrection(emailItem, correction);
      assert.equal(result.ok, false, JSON.stringify(correction));
      if (result.ok) continue;
      const problem = result.problems.find((p) => p.field === field);
      assert.ok(problem, `${JSON.stringify(correction)}: ${JSON.stringify(result.problems)}`);
      assert.match(problem.message, message);
    }
  });
});
