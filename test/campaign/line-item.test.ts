// The line-item checks shared by the file reader, staging and operator corrections.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CSV_COLUMNS,
  checkLineItem,
  csvColumnOf,
  jsonPathOfColumn,
  lineItemFromCsvCells,
  lineItemToCsvCells,
} from '../../src/campaign/line-item.ts';
import { type LineItemRequest } from '../../src/tango/schemas.ts';

const item: LineItemRequest = {
  externalRefLineItemID: 'L-3',
  recipient: {
    firstName: 'Ana',
    lastName: 'Lima',
    address: {
      companyName: 'Acme',
      streetLine1: '1 Main St',
      city: 'Springfield',
      stateOrProvince: 'IL',
      postalCode: '62701',
      country: 'US',
    },
  },
  utid: 'U000002',
  amount: 40.5,
  deliveryMethod: 'ADDRESS',
  lineItemNote: 'n',
};

describe('line items', () => {
  it('accepts a valid item and returns it as parsed', () => {
    const check = checkLineItem(item);
    assert.ok(check.ok);
    assert.deepEqual(check.item, item);
  });

  it('round-trips through the flat CSV form', () => {
    const cells = lineItemToCsvCells(item);
    assert.deepEqual(Object.keys(cells), [...CSV_COLUMNS]);
    assert.equal(cells.city, 'Springfield');
    assert.equal(cells.amount, '40.5');
    assert.equal(cells.email, '');
    const back = lineItemFromCsvCells(cells);
    assert.deepEqual(back.problems, []);
    assert.deepEqual(back.value, item);
  });

  it('maps JSON paths and CSV columns both ways', () => {
    assert.equal(jsonPathOfColumn('city'), 'recipient.address.city');
    assert.equal(jsonPathOfColumn('email'), 'recipient.email');
    assert.equal(jsonPathOfColumn('utid'), 'utid');
    for (const column of CSV_COLUMNS) assert.equal(csvColumnOf(jsonPathOfColumn(column)), column);
  });

  it('reports unknown fields at every level and schema problems by path', () => {
    const check = checkLineItem({
      ...item,
      colour: 'red',
      recipient: { ...item.recipient, Email: 'x', address: { ...item.recipient!.address, zip: '1' } },
    });
    assert.equal(check.ok, false);
    const fields = !check.ok ? check.problems.map((p) => p.field) : [];
    assert.deepEqual(fields.sort(), ['colour', 'recipient.Email', 'recipient.address.zip']);
    const bad = checkLineItem({
      externalRefLineItemID: 'x',
      utid: 'U1',
      amount: 5,
      deliveryMethod: 'NONE',
      deliveryDate: '2020-01-01',
    });
    assert.deepEqual(!bad.ok && bad.problems.map((p) => p.field), ['deliveryDate']);
    assert.deepEqual(
      !checkLineItem(null).ok &&
        (checkLineItem(null) as { problems: { message: string }[] }).problems[0]!.message,
      'a line item must be an object, not null',
    );
  });
});
