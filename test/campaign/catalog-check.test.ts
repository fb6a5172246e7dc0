// The one catalog check (CLI dry run and workflow pre-flight): fixed-value rewards take exactly their
// face value and no range applies to them, as Tango decides; and on the simulator's catalog the check
// refuses exactly the items Tango's POST fails for a catalog reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { catalogIndex, catalogProblems } from '../../src/campaign/catalog-check.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { catalogResponseSchema, type CatalogItem, type LineItemRequest } from '../../src/tango/schemas.ts';
import { call, lineItem, orderBody, orderPath } from '../simulator/helpers.ts';

const item = (utid: string, amount: number, deliveryMethod = 'EMAIL'): LineItemRequest =>
  lineItem(`i-${utid}-${amount}-${deliveryMethod}`, { utid, amount, deliveryMethod }) as LineItemRequest;

describe('catalog check', () => {
  // A fixed-value reward whose catalog entry also lists a range its face value lies outside of.
  const fixed: CatalogItem = {
    utid: 'U100',
    status: 'active',
    valueType: 'FIXED_VALUE',
    faceValue: 200,
    minValue: 1,
    maxValue: 100,
    countries: [],
    deliveryMethods: ['EMAIL'],
  };
  const variable: CatalogItem = {
    utid: 'U200',
    status: 'active',
    valueType: 'VARIABLE_VALUE',
    minValue: 5,
    maxValue: 50,
    countries: [],
  };
  const catalog = catalogIndex([{ items: [fixed, variable] }]);

  it('takes a fixed-value reward at its face value even when the catalog also lists a range', () => {
    assert.deepEqual(catalogProblems(item('U100', 200), catalog), []);
  });

  it('refuses any other amount for a fixed-value reward, once, naming the face value', () => {
    const problems = catalogProblems(item('U100', 50), catalog);
    assert.deepEqual(problems, [{ field: 'amount', message: 'utid U100 has a fixed value of 200, not 50' }]);
  });

  it('checks a variable-value reward against its range', () => {
    assert.deepEqual(catalogProblems(item('U200', 5), catalog), []);
    assert.match(catalogProblems(item('U200', 4), catalog)[0]?.message ?? '', /below U200's minimum 5/);
    assert.match(catalogProblems(item('U200', 51), catalog)[0]?.message ?? '', /above U200's maximum 50/);
  });

  it('names an unknown utid and a delivery method the reward does not allow', () => {
    assert.deepEqual(catalogProblems(item('U999', 10), catalog), [
      { field: 'utid', message: 'utid U999 is not in the catalog of this platform' },
    ]);
    assert.equal(catalogProblems(item('U100', 200, 'PHONE'), catalog)[0]?.field, 'deliveryMethod');
  });
});

describe('catalog check against the simulator', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ processingDelayMs: 0 });
  });
  after(() => sim.close());

  it('refuses exactly the items Tango fails for their reward, amount or delivery method', async () => {
    const reply = await call(sim, 'GET', '/catalogs');
    assert.equal(reply.status, 200);
    const catalog = catalogIndex(catalogResponseSchema.parse(reply.json).brands);
    const items = [
      item('U000001', 10),
      item('U000001', 501),
      item('U000002', 20),
      item('U000003', 25),
      item('U000003', 30),
      item('U000004', 10),
      item('U000009', 10),
    ];
    const created = await call(sim, 'POST', '/asyncOrders', orderBody('catalog-check-1', items));
    assert.ok(created.status === 200 || created.status === 201, created.text);
    await sim.whenIdle();
    // Refused at the POST or failed while Tango processed the order: either way, Tango's record.
    const read = await call(sim, 'GET', orderPath('catalog-check-1'));
    const failed = new Set<string>([
      ...(created.json.failedLineItems ?? []).map(
        (failure: { externalRefLineItemID: string }) => failure.externalRefLineItemID,
      ),
      ...read.json.lineItems
        .filter((record: { lineItemStatus: string }) => record.lineItemStatus === 'FAILED')
        .map((record: { externalRefLineItemID: string }) => record.externalRefLineItemID),
    ]);
    const verdicts = items.map((each) => [
      each.externalRefLineItemID,
      catalogProblems(each, catalog).length > 0,
    ]);
    assert.deepEqual(
      verdicts,
      items.map((each) => [each.externalRefLineItemID, failed.has(each.externalRefLineItemID)]),
    );
    // The fixture covers both verdicts, the fixed-value reward among them.
    assert.deepEqual(
      verdicts.filter(([, refused]) => refused).map(([id]) => id),
      [
        'i-U000001-501-EMAIL',
        'i-U000002-20-EMAIL',
        'i-U000003-30-EMAIL',
        'i-U000004-10-EMAIL',
        'i-U000009-10-EMAIL',
      ],
    );
  });
});
